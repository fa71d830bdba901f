//! The simulation's state: subscriptions, carts, the billing schedule of each subscription,
//! and the charges that still stand (not yet credited).

use chrono::NaiveDate;

use crate::engine::calendar::Period;
use crate::engine::catalog::{Frequency, OfferId};
use crate::engine::money::Money;
use crate::engine::observe::{Computation, LineKind, SubscriptionId};
use crate::engine::script::{CartLine, CustomerId, HandleId, SuspendReason};
use crate::engine::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Active,
    Suspended,
    /// A Microsoft trial that was not converted in time (TRIAL-MS), or under nce-2022 a term
    /// that ended without renewal.
    Expired,
    /// nce-2022: out of service before deletion.
    Disabled,
    Deleted,
}

impl Status {
    pub const NAMES: &'static [&'static str] = &["active", "suspended", "expired", "disabled", "deleted"];
    pub fn name(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Expired => "expired",
            Status::Disabled => "disabled",
            Status::Deleted => "deleted",
        }
    }
    /// "has expired", "is disabled": the state in a sentence.
    pub fn phrase(self) -> &'static str {
        match self {
            Status::Active => "is active",
            Status::Suspended => "is suspended",
            Status::Expired => "has expired",
            Status::Disabled => "is disabled",
            Status::Deleted => "was deleted",
        }
    }
    /// Who can use the service (SUSPEND: while suspended, administrators only).
    pub fn access(self) -> &'static str {
        match self {
            Status::Active => "full",
            Status::Suspended | Status::Expired => "admins-only",
            Status::Disabled | Status::Deleted => "none",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrialState {
    pub microsoft: bool,
    pub start: Instant,
    /// 00:00 UTC of the day the trial is over.
    pub end: Instant,
    /// Converted or expired.
    pub over: bool,
}

/// The anniversary schedule of a paid license subscription (BILL-CALENDAR): every term and
/// billed period is computed from `anchor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BillingSchedule {
    pub anchor: NaiveDate,
    pub term_months: u32,
    pub period_months: u32,
    /// The current term, 0 for the first.
    pub term_index: u32,
    /// The current billed period, 0 for the first.
    pub period_index: u32,
    /// The billed period the next period start begins.
    pub next_period_index: u32,
    /// BILL-PRICE-LOCK: the price per license for the whole current period.
    pub period_price: Money,
    pub next_period_at: Instant,
    pub term_end_at: Instant,
}

impl BillingSchedule {
    pub fn period(&self) -> Period {
        Period::of(self.anchor, self.period_months, self.period_index).expect("periods of validated scenarios are in range")
    }
    pub fn term_start(&self) -> NaiveDate {
        crate::engine::calendar::add_months_clamped(self.anchor, self.term_months * self.term_index).expect("in range")
    }
    pub fn term_end(&self) -> NaiveDate {
        self.term_end_at.date()
    }
}

/// A charge on the ledger that has not been credited: a later quantity change, suspension
/// or cancellation reverses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StandingCharge {
    pub period_index: u32,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub quantity: i64,
    pub unit_price: Money,
    pub days: u32,
    pub amount: Money,
    pub kind: LineKind,
    /// How the amount was computed, for the credit that may reverse it.
    pub computation: Computation,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub handle: Option<HandleId>,
    pub customer: CustomerId,
    pub offer: OfferId,
    /// The offer bought (a converted Microsoft trial keeps its trial offer here).
    pub original_offer: OfferId,
    pub parent: Option<SubscriptionId>,
    pub addons: Vec<SubscriptionId>,
    pub status: Status,
    pub quantity: i64,
    /// `None` for usage-based subscriptions.
    pub billing: Option<Frequency>,
    pub auto_renew: bool,
    pub cancel_scheduled: bool,
    pub ordered_at: Instant,
    /// When the cancellation window last opened: the order, or under `cancel_window_from:
    /// latest-change` the latest paid purchase (a trial's conversion), renewal or seat addition.
    pub window_opened_at: Instant,
    /// Expired at the end of a term that did not renew: disabled next, then deleted.
    pub expired_at_term_end: bool,
    /// nce-2022: when the expired phase ends and the disabled one begins.
    pub disabled_at: Option<Instant>,
    /// When the paid subscription began (purchase, trial conversion).
    pub paid_since: Option<Instant>,
    pub trial: Option<TrialState>,
    pub schedule: Option<BillingSchedule>,
    pub suspended_at: Option<Instant>,
    pub suspend_reason: Option<SuspendReason>,
    /// Suspended by its base's suspension (ADDON-SUSPEND-CASCADE), not on its own.
    pub suspended_with_base: bool,
    pub deletion_at: Option<Instant>,
    pub deleted_at: Option<Instant>,
    pub standing: Vec<StandingCharge>,
}

impl Subscription {
    pub fn in_trial(&self) -> bool {
        self.trial.is_some_and(|trial| !trial.over)
    }
    pub fn is_live(&self) -> bool {
        matches!(self.status, Status::Active | Status::Suspended)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cart {
    pub customer: CustomerId,
    /// `None`: an unnamed cart.
    pub name: Option<String>,
    pub lines: Vec<CartLine>,
    pub ordered: bool,
}
