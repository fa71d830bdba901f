//! Term ends, renewal and auto-renew (RULES.md section 9), with SUSPEND-AT-TERM-END and
//! scheduled cancellations.

use crate::engine::EngineError;
use crate::engine::calendar::add_months_clamped;
use crate::engine::observe::{EventKind, Observer, StepResult, Subject, SubscriptionId};
use crate::engine::rules::{Code, Rule};
use crate::engine::script::{Cloud, SubscriptionRef};
use crate::engine::state::Status;
use crate::engine::time::{Instant, format_date};
use crate::engine::world::{DueKind, World};
use crate::policy::Permission;

impl<O: Observer> World<'_, O> {
    pub(crate) fn on_term_end(&mut self, id: SubscriptionId) -> Result<(), EngineError> {
        let subscription = self.sub(id);
        if subscription.status == Status::Suspended {
            self.delete(id, Rule::SuspendAtTermEnd, "still suspended when its term ended");
            return Ok(());
        }
        if let Some(parent) = subscription.parent {
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
        if subscription.cancel_scheduled {
            self.delete(id, Rule::CancelAfterWindow, "the cancellation scheduled for the end of the term");
        } else if !subscription.auto_renew {
            self.delete(id, Rule::RenewTerm, "its term ended and auto-renew is off");
        } else {
            self.renew(id, Rule::RenewTerm)?;
        }
        Ok(())
    }

    /// RENEW-TERM: a new term of the same length, computed from the original anchor.
    fn renew(&mut self, id: SubscriptionId, rule: Rule) -> Result<(), EngineError> {
        let mut schedule = self.sub(id).schedule.expect("only scheduled subscriptions have terms");
        schedule.term_index += 1;
        let months = schedule.term_months.checked_mul(schedule.term_index + 1).ok_or_else(|| self.overflow("a term end"))?;
        let end = add_months_clamped(schedule.anchor, months).ok_or_else(|| self.overflow("a term end"))?;
        schedule.term_end_at = Instant::at_midnight(end);
        self.sub_mut(id).schedule = Some(schedule);
        self.schedule(schedule.term_end_at, DueKind::TermEnd, id.0);
        self.done(EventKind::Renewed, Subject::Subscription(id), rule, |w| {
            format!("{} renewed: new term {} to {}", w.label(id), format_date(schedule.term_start()), format_date(end))
        });
        Ok(())
    }

    pub(crate) fn set_auto_renew(&mut self, reference: SubscriptionRef, enabled: bool) -> StepResult {
        const ACTION: &str = "set_auto_renew";
        if !self.permitted(Permission::SetAutoRenew) {
            return self.deny(ACTION, Subject::Partner, Permission::SetAutoRenew);
        }
        let Some(id) = self.resolve(reference) else {
            return self.not_found(ACTION, reference);
        };
        let subject = Subject::Subscription(id);
        let subscription = self.sub(id);
        if subscription.status == Status::Deleted {
            return self.refuse(ACTION, subject, Code::SubscriptionDeleted, Rule::QtyDeleted, |w| format!("{} was deleted", w.label(id)));
        }
        if self.script.partner.cloud == Cloud::UsGovernment {
            return self.refuse(ACTION, subject, Code::AutoRenewNotSupported, Rule::RenewToggle, |_| {
                "auto-renew cannot be changed in the US Government cloud".to_string()
            });
        }
        if self.offer(subscription.offer).is_microsoft() || subscription.parent.is_some() {
            return self.refuse(ACTION, subject, Code::AutoRenewNotSupported, Rule::RenewToggle, |w| {
                format!("{} is not a commercial marketplace subscription; auto-renew is always on", w.label(id))
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
            if enabled { format!("{} renews automatically{term_end}", w.label(id)) } else { format!("{} will not renew; it is deleted{term_end}", w.label(id)) }
        });
        StepResult::default()
    }
}
