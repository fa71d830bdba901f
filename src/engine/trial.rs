//! Trials (RULES.md section 4): ISV trials that convert by themselves, Microsoft trials that
//! expire unless the partner converts them.

use crate::engine::EngineError;
use crate::engine::catalog::{Frequency, OfferId};
use crate::engine::observe::{EventKind, Observer, StepResult, Subject, SubscriptionId};
use crate::engine::rules::{Code, Rule};
use crate::engine::script::{Licenses, SubscriptionRef};
use crate::engine::state::Status;
use crate::engine::time::format_date;
use crate::engine::world::{DueKind, World};
use crate::policy::{NotRenewedAtTermEnd, Permission};

impl<O: Observer> World<'_, O> {
    /// The end of a free trial: an ISV trial converts to paid and starts its term
    /// (TRIAL-ISV-AUTO); a Microsoft trial expires (TRIAL-MS) and is deleted after the
    /// retention period (SUSPEND-RETENTION).
    pub(crate) fn on_trial_end(&mut self, id: SubscriptionId) -> Result<(), EngineError> {
        let converts_to = self.offer(self.sub(id).offer).trial.as_ref().and_then(|t| t.converts_to);
        let subscription = self.sub_mut(id);
        let trial = subscription.trial.as_mut().expect("checked by the queue");
        trial.over = true;
        let microsoft = trial.microsoft;
        // Converting buys the paid offer, by hand or by itself: when the catalog's rules stop
        // that purchase (its segments, its limit, its quantity bounds), the trial expires instead.
        let blocked = match converts_to {
            Some(paid) if microsoft && self.policy.microsoft_trials_convert => self.automatic_conversion_refusal(id, paid),
            _ => None,
        };
        let frequency = match converts_to {
            Some(paid) if microsoft && self.policy.microsoft_trials_convert && blocked.is_none() => {
                // nce-2022: trials convert to paid by themselves, with their licenses.
                self.take_paid_offer(id, paid);
                self.done(EventKind::TrialConverted, Subject::Subscription(id), Rule::TrialMs, |world| {
                    format!("{}: the trial ended and converts to {} by itself under this policy", world.label(id), world.offer(paid).id)
                });
                self.offer(paid).default_frequency()
            }
            _ if microsoft => {
                // A trial already suspended keeps the deletion date its suspension set:
                // expiring does not extend a retention period that is already running.
                let subscription = self.sub_mut(id);
                let retention_running = subscription.status == Status::Suspended && subscription.deletion_at.is_some();
                subscription.status = Status::Expired;
                let rule = blocked.as_ref().map_or(Rule::TrialMs, |(_, rule)| *rule);
                self.done(EventKind::TrialExpired, Subject::Subscription(id), rule, |world| match (&blocked, converts_to) {
                    (Some((why, _)), Some(paid)) => {
                        format!("{}: the trial ended and expired: it cannot convert by itself, as {} {why}", world.label(id), world.offer(paid).id)
                    }
                    _ => format!("{}: the trial ended without conversion and expired", world.label(id)),
                });
                if retention_running {
                    return Ok(());
                }
                if self.policy.retention_days.is_some() {
                    self.schedule_retention_deletion(id)?;
                    return Ok(());
                }
                // No retention period (nce-2022): a trial that ends unconverted leaves service
                // the way a term that does not renew does.
                match self.policy.term_end_not_renewed {
                    NotRenewedAtTermEnd::Delete => self.delete(id, Rule::TrialMs, "its trial ended unconverted and this policy keeps nothing expired"),
                    NotRenewedAtTermEnd::Expire => {
                        self.sub_mut(id).expired_at_term_end = true;
                        let (disabled_at, deletion) = self.phase_dates(Status::Expired, self.policy.expired_days)?;
                        self.enter_phase(id, Status::Expired, disabled_at, deletion);
                    }
                }
                return Ok(());
            }
            _ => {
                self.done(EventKind::TrialConverted, Subject::Subscription(id), Rule::TrialIsvAuto, |world| {
                    format!("{}: the free trial ended; the subscription converts to paid", world.label(id))
                });
                self.sub(id).billing.unwrap_or(Frequency::Monthly)
            }
        };
        self.start_paid_term(id, frequency)?;
        // The first paid period starts now, after this instant's other trial and term events
        // (ORDER-SAME-INSTANT), through the queue like every period start.
        self.schedule(self.now, DueKind::PeriodStart, id.0);
        Ok(())
    }

    /// Why a Microsoft trial cannot become its paid offer by itself at its end (nce-2022), or
    /// `None` when it can: the same catalog rules as a conversion by hand, with the trial's
    /// licenses as the quantity.
    fn automatic_conversion_refusal(&self, id: SubscriptionId, paid: OfferId) -> Option<(String, Rule)> {
        let subscription = self.sub(id);
        if let Some(refusal) = self.catalog_availability(subscription.customer, paid, Some(id)) {
            let explained = self.explain_refusal(paid, refusal);
            let why = explained.strip_prefix(self.offer(paid).id.as_str()).unwrap_or(&explained).trim_start().to_string();
            return Some((format!("{why} ({})", refusal.code.name()), refusal.rule));
        }
        let offer = self.offer(paid);
        let licenses = subscription.quantity;
        if licenses < offer.quantity_min || licenses > offer.quantity_max {
            return Some((
                format!("takes {}..={} licenses, not {licenses} ({})", offer.quantity_min, offer.quantity_max, Code::QuantityOutOfRange.name()),
                Rule::BuyQuantity,
            ));
        }
        None
    }

    /// A Microsoft trial becomes its paid offer: the trial is over and the subscription
    /// renews automatically (RENEW-DEFAULT).
    fn take_paid_offer(&mut self, id: SubscriptionId, paid: OfferId) {
        let subscription = self.sub_mut(id);
        subscription.offer = paid;
        subscription.auto_renew = true;
        if let Some(trial) = subscription.trial.as_mut() {
            trial.over = true;
        }
        self.hit(Rule::RenewDefault);
    }

    /// TRIAL-MS-CONVERT: the trial keeps its id, takes the paid offer, and starts billing and a
    /// 12-month term now.
    pub(crate) fn convert_trial(
        &mut self,
        reference: SubscriptionRef,
        quantity: Option<Licenses>,
        billing: Option<Frequency>,
    ) -> Result<StepResult, EngineError> {
        const ACTION: &str = "convert_trial";
        let id = match self.target(ACTION, Permission::ConvertTrial, reference) {
            Ok(id) => id,
            Err(refused) => return Ok(refused),
        };
        let subject = Subject::Subscription(id);
        let subscription = self.sub(id);
        if subscription.status == Status::Deleted {
            return Ok(self.refuse_deleted(ACTION, id));
        }
        let Some(trial) = subscription.trial else {
            return Ok(self.refuse(ACTION, subject, Code::NotATrial, Rule::TrialMsConvert, |w| format!("{} is not a trial", w.label(id))));
        };
        if !trial.microsoft && trial.over {
            return Ok(self.refuse(ACTION, subject, Code::NotATrial, Rule::TrialIsvAuto, |w| {
                format!("{}'s free trial ended on {}; it is already paid", w.label(id), format_date(trial.end.date()))
            }));
        }
        if !trial.microsoft {
            return Ok(self.refuse(ACTION, subject, Code::TrialConvertsAutomatically, Rule::TrialIsvAuto, |w| {
                format!("{} is an ISV trial: it converts to paid by itself when the trial ends", w.label(id))
            }));
        }
        if subscription.status == Status::Expired {
            return Ok(self.refuse(ACTION, subject, Code::TrialExpired, Rule::TrialMs, |w| {
                format!("{}'s trial expired on {}; trials cannot be converted after day 30", w.label(id), format_date(trial.end.date()))
            }));
        }
        if trial.over {
            return Ok(self.refuse(ACTION, subject, Code::NotATrial, Rule::TrialMsConvert, |w| format!("{} was already converted", w.label(id))));
        }
        if subscription.status == Status::Suspended {
            return Ok(self.refuse(ACTION, subject, Code::SubscriptionSuspended, Rule::TrialMsConvert, |w| format!("{} is suspended", w.label(id))));
        }
        let trial_offer = subscription.offer;
        let customer = subscription.customer;
        let Some(paid) = self.offer(trial_offer).trial.as_ref().and_then(|t| t.converts_to) else {
            return Ok(self
                .refuse(ACTION, subject, Code::NotATrial, Rule::TrialMsConvert, |w| format!("{} names no paid offer to convert to", w.offer(trial_offer).id)));
        };
        let paid_offer = self.offer(paid);
        let asked = quantity.unwrap_or(Licenses::from(i64::from(self.trial_licenses(trial_offer))));
        let quantity = match asked.within(paid_offer.quantity_min, paid_offer.quantity_max) {
            Ok(quantity) => quantity,
            Err(why) => return Ok(self.refuse(ACTION, subject, Code::QuantityOutOfRange, Rule::BuyQuantity, |w| format!("{why} for {}", w.offer(paid).id))),
        };
        let frequency = billing.unwrap_or_else(|| paid_offer.default_frequency());
        if !paid_offer.frequencies.contains(&frequency) {
            return Ok(self.refuse(ACTION, subject, Code::BillingFrequencyNotSupported, Rule::BuyQuantity, |w| {
                format!("{} is not billed {}", w.offer(paid).id, frequency.adverb())
            }));
        }
        // Converting buys the paid offer: the catalog's rules for it hold (its segments, its
        // limit, not counting this trial).
        if let Some(refusal) = self.catalog_availability(customer, paid, Some(id)) {
            return Ok(self.refuse(ACTION, subject, refusal.code, refusal.rule, |w| w.explain_refusal(paid, refusal)));
        }
        self.sub_mut(id).quantity = quantity;
        self.take_paid_offer(id, paid);
        self.accept(ACTION, subject, Rule::TrialMsConvert, |w| {
            format!("{} converted to {}: {quantity} licenses billed {} from now", w.label(id), w.offer(paid).id, frequency.adverb())
        });
        self.start_paid_term(id, frequency)?;
        self.begin_next_period(id)?;
        Ok(StepResult::default())
    }
}
