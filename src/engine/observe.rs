//! What the engine reports while it runs: events, ledger lines, invoices and step results.
//!
//! The engine hands these to an [`Observer`]. A scenario run records everything (with a
//! sentence of detail per event) to build the outcome; a large what-if run only adds them into
//! aggregates, and never pays for the detail text: the engine formats it only for an
//! observer that asks ([`Observer::WANTS_DETAIL`]).

use chrono::NaiveDate;

use crate::engine::catalog::OfferId;
use crate::engine::money::{Decimal, Money, Rounding};
use crate::engine::rules::{Code, Rule};
use crate::engine::script::{CustomerId, UserId};
use crate::engine::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriptionId(pub u32);

impl SubscriptionId {
    /// `sub-0001` for the first subscription created.
    pub fn display(self) -> String {
        format!("sub-{:04}", self.0 + 1)
    }
}

/// Where an event came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A partner action of step `index` (0-based).
    Action { step: u32 },
    /// A scheduled event of the simulated clock.
    Scheduled,
    /// The start of the run.
    Setup,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventResult {
    /// An action was accepted.
    Ok,
    /// An action was refused (with a code).
    Rejected,
    /// A consequence happened (a scheduled event, or an effect of an action).
    Done,
}

impl EventResult {
    pub fn name(self) -> &'static str {
        match self {
            EventResult::Ok => "ok",
            EventResult::Rejected => "rejected",
            EventResult::Done => "done",
        }
    }
}

/// What an event is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Partner,
    Customer(CustomerId),
    Offer(OfferId),
    Subscription(SubscriptionId),
    Invoice(NaiveDate),
    Cart(CustomerId, String),
}

/// The kinds of events, named as they appear in `events.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// An action, by its scenario name (`suspend`, `buy`...).
    Action(&'static str),
    PartnerRegistered,
    OfferListed,
    CartLine,
    SubscriptionCreated,
    SetupLink,
    TrialStarted,
    TrialConverted,
    TrialExpired,
    TermStarted,
    AddonAligned,
    QuantityChanged,
    Suspended,
    DeletionScheduled,
    Reactivated,
    CancellationScheduled,
    AutoRenewChanged,
    Renewed,
    Deleted,
    Disabled,
    Expired,
    PeriodBilled,
    PeriodNotBilled,
    Charged,
    Credited,
    InvoiceIssued,
    PriceChanged,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Action(name) => name,
            EventKind::PartnerRegistered => "partner-registered",
            EventKind::OfferListed => "offer-listed",
            EventKind::CartLine => "cart-line",
            EventKind::SubscriptionCreated => "subscription-created",
            EventKind::SetupLink => "setup-link",
            EventKind::TrialStarted => "trial-started",
            EventKind::TrialConverted => "trial-converted",
            EventKind::TrialExpired => "trial-expired",
            EventKind::TermStarted => "term-started",
            EventKind::AddonAligned => "addon-aligned",
            EventKind::QuantityChanged => "quantity-changed",
            EventKind::Suspended => "suspended",
            EventKind::DeletionScheduled => "deletion-scheduled",
            EventKind::Reactivated => "reactivated",
            EventKind::CancellationScheduled => "cancellation-scheduled",
            EventKind::AutoRenewChanged => "auto-renew-changed",
            EventKind::Renewed => "renewed",
            EventKind::Deleted => "deleted",
            EventKind::Disabled => "disabled",
            EventKind::Expired => "expired",
            EventKind::PeriodBilled => "period-billed",
            EventKind::Charged => "charged",
            EventKind::Credited => "credited",
            EventKind::PeriodNotBilled => "period-not-billed",
            EventKind::InvoiceIssued => "invoice-issued",
            EventKind::PriceChanged => "price-changed",
        }
    }
}

/// One decision or happening, with the rule that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub at: Instant,
    pub source: Source,
    pub actor: Option<UserId>,
    pub kind: EventKind,
    pub subject: Subject,
    pub result: EventResult,
    pub code: Option<Code>,
    pub rule: Rule,
}

/// The kind of a ledger line (RULES.md section 10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LineKind {
    CycleFee,
    TermFee,
    ProrateCharge,
    ProrateCredit,
    CancelCredit,
    Trial,
    Usage,
}

impl LineKind {
    pub const ALL: [LineKind; 7] =
        [LineKind::CycleFee, LineKind::TermFee, LineKind::ProrateCharge, LineKind::ProrateCredit, LineKind::CancelCredit, LineKind::Trial, LineKind::Usage];
    pub fn name(self) -> &'static str {
        match self {
            LineKind::CycleFee => "cycle-fee",
            LineKind::TermFee => "term-fee",
            LineKind::ProrateCharge => "prorate-charge",
            LineKind::ProrateCredit => "prorate-credit",
            LineKind::CancelCredit => "cancel-credit",
            LineKind::Trial => "trial",
            LineKind::Usage => "usage",
        }
    }
    pub fn from_name(name: &str) -> Option<LineKind> {
        LineKind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// How a line's amount was computed, for `cspsim explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Computation {
    pub method: Method,
    /// How the exact amount was rounded to the currency's smallest unit (`amount_rounding`).
    pub rounding: Rounding,
    /// The line is the exact negative of an earlier charge computed by `method`.
    pub reverses_a_charge: bool,
}

/// The formula of a line's amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// quantity x unit price.
    Full,
    /// days x period price / period days x quantity, the rate exact.
    Prorated { period_days: u32 },
    /// days x rate x quantity, the daily rate (period price / period days) rounded to
    /// `decimals` first.
    ProratedRoundedRate { rate: i128, decimals: u32, period_days: u32 },
    /// units x unit price.
    Usage,
}

