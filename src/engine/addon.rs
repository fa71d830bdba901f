//! Add-ons (RULES.md section 5): bought onto an active base, aligned to its billing and term.

use crate::engine::EngineError;
use crate::engine::buy::Refusal;
use crate::engine::catalog::OfferId;
use crate::engine::observe::{EventKind, Observer, StepResult, Subject};
use crate::engine::rules::{Code, Rule};
use crate::engine::script::{CustomerId, HandleId, Licenses, Program, SubscriptionRef};
use crate::engine::state::Status;
use crate::engine::time::{Instant, format_date};
use crate::engine::world::{DueKind, World};
use crate::policy::Permission;

impl<O: Observer> World<'_, O> {
    /// ADDON-ELIGIBLE's country rule. An ISV add-on's own country list (AVAIL-ISV-COUNTRY)
    /// says the same thing for an add-on: the add-on rule's code names it.
    pub(crate) fn addon_region_refusal(&self, customer: CustomerId, offer_id: OfferId) -> Option<Refusal> {
        let offer = self.offer(offer_id);
        let country = self.script.customer(customer).country;
        let isv_countries = offer.isv.as_ref().and_then(|isv| isv.countries.as_ref());
        let outside = [offer.addon_countries.as_ref(), isv_countries].into_iter().flatten().any(|countries| !countries.contains(&country));
        outside.then(|| Refusal::new(Code::AddonNotAvailableInRegion, Rule::AddonEligible))
    }

    pub(crate) fn buy_addon(
        &mut self,
        base: SubscriptionRef,
        offer_id: OfferId,
        quantity: Option<Licenses>,
        name: Option<HandleId>,
    ) -> Result<StepResult, EngineError> {
        const ACTION: &str = "buy_addon";
        if !self.permitted(Permission::BuyAddon) {
            return Ok(self.deny(ACTION, Subject::Offer(offer_id), Permission::BuyAddon));
        }
        let Some(base_id) = self.resolve(base) else {
            return Ok(self.not_found(ACTION, base));
        };
        let subject = Subject::Offer(offer_id);
        if self.script.partner.program == Program::IndirectReseller {
            return Ok(self.refuse(ACTION, subject, Code::AddonNotAllowedForProgram, Rule::AddonProgram, |_| {
                "only direct-bill partners and indirect providers can buy add-ons".to_string()
            }));
        }
        let base_sub = self.sub(base_id);
        let customer = base_sub.customer;
        if base_sub.status == Status::Deleted {
            return Ok(self.refuse(ACTION, subject, Code::ParentNotActive, Rule::AddonActiveBase, |w| format!("the base {} was deleted", w.label(base_id))));
        }
        let base_offer = self.offer(base_sub.offer);
        if !base_offer.addons.contains(&offer_id) {
            return Ok(self.refuse(ACTION, subject, Code::AddonNotRelatedToParent, Rule::AddonEligible, |w| {
                format!("{} is not an add-on of {}", w.offer(offer_id).id, w.offer(w.sub(base_id).offer).id)
            }));
        }
        let offer = self.offer(offer_id);
        if let Some(refusal) = self.addon_region_refusal(customer, offer_id) {
            let country = self.script.customer(customer).country;
            return Ok(
                self.refuse(ACTION, subject, refusal.code, refusal.rule, |w| format!("{} is not available in {}", w.offer(offer_id).id, country.as_str()))
            );
        }
        if base_sub.status != Status::Active || base_sub.in_trial() || base_sub.schedule.is_none() {
            return Ok(self.refuse(ACTION, subject, Code::ParentNotActive, Rule::AddonActiveBase, |w| {
                let base = w.sub(base_id);
                let state = if base.in_trial() { "in its free trial" } else { base.status.name() };
                format!("the base {} is {state}; add-ons need an active paid base", w.label(base_id))
            }));
        }
        if offer.trial.is_some() {
            return Ok(self.refuse(ACTION, subject, Code::TrialNotAvailable, Rule::TrialMsEligible, |w| {
                format!("{} is a trial: add-ons have no trials", w.offer(offer_id).id)
            }));
        }
        // Section 2 holds for add-ons too: segment, CSP listing, limit, ISV country, exclusive
        // partners, transactable.
        if let Some(refusal) = self.catalog_availability(customer, offer_id, None) {
            return Ok(self.refuse(ACTION, subject, refusal.code, refusal.rule, |w| w.explain_refusal(offer_id, refusal)));
        }
        let quantity = match quantity.unwrap_or(Licenses::from(1)).within(offer.quantity_min, offer.quantity_max) {
            Ok(quantity) => quantity,
            Err(why) => return Ok(self.refuse(ACTION, subject, Code::QuantityOutOfRange, Rule::BuyQuantity, |w| format!("{why} for {}", w.offer(offer_id).id))),
        };
        // The program, base, eligibility and availability rules all let this purchase through.
        self.hit_permitting_rules(offer_id);
        self.hit(Rule::AddonProgram);
        self.hit(Rule::AddonActiveBase);
        let base_sub = self.sub(base_id);
        let base_schedule = base_sub.schedule.expect("checked above");
        let billing = base_sub.billing;
        self.accept(ACTION, subject, Rule::AddonEligible, |w| format!("{} x {} onto {}", quantity, w.offer(offer_id).id, w.label(base_id)));
        let id = self.create_subscription(customer, offer_id, quantity, billing, Some(base_id), name)?;
        if self.policy.addons_own_terms {
            // nce-2022: the add-on has its own term from today, billed like a purchase.
            self.start_paid_term(id, billing.unwrap_or(crate::engine::catalog::Frequency::Monthly))?;
            self.begin_next_period(id)?;
            return Ok(StepResult::default());
        }
        // ADDON-ALIGN: the base's frequency, term end and anniversary; the period price is the
        // add-on's own, locked now for the rest of the base's current period.
        let period_price = self.price(offer_id).checked_mul(i64::from(base_schedule.period_months)).ok_or_else(|| self.overflow("a period price"))?;
        let mut schedule = base_schedule;
        schedule.period_price = period_price;
        let now = self.now;
        let subscription = self.sub_mut(id);
        subscription.schedule = Some(schedule);
        subscription.paid_since = Some(now);
        self.schedule(schedule.term_end_at, DueKind::TermEnd, id.0);
        self.schedule(schedule.next_period_at, DueKind::PeriodStart, id.0);
        self.done(EventKind::AddonAligned, Subject::Subscription(id), Rule::AddonAlign, |w| {
            let period = schedule.period();
            format!(
                "{} follows {}: billed {}, first charge {} to {}, term ends {}",
                w.label(id),
                w.label(base_id),
                billing.map_or("?", |b| b.name()),
                format_date(w.now.date()),
                format_date(period.last_day),
                format_date(Instant::date(schedule.term_end_at))
            )
        });
        self.charge_rest_of_period(id, self.now.date(), None, quantity, Rule::BillAddon)?;
        Ok(StepResult { lines: Vec::new(), ..StepResult::default() })
    }
}
