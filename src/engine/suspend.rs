//! Suspension, retention, reactivation and deletion (RULES.md section 7), with the add-on
//! cascade of ADDON-SUSPEND-CASCADE.

use crate::engine::EngineError;
use crate::engine::calendar::first_billing_date_on_or_after;
use crate::engine::observe::{EventKind, LineKind, Observer, StepResult, Subject, SubscriptionId};
use crate::engine::rules::{Code, Rule};
use crate::engine::script::{SubscriptionRef, SuspendReason};
use crate::engine::state::Status;
use crate::engine::time::{Duration, Instant, days_between, format_date};
use crate::engine::world::{DueKind, World};
use crate::policy::{Permission, RetentionGap, SuspendedAtTermEnd};

impl<O: Observer> World<'_, O> {
    /// SUSPEND-RETENTION: R = min(retention_days + G, cap), G = days from the customer's
    /// account opening to the partner's first billing date on or after it.
    pub(crate) fn retention_days(&self, id: SubscriptionId) -> Option<(u32, u32)> {
        let retention = self.policy.retention_days?;
        let customer = self.script.customer(self.sub(id).customer);
        let gap = match self.policy.retention_gap {
            RetentionGap::None => 0,
            RetentionGap::AccountOpeningToFirstBilling => {
                let first_billing = first_billing_date_on_or_after(customer.opened, self.script.partner.billing_day);
                days_between(customer.opened, first_billing) as u32
            }
        };
        let days = retention + gap;
        Some((self.policy.retention_cap_days.map_or(days, |cap| days.min(cap)), gap))
    }

    /// Sets and schedules the deletion date, counted from now.
    pub(crate) fn schedule_retention_deletion(&mut self, id: SubscriptionId) -> Result<(), EngineError> {
        let Some((days, gap)) = self.retention_days(id) else {
            // This policy keeps a suspended subscription until its term ends: the date it will
            // be deleted (the "expires on" date) follows from the term end, where the term-end
            // event deletes it or disables it first. Nothing is scheduled here.
            let deletion = self.term_end_deletion(id)?;
            self.sub_mut(id).deletion_at = deletion;
            if let (Some(at), Some(term_end)) = (deletion, self.sub(id).schedule.map(|s| s.term_end())) {
                // Reported at the suspension, as Partner Center shows the date under the button.
                self.done(EventKind::DeletionScheduled, Subject::Subscription(id), Rule::SuspendAtTermEnd, |world| {
                    format!(
                        "{}: if still suspended when its term ends on {}, it {} then and is deleted on {}",
                        world.label(id),
                        format_date(term_end),
                        world.unrenewed_term_ending(id),
                        format_date(at.date())
                    )
                });
            }
            return Ok(());
        };
        let at = self.deadline_in_days(days, "a deletion date")?;
        self.sub_mut(id).deletion_at = Some(at);
        self.schedule(at, DueKind::RetentionDeletion, id.0);
        self.done(EventKind::DeletionScheduled, Subject::Subscription(id), Rule::SuspendRetention, |world| {
            let cap = world.policy.retention_cap_days.map_or_else(String::new, |c| format!(", cap {c}"));
            // An expired trial cannot be reactivated: its date is final.
            let unless = if world.sub(id).status == Status::Suspended { " unless reactivated before" } else { "" };
            format!(
                "{}: data is deleted on {}{unless} (R = {days} days: {} + G {gap}{cap})",
                world.label(id),
                format_date(at.date()),
                world.policy.retention_days.unwrap_or(0)
            )
        });
        Ok(())
    }

    /// When a subscription suspended now, and still suspended at its term end, will be
    /// deleted (SUSPEND-AT-TERM-END): at the term end, or after the disabled days that follow it.
    fn term_end_deletion(&self, id: SubscriptionId) -> Result<Option<Instant>, EngineError> {
        let Some(schedule) = self.sub(id).schedule else {
            return Ok(None); // usage subscriptions have no term
        };
        let days = match self.policy.term_end_suspended {
            SuspendedAtTermEnd::Delete => 0,
            SuspendedAtTermEnd::Disable => self.policy.suspended_disabled_days,
        };
        let at = schedule.term_end_at.checked_add(Duration::from_days(i64::from(days))).ok_or_else(|| self.overflow("a deletion date"))?;
        Ok(Some(at))
    }

    pub(crate) fn suspend(&mut self, reference: SubscriptionRef, reason: SuspendReason) -> Result<StepResult, EngineError> {
        const ACTION: &str = "suspend";
        let id = match self.target(ACTION, Permission::SuspendReactivate, reference) {
            Ok(id) => id,
            Err(refused) => return Ok(refused),
        };
        let subject = Subject::Subscription(id);
        match self.sub(id).status {
            Status::Deleted => return Ok(self.refuse_deleted(ACTION, id)),
            Status::Suspended => {
                return Ok(self.refuse(ACTION, subject, Code::SubscriptionAlreadySuspended, Rule::Suspend, |w| format!("{} is already suspended", w.label(id))));
            }
            Status::Expired | Status::Disabled => return Ok(self.refuse_not_live(ACTION, id, Rule::Suspend)),
            Status::Active => {}
        }
        self.accept(ACTION, subject, Rule::Suspend, |w| format!("{} suspended ({}); users lose access, admins keep it", w.label(id), reason.name()));
        self.suspend_one(id, reason, false)?;
        let addons: Vec<SubscriptionId> = self.sub(id).addons.iter().copied().filter(|a| self.sub(*a).status == Status::Active).collect();
        for addon in addons {
            self.done(EventKind::Suspended, Subject::Subscription(addon), Rule::AddonSuspendCascade, |w| {
                format!("{} suspended with its base {}", w.label(addon), w.label(id))
            });
            self.suspend_one(addon, reason, true)?;
        }
        // A retention period of 0 days ends when it begins: deleted at once (after the add-ons
        // were suspended and credited like the base), not at the next step, whose checks would
        // otherwise see it suspended or not by chance of layout.
        if self.sub(id).deletion_at == Some(self.now) {
            self.delete(id, Rule::SuspendRetention, "its retention period is 0 days");
        }
        Ok(StepResult::default())
    }

    fn suspend_one(&mut self, id: SubscriptionId, reason: SuspendReason, with_base: bool) -> Result<(), EngineError> {
        let now = self.now;
        let disables_auto_renew = self.policy.suspend_disables_auto_renew;
        let subscription = self.sub_mut(id);
        subscription.status = Status::Suspended;
        subscription.suspended_at = Some(now);
        subscription.suspend_reason = Some(reason);
        subscription.suspended_with_base = with_base;
        if disables_auto_renew && subscription.auto_renew {
            subscription.auto_renew = false;
            self.done(EventKind::AutoRenewChanged, Subject::Subscription(id), Rule::Suspend, |w| {
                format!("{}: auto-renew switched off by the suspension", w.label(id))
            });
        }
        self.schedule_retention_deletion(id)?;
        self.suspension_credit(id)
    }

    /// SUSPEND-CREDIT, BILL-SUSPEND-CREDIT: suspending is how a license subscription is
    /// cancelled. Less than `suspend_full_credit_days` after the purchase date, everything
    /// charged is credited; later, the rest of the billed period from today.
    fn suspension_credit(&mut self, id: SubscriptionId) -> Result<(), EngineError> {
        let subscription = self.sub(id);
        let (Some(_), Some(paid_since)) = (subscription.schedule, subscription.paid_since) else {
            return Ok(()); // trials and usage: nothing was charged
        };
        // SUSPEND-CREDIT: suspension is how a *Microsoft* license subscription is cancelled.
        // A marketplace (ISV) subscription has its own cancellation window and refund
        // (CANCEL-WINDOW); suspending it does not refund it.
        let microsoft = self.offer(subscription.offer).is_microsoft();
        if subscription.standing.is_empty() || !self.policy.suspension_credit || !microsoft {
            return Ok(());
        }
        self.hit(Rule::SuspendCredit);
        let today = self.now.date();
        let days_since_purchase = days_between(paid_since.date(), today);
        let limit = self.policy.suspend_full_credit_days;
        let full = days_since_purchase < i64::from(limit);
        // Said in the credit's event, for a person checking which side of the limit it fell.
        let note = if O::WANTS_DETAIL {
            let (side, credited) = if full {
                (format!("less than {limit}"), "everything charged is credited")
            } else {
                (format!("{limit} or more"), "the rest of the billed period is credited")
            };
            format!("suspended {days_since_purchase} days after the purchase date {}, {side}: {credited}", format_date(paid_since.date()))
        } else {
            String::new()
        };
        if full {
            return self.credit_everything(id, LineKind::ProrateCredit, Rule::BillSuspendCredit, &note);
        }
        self.credit_rest_of_period(id, LineKind::ProrateCredit, Rule::BillSuspendCredit, &note)
    }

    pub(crate) fn reactivate(&mut self, reference: SubscriptionRef) -> Result<StepResult, EngineError> {
        const ACTION: &str = "reactivate";
        let id = match self.target(ACTION, Permission::SuspendReactivate, reference) {
            Ok(id) => id,
            Err(refused) => return Ok(refused),
        };
        let subject = Subject::Subscription(id);
        match self.sub(id).status {
            Status::Deleted => {
                return Ok(self.refuse(ACTION, subject, Code::SubscriptionDeleted, Rule::Reactivate, |w| {
                    let when = w.sub(id).deleted_at.map(|at| format!(" on {}", format_date(at.date()))).unwrap_or_default();
                    format!("{} was deleted{when}", w.label(id))
                }));
            }
            Status::Suspended => {}
            Status::Expired | Status::Disabled => return Ok(self.refuse_not_live(ACTION, id, Rule::Reactivate)),
            Status::Active => {
                return Ok(self.refuse(ACTION, subject, Code::SubscriptionNotSuspended, Rule::Reactivate, |w| format!("{} is not suspended", w.label(id))));
            }
        }
        if let Some(parent) = self.sub(id).parent
            && self.sub(parent).status != Status::Active
        {
            return Ok(self.refuse(ACTION, subject, Code::ParentNotActive, Rule::AddonSuspendCascade, |w| {
                format!("{}'s base {} is not active", w.label(id), w.label(parent))
            }));
        }
        self.accept(ACTION, subject, Rule::Reactivate, |w| format!("{} reactivated; its renewal date does not change", w.label(id)));
        self.reactivate_one(id)?;
        if self.policy.addon_reactivate_with_base {
            let addons: Vec<SubscriptionId> =
                self.sub(id).addons.iter().copied().filter(|a| self.sub(*a).status == Status::Suspended && self.sub(*a).suspended_with_base).collect();
            for addon in addons {
                self.done(EventKind::Reactivated, Subject::Subscription(addon), Rule::AddonSuspendCascade, |w| {
                    format!("{} reactivated with its base {}", w.label(addon), w.label(id))
                });
                self.reactivate_one(addon)?;
            }
        }
        Ok(StepResult::default())
    }

    /// BILL-REACTIVATE: charged again from today to the end of the current billed period.
    /// "Again" because the suspension credited those days or a period began unbilled while
    /// suspended; when the days are still paid for (a marketplace subscription, whose
    /// suspension refunds nothing, or nce-2022, which bills while suspended), charging them
    /// would bill them twice.
    fn reactivate_one(&mut self, id: SubscriptionId) -> Result<(), EngineError> {
        let today = self.now.date();
        let already_paid = self.is_paid_for(id, today);
        let subscription = self.sub_mut(id);
        subscription.status = Status::Active;
        subscription.suspended_at = None;
        subscription.suspend_reason = None;
        subscription.suspended_with_base = false;
        subscription.deletion_at = None;
        if subscription.schedule.is_some() && !subscription.in_trial() && !already_paid {
            let quantity = subscription.quantity;
            self.charge_rest_of_period(id, today, None, quantity, Rule::BillReactivate)?;
        }
        Ok(())
    }

    pub(crate) fn on_retention_deletion(&mut self, id: SubscriptionId) {
        let subscription = self.sub(id);
        if subscription.disabled_at == Some(self.now) && subscription.status == Status::Expired {
            // nce-2022: expired, then disabled, then deleted.
            let deletion = subscription.deletion_at;
            let subscription = self.sub_mut(id);
            subscription.status = Status::Disabled;
            subscription.disabled_at = None;
            self.done(EventKind::Disabled, Subject::Subscription(id), Rule::RenewTerm, |w| {
                format!("{} disabled after its expired period; deleted on {}", w.label(id), deletion.map(|d| format_date(d.date())).unwrap_or_default())
            });
            return;
        }
        if subscription.deletion_at != Some(self.now) {
            return;
        }
        match subscription.status {
            // nce-2022 phases that followed the end of a term.
            Status::Expired | Status::Disabled if subscription.expired_at_term_end => {
                self.delete(id, Rule::RenewTerm, "its expired and disabled periods ended")
            }
            Status::Disabled => self.delete(id, Rule::SuspendAtTermEnd, "its disabled period after the end of its term ended"),
            Status::Suspended | Status::Expired => self.delete(id, Rule::SuspendRetention, "the retention period ended"),
            Status::Active | Status::Deleted => {}
        }
    }

    /// Deletes a subscription with its data, and its add-ons with it.
    pub(crate) fn delete(&mut self, id: SubscriptionId, rule: Rule, why: &'static str) {
        let now = self.now;
        let subscription = self.sub_mut(id);
        subscription.status = Status::Deleted;
        subscription.deleted_at = Some(now);
        subscription.deletion_at = Some(now);
        self.done(EventKind::Deleted, Subject::Subscription(id), rule, |w| format!("{} deleted: {why}", w.label(id)));
        let addons: Vec<SubscriptionId> = self.sub(id).addons.iter().copied().filter(|a| self.sub(*a).status != Status::Deleted).collect();
        for addon in addons {
            self.delete(addon, Rule::AddonSuspendCascade, "its base was deleted");
        }
    }
}
