//! The billing ledger (RULES.md section 10): billed periods, proration, credits and usage.
//!
//! Every line is computed here, from the subscription's anniversary schedule and its locked
//! period price. Amounts are exact fractions rounded once per line by the policy's
//! `amount_rounding` (`money::round_line_amount`); with `daily_rate_decimals` the daily rate
//! is rounded first (`money::round_daily_rate`).

use chrono::NaiveDate;

use crate::engine::EngineError;
use crate::engine::calendar::Period;
use crate::engine::catalog::Frequency;
use crate::engine::money::{Decimal, Money, round_daily_rate, round_line_amount};
use crate::engine::observe::{Computation, EventKind, LedgerLine, LineKind, Method, Observer, Subject, SubscriptionId};
use crate::engine::rules::Rule;
use crate::engine::state::{BillingSchedule, StandingCharge, Status};
use crate::engine::time::{Instant, add_days, days_between, format_date};
use crate::engine::world::{DueKind, World};

/// A line about to be posted: what it covers and how much.
pub(crate) struct Posting {
    pub kind: LineKind,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub quantity: i64,
    pub unit_price: Money,
    pub days: u32,
    pub amount: Money,
    pub rule: Rule,
    pub computation: Computation,
    /// Why the line was made, where the rule chose between ways (a full or a prorated
    /// credit): told in the line's event.
    pub note: Option<String>,
}

