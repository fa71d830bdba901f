//! Browsing and buying (RULES.md sections 2 and 3): availability with its reasons, carts,
//! checkout, and the creation of subscriptions.

use crate::engine::EngineError;
use crate::engine::catalog::{BillingType, Category, Frequency, LimitKind, OfferId, Segment};
use crate::engine::money::Money;
use crate::engine::observe::{EventKind, EventResult, LineOutcome, ListedOffer, Observer, StepResult, Subject, SubscriptionId};
use crate::engine::rules::{Code, Rule};
use crate::engine::script::{CartLine, CartRef, CustomerId, HandleId, Licenses, Program, PublisherFilter};
use crate::engine::state::{Cart, Status, Subscription, TrialState};
use crate::engine::time::format_date;
use crate::engine::world::{DueKind, World};
use crate::policy::Permission;

/// Why an offer cannot be bought, and the subscription to reactivate instead, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub code: Code,
    pub rule: Rule,
    pub blocking: Option<SubscriptionId>,
}

impl Refusal {
    pub(crate) fn new(code: Code, rule: Rule) -> Self {
        Refusal { code, rule, blocking: None }
    }
}

impl<O: Observer> World<'_, O> {
    /// Whether the customer can see the offer at all (CAT-SEGMENT, AVAIL-ISV-NOT-CSP).
    pub(crate) fn visibility(&self, customer: CustomerId, offer_id: OfferId) -> Option<Refusal> {
        let offer = self.offer(offer_id);
        let segment = self.script.customer(customer).segment;
        if !offer.segments.contains(&segment) {
            return Some(Refusal::new(Code::OfferNotFound, Rule::CatSegment));
        }
        if offer.isv.as_ref().is_some_and(|isv| !isv.sold_through_csp) {
            return Some(Refusal::new(Code::OfferNotFound, Rule::AvailIsvNotCsp));
        }
        None
    }

    /// The first rule that stops this customer buying the offer now, in the order of
    /// RULES.md section 2, then add-ons and trial eligibility (AVAIL-EXPLAIN).
    pub(crate) fn availability(&self, customer: CustomerId, offer_id: OfferId, ignoring: Option<SubscriptionId>) -> Option<Refusal> {
        if let Some(refusal) = self.catalog_availability(customer, offer_id, ignoring) {
            return Some(refusal);
        }
        let offer = self.offer(offer_id);
        if offer.is_addon {
            if !self.policy.addons_own_terms {
                return Some(Refusal::new(Code::AddonNotPurchasableFromCatalog, Rule::BuyAddonNotInCatalog));
            }
            // Bought from the catalog (nce-2022), an add-on is still an add-on: section 5's
            // program and country rules hold as they do onto a base.
            if self.script.partner.program == Program::IndirectReseller {
                return Some(Refusal::new(Code::AddonNotAllowedForProgram, Rule::AddonProgram));
            }
            if let Some(refusal) = self.addon_region_refusal(customer, offer_id) {
                return Some(refusal);
            }
            if offer.trial.is_some() {
                return Some(Refusal::new(Code::TrialNotAvailable, Rule::TrialMsEligible));
            }
        }
        if offer.is_microsoft_trial() {
            return self.trial_eligibility(customer, offer_id);
        }
        None
    }

    /// The first rule of RULES.md section 2 that stops this customer buying the offer now.
    /// An add-on bought onto its base passes these too.
    pub(crate) fn catalog_availability(&self, customer: CustomerId, offer_id: OfferId, ignoring: Option<SubscriptionId>) -> Option<Refusal> {
        if let Some(refusal) = self.visibility(customer, offer_id) {
            return Some(refusal);
        }
        let offer = self.offer(offer_id);
        if let Some(refusal) = self.limit_refusal(customer, offer_id, ignoring) {
            return Some(refusal);
        }
        if let Some(isv) = &offer.isv {
            let country = self.script.customer(customer).country;
            if isv.countries.as_ref().is_some_and(|countries| !countries.contains(&country)) {
                return Some(Refusal::new(Code::OfferNotAvailableInCountry, Rule::AvailIsvCountry));
            }
            if isv.exclusive_to.as_ref().is_some_and(|partners| !partners.contains(&self.script.partner.id)) {
                return Some(Refusal::new(Code::PartnerNotEligible, Rule::AvailIsvExclusive));
            }
            let usage_blocked = offer.billing == BillingType::Usage && !self.policy.isv_usage_transactable;
            if !isv.transactable || usage_blocked {
                return Some(Refusal::new(Code::NotTransactableInPartnerCenter, Rule::AvailNotTransactable));
            }
        }
        None
    }

    /// Counts the availability rules that applied to an offer a customer may buy: a rule is
    /// exercised when it decides, whether it refuses or, as here, lets the purchase through
    /// (the exclusive partner buys an exclusive offer).
    pub(crate) fn hit_permitting_rules(&mut self, offer_id: OfferId) {
        let offer = self.offer(offer_id);
        if offer.segments.len() < Segment::ALL.len() {
            self.hit(Rule::CatSegment);
        }
        if offer.limit.is_some() {
            self.hit(Rule::AvailLimit);
        }
        if let Some(isv) = &offer.isv {
            if isv.countries.is_some() {
                self.hit(Rule::AvailIsvCountry);
            }
            if isv.exclusive_to.is_some() {
                self.hit(Rule::AvailIsvExclusive);
            }
            if offer.billing == BillingType::Usage {
                self.hit(Rule::AvailNotTransactable);
            }
        }
        if offer.is_microsoft_trial() {
            self.hit(Rule::TrialMsEligible);
        }
    }

    /// AVAIL-LIMIT and AVAIL-SUSPENDED.
    pub(crate) fn limit_refusal(&self, customer: CustomerId, offer_id: OfferId, ignoring: Option<SubscriptionId>) -> Option<Refusal> {
        let limit = self.offer(offer_id).limit?;
        let counting: Vec<&Subscription> = self
            .subscriptions
            .iter()
            .filter(|s| s.customer == customer && s.offer == offer_id && Some(s.id) != ignoring)
            .filter(|s| match limit.kind {
                LimitKind::Concurrent => s.is_live(),
                LimitKind::Lifetime => true,
            })
            .collect();
        if (counting.len() as u64) < u64::from(limit.count) {
            return None;
        }
        match counting.iter().find(|s| s.status == Status::Suspended) {
            Some(suspended) => Some(Refusal { code: Code::SubscriptionSuspendedReactivate, rule: Rule::AvailSuspended, blocking: Some(suspended.id) }),
            None => Some(Refusal { code: Code::UseLimitExceeded, rule: Rule::AvailLimit, blocking: counting.first().map(|s| s.id) }),
        }
    }

    /// TRIAL-MS-ELIGIBLE.
    fn trial_eligibility(&self, customer: CustomerId, offer_id: OfferId) -> Option<Refusal> {
        if self.is_addon_trial(offer_id) {
            return Some(Refusal::new(Code::TrialNotAvailable, Rule::TrialMsEligible));
        }
        let segment = self.script.customer(customer).segment;
        if matches!(segment, Segment::Government | Segment::Education) {
            return Some(Refusal::new(Code::TrialNotAvailable, Rule::TrialMsEligible));
        }
        let mine = || self.subscriptions.iter().filter(move |s| s.customer == customer);
        if mine().any(|s| s.original_offer == offer_id) {
            return Some(Refusal::new(Code::TrialAlreadyUsed, Rule::TrialMsEligible));
        }
        let paid = self.offer(offer_id).trial.as_ref().and_then(|trial| trial.converts_to);
        if let Some(paid) = paid
            && let Some(owned) = mine().find(|s| s.offer == paid && s.is_live())
        {
            return Some(Refusal { code: Code::TrialOfferAlreadyOwned, rule: Rule::TrialMsEligible, blocking: Some(owned.id) });
        }
        None
    }

    /// TRIAL-MS-ELIGIBLE: "none for add-ons": an add-on with a trial, or a trial offer that
    /// converts to an add-on.
    fn is_addon_trial(&self, offer_id: OfferId) -> bool {
        let offer = self.offer(offer_id);
        let converts_to_addon = offer.trial.as_ref().and_then(|trial| trial.converts_to).is_some_and(|paid| self.offer(paid).is_addon);
        offer.trial.is_some() && (offer.is_addon || converts_to_addon)
    }

    pub(crate) fn explain_refusal(&self, offer_id: OfferId, refusal: Refusal) -> String {
        let offer = self.offer(offer_id);
        let why = match refusal.code {
            Code::OfferNotFound if refusal.rule == Rule::CatSegment => "is not sold to this customer's segment".to_string(),
            Code::OfferNotFound => "is not sold through CSP".to_string(),
            Code::UseLimitExceeded => format!("is limited to {} per customer", offer.limit.map_or(0, |l| l.count)),
            Code::SubscriptionSuspendedReactivate => {
                format!("is limited, and {} is suspended: reactivate it instead", refusal.blocking.map(|id| self.label(id)).unwrap_or_default())
            }
            Code::OfferNotAvailableInCountry => "is not offered in the customer's billing country".to_string(),
            Code::PartnerNotEligible => "is exclusive to other partners".to_string(),
            Code::NotTransactableInPartnerCenter => "is bought in the Azure portal, not in Partner Center".to_string(),
            Code::AddonNotPurchasableFromCatalog => "is an add-on: buy it onto a base subscription".to_string(),
            Code::AddonNotAvailableInRegion => "is an add-on not available in the customer's billing country".to_string(),
            Code::AddonNotAllowedForProgram => "is an add-on: only direct-bill partners and indirect providers can buy add-ons".to_string(),
            Code::TrialNotAvailable if self.is_addon_trial(offer_id) => "is a trial of an add-on: add-ons have no trials".to_string(),
            Code::TrialNotAvailable => "has no trial for this customer's segment".to_string(),
            Code::TrialAlreadyUsed => "was already trialled by this customer".to_string(),
            Code::TrialOfferAlreadyOwned => "is a trial of an offer the customer already owns".to_string(),
            other => other.name().to_string(),
        };
        format!("{} {why}", offer.id)
    }

    pub(crate) fn browse(
        &mut self,
        customer: CustomerId,
        publisher: Option<PublisherFilter>,
        billing: Option<BillingType>,
        category: Option<Category>,
    ) -> StepResult {
        if !self.permitted(Permission::Browse) {
            return self.deny("browse", Subject::Customer(customer), Permission::Browse);
        }
        if publisher.is_some() || billing.is_some() || category.is_some() {
            self.hit(Rule::CatFilter);
        }
        let mut listing = Vec::new();
        for offer_id in self.script.catalog.ids() {
            let offer = self.offer(offer_id);
            let matches = publisher.is_none_or(|p| (p == PublisherFilter::Microsoft) == offer.is_microsoft())
                && billing.is_none_or(|b| b == offer.billing)
                && category.is_none_or(|c| c == offer.category);
            if !matches {
                continue;
            }
            if let Some(hidden) = self.visibility(customer, offer_id) {
                self.hit(hidden.rule);
                continue;
            }
            let refusal = self.availability(customer, offer_id, None);
            let (result, code, rule) = match refusal {
                Some(r) => (EventResult::Rejected, Some(r.code), r.rule),
                None => {
                    self.hit_permitting_rules(offer_id);
                    (EventResult::Ok, None, Rule::AvailExplain)
                }
            };
            self.emit(EventKind::OfferListed, Subject::Offer(offer_id), result, code, rule, |world| match refusal {
                Some(r) => format!("unavailable: {}", world.explain_refusal(offer_id, r)),
                None => format!("{} is available", world.offer(offer_id).id),
            });
            listing.push(ListedOffer { offer: offer_id, refusal: refusal.map(|r| (r.code, r.rule)) });
        }
        let count = listing.len();
        self.accept("browse", Subject::Customer(customer), Rule::AvailExplain, |world| {
            format!("{count} offers listed for {}", world.script.customer(customer).handle)
        });
        StepResult { listing, ..StepResult::default() }
    }

    fn find_cart(&self, customer: CustomerId, cart: &CartRef) -> Option<usize> {
        let name = match cart {
            CartRef::Current => None,
            CartRef::Named(name) => Some(name.as_str()),
        };
        self.carts.iter().rposition(|c| c.customer == customer && c.name.as_deref() == name)
    }

    pub(crate) fn add_to_cart(&mut self, customer: CustomerId, cart: &CartRef, line: &CartLine) -> StepResult {
        let subject = Subject::Cart(customer, cart_name(cart));
        if !self.permitted(Permission::Buy) {
            return self.deny("add_to_cart", subject, Permission::Buy);
        }
        let existing = self.find_cart(customer, cart);
        if let (Some(index), CartRef::Named(_)) = (existing, cart)
            && self.carts[index].ordered
        {
            return self.refuse("add_to_cart", subject, Code::CartAlreadySubmitted, Rule::BuyCart, |_| "this cart was already checked out".to_string());
        }
        if self.offer(line.offer).is_addon && !self.policy.addons_own_terms {
            return self.refuse("add_to_cart", Subject::Offer(line.offer), Code::AddonNotPurchasableFromCatalog, Rule::BuyAddonNotInCatalog, |world| {
                format!("{} is an add-on: buy it onto a base subscription with buy_addon", world.offer(line.offer).id)
            });
        }
        // An unnamed cart that was checked out is done with: the next line opens a new one.
        let index = match existing {
            Some(index) if !self.carts[index].ordered => index,
            _ => {
                let name = match cart {
                    CartRef::Current => None,
                    CartRef::Named(name) => Some(name.clone()),
                };
                self.carts.push(Cart { customer, name, lines: Vec::new(), ordered: false });
                self.carts.len() - 1
            }
        };
        self.carts[index].lines.push(line.clone());
        let count = self.carts[index].lines.len();
        self.accept("add_to_cart", subject, Rule::BuyCart, |world| {
            format!("{} added to the cart ({count} line{})", world.offer(line.offer).id, if count == 1 { "" } else { "s" })
        });
        StepResult::default()
    }

    pub(crate) fn checkout(&mut self, customer: CustomerId, cart: &CartRef) -> Result<StepResult, EngineError> {
        let subject = Subject::Cart(customer, cart_name(cart));
        if !self.permitted(Permission::Buy) {
            return Ok(self.deny("checkout", subject, Permission::Buy));
        }
        let Some(index) = self.find_cart(customer, cart) else {
            return Ok(self.refuse("checkout", subject, Code::CartEmpty, Rule::BuyCart, |_| "there is no cart to check out".to_string()));
        };
        if self.carts[index].ordered {
            return Ok(self.refuse("checkout", subject, Code::CartAlreadySubmitted, Rule::BuyCart, |_| "this cart was already checked out".to_string()));
        }
        if self.carts[index].lines.is_empty() {
            return Ok(self.refuse("checkout", subject, Code::CartEmpty, Rule::BuyCart, |_| "the cart has no lines".to_string()));
        }
        self.carts[index].ordered = true;
        let lines = self.carts[index].lines.clone();
        self.order(customer, subject, "checkout", &lines)
    }

    /// `buy`: add every item to a fresh cart, then check it out.
    pub(crate) fn buy(&mut self, customer: CustomerId, lines: &[CartLine]) -> Result<StepResult, EngineError> {
        let subject = Subject::Customer(customer);
        if !self.permitted(Permission::Buy) {
            return Ok(self.deny("buy", subject, Permission::Buy));
        }
        self.order(customer, subject, "buy", lines)
    }

    /// Checks out lines as one order (BUY-CART): each valid line becomes a subscription, each
    /// invalid one is refused with its code, and the others still go through.
    fn order(&mut self, customer: CustomerId, subject: Subject, action: &'static str, lines: &[CartLine]) -> Result<StepResult, EngineError> {
        let mut outcomes = Vec::with_capacity(lines.len());
        for line in lines {
            outcomes.push(self.order_line(customer, line)?);
        }
        let refusal = outcomes.iter().find_map(|outcome| outcome.refusal);
        let created = outcomes.iter().filter(|o| o.subscription.is_some()).count();
        let total = outcomes.len();
        match refusal {
            Some((code, rule)) => {
                self.refuse_as_summary(action, subject, code, rule, |_| format!("{created} of {total} line{} ordered", if total == 1 { "" } else { "s" }));
            }
            None => self.accept(action, subject, Rule::BuyCart, |_| format!("{created} of {total} line{} ordered", if total == 1 { "" } else { "s" })),
        }
        Ok(StepResult { refusal, lines: outcomes, listing: Vec::new() })
    }

    fn refuse_line(&mut self, offer: OfferId, code: Code, rule: Rule, detail: impl FnOnce(&Self) -> String) -> LineOutcome {
        self.emit(EventKind::CartLine, Subject::Offer(offer), EventResult::Rejected, Some(code), rule, detail);
        LineOutcome { offer, refusal: Some((code, rule)), subscription: None }
    }

    fn order_line(&mut self, customer: CustomerId, line: &CartLine) -> Result<LineOutcome, EngineError> {
        let offer_id = line.offer;
        let offer = self.offer(offer_id);
        if let Some(refusal) = self.availability(customer, offer_id, None) {
            return Ok(self.refuse_line(offer_id, refusal.code, refusal.rule, |world| world.explain_refusal(offer_id, refusal)));
        }
        self.hit_permitting_rules(offer_id);
        let (quantity, billing) = match offer.billing {
            BillingType::Usage => {
                if line.quantity.is_some() {
                    return Ok(
                        self.refuse_line(offer_id, Code::QuantityNotApplicable, Rule::BuyQuantity, |_| "a usage-based offer has no license quantity".into())
                    );
                }
                if line.billing.is_some() {
                    return Ok(self.refuse_line(offer_id, Code::BillingFrequencyNotSupported, Rule::BuyQuantity, |_| {
                        "usage is billed in arrears; it has no billing frequency".into()
                    }));
                }
                (0, None)
            }
            BillingType::License => {
                let frequency = line.billing.unwrap_or_else(|| offer.default_frequency());
                if !offer.frequencies.contains(&frequency) {
                    return Ok(self.refuse_line(offer_id, Code::BillingFrequencyNotSupported, Rule::BuyQuantity, |world| {
                        let allowed: Vec<&str> = world.offer(offer_id).frequencies.iter().map(|f| f.name()).collect();
                        format!("{} is billed {} only", world.offer(offer_id).id, allowed.join(" or "))
                    }));
                }
                let quantity = if offer.is_microsoft_trial() {
                    let licenses = i64::from(self.trial_licenses(offer_id));
                    if line.quantity.is_some_and(|asked| asked.whole() != Some(licenses)) {
                        return Ok(self
                            .refuse_line(offer_id, Code::TrialQuantityFixed, Rule::TrialMs, |_| format!("a Microsoft trial has exactly {licenses} licenses")));
                    }
                    licenses
                } else {
                    match line.quantity.unwrap_or(Licenses::from(1)).within(offer.quantity_min, offer.quantity_max) {
                        Ok(quantity) => quantity,
                        Err(why) => {
                            return Ok(self.refuse_line(offer_id, Code::QuantityOutOfRange, Rule::BuyQuantity, |world| {
                                format!("{why} for {}", world.offer(offer_id).id)
                            }));
                        }
                    }
                };
                // A Microsoft trial is not billed: its frequency is chosen when it converts.
                (quantity, if offer.is_microsoft_trial() { None } else { Some(frequency) })
            }
        };
        let id = SubscriptionId(self.subscriptions.len() as u32);
        self.emit(EventKind::CartLine, Subject::Offer(offer_id), EventResult::Ok, None, Rule::BuyCart, |world| {
            let name = line.name.map(|h| format!(" ({})", world.script.handles[h.0 as usize])).unwrap_or_default();
            format!("{} ordered as {}{name}", world.offer(offer_id).id, id.display())
        });
        let created = self.create_subscription(customer, offer_id, quantity, billing, None, line.name)?;
        debug_assert_eq!(created, id);
        Ok(LineOutcome { offer: offer_id, refusal: None, subscription: Some(id) })
    }

    pub(crate) fn trial_licenses(&self, offer_id: OfferId) -> u32 {
        self.offer(offer_id).trial.as_ref().and_then(|t| t.licenses).unwrap_or(self.policy.microsoft_trial_licenses)
    }

    /// Creates a subscription and starts it the way its offer says: a Microsoft trial, an ISV
    /// trial, a paid term, or usage.
    pub(crate) fn create_subscription(
        &mut self,
        customer: CustomerId,
        offer_id: OfferId,
        quantity: i64,
        billing: Option<Frequency>,
        parent: Option<SubscriptionId>,
        handle: Option<HandleId>,
    ) -> Result<SubscriptionId, EngineError> {
        let id = SubscriptionId(self.subscriptions.len() as u32);
        let offer = self.offer(offer_id);
        self.subscriptions.push(Subscription {
            id,
            handle,
            customer,
            offer: offer_id,
            original_offer: offer_id,
            parent,
            addons: Vec::new(),
            status: Status::Active,
            quantity,
            billing,
            auto_renew: offer.billing == BillingType::License && !offer.is_microsoft_trial(),
            cancel_scheduled: false,
            ordered_at: self.now,
            window_opened_at: self.now,
            expired_at_term_end: false,
            disabled_at: None,
            paid_since: None,
            trial: None,
            schedule: None,
            suspended_at: None,
            suspend_reason: None,
            suspended_with_base: false,
            deletion_at: None,
            deleted_at: None,
            standing: Vec::new(),
        });
        if let Some(handle) = handle {
            self.handles[handle.0 as usize] = Some(id);
        }
        if let Some(parent) = parent {
            self.sub_mut(parent).addons.push(id);
        }
        // An add-on is not bought through a cart (BUY-ADDON-NOT-IN-CATALOG) but onto its base,
        // as the action accepted under ADDON-ELIGIBLE.
        let rule = if parent.is_some() { Rule::AddonEligible } else { Rule::BuyCart };
        self.done(EventKind::SubscriptionCreated, Subject::Subscription(id), rule, |world| {
            let billed = match billing {
                Some(frequency) => format!("billed {}", frequency.adverb()),
                None if world.offer(offer_id).is_microsoft_trial() => "free during its trial".to_string(),
                None => "billed by usage".to_string(),
            };
            let units = if world.offer(offer_id).billing == BillingType::License { format!("{quantity} x ") } else { String::new() };
            format!("{}: {units}{} for {}, {billed}", world.label(id), world.offer(offer_id).id, world.script.customer(customer).handle)
        });
        if self.sub(id).auto_renew {
            self.hit(Rule::RenewDefault);
        }
        if offer.is_microsoft_trial() {
            let days = offer.trial.as_ref().and_then(|t| t.days).unwrap_or(self.policy.microsoft_trial_days);
            self.start_trial(id, true, days)?;
        } else if offer.has_isv_trial() {
            let days = offer.trial.as_ref().and_then(|t| t.days).unwrap_or(self.policy.isv_trial_days);
            self.start_trial(id, false, days)?;
        } else if let Some(frequency) = billing
            && parent.is_none()
        {
            // Add-ons take their base's schedule instead (ADDON-ALIGN, in `buy_addon`).
            self.start_paid_term(id, frequency)?;
            self.begin_next_period(id)?;
        }
        if let Some(url) = offer.isv.as_ref().and_then(|isv| isv.setup_url.clone()) {
            self.done(EventKind::SetupLink, Subject::Subscription(id), Rule::BuyIsvLink, |world| {
                format!("{}: finish setup at {url} (no e-mail is sent)", world.label(id))
            });
        } else if !offer.is_microsoft() {
            self.done(EventKind::SetupLink, Subject::Subscription(id), Rule::BuyIsvLink, |world| {
                format!("{}: the publisher gave no setup link (no e-mail is sent)", world.label(id))
            });
        }
        Ok(id)
    }

    fn start_trial(&mut self, id: SubscriptionId, microsoft: bool, days: u32) -> Result<(), EngineError> {
        let end = self.now.midnight_days_after(i64::from(days)).ok_or_else(|| self.overflow("a trial end"))?;
        let start = self.now;
        self.sub_mut(id).trial = Some(TrialState { microsoft, start, end, over: false });
        self.schedule(end, DueKind::TrialEnd, id.0);
        self.post_trial_line(id, start, end);
        let rule = if microsoft { Rule::TrialMs } else { Rule::TrialIsvAuto };
        self.done(EventKind::TrialStarted, Subject::Subscription(id), rule, |world| {
            let after =
                if microsoft && !world.policy.microsoft_trials_convert { "then it expires unless converted" } else { "then it converts to paid by itself" };
            format!("{}: free trial of {} licenses until {}, {after}", world.label(id), world.sub(id).quantity, format_date(end.date()))
        });
        Ok(())
    }

    pub(crate) fn set_price(&mut self, offer: OfferId, price: Money) -> StepResult {
        let old = self.price(offer);
        self.prices[offer.0 as usize] = price;
        self.accept("set_price", Subject::Offer(offer), Rule::BillPriceLock, |world| {
            format!("{} costs {price} instead of {old} from now; billed periods keep their locked price", world.offer(offer).id)
        });
        StepResult::default()
    }

    pub(crate) fn view_invoices(&mut self) -> StepResult {
        if !self.permitted(Permission::ViewInvoices) {
            return self.deny("view_invoices", Subject::Partner, Permission::ViewInvoices);
        }
        self.accept("view_invoices", Subject::Partner, Rule::RoleMatrix, |_| "invoices viewed".to_string());
        StepResult::default()
    }
}

fn cart_name(cart: &CartRef) -> String {
    match cart {
        CartRef::Current => String::new(),
        CartRef::Named(name) => name.clone(),
    }
}
