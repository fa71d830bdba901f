//! Seeded customer bases: a population's specification and its deterministic expansion into
//! one script per customer.
//!
//! Customers are independent in every rule (limits are per customer, invoices are sums over
//! customers), so each customer is simulated on its own and the results are added up. The
//! expansion of customer `i` depends only on the seed and `i` (never on thread scheduling), and
//! the random numbers come from SplitMix64, written here so that a crate upgrade can never
//! change a population.

use std::borrow::Cow;
use std::sync::Arc;

use crate::engine::StepSource;
use crate::engine::calendar::add_months_clamped;
use crate::engine::catalog::{Country, Frequency, OfferId, Segment};
use crate::engine::observe::{Event, Invoice, Observer, StepResult};
use crate::engine::rules::Code;
use crate::engine::script::{Action, CartLine, Customer, CustomerId, Script, Step, SubscriptionRef, SuspendReason, UserId};
use crate::engine::state::{Status, Subscription};
use crate::engine::time::{Duration, Instant};

/// What customers buy at the start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurchaseMix {
    pub offer: OfferId,
    pub weight: u32,
    pub quantity_min: i64,
    pub quantity_max: i64,
    /// A Microsoft trial bought with no quantity: the trial's own licenses, as the policy in
    /// force decides them (TRIAL-MS).
    pub trial_licenses: bool,
    /// Share of annual billing, 0..=100.
    pub annual_percent: u32,
}

/// Monthly rates of partner actions per subscription, in hundredths of a percent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rates {
    pub quantity_change: u32,
    pub suspend: u32,
    pub reactivate: u32,
    pub cancel: u32,
    pub auto_renew_off: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PopulationSpec {
    pub customers: u64,
    pub seed: u64,
    pub months: u32,
    pub countries: Vec<(Country, u32)>,
    pub segments: Vec<(Segment, u32)>,
    pub purchases: Vec<PurchaseMix>,
    pub rates: Rates,
    pub actor: UserId,
}

/// SplitMix64 (Steele, Lea and Flood): tiny, fast, and fixed forever.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (bound > 0), without modulo bias worth measuring at these sizes:
    /// the widening multiply maps 64 random bits onto the range.
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// Uniform in `low..=high`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        low + self.below((high - low) as u64 + 1) as i64
    }

    /// An index chosen by weight.
    pub fn weighted(&mut self, weights: impl Iterator<Item = u32> + Clone) -> usize {
        let total: u64 = weights.clone().map(u64::from).sum();
        let mut pick = self.below(total.max(1));
        let mut last = 0;
        for (index, weight) in weights.enumerate() {
            if pick < u64::from(weight) {
                return index;
            }
            pick -= u64::from(weight);
            last = index;
        }
        last
    }

    /// True with probability `basis_points / 10000`.
    pub fn chance(&mut self, basis_points: u32) -> bool {
        self.below(10_000) < u64::from(basis_points)
    }
}

impl PopulationSpec {
    /// The end of the simulated horizon: `months` after the start.
    pub fn horizon(&self, start: Instant) -> Instant {
        let end = add_months_clamped(start.date(), self.months).expect("horizons are validated");
        Instant::from_unix_seconds(Instant::at_midnight(end).unix_seconds() + start.seconds_into_day())
    }

    /// Customer `index`'s setting: the base scenario's policy, catalog, partner and start, one
    /// generated customer, and the population's horizon. Its steps come from
    /// [`PopulationSpec::customer_steps`].
    pub fn customer_setting(&self, base: &Script, index: u64) -> Script {
        let (country, segment) = self.draw_place(&mut self.random(index));
        Script {
            policy: Arc::clone(&base.policy),
            catalog: Arc::clone(&base.catalog),
            partner: Arc::clone(&base.partner),
            customers: vec![Customer { handle: customer_handle(index), country, segment, opened: base.start.date() }],
            start: base.start,
            until: Some(self.horizon(base.start)),
            steps: Vec::new(),
            handles: Vec::new(),
        }
    }

