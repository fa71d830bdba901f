//! The numbers a what-if run keeps: money billed and credited per month, refused actions, and
//! how subscriptions ended. Collected by a counting observer that never formats a word, and
//! added up across customers (sums, so the order of addition cannot change them).

use chrono::{Datelike, NaiveDate};

use crate::engine::observe::{Event, Invoice, Observer, StepResult};
use crate::engine::state::{Status, Subscription};
use crate::engine::time::Instant;

/// One month's money and refusals, in cents. Sums of many runs' invoices, each of which fits
/// an `i64`: kept in `i128` so that a million customers' totals cannot wrap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Month {
    pub billed: i128,
    pub credited: i128,
    pub refused: u64,
}

/// Totals of a run, or of many runs added together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// The calendar month (`month_number`) of `months[0]`.
    pub first_month: i32,
    /// One entry per calendar month from `first_month` on.
    pub months: Vec<Month>,
    pub active_at_end: u64,
    pub suspended_at_end: u64,
    /// A Microsoft trial not converted in time, or (nce-2022) a term that ended without renewal.
    pub expired_at_end: u64,
    /// nce-2022: after the expired period, or a term that ended while suspended.
    pub disabled_at_end: u64,
    pub deleted_at_end: u64,
    pub subscriptions: u64,
    pub customers: u64,
    pub events: u64,
}

impl Metrics {
    /// Adds another run's numbers, month by calendar month: runs that start in different
    /// months (two scenarios of a suite) line up by date, not by position.
    pub fn add(&mut self, other: &Metrics) {
        if self.months.is_empty() {
            self.first_month = other.first_month;
        } else if !other.months.is_empty() && other.first_month < self.first_month {
            let earlier = (self.first_month - other.first_month) as usize;
            self.months.splice(0..0, std::iter::repeat_n(Month::default(), earlier));
            self.first_month = other.first_month;
        }
        let offset = (other.first_month - self.first_month).max(0) as usize;
        if self.months.len() < offset + other.months.len() {
            self.months.resize(offset + other.months.len(), Month::default());
        }
        for (mine, theirs) in self.months[offset..].iter_mut().zip(&other.months) {
            mine.billed += theirs.billed;
            mine.credited += theirs.credited;
            mine.refused += theirs.refused;
        }
        self.active_at_end += other.active_at_end;
        self.suspended_at_end += other.suspended_at_end;
        self.expired_at_end += other.expired_at_end;
        self.disabled_at_end += other.disabled_at_end;
        self.deleted_at_end += other.deleted_at_end;
        self.subscriptions += other.subscriptions;
        self.customers += other.customers;
        self.events += other.events;
    }

    /// The numbers of one calendar month (zero outside the run).
    pub fn month(&self, month_number: i32) -> Month {
        usize::try_from(month_number - self.first_month).ok().and_then(|index| self.months.get(index)).copied().unwrap_or_default()
    }

    /// The calendar months the run's numbers span, first to last.
    pub fn month_span(&self) -> Option<(i32, i32)> {
        (!self.months.is_empty()).then(|| (self.first_month, self.first_month + self.months.len() as i32 - 1))
    }

    pub fn billed(&self) -> i128 {
        self.months.iter().map(|m| m.billed).sum()
    }
    pub fn credited(&self) -> i128 {
        self.months.iter().map(|m| m.credited).sum()
    }
    pub fn refused(&self) -> u64 {
        self.months.iter().map(|m| m.refused).sum()
    }

    /// Adds the final state of one run.
    pub fn add_final_state(&mut self, subscriptions: &[Subscription]) {
        self.subscriptions += subscriptions.len() as u64;
        for subscription in subscriptions {
            let count = match subscription.status {
                Status::Active => &mut self.active_at_end,
                Status::Suspended => &mut self.suspended_at_end,
                Status::Expired => &mut self.expired_at_end,
                Status::Disabled => &mut self.disabled_at_end,
                Status::Deleted => &mut self.deleted_at_end,
            };
            *count += 1;
        }
    }
}

/// Counts money and refusals by month from a run's reports.
pub struct MetricsObserver {
    pub metrics: Metrics,
    /// Every invoice of the run, when the what-if run writes its lines (`--detail`).
    pub invoices: Option<Vec<Invoice>>,
    /// The memory those invoices take, held to the same budget as a recorded run's.
    kept_bytes: u64,
    start_month: i32,
}

/// Months since year 0: consecutive months differ by one.
pub fn month_number(date: NaiveDate) -> i32 {
    date.year() * 12 + date.month0() as i32
}

impl MetricsObserver {
    pub fn new(start: Instant, months: usize) -> Self {
        let start_month = month_number(start.date());
        let metrics = Metrics { first_month: start_month, months: vec![Month::default(); months], customers: 1, ..Metrics::default() };
        MetricsObserver { metrics, invoices: None, kept_bytes: 0, start_month }
    }

    /// Also keeps every invoice.
    pub fn keeping_invoices(mut self) -> Self {
        self.invoices = Some(Vec::new());
        self
    }

    fn month(&mut self, index: usize) -> &mut Month {
        if index >= self.metrics.months.len() {
            self.metrics.months.resize(index + 1, Month::default());
        }
        &mut self.metrics.months[index]
    }
}

impl Observer for MetricsObserver {
    const WANTS_DETAIL: bool = false;

    fn event(&mut self, _event: Event, _detail: String) {
        self.metrics.events += 1;
    }

    fn invoice(&mut self, invoice: Invoice) {
        let index = (month_number(invoice.date) - self.start_month).max(0) as usize;
        let month = self.month(index);
        for line in &invoice.lines {
            let cents = i128::from(line.amount.cents());
            if cents >= 0 {
                month.billed += cents;
            } else {
                month.credited += cents;
            }
        }
        if let Some(invoices) = &mut self.invoices {
            self.kept_bytes += (std::mem::size_of::<Invoice>() + invoice.lines.len() * std::mem::size_of::<crate::engine::observe::LedgerLine>()) as u64;
            invoices.push(invoice);
        }
    }

    fn recorded_bytes_over_budget(&self) -> Option<u64> {
        (self.kept_bytes > crate::outcome::RECORD_BUDGET_BYTES).then_some(self.kept_bytes)
    }

    fn step_finished(&mut self, _step: usize, at: Instant, result: StepResult, _subscriptions: &[Subscription]) {
        // A refusal counts in the month of its action.
        if result.refusal.is_some() {
            let index = (month_number(at.date()) - self.start_month).max(0) as usize;
            self.month(index).refused += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(first_month: i32, billed: &[i128]) -> Metrics {
        Metrics { first_month, months: billed.iter().map(|&billed| Month { billed, ..Month::default() }).collect(), ..Metrics::default() }
    }

    #[test]
    fn runs_add_up_by_calendar_month_and_beyond_what_one_invoice_can_hold() {
        let mut total = Metrics::default();
        let near_the_top_of_i64 = i128::from(i64::MAX) - 7;
        total.add(&run(24_250, &[near_the_top_of_i64, 1]));
        total.add(&run(24_249, &[5, near_the_top_of_i64]));
        assert_eq!(total.first_month, 24_249);
        assert_eq!(total.months.iter().map(|m| m.billed).collect::<Vec<_>>(), [5, 2 * near_the_top_of_i64, 1]);
        assert_eq!(total.billed(), 2 * near_the_top_of_i64 + 6);
        assert_eq!(crate::engine::money::format_cents(total.billed()), "184467440737095516.06");
        assert_eq!(total.month(24_248), Month::default());
    }
}
