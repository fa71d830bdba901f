//! Seeded customer bases: a population's specification and its deterministic expansion into
//! one script per customer.
//!
//! Customers are independent in every rule (limits are per customer, invoices are sums over
//! customers), so each customer is simulated on its own and the results are added up. The
//! expansion of customer `i` depends only on the seed and `i` (never on thread scheduling), and
//! the random numbers come from SplitMix64, written here so that a crate upgrade can never
//! change a population.

use std::sync::Arc;

use crate::engine::calendar::add_months_clamped;
use crate::engine::catalog::{Country, Frequency, OfferId, Segment};
use crate::engine::script::{Action, CartLine, Customer, CustomerId, Script, Step, SubscriptionRef, SuspendReason, UserId};
use crate::engine::time::{Duration, Instant};

/// What customers buy at the start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurchaseMix {
    pub offer: OfferId,
    pub weight: u32,
    pub quantity_min: i64,
    pub quantity_max: i64,
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

    /// The script of customer `index`: its purchase and its monthly actions. `base` supplies
    /// the policy, catalog, partner and start; its own customers and steps are not used.
    pub fn customer_script(&self, base: &Script, index: u64) -> Script {
        let mut random = SplitMix64::new(self.seed ^ index.wrapping_mul(0xA076_1D64_78BD_642F));
        random.next_u64();
        let country = self.countries[random.weighted(self.countries.iter().map(|(_, weight)| *weight))].0;
        let segment = self.segments[random.weighted(self.segments.iter().map(|(_, weight)| *weight))].0;
        let purchase = &self.purchases[random.weighted(self.purchases.iter().map(|p| p.weight))];
        let quantity = random.between(purchase.quantity_min, purchase.quantity_max);
        let annual = random.chance(purchase.annual_percent * 100);
        let start = base.start;
        let first_month = Duration::from_days(28).seconds();
        let bought_at = start.checked_add(Duration::from_seconds(random.below(first_month as u64) as i64)).expect("inside the validated horizon");
        let actor = Some(self.actor);
        let subscription = SubscriptionRef::Generated(1);
        let mut steps = vec![Step {
            at: bought_at,
            actor,
            action: Some(Action::Buy {
                customer: CustomerId(0),
                lines: vec![CartLine {
                    offer: purchase.offer,
                    quantity: Some(quantity),
                    billing: Some(if annual { Frequency::Annual } else { Frequency::Monthly }),
                    name: None,
                }],
            }),
        }];
        // The generator keeps its own idea of the subscription's state so that it asks for
        // plausible actions (a reactivation only after a suspension); the engine still decides.
        #[derive(PartialEq)]
        enum Seen {
            Active,
            Suspended,
            Gone,
        }
        let mut seen = Seen::Active;
        let mut months_suspended = 0;
        let rates = self.rates;
        let mut month_begins = Instant::at_midnight(start.date());
        for month in 0..self.months {
            // Each month's bounds come from the start date (never a chained `+1 month`).
            let month_ends = Instant::at_midnight(add_months_clamped(start.date(), month + 1).expect("validated"));
            let length = (month_ends.unix_seconds() - month_begins.unix_seconds()) as u64;
            // The same number of draws every month whatever happens, so that one rate's change
            // does not shift every other random choice of the customer.
            let [quantity_change, suspend, reactivate, cancel, auto_renew_off] = [
                random.chance(rates.quantity_change),
                random.chance(rates.suspend),
                random.chance(rates.reactivate),
                random.chance(rates.cancel),
                random.chance(rates.auto_renew_off),
            ];
            let new_quantity = random.between(purchase.quantity_min, purchase.quantity_max);
            let at = month_begins.checked_add(Duration::from_seconds(random.below(length) as i64)).expect("inside the validated horizon");
            month_begins = month_ends;
            if at <= bought_at {
                continue;
            }
            // At most one action a month, in this order of precedence.
            let action = match seen {
                Seen::Gone => None,
                Seen::Suspended if reactivate => {
                    seen = Seen::Active;
                    months_suspended = 0;
                    Some(Action::Reactivate { subscription })
                }
                Seen::Suspended => {
                    // Not reactivated for a quarter: the customer has left (its data goes at the
                    // policy's retention date).
                    months_suspended += 1;
                    if months_suspended >= 3 {
                        seen = Seen::Gone;
                    }
                    None
                }
                Seen::Active if cancel => {
                    seen = Seen::Gone;
                    Some(Action::Cancel { subscription })
                }
                Seen::Active if suspend => {
                    seen = Seen::Suspended;
                    Some(Action::Suspend { subscription, reason: SuspendReason::Nonpayment })
                }
                Seen::Active if auto_renew_off => {
                    // Switching auto-renew off is how a customer leaves at term end.
                    seen = Seen::Gone;
                    Some(Action::SetAutoRenew { subscription, enabled: false })
                }
                Seen::Active if quantity_change => Some(Action::SetQuantity { subscription, quantity: new_quantity }),
                Seen::Active => None,
            };
            if let Some(action) = action {
                steps.push(Step { at, actor, action: Some(action) });
            }
        }
        Script {
            policy: Arc::clone(&base.policy),
            catalog: Arc::clone(&base.catalog),
            partner: Arc::clone(&base.partner),
            customers: vec![Customer { handle: format!("customer-{index:07}"), country, segment, opened: start.date() }],
            start,
            until: Some(self.horizon(start)),
            steps,
            handles: Vec::new(),
        }
    }
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