    /// Customer `index`'s behaviour: its purchase, then each month at most one action, decided
    /// when the month's instant comes from what the random draws ask for and what the engine
    /// made of the customer's earlier actions.
    pub fn customer_steps(&self, base: &Script, index: u64) -> CustomerSteps {
        // The same stream as the setting's: its first draws are the customer's place.
        let mut random = self.random(index);
        self.draw_place(&mut random);
        let purchase = self.purchases[random.weighted(self.purchases.iter().map(|p| p.weight))].clone();
        let quantity = random.between(purchase.quantity_min, purchase.quantity_max);
        let annual = random.chance(purchase.annual_percent * 100);
        let first_month = Duration::from_days(28).seconds();
        let bought_at = base.start.checked_add(Duration::from_seconds(random.below(first_month as u64) as i64)).expect("inside the validated horizon");
        CustomerSteps {
            random,
            rates: self.rates,
            months: self.months,
            start: base.start,
            actor: Some(self.actor),
            purchase,
            buy: Some((bought_at, quantity, annual)),
            bought_at,
            month: 0,
            plan: None,
            now: bought_at,
            months_suspended: 0,
            left: false,
            awaiting: None,
            follow_up: None,
        }
    }

    /// Customer `index` as a scenario of its own (for `cspsim explain --customer`): the steps
    /// its behaviour comes to under the scenario's policy, found by running it once.
    pub fn customer_script(&self, base: &Script, index: u64, limits: crate::engine::Limits) -> Result<Script, crate::engine::EngineError> {
        let mut script = self.customer_setting(base, index);
        let mut recording = RecordingSteps { inner: self.customer_steps(base, index), steps: Vec::new() };
        crate::engine::run_steps(&script, &mut recording, NoObserver, limits)?;
        script.steps = recording.steps;
        Ok(script)
    }

    /// A customer's country and segment: the first draws of its stream.
    fn draw_place(&self, random: &mut SplitMix64) -> (Country, Segment) {
        let country = self.countries[random.weighted(self.countries.iter().map(|(_, weight)| *weight))].0;
        let segment = self.segments[random.weighted(self.segments.iter().map(|(_, weight)| *weight))].0;
        (country, segment)
    }

    fn random(&self, index: u64) -> SplitMix64 {
        let mut random = SplitMix64::new(self.seed ^ index.wrapping_mul(0xA076_1D64_78BD_642F));
        random.next_u64();
        random
    }
}

/// The handle of generated customer `index`. Hand-written customers may not take this form.
pub fn customer_handle(index: u64) -> String {
    format!("customer-{index:07}")
}

