//! BILL-CALENDAR: anniversaries, terms and billed periods, always computed from the anchor.
//!
//! Why never "previous period end + 1 month": chaining clamps forever. An anchor on Jan 31
//! gives Feb 28 for period 1; chaining from there would give Mar 28, Apr 28, ... whereas the
//! rule says period 2 starts Mar 31. So period k always starts at `anchor + k months`, with
//! the day clamped to the month's last day, and ends the day before period k+1 starts.
//!
//! Why an annual term's daily rate divides by 365 even in a leap year: RULES.md
//! BILL-PRORATE says so, matching the published billing examples. A leap-year term prorated
//! over all 366 days therefore costs 366/365 of the term price; only full-period lines
//! (BILL-ADVANCE) are exactly the period price.

use chrono::{Datelike, NaiveDate};

use crate::engine::time::{add_days, days_between};

/// `anchor` plus `months` months, the day clamped to the target month's last day.
/// `None` only beyond chrono's range, which validated scenarios never reach.
pub fn add_months_clamped(anchor: NaiveDate, months: u32) -> Option<NaiveDate> {
    let month_index = i64::from(anchor.month0()) + i64::from(months);
    let year = i64::from(anchor.year()) + month_index / 12;
    let month = (month_index % 12) as u32 + 1;
    let year = i32::try_from(year).ok()?;
    let last_day = last_day_of_month(year, month)?;
    NaiveDate::from_ymd_opt(year, month, anchor.day().min(last_day))
}

pub fn last_day_of_month(year: i32, month: u32) -> Option<u32> {
    let first_of_next = if month == 12 { NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)? } else { NaiveDate::from_ymd_opt(year, month + 1, 1)? };
    Some(first_of_next.pred_opt()?.day())
}

/// The service period `index` of a schedule anchored at `anchor` with periods of
/// `months_per_period` months: first day and last day, both inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

impl Period {
    pub fn of(anchor: NaiveDate, months_per_period: u32, index: u32) -> Option<Period> {
        let first_day = add_months_clamped(anchor, months_per_period.checked_mul(index)?)?;
        let next_first_day = add_months_clamped(anchor, months_per_period.checked_mul(index.checked_add(1)?)?)?;
        Some(Period { first_day, last_day: next_first_day.pred_opt()? })
    }

    /// Calendar days in the period, both ends included.
    pub fn days(self) -> i64 {
        days_between(self.first_day, self.last_day) + 1
    }
}

/// The partner's first billing date on or after `date` (billing day 1..=28 exists in every
/// month, so no clamping is needed).
pub fn first_billing_date_on_or_after(date: NaiveDate, billing_day: u32) -> NaiveDate {
    if date.day() <= billing_day {
        NaiveDate::from_ymd_opt(date.year(), date.month(), billing_day).expect("billing days are 1..=28")
    } else {
        let next_month =
            add_months_clamped(NaiveDate::from_ymd_opt(date.year(), date.month(), 1).expect("day 1 exists"), 1).expect("dates stay inside chrono's range");
        NaiveDate::from_ymd_opt(next_month.year(), next_month.month(), billing_day).expect("billing days are 1..=28")
    }
}

/// The billing date after `date` (strictly later), for stepping through invoices.
pub fn next_billing_date_after(date: NaiveDate, billing_day: u32) -> NaiveDate {
    first_billing_date_on_or_after(add_days(date, 1).expect("dates stay inside chrono's range"), billing_day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        crate::engine::time::parse_date(text).unwrap()
    }

    #[test]
    fn an_anchor_on_the_31st_clamps_without_drifting() {
        let anchor = date("2021-01-31");
        let starts: Vec<String> = (0..4).map(|k| crate::engine::time::format_date(Period::of(anchor, 1, k).unwrap().first_day)).collect();
        assert_eq!(starts, ["2021-01-31", "2021-02-28", "2021-03-31", "2021-04-30"]);
        assert_eq!(Period::of(anchor, 1, 0).unwrap().days(), 28);
        assert_eq!(Period::of(anchor, 1, 1).unwrap().days(), 31);
    }

    #[test]
    fn an_anchor_on_february_29_returns_to_the_29th_in_leap_years() {
        let anchor = date("2024-02-29");
        assert_eq!(Period::of(anchor, 12, 1).unwrap().first_day, date("2025-02-28"));
        assert_eq!(Period::of(anchor, 12, 4).unwrap().first_day, date("2028-02-29"));
        assert_eq!(Period::of(anchor, 1, 1).unwrap().first_day, date("2024-03-29"));
        assert_eq!(Period::of(anchor, 12, 0).unwrap().days(), 365);
    }

    #[test]
    fn the_quantity_example_period_has_thirty_days() {
        let period = Period::of(date("2021-04-10"), 1, 0).unwrap();
        assert_eq!((period.first_day, period.last_day), (date("2021-04-10"), date("2021-05-09")));
        assert_eq!(period.days(), 30);
    }

    #[test]
    fn billing_dates() {
        assert_eq!(first_billing_date_on_or_after(date("2021-03-01"), 1), date("2021-03-01"));
        assert_eq!(first_billing_date_on_or_after(date("2021-03-02"), 1), date("2021-04-01"));
        assert_eq!(first_billing_date_on_or_after(date("2021-12-20"), 15), date("2022-01-15"));
        assert_eq!(next_billing_date_after(date("2021-03-15"), 15), date("2021-04-15"));
    }
}
