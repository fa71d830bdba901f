//! Term ends, renewal and auto-renew (RULES.md section 9), with SUSPEND-AT-TERM-END and
//! scheduled cancellations.

use crate::engine::EngineError;
use crate::engine::calendar::add_months_clamped;
use crate::engine::catalog::BillingType;
use crate::engine::observe::{EventKind, Observer, StepResult, Subject, SubscriptionId};
use crate::engine::rules::{Code, Rule};
use crate::engine::script::{Cloud, SubscriptionRef};
use crate::engine::state::Status;
use crate::engine::time::{Instant, format_date};
use crate::engine::world::{DueKind, World};
use crate::policy::{NotRenewedAtTermEnd, Permission, SuspendedAtTermEnd, WindowStart};

impl<O: Observer> World<'_, O> {
    pub(crate) fn on_term_end(&mut self, id: SubscriptionId) -> Result<(), EngineError> {
        let subscription = self.sub(id);
        if !subscription.is_live() {
            return Ok(()); // already expired or disabled with its base (nce-2022)
        }
        if subscription.status == Status::Suspended {
            return match self.policy.term_end_suspended {
                SuspendedAtTermEnd::Delete => {
                    self.delete(id, Rule::SuspendAtTermEnd, "still suspended when its term ended");
                    Ok(())
                }
                SuspendedAtTermEnd::Disable => self.end_in_phase(id, Status::Disabled, self.policy.suspended_disabled_days, Rule::SuspendAtTermEnd),
            };
        }
        if let Some(parent) = subscription.parent
            && !self.policy.addons_own_terms
        {
            // ADDON-ALIGN: the add-on's term is its base's; the base (created earlier) has
            // already renewed or been deleted at this instant.
            let base = self.sub(parent);
            let base_renewed = base.status != Status::Deleted && base.schedule.is_some_and(|s| s.term_end_at > self.now);
            if base_renewed {
                return self.renew(id, Rule::AddonAlign);
            }
            self.delete(id, Rule::AddonSuspendCascade, "its base's term ended without renewal");
            return Ok(());
        }
        if subscription.cancel_scheduled || !subscription.auto_renew {
            // A scheduled cancellation ends the term the way auto-renew off does: deleted under
            // csp-2020, expired first where the policy has an expired period.
            let (rule, why) = if subscription.cancel_scheduled {
                (Rule::CancelAfterWindow, "the cancellation scheduled for the end of the term")
            } else {
                (Rule::RenewTerm, "its term ended and auto-renew is off")
            };
            match self.policy.term_end_not_renewed {
                NotRenewedAtTermEnd::Delete => self.delete(id, rule, why),
                NotRenewedAtTermEnd::Expire => {
                    self.sub_mut(id).expired_at_term_end = true;
                    self.end_in_phase(id, Status::Expired, self.policy.expired_days, rule)?;
                }
            }
        } else {
            self.renew(id, Rule::RenewTerm)?;
        }
        Ok(())
    }

    /// What becomes of a subscription whose term ends without renewal, as `on_term_end` will
    /// decide it, for the messages that announce it: "is deleted", "expires" or "is disabled".
    pub(crate) fn unrenewed_term_ending(&self, id: SubscriptionId) -> &'static str {
        if self.sub(id).status == Status::Suspended {
            return match self.policy.term_end_suspended {
                SuspendedAtTermEnd::Delete => "is deleted",
                SuspendedAtTermEnd::Disable => "is disabled",
            };
        }
        match self.policy.term_end_not_renewed {
            NotRenewedAtTermEnd::Delete => "is deleted",
            NotRenewedAtTermEnd::Expire => "expires",
        }
    }

    /// nce-2022: the term ends in an expired or disabled state that lasts `days` before the
    /// next phase (expired, then disabled, then deleted).
    fn end_in_phase(&mut self, id: SubscriptionId, status: Status, days: u32, rule: Rule) -> Result<(), EngineError> {
        let (disabled_at, deletion) = self.phase_dates(status, days)?;
        self.enter_phase(id, status, disabled_at, deletion);
        let kind = if status == Status::Disabled { EventKind::Disabled } else { EventKind::Expired };
        self.done(kind, Subject::Subscription(id), rule, |w| {
            let disabled = disabled_at.map(|at| format!("disabled on {}, ", format_date(at.date()))).unwrap_or_default();
            format!("{} {} at the end of its term; {disabled}deleted on {}", w.label(id), status.phrase(), format_date(deletion.date()))
        });
        // ADDON-SUSPEND-CASCADE: add-ons leave service with their base, on the same dates
        // (under nce-2022 they keep their own terms, but not beyond their base's).
        let expired_at_term_end = self.sub(id).expired_at_term_end;
        let addons: Vec<SubscriptionId> = self.sub(id).addons.iter().copied().filter(|a| self.sub(*a).is_live()).collect();
        for addon in addons {
            self.sub_mut(addon).expired_at_term_end = expired_at_term_end;
            self.enter_phase(addon, status, disabled_at, deletion);
            self.done(kind, Subject::Subscription(addon), Rule::AddonSuspendCascade, |w| {
                format!("{} {} with its base {}", w.label(addon), status.phrase(), w.label(id))
            });
        }
        Ok(())
    }

    /// The dates of an out-of-service phase of `days` that begins now: when an expired
    /// subscription is disabled (`disabled_days` later), and when it is deleted.
    pub(crate) fn phase_dates(&self, status: Status, days: u32) -> Result<(Option<Instant>, Instant), EngineError> {
        let (disabled_at, deleted_after) = match status {
            Status::Expired => (Some(self.deadline_in_days(days, "a disable date")?), days + self.policy.disabled_days),
            _ => (None, days),
        };
        Ok((disabled_at, self.deadline_in_days(deleted_after, "a deletion date")?))
    }

    /// Puts a subscription in an out-of-service phase with its dates, and schedules them.
    pub(crate) fn enter_phase(&mut self, id: SubscriptionId, status: Status, disabled_at: Option<Instant>, deletion: Instant) {
        let subscription = self.sub_mut(id);
        subscription.status = status;
        subscription.deletion_at = Some(deletion);
        subscription.disabled_at = disabled_at;
        if let Some(at) = disabled_at {
            self.schedule(at, DueKind::RetentionDeletion, id.0);
        }
        self.schedule(deletion, DueKind::RetentionDeletion, id.0);
    }

    /// RENEW-TERM: a new term of the same length, computed from the original anchor.
    fn renew(&mut self, id: SubscriptionId, rule: Rule) -> Result<(), EngineError> {
        let mut schedule = self.sub(id).schedule.expect("only scheduled subscriptions have terms");
        schedule.term_index += 1;
        let months = schedule.term_months.checked_mul(schedule.term_index + 1).ok_or_else(|| self.overflow("a term end"))?;
        let end = add_months_clamped(schedule.anchor, months).ok_or_else(|| self.overflow("a term end"))?;
        schedule.term_end_at = Instant::at_midnight(end);
        let now = self.now;
        let reopens_window = self.policy.cancel_window_from == WindowStart::LatestChange;
        let subscription = self.sub_mut(id);
        subscription.schedule = Some(schedule);
        if reopens_window {
            subscription.window_opened_at = now;
        }
        self.schedule(schedule.term_end_at, DueKind::TermEnd, id.0);
        self.done(EventKind::Renewed, Subject::Subscription(id), rule, |w| {
            format!("{} renewed: new term {} to {}", w.label(id), format_date(schedule.term_start()), format_date(end))
        });
        Ok(())
    }

    pub(crate) fn set_auto_renew(&mut self, reference: SubscriptionRef, enabled: bool) -> StepResult {
        const ACTION: &str = "set_auto_renew";
        let id = match self.target(ACTION, Permission::SetAutoRenew, reference) {
            Ok(id) => id,
            Err(refused) => return refused,
        };
        let subject = Subject::Subscription(id);
        let subscription = self.sub(id);
        match subscription.status {
            Status::Deleted => return self.refuse_deleted(ACTION, id),
            Status::Expired | Status::Disabled => return self.refuse_not_live(ACTION, id, Rule::RenewToggle),
            Status::Active | Status::Suspended => {}
        }
        if self.script.partner.cloud == Cloud::UsGovernment {
            return self.refuse(ACTION, subject, Code::AutoRenewNotSupported, Rule::RenewToggle, |_| {
                "auto-renew cannot be changed in the US Government cloud".to_string()
            });
        }
        let aligned_addon = subscription.parent.is_some() && !self.policy.addons_own_terms;
        if (self.offer(subscription.offer).is_microsoft() && !self.policy.auto_renew_for_all) || aligned_addon {
            return self.refuse(ACTION, subject, Code::AutoRenewNotSupported, Rule::RenewToggle, |w| {
                format!("{} is not a commercial marketplace subscription; auto-renew is always on", w.label(id))
            });
        }
        if self.offer(subscription.offer).billing == BillingType::Usage {
            return self.refuse(ACTION, subject, Code::AutoRenewNotSupported, Rule::RenewToggle, |w| {
                format!("{} is usage-based: it has no term to renew", w.label(id))
            });
        }
        if subscription.cancel_scheduled {
            return self.refuse(ACTION, subject, Code::CancellationAlreadyScheduled, Rule::CancelAfterWindow, |w| {
                format!("{} is cancelled at the end of its term", w.label(id))
            });
        }
        self.sub_mut(id).auto_renew = enabled;
        self.accept(ACTION, subject, Rule::RenewToggle, |w| {
            let term_end = w.sub(id).schedule.map(|s| format!(" at {}", format_date(s.term_end()))).unwrap_or_default();
            let ending = format!("it {}", w.unrenewed_term_ending(id));
            if enabled { format!("{} renews automatically{term_end}", w.label(id)) } else { format!("{} will not renew; {ending}{term_end}", w.label(id)) }
        });
        StepResult::default()
    }
}
