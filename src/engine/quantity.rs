//! License quantity changes (RULES.md section 6, BILL-QTY-CHANGE) and recorded usage
//! (BILL-USAGE).

use crate::engine::EngineError;
use crate::engine::catalog::BillingType;
use crate::engine::money::Decimal;
use crate::engine::observe::{LineKind, Observer, StepResult, Subject};
use crate::engine::rules::{Code, Rule};
use crate::engine::script::{Licenses, SubscriptionRef};
use crate::engine::state::Status;
use crate::engine::time::add_days;
use crate::engine::world::World;
use crate::policy::Permission;

impl<O: Observer> World<'_, O> {
    pub(crate) fn set_quantity(&mut self, reference: SubscriptionRef, quantity: Licenses) -> Result<StepResult, EngineError> {
        const ACTION: &str = "set_quantity";
        let id = match self.target(ACTION, Permission::ChangeQuantity, reference) {
            Ok(id) => id,
            Err(refused) => return Ok(refused),
        };
        let subject = Subject::Subscription(id);
        let subscription = self.sub(id);
        match subscription.status {
            Status::Deleted => return Ok(self.refuse_deleted(ACTION, id)),
            Status::Suspended => {
                return Ok(self.refuse(ACTION, subject, Code::SubscriptionSuspended, Rule::QtySuspended, |w| {
                    format!("{} is suspended: reactivate it first", w.label(id))
                }));
            }
            Status::Expired | Status::Disabled => return Ok(self.refuse_not_live(ACTION, id, Rule::QtyChange)),
            Status::Active => {}
        }
        let offer = self.offer(subscription.offer);
        if offer.billing == BillingType::Usage {
            return Ok(self.refuse(ACTION, subject, Code::QuantityNotApplicable, Rule::QtyChange, |w| {
                format!("{} is usage-based: it has no license quantity", w.label(id))
            }));
        }
        if subscription.trial.is_some_and(|t| t.microsoft && !t.over) {
            return Ok(self.refuse(ACTION, subject, Code::TrialQuantityFixed, Rule::TrialMs, |w| {
                format!("{} is a Microsoft trial: its licenses are fixed", w.label(id))
            }));
        }
        let quantity = match quantity.within(offer.quantity_min, offer.quantity_max) {
            Ok(quantity) => quantity,
            Err(why) => {
                return Ok(self.refuse(ACTION, subject, Code::QuantityOutOfRange, Rule::BuyQuantity, |w| format!("{why} for {}", w.offer(w.sub(id).offer).id)));
            }
        };
        let old = subscription.quantity;
        let billed = subscription.schedule.is_some() && !subscription.in_trial();
        if quantity < old && self.policy.reductions_only_in_window {
            let window_end = self.cancel_window(id)?.end;
            if self.now >= window_end {
                return Ok(self.refuse(ACTION, subject, Code::QuantityDecreaseNotAllowed, Rule::QtyChange, |w| {
                    format!("{}: seats can be removed only until {window_end} (the cancellation window)", w.label(id))
                }));
            }
        }
        let now = self.now;
        let reopens_window = quantity > old && self.policy.cancel_window_from == crate::policy::WindowStart::LatestChange;
        let subscription = self.sub_mut(id);
        subscription.quantity = quantity;
        if reopens_window {
            subscription.window_opened_at = now;
        }
        self.accept(ACTION, subject, Rule::QtyChange, |w| format!("{} licenses {old} -> {quantity}", w.label(id)));
        if billed && quantity != old {
            self.rebill_for_quantity(id, quantity)?;
        }
        Ok(StepResult::default())
    }

    /// BILL-QTY-CHANGE on day d of the billed period [s, e]: the charge standing for the period
    /// at the old quantity is credited, the old quantity is charged for [s, d-1] and the new
    /// one for [d, e]. (After an earlier change in the same period, "the charge at the old
    /// quantity" is the one standing on day d, which began at the earlier change.)
    fn rebill_for_quantity(&mut self, id: crate::engine::observe::SubscriptionId, quantity: i64) -> Result<(), EngineError> {
        let today = self.now.date();
        let covering = self.take_charges_covering(id, today);
        if covering.is_empty() {
            return Ok(());
        }
        for charge in &covering {
            self.reverse(id, *charge, LineKind::ProrateCredit, Rule::BillQtyChange, None)?;
        }
        for charge in &covering {
            if charge.first_day < today {
                let yesterday = add_days(today, -1).expect("in range");
                self.charge_rest_of_period(id, charge.first_day, Some(yesterday), charge.quantity, Rule::BillQtyChange)?;
            }
        }
        self.charge_rest_of_period(id, today, None, quantity, Rule::BillQtyChange)
    }

    pub(crate) fn record_usage(&mut self, reference: SubscriptionRef, units: Decimal) -> Result<StepResult, EngineError> {
        const ACTION: &str = "record_usage";
        let Some(id) = self.resolve(reference) else {
            return Ok(self.not_found(ACTION, reference));
        };
        let subject = Subject::Subscription(id);
        let subscription = self.sub(id);
        if subscription.status == Status::Deleted {
            return Ok(self.refuse_deleted(ACTION, id));
        }
        if self.offer(subscription.offer).billing != BillingType::Usage {
            return Ok(self.refuse(ACTION, subject, Code::NotUsageBased, Rule::BillUsage, |w| format!("{} is license-based: it records no usage", w.label(id))));
        }
        if subscription.status == Status::Suspended {
            return Ok(self.refuse(ACTION, subject, Code::SubscriptionSuspended, Rule::Suspend, |w| format!("{} is suspended", w.label(id))));
        }
        self.post_usage(id, units)?;
        self.accept(ACTION, subject, Rule::BillUsage, |w| {
            let computation = w.pending_lines.last().map(|line| line.computation_text()).unwrap_or_default();
            format!("{}: {computation}, billed in arrears on the next billing date", w.label(id))
        });
        Ok(StepResult::default())
    }
}