/// Whether a customer handle has the form of a generated customer's.
pub fn is_generated_handle(handle: &str) -> bool {
    handle.strip_prefix("customer-").is_some_and(|digits| digits.len() >= 7 && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// One month's random draws, made whatever happens so that one rate or one outcome never
/// shifts the customer's other random choices.
#[derive(Clone, Copy, Debug)]
struct MonthPlan {
    at: Instant,
    quantity_change: bool,
    suspend: bool,
    reactivate: bool,
    cancel: bool,
    auto_renew_off: bool,
    /// A quantity in `min..max` (one fewer than the range): mapped past the current quantity,
    /// so that a change always changes something.
    other_quantity: i64,
}

/// An action whose result decides the step that follows it at the same instant, the way a
/// partner reacts to a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FollowUp {
    /// A cancellation: if refused, the subscription is ended another way.
    Cancellation,
    /// Switching auto-renew off to leave at term end: accepted, the customer has left.
    AutoRenewOff,
    /// Suspending to leave (what a refused cancellation said to do): accepted, it has left.
    LeavingSuspension,
}

/// A generated customer's steps (see [`PopulationSpec::customer_steps`]).
pub struct CustomerSteps {
    random: SplitMix64,
    rates: Rates,
    months: u32,
    start: Instant,
    actor: Option<UserId>,
    purchase: PurchaseMix,
    /// The purchase, until it is made: instant, quantity, annual billing.
    buy: Option<(Instant, i64, bool)>,
    bought_at: Instant,
    /// The next month to draw.
    month: u32,
    /// The drawn month whose step comes next.
    plan: Option<MonthPlan>,
    /// The instant of the step being decided or just run (a follow-up comes at the same one).
    now: Instant,
    months_suspended: u32,
    /// The customer has left (cancelled, switched auto-renew off, or stayed suspended): it
    /// takes no more actions.
    left: bool,
    /// The last action's follow-up, waiting for its result.
    awaiting: Option<FollowUp>,
    /// A follow-up step due now, with the refusal (if any) of the action it follows.
    follow_up: Option<(FollowUp, Option<Code>)>,
}

impl CustomerSteps {
    const SUBSCRIPTION: SubscriptionRef = SubscriptionRef::Generated(1);

    /// Draws months up to the next one whose instant falls after the purchase.
    fn plan_next_month(&mut self) -> Option<MonthPlan> {
        while self.month < self.months {
            let month = self.month;
            self.month += 1;
            // Each month's bounds come from the start date (never a chained `+1 month`).
            let begins = Instant::at_midnight(add_months_clamped(self.start.date(), month).expect("validated"));
            let ends = Instant::at_midnight(add_months_clamped(self.start.date(), month + 1).expect("validated"));
            let length = (ends.unix_seconds() - begins.unix_seconds()) as u64;
            let rates = self.rates;
            let random = &mut self.random;
            let [quantity_change, suspend, reactivate, cancel, auto_renew_off] = [
                random.chance(rates.quantity_change),
                random.chance(rates.suspend),
                random.chance(rates.reactivate),
                random.chance(rates.cancel),
                random.chance(rates.auto_renew_off),
            ];
            let (low, high) = (self.purchase.quantity_min, self.purchase.quantity_max);
            let other_quantity = random.between(low, if high > low { high - 1 } else { low });
            let at = begins.checked_add(Duration::from_seconds(random.below(length) as i64)).expect("inside the validated horizon");
            if at > self.bought_at {
                return Some(MonthPlan { at, quantity_change, suspend, reactivate, cancel, auto_renew_off, other_quantity });
            }
        }
        None
    }

    /// This month's action, given the subscription as it is now. At most one a month, in this
    /// order of precedence.
    fn monthly_action(&mut self, plan: MonthPlan, subscription: &Subscription) -> Option<Action> {
        let reference = Self::SUBSCRIPTION;
        if subscription.status == Status::Active {
            self.months_suspended = 0;
        }
        match subscription.status {
            // The months suspended count again once it is seen active, not when a reactivation
            // is merely asked for (it can be refused).
            Status::Suspended if plan.reactivate => Some(Action::Reactivate { subscription: reference }),
            Status::Suspended => {
                // Not reactivated for a quarter: the customer has left (its data goes at the
                // policy's retention date).
                self.months_suspended += 1;
                self.left = self.months_suspended >= 3;
                None
            }
            Status::Active if plan.cancel => {
                self.awaiting = Some(FollowUp::Cancellation);
                Some(Action::Cancel { subscription: reference })
            }
            Status::Active if plan.suspend => Some(Action::Suspend { subscription: reference, reason: SuspendReason::Nonpayment }),
            Status::Active if plan.auto_renew_off => {
                // Switching auto-renew off is how a customer leaves at term end.
                self.awaiting = Some(FollowUp::AutoRenewOff);
                Some(Action::SetAutoRenew { subscription: reference, enabled: false })
            }
            Status::Active if plan.quantity_change && self.purchase.quantity_max > self.purchase.quantity_min => {
                let quantity = if plan.other_quantity >= subscription.quantity { plan.other_quantity + 1 } else { plan.other_quantity };
                Some(Action::SetQuantity { subscription: reference, quantity: quantity.into() })
            }
            // Expired, disabled or deleted: nothing left to act on.
            _ => None,
        }
    }

    /// The step that follows a cancellation or an auto-renew change at the same instant.
    fn follow_up_action(&mut self, follow_up: FollowUp, refusal: Option<Code>) -> Option<Action> {
        let subscription = Self::SUBSCRIPTION;
        match (follow_up, refusal) {
            (FollowUp::Cancellation | FollowUp::AutoRenewOff | FollowUp::LeavingSuspension, None) => {
                // Deleted, going at term end, or suspended for good.
                self.left = true;
                None
            }
            (FollowUp::Cancellation, Some(Code::CancelNotSupportedUseSuspend)) => {
                // As the refusal says: suspension is how this subscription ends.
                self.awaiting = Some(FollowUp::LeavingSuspension);
                Some(Action::Suspend { subscription, reason: SuspendReason::CustomerRequest })
            }
            (FollowUp::Cancellation, Some(_)) => {
                // Too late to cancel: leave at the end of the term instead.
                self.awaiting = Some(FollowUp::AutoRenewOff);
                Some(Action::SetAutoRenew { subscription, enabled: false })
            }
            // It renews (or stays) whatever the customer wants: the customer goes on as before.
            (FollowUp::AutoRenewOff | FollowUp::LeavingSuspension, Some(_)) => None,
        }
    }
}

impl StepSource for CustomerSteps {
    fn next_at(&mut self) -> Option<Instant> {
        if self.follow_up.is_some() {
            return Some(self.now);
        }
        if let Some((at, _, _)) = self.buy {
            return Some(at);
        }
        if self.left {
            return None;
        }
        if self.plan.is_none() {
            self.plan = self.plan_next_month();
        }
        self.plan.map(|plan| plan.at)
    }

    fn decide(&mut self, now: Instant, subscriptions: &[Subscription]) -> (Option<UserId>, Option<Cow<'_, Action>>) {
        self.now = now;
        if let Some((follow_up, refusal)) = self.follow_up.take() {
            return (self.actor, self.follow_up_action(follow_up, refusal).map(Cow::Owned));
        }
        if let Some((_, quantity, annual)) = self.buy.take() {
            let line = CartLine {
                offer: self.purchase.offer,
                quantity: (!self.purchase.trial_licenses).then(|| quantity.into()),
                billing: Some(if annual { Frequency::Annual } else { Frequency::Monthly }),
                name: None,
            };
            return (self.actor, Some(Cow::Owned(Action::Buy { customer: CustomerId(0), lines: vec![line] })));
        }
        let plan = self.plan.take().expect("next_at drew the month");
        // No subscription: the purchase was refused, and there is nothing to act on.
        let action = subscriptions.first().and_then(|subscription| self.monthly_action(plan, subscription));
        (self.actor, action.map(Cow::Owned))
    }

    fn finished(&mut self, result: &StepResult) {
        if let Some(follow_up) = self.awaiting.take() {
            self.follow_up = Some((follow_up, result.refusal.map(|(code, _)| code)));
        }
    }
}

/// Wraps a step source and writes down the steps it gives, for a script of them.
struct RecordingSteps<S: StepSource> {
    inner: S,
    steps: Vec<Step>,
}

impl<S: StepSource> StepSource for RecordingSteps<S> {
    fn next_at(&mut self) -> Option<Instant> {
        self.inner.next_at()
    }

    fn decide(&mut self, now: Instant, subscriptions: &[Subscription]) -> (Option<UserId>, Option<Cow<'_, Action>>) {
        let (actor, action) = self.inner.decide(now, subscriptions);
        let action = action.map(Cow::into_owned);
        // A step that only moves the clock changes nothing: it is left out of the script.
        if let Some(action) = &action {
            self.steps.push(Step { at: now, actor, action: Some(action.clone()) });
        }
        (actor, action.map(Cow::Owned))
    }

    fn finished(&mut self, result: &StepResult) {
        self.inner.finished(result);
    }
}

/// Watches nothing: for runs whose only product is their steps.
struct NoObserver;

impl Observer for NoObserver {
    const WANTS_DETAIL: bool = false;
    fn event(&mut self, _event: Event, _detail: String) {}
    fn invoice(&mut self, _invoice: Invoice) {}
    fn step_finished(&mut self, _step: usize, _at: Instant, _result: StepResult, _subscriptions: &[Subscription]) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_stream_is_fixed() {
        // Reference values of SplitMix64 seeded with 0 (the published test vector).
        let mut random = SplitMix64::new(0);
        assert_eq!(random.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(random.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn draws_stay_in_range() {
        let mut random = SplitMix64::new(7);
        for _ in 0..1000 {
            let n = random.between(3, 9);
            assert!((3..=9).contains(&n));
        }
        assert!(!random.chance(0));
        assert!(random.chance(10_000));
    }
}