impl Computation {
    pub fn new(method: Method, rounding: Rounding) -> Computation {
        Computation { method, rounding, reverses_a_charge: false }
    }

    /// The computation of a credit that reverses a charge computed as `self`.
    pub fn reversed(self) -> Computation {
        Computation { reverses_a_charge: true, ..self }
    }
}

/// A line of the partner's billing ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerLine {
    pub customer: CustomerId,
    pub subscription: SubscriptionId,
    pub offer: OfferId,
    pub kind: LineKind,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub quantity: Decimal,
    /// The price per license (or unit) for the line's whole billed period.
    pub unit_price: Money,
    /// Days of the service period the line covers (none for usage).
    pub days: Option<u32>,
    pub amount: Money,
    pub billable_at: Instant,
    pub rule: Rule,
    pub computation: Computation,
}

impl LedgerLine {
    /// How the amount was computed, for people: `19 days x 4.00/31 x 1 = 2.4516... = 2.45
    /// (rounded half-up)`; a credit reads `credit of ... = -2.45`.
    pub fn computation_text(&self) -> String {
        let days = self.days.unwrap_or(0);
        let day_word = if days == 1 { "day" } else { "days" };
        let quantity = self.quantity;
        let unit_price = self.unit_price;
        // The exact amount as a fraction of cents, where the formula divides.
        let (formula, exact) = match self.computation.method {
            Method::Full => (format!("{quantity} x {unit_price}"), None),
            Method::Prorated { period_days } => (
                format!("{days} {day_word} x {unit_price}/{period_days} x {quantity}"),
                Some((i128::from(unit_price.cents()) * i128::from(days) * quantity.mantissa, i128::from(period_days) * 10_i128.pow(quantity.scale))),
            ),
            Method::ProratedRoundedRate { rate, decimals, period_days } => (
                format!(
                    "{days} {day_word} x {} a day ({unit_price}/{period_days} rounded to {decimals} decimal{}) x {quantity}",
                    Decimal { mantissa: rate, scale: decimals },
                    if decimals == 1 { "" } else { "s" }
                ),
                Some((rate * i128::from(days) * quantity.mantissa * 100, 10_i128.pow(decimals + quantity.scale))),
            ),
            Method::Usage => {
                (format!("{quantity} units x {unit_price}"), Some((i128::from(unit_price.cents()) * quantity.mantissa, 10_i128.pow(quantity.scale))))
            }
        };
        let credit = self.amount.is_negative() || self.computation.reverses_a_charge;
        let sign = if credit { "-" } else { "" };
        let rounded = match exact {
            Some((numerator, denominator)) if numerator.abs() != i128::from(self.amount.cents()).abs() * denominator => {
                format!("{sign}{} = ", exact_amount_text(numerator.abs(), denominator))
            }
            _ => String::new(),
        };
        let mode = if rounded.is_empty() { String::new() } else { format!(" (rounded {})", self.computation.rounding.name()) };
        format!("{}{formula} = {rounded}{}{mode}", if credit { "credit of " } else { "" }, self.amount)
    }
}

/// `cents_numerator / denominator` cents as an amount of the currency, to four decimals with
/// `...` where it goes on: the exact value a line's amount was rounded from.
fn exact_amount_text(cents_numerator: i128, denominator: i128) -> String {
    // In ten-thousandths of the currency unit: cents x 100.
    let scaled = cents_numerator * 100;
    let whole = scaled / denominator;
    let cut = scaled % denominator != 0;
    let mut digits = format!("{}.{:04}", whole / 10_000, whole % 10_000);
    if !cut {
        while digits.ends_with('0') && digits.split_once('.').is_some_and(|(_, fraction)| fraction.len() > 2) {
            digits.pop();
        }
    }
    if cut { format!("{digits}...") } else { digits }
}

/// One invoice of the partner, issued on a billing date (BILL-DATE).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invoice {
    pub date: NaiveDate,
    pub lines: Vec<LedgerLine>,
    pub total: Money,
}

/// The result of one checkout line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineOutcome {
    pub offer: OfferId,
    pub refusal: Option<(Code, Rule)>,
    pub subscription: Option<SubscriptionId>,
}

/// One offer as browsing shows it (AVAIL-EXPLAIN).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedOffer {
    pub offer: OfferId,
    pub refusal: Option<(Code, Rule)>,
}

/// What a step's action came to.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct StepResult {
    /// `None`: accepted (or no action). Otherwise the code and rule of the (first) refusal.
    pub refusal: Option<(Code, Rule)>,
    pub lines: Vec<LineOutcome>,
    pub listing: Vec<ListedOffer>,
}

/// Receives what the engine reports. Generic (not a trait object) so that a counting
/// observer costs nothing for the parts it ignores.
pub trait Observer {
    /// Whether the observer wants each event's sentence of detail. When false the engine
    /// never formats one (and passes an empty string).
    const WANTS_DETAIL: bool;
    /// Called for every event.
    fn event(&mut self, event: Event, detail: String);
    /// Called on each billing date with the invoice (lines moved in).
    fn invoice(&mut self, invoice: Invoice);
    /// `Some(bytes)` once what the observer keeps has outgrown its memory budget: the run then
    /// stops with an error instead of exhausting memory.
    fn recorded_bytes_over_budget(&self) -> Option<u64> {
        None
    }
    /// Called after each step (at its instant `at`) with its result and the subscriptions as
    /// they are then.
    fn step_finished(&mut self, step: usize, at: crate::engine::time::Instant, result: StepResult, subscriptions: &[crate::engine::state::Subscription]);
}
