//! Cancelling subscriptions (RULES.md section 8): ISV SaaS under csp-2020, every subscription
//! inside its window under nce-2022.

use crate::engine::EngineError;
use crate::engine::catalog::{BillingType, Frequency};
use crate::engine::observe::{EventKind, LineKind, Observer, StepResult, Subject, SubscriptionId};
use crate::engine::rules::{Code, Rule};
use crate::engine::script::SubscriptionRef;
use crate::engine::state::Status;
use crate::engine::time::{Duration, Instant, format_date};
use crate::engine::world::World;
use crate::policy::{CancelRefund, CancelScope, Permission, PostWindowCancel, WindowStart};

/// A subscription's cancellation window (CANCEL-WINDOW): `[opened, end)`.
pub(crate) struct CancelWindow {
    pub length: Duration,
    pub opened: Instant,
    pub end: Instant,
}

impl<O: Observer> World<'_, O> {
    /// CANCEL-WINDOW: the window is open from the order (or, under `cancel_window_from:
    /// latest-change`, from the latest paid purchase, renewal or seat addition) for the length
    /// the billing frequency gives; its end is excluded.
    pub(crate) fn cancel_window(&self, id: SubscriptionId) -> Result<CancelWindow, EngineError> {
        let subscription = self.sub(id);
        let length = match subscription.billing {
            Some(Frequency::Annual) => self.policy.cancel_window_annual,
            _ => self.policy.cancel_window_monthly,
        };
        let opened = match self.policy.cancel_window_from {
            WindowStart::Order => subscription.ordered_at,
            WindowStart::LatestChange => subscription.window_opened_at,
        };
        let end = opened.checked_add(length).ok_or_else(|| self.overflow("a cancellation window"))?;
        Ok(CancelWindow { length, opened, end })
    }

    pub(crate) fn cancel(&mut self, reference: SubscriptionRef) -> Result<StepResult, EngineError> {
        const ACTION: &str = "cancel";
        let id = match self.target(ACTION, Permission::Cancel, reference) {
            Ok(id) => id,
            Err(refused) => return Ok(refused),
        };
        let subject = Subject::Subscription(id);
        let subscription = self.sub(id);
        if subscription.status == Status::Deleted {
            return Ok(self.refuse_deleted(ACTION, id));
        }
        let offer = self.offer(subscription.offer);
        // Whatever its state, a Microsoft subscription is never cancelled under csp-2020.
        if offer.is_microsoft() && self.policy.cancel_scope == CancelScope::Marketplace {
            return Ok(self.refuse(ACTION, subject, Code::CancelNotSupportedUseSuspend, Rule::CancelMicrosoft, |w| {
                let advice = if w.sub(id).is_live() { "suspend it instead" } else { "it is not cancelled, and it is no longer in service" };
                format!("{} is a Microsoft subscription: {advice}", w.label(id))
            }));
        }
        if matches!(subscription.status, Status::Expired | Status::Disabled) {
            // Past its term, so past any window too.
            return Ok(self.refuse_not_live(ACTION, id, Rule::CancelAfterWindow));
        }
        if subscription.in_trial() {
            let trial = subscription.trial.expect("in trial");
            // A free trial costs nothing to leave at any point of it (TRIAL-ISV-CANCEL); a
            // Microsoft trial reaches here only under a policy that cancels Microsoft
            // subscriptions (nce-2022), and its rule is its own (TRIAL-MS).
            let rule = if trial.microsoft { Rule::TrialMs } else { Rule::TrialIsvCancel };
            self.accept(ACTION, subject, rule, |w| format!("{} cancelled during its free trial: nothing charged or credited", w.label(id)));
            self.post_zero_line(id, trial.start, trial.end, LineKind::CancelCredit, rule);
            self.delete(id, rule, "cancelled during its free trial");
            return Ok(StepResult::default());
        }
        if offer.billing == BillingType::Usage {
            self.accept(ACTION, subject, Rule::CancelUsage, |w| {
                format!("{} de-provisioned at once; usage is never refunded, usage recorded so far is still billed", w.label(id))
            });
            self.delete(id, Rule::CancelUsage, "a usage-based service cancelled");
            return Ok(StepResult::default());
        }
        if subscription.cancel_scheduled {
            return Ok(self.refuse(ACTION, subject, Code::CancellationAlreadyScheduled, Rule::CancelAfterWindow, |w| {
                format!("{} is already cancelled at the end of its term", w.label(id))
            }));
        }
        let CancelWindow { length: window, opened, end: window_end } = self.cancel_window(id)?;
        let opened_word = match self.policy.cancel_window_from {
            WindowStart::Order => "ordered",
            WindowStart::LatestChange => "opened",
        };
        self.hit(Rule::CancelWindow);
        if self.now < window_end {
            let refund = self.policy.cancel_refund;
            self.accept(ACTION, subject, Rule::CancelInWindow, |w| {
                let credit = match refund {
                    CancelRefund::Full => "a full credit",
                    CancelRefund::Prorated => "a credit of the unused days",
                };
                format!("{} cancelled inside its {window} window ({opened_word} {opened}, window ends {window_end}): deleted with {credit}", w.label(id))
            });
            // The add-ons go with their base (ADDON-SUSPEND-CASCADE), so what they were charged
            // for the service that ends now is credited the same way as the base's.
            let addons: Vec<SubscriptionId> = self.sub(id).addons.iter().copied().filter(|a| self.sub(*a).status != Status::Deleted).collect();
            for cancelled in std::iter::once(id).chain(addons) {
                match refund {
                    // The cancellation's own event says why; the credits need no note.
                    CancelRefund::Full => self.credit_everything(cancelled, LineKind::CancelCredit, Rule::BillCancelCredit, "")?,
                    CancelRefund::Prorated => self.credit_rest_of_period(cancelled, LineKind::CancelCredit, Rule::BillCancelCredit, "")?,
                }
            }
            self.delete(id, Rule::CancelInWindow, "cancelled inside its cancellation window");
            return Ok(StepResult::default());
        }
        match self.policy.post_window_cancel {
            PostWindowCancel::Reject => Ok(self.refuse(ACTION, subject, Code::CancellationWindowPassed, Rule::CancelAfterWindow, |w| {
                format!("{}'s {window} cancellation window ended at {window_end}", w.label(id))
            })),
            PostWindowCancel::ScheduleAtRenewal => {
                let subscription = self.sub_mut(id);
                subscription.cancel_scheduled = true;
                subscription.auto_renew = false;
                self.accept(ACTION, subject.clone(), Rule::CancelAfterWindow, |w| {
                    format!("{}'s {window} window ended at {window_end}: the cancellation is scheduled for the end of the term", w.label(id))
                });
                self.done(EventKind::CancellationScheduled, subject, Rule::CancelAfterWindow, |w| {
                    let end = w.sub(id).schedule.map(|s| format_date(s.term_end())).unwrap_or_default();
                    let ending = w.unrenewed_term_ending(id);
                    format!("{} stays {}, will not renew, nothing is credited; it {ending} on {end}", w.label(id), w.sub(id).status.name())
                });
                Ok(StepResult::default())
            }
        }
    }
}