impl<O: Observer> World<'_, O> {
    /// The days a period's daily rate divides by (BILL-PRORATE): the period's own days for
    /// monthly billing, `annual_rate_days` (365) for an annual term.
    pub(crate) fn rate_days(&self, schedule: &BillingSchedule) -> i64 {
        if schedule.period_months == 12 { i64::from(self.policy.annual_rate_days) } else { schedule.period().days() }
    }

    /// BILL-PRORATE: `days` of a period priced `period_price` per license, for `quantity`
    /// licenses.
    pub(crate) fn prorate(&mut self, period_price: Money, days: i64, rate_days: i64, quantity: i64) -> Result<(Money, Computation), EngineError> {
        self.hit(Rule::BillProrate);
        let rounding = self.policy.amount_rounding;
        let overflow = || self.overflow("a prorated amount");
        match self.policy.daily_rate_decimals {
            None => {
                let numerator =
                    i128::from(period_price.cents()).checked_mul(i128::from(days)).and_then(|n| n.checked_mul(i128::from(quantity))).ok_or_else(overflow)?;
                let amount = round_line_amount(numerator, i128::from(rate_days), rounding, self.script.catalog.smallest_amount).ok_or_else(overflow)?;
                Ok((amount, Computation::new(Method::Prorated { period_days: rate_days as u32 }, rounding)))
            }
            Some(decimals) => {
                let rate = round_daily_rate(period_price, rate_days, decimals);
                // rate is in 10^-decimals currency units; the amount is wanted in cents.
                let numerator = rate
                    .checked_mul(i128::from(days))
                    .and_then(|n| n.checked_mul(i128::from(quantity)))
                    .and_then(|n| n.checked_mul(100))
                    .ok_or_else(overflow)?;
                let amount = round_line_amount(numerator, 10_i128.pow(decimals), rounding, self.script.catalog.smallest_amount).ok_or_else(overflow)?;
                Ok((amount, Computation::new(Method::ProratedRoundedRate { rate, decimals, period_days: rate_days as u32 }, rounding)))
            }
        }
    }

    /// Posts a line for a subscription; charges of the current period become standing.
    pub(crate) fn post(&mut self, id: SubscriptionId, posting: Posting, standing: bool) {
        // Lines made by actions (not the periodic fees, which have their own events) are
        // announced as events too, so that the event log alone tells the whole story.
        let announced = matches!(posting.kind, LineKind::ProrateCharge | LineKind::ProrateCredit | LineKind::CancelCredit);
        // A rule is counted once per decision: the periodic fees' `period-billed` events count
        // theirs; a trial's zero line has no event of its rule (BILL-TRIAL) and counts here.
        let counted_by_an_event = announced || matches!(posting.kind, LineKind::CycleFee | LineKind::TermFee);
        if !counted_by_an_event {
            self.hit(posting.rule);
        }
        let subscription = self.sub(id);
        let line = LedgerLine {
            customer: subscription.customer,
            subscription: id,
            offer: subscription.offer,
            kind: posting.kind,
            period_start: posting.first_day,
            period_end: posting.last_day,
            quantity: Decimal::from_integer(posting.quantity),
            unit_price: posting.unit_price,
            days: Some(posting.days),
            amount: posting.amount,
            billable_at: self.now,
            rule: posting.rule,
            computation: posting.computation,
        };
        let period_index = subscription.schedule.map_or(0, |s| s.period_index);
        if announced {
            let kind = if line.amount.is_negative() || line.kind != LineKind::ProrateCharge { EventKind::Credited } else { EventKind::Charged };
            self.done(kind, Subject::Subscription(id), line.rule, |w| {
                let note = posting.note.as_deref().map(|note| format!("; {note}")).unwrap_or_default();
                format!(
                    "{}: {} {} to {}: {}{note}",
                    w.label(id),
                    line.kind.name(),
                    format_date(line.period_start),
                    format_date(line.period_end),
                    line.computation_text()
                )
            });
        }
        self.pending_lines.push(line);
        if standing {
            self.sub_mut(id).standing.push(StandingCharge {
                period_index,
                first_day: posting.first_day,
                last_day: posting.last_day,
                quantity: posting.quantity,
                unit_price: posting.unit_price,
                days: posting.days,
                amount: posting.amount,
                kind: posting.kind,
                computation: posting.computation,
            });
        }
    }

    /// A posting for `[from, last_day]` of the current billed period at `quantity`, prorated
    /// by day at the period's locked price (BILL-PRORATE); `None` for an empty range.
    fn prorated_posting(
        &mut self,
        id: SubscriptionId,
        from: NaiveDate,
        last_day: NaiveDate,
        quantity: i64,
        kind: LineKind,
        rule: Rule,
    ) -> Result<Option<Posting>, EngineError> {
        let schedule = self.sub(id).schedule.expect("only scheduled subscriptions are billed");
        let days = days_between(from, last_day) + 1;
        if days <= 0 || quantity == 0 {
            return Ok(None);
        }
        let rate_days = self.rate_days(&schedule);
        let (amount, computation) = self.prorate(schedule.period_price, days, rate_days, quantity)?;
        Ok(Some(Posting {
            kind,
            first_day: from,
            last_day,
            quantity,
            unit_price: schedule.period_price,
            days: days as u32,
            amount,
            rule,
            computation,
            note: None,
        }))
    }

    /// A charge for `[from, to]` (default: the period's last day) of the current billed
    /// period at `quantity`, prorated; it becomes a standing charge.
    pub(crate) fn charge_rest_of_period(
        &mut self,
        id: SubscriptionId,
        from: NaiveDate,
        to: Option<NaiveDate>,
        quantity: i64,
        rule: Rule,
    ) -> Result<(), EngineError> {
        let last_day = to.unwrap_or_else(|| self.sub(id).schedule.expect("scheduled").period().last_day);
        if let Some(posting) = self.prorated_posting(id, from, last_day, quantity, LineKind::ProrateCharge, rule)? {
            self.post(id, posting, true);
        }
        Ok(())
    }

    /// Reverses a standing charge exactly (its amount negated).
    pub(crate) fn reverse(&mut self, id: SubscriptionId, charge: StandingCharge, kind: LineKind, rule: Rule, note: Option<&str>) -> Result<(), EngineError> {
        let amount = charge.amount.checked_neg().ok_or_else(|| self.overflow("a credit"))?;
        let posting = Posting {
            kind,
            first_day: charge.first_day,
            last_day: charge.last_day,
            quantity: charge.quantity,
            unit_price: charge.unit_price,
            days: charge.days,
            amount,
            rule,
            computation: charge.computation.reversed(),
            note: note.map(str::to_string),
        };
        self.post(id, posting, false);
        Ok(())
    }

    /// Credits every charge that still stands (a full credit).
    pub(crate) fn credit_everything(&mut self, id: SubscriptionId, kind: LineKind, rule: Rule, note: &str) -> Result<(), EngineError> {
        let standing = std::mem::take(&mut self.sub_mut(id).standing);
        for charge in standing {
            self.reverse(id, charge, kind, rule, Some(note).filter(|note| !note.is_empty()))?;
        }
        Ok(())
    }

    /// Credits the rest of the current billed period from today at the current quantity and
    /// locked price (a suspension after 30 days; a prorated refund), settling the charges
    /// that covered it.
    pub(crate) fn credit_rest_of_period(&mut self, id: SubscriptionId, kind: LineKind, rule: Rule, note: &str) -> Result<(), EngineError> {
        let today = self.now.date();
        let Some(schedule) = self.sub(id).schedule else { return Ok(()) };
        if self.take_charges_covering(id, today).is_empty() {
            return Ok(());
        }
        let quantity = self.sub(id).quantity;
        if let Some(mut posting) = self.prorated_posting(id, today, schedule.period().last_day, quantity, kind, rule)? {
            posting.amount = posting.amount.checked_neg().ok_or_else(|| self.overflow("a credit"))?;
            posting.note = Some(note.to_string()).filter(|note| !note.is_empty());
            self.post(id, posting, false);
        }
        Ok(())
    }

    /// Whether a charge of the current period still stands for `day`: the day is paid for.
    pub(crate) fn is_paid_for(&self, id: SubscriptionId, day: NaiveDate) -> bool {
        let subscription = self.sub(id);
        let period_index = subscription.schedule.map_or(0, |s| s.period_index);
        subscription.standing.iter().any(|charge| charge.period_index == period_index && charge.first_day <= day && day <= charge.last_day)
    }

    /// Takes the standing charges of the current period that cover `day` or later.
    pub(crate) fn take_charges_covering(&mut self, id: SubscriptionId, day: NaiveDate) -> Vec<StandingCharge> {
        let period_index = self.sub(id).schedule.map_or(0, |s| s.period_index);
        self.sub_mut(id).standing.extract_if(.., |charge| charge.period_index == period_index && charge.last_day >= day).collect()
    }

    /// Starts the next billed period (BILL-CALENDAR, BILL-PRICE-LOCK) and bills it in advance
    /// (BILL-ADVANCE), unless the subscription is suspended (SUSPEND-NO-BILL).
    pub(crate) fn begin_next_period(&mut self, id: SubscriptionId) -> Result<(), EngineError> {
        let subscription = self.sub(id);
        if !subscription.is_live() {
            // Expired or disabled (nce-2022): the service has ended; no more periods.
            return Ok(());
        }
        let offer = subscription.offer;
        let mut schedule = subscription.schedule.expect("only scheduled subscriptions have periods");
        let first_period = schedule.next_period_index == 0;
        schedule.period_index = schedule.next_period_index;
        schedule.next_period_index += 1;
        let next = Period::of(schedule.anchor, schedule.period_months, schedule.next_period_index).ok_or_else(|| self.overflow("a billing date"))?;
        schedule.next_period_at = Instant::at_midnight(next.first_day);
        let locked = self.price(offer).checked_mul(i64::from(schedule.period_months)).ok_or_else(|| self.overflow("a period price"))?;
        if !first_period && locked != schedule.period_price {
            self.hit(Rule::BillPriceLock);
        }
        schedule.period_price = locked;
        self.sub_mut(id).schedule = Some(schedule);
        self.hit(Rule::BillCalendar);
        self.schedule(schedule.next_period_at, DueKind::PeriodStart, id.0);
        let period = schedule.period();
        if self.sub(id).status == Status::Suspended && !self.policy.bill_while_suspended {
            self.done(EventKind::PeriodNotBilled, Subject::Subscription(id), Rule::SuspendNoBill, |world| {
                format!("{} is suspended: period {} to {} is not billed", world.label(id), format_date(period.first_day), format_date(period.last_day))
            });
            return Ok(());
        }
        let quantity = self.sub(id).quantity;
        let amount = locked.checked_mul(quantity).ok_or_else(|| self.overflow("a period charge"))?;
        let kind = if schedule.period_months == 12 { LineKind::TermFee } else { LineKind::CycleFee };
        let posting = Posting {
            kind,
            first_day: period.first_day,
            last_day: period.last_day,
            quantity,
            unit_price: locked,
            days: period.days() as u32,
            amount,
            rule: Rule::BillAdvance,
            computation: Computation::new(Method::Full, self.policy.amount_rounding),
            note: None,
        };
        self.post(id, posting, true);
        self.done(EventKind::PeriodBilled, Subject::Subscription(id), Rule::BillAdvance, |world| {
            format!(
                "{}: {} {} to {}, {quantity} x {locked} = {amount}",
                world.label(id),
                kind.name(),
                format_date(period.first_day),
                format_date(period.last_day)
            )
        });
        Ok(())
    }

    /// Gives a subscription its anniversary schedule from `anchor_at` (BUY-TERM).
    pub(crate) fn start_paid_term(&mut self, id: SubscriptionId, frequency: Frequency) -> Result<(), EngineError> {
        let offer = self.offer(self.sub(id).offer);
        let term = offer.term_for(frequency);
        let anchor = self.now.date();
        let term_end = crate::engine::calendar::add_months_clamped(anchor, term.months()).ok_or_else(|| self.overflow("a term end"))?;
        let schedule = BillingSchedule {
            anchor,
            term_months: term.months(),
            period_months: frequency.months(),
            term_index: 0,
            period_index: 0,
            next_period_index: 0,
            period_price: Money::ZERO,
            next_period_at: Instant::at_midnight(anchor),
            term_end_at: Instant::at_midnight(term_end),
        };
        let now = self.now;
        let subscription = self.sub_mut(id);
        subscription.schedule = Some(schedule);
        subscription.paid_since = Some(now);
        subscription.billing = Some(frequency);
        // The paid purchase (a trial's conversion included) opens the window of a policy that
        // counts it from the latest purchase, renewal or seat addition (nce-2022).
        subscription.window_opened_at = now;
        self.schedule(schedule.term_end_at, DueKind::TermEnd, id.0);
        self.done(EventKind::TermStarted, Subject::Subscription(id), Rule::BuyTerm, |world| {
            let auto = if world.sub(id).auto_renew { "renews automatically" } else { "does not renew" };
            format!(
                "{}: {} term from {} to {}, anniversary day {}, billed {}; {auto}",
                world.label(id),
                term.name(),
                format_date(anchor),
                format_date(term_end),
                chrono::Datelike::day(&anchor),
                frequency.adverb()
            )
        });
        Ok(())
    }

    /// BILL-TRIAL: the free trial period as a zero-amount line.
    pub(crate) fn post_trial_line(&mut self, id: SubscriptionId, start: Instant, end: Instant) {
        self.post_zero_line(id, start, end, LineKind::Trial, Rule::BillTrial);
    }

    /// A zero-amount line over a trial's days: the trial itself (BILL-TRIAL), or its
    /// cancellation (TRIAL-ISV-CANCEL: nothing charged, nothing credited, as Partner Center's
    /// reconciliation shows a $0 "new" and a $0 "cancel" line).
    pub(crate) fn post_zero_line(&mut self, id: SubscriptionId, start: Instant, end: Instant, kind: LineKind, rule: Rule) {
        let first_day = start.date();
        let last_day = add_days(end.date(), -1).expect("in range").max(first_day);
        let quantity = self.sub(id).quantity;
        let posting = Posting {
            kind,
            first_day,
            last_day,
            quantity,
            unit_price: Money::ZERO,
            days: (days_between(first_day, last_day) + 1) as u32,
            amount: Money::ZERO,
            rule,
            computation: Computation::new(Method::Full, self.policy.amount_rounding),
            note: None,
        };
        self.post(id, posting, false);
    }

    /// BILL-USAGE: usage billed in arrears on the next billing date.
    pub(crate) fn post_usage(&mut self, id: SubscriptionId, units: Decimal) -> Result<(), EngineError> {
        let subscription = self.sub(id);
        let price = self.price(subscription.offer);
        let numerator = i128::from(price.cents()).checked_mul(units.mantissa).ok_or_else(|| self.overflow("a usage amount"))?;
        let amount = round_line_amount(numerator, 10_i128.pow(units.scale), self.policy.amount_rounding, self.script.catalog.smallest_amount)
            .ok_or_else(|| self.overflow("a usage amount"))?;
        let today = self.now.date();
        let line = LedgerLine {
            customer: subscription.customer,
            subscription: id,
            offer: subscription.offer,
            kind: LineKind::Usage,
            period_start: today,
            period_end: today,
            quantity: units,
            unit_price: price,
            days: None,
            amount,
            billable_at: self.now,
            rule: Rule::BillUsage,
            computation: Computation::new(Method::Usage, self.policy.amount_rounding),
        };
        // Counted for BILL-USAGE by the `record_usage` event that announces it.
        self.pending_lines.push(line);
        Ok(())
    }
}
