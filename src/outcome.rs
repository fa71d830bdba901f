//! The record of a run: each step's result, every event with its instant and rule, the final
//! state of every subscription, every invoice and its lines.
//!
//! [`Recorder`] is the observer a scenario run uses to collect them; [`Outcome::to_yaml`]
//! serializes the record for snapshots with a fixed field order and row order. The YAML is
//! written by a small emitter of our own so that snapshot text never changes because a
//! dependency changed its formatting.

use std::fmt::Write as _;

use crate::engine::catalog::BillingType;
use crate::engine::observe::{Event, Invoice, LedgerLine, Observer, Source, StepResult, Subject, SubscriptionId};
use crate::engine::rules::Rule;
use crate::engine::script::Script;
use crate::engine::state::Subscription;
use crate::engine::time::{Instant, format_date};
use crate::engine::{EngineError, FinalState, Limits};

/// Collects everything a run reports, and the state after each step that has checks.
#[derive(Default)]
pub struct Recorder {
    pub events: Vec<(Event, String)>,
    pub invoices: Vec<Invoice>,
    pub steps: Vec<StepResult>,
    /// Steps whose checks need the state as it was after them.
    pub checkpoints: std::collections::BTreeSet<usize>,
    pub states: Vec<Checkpoint>,
    /// About how many bytes the record holds, and how many it may.
    pub bytes: u64,
    pub byte_budget: u64,
}

/// How much memory one scenario's recorded outcome may use before its run is stopped. It does
/// not depend on how many runs go at once: whether a scenario is valid must not depend on
/// `--jobs` or the machine.
pub const RECORD_BUDGET_BYTES: u64 = 512 * 1024 * 1024;

/// The state after a step, for evaluating its checks.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub step: usize,
    pub subscriptions: Vec<Subscription>,
    /// How many invoices had been issued.
    pub invoices: usize,
}

impl Observer for Recorder {
    const WANTS_DETAIL: bool = true;
    fn event(&mut self, event: Event, detail: String) {
        self.bytes += (std::mem::size_of::<(Event, String)>() + detail.capacity()) as u64;
        self.events.push((event, detail));
    }
    fn invoice(&mut self, invoice: Invoice) {
        self.bytes += (std::mem::size_of::<Invoice>() + invoice.lines.len() * std::mem::size_of::<LedgerLine>()) as u64;
        self.invoices.push(invoice);
    }
    fn recorded_bytes_over_budget(&self) -> Option<u64> {
        (self.byte_budget > 0 && self.bytes > self.byte_budget).then_some(self.bytes)
    }
    fn step_finished(&mut self, step: usize, _at: Instant, result: StepResult, subscriptions: &[Subscription]) {
        self.steps.push(result);
        if self.checkpoints.contains(&step) {
            self.bytes += std::mem::size_of_val(subscriptions) as u64;
            self.states.push(Checkpoint { step, subscriptions: subscriptions.to_vec(), invoices: self.invoices.len() });
        }
    }
}

/// A step as the outcome shows it.
#[derive(Clone, Debug)]
pub struct StepRecord {
    pub line: u32,
    pub at: Instant,
    pub actor: Option<String>,
    pub action: Option<&'static str>,
    pub result: StepResult,
}

/// The complete, stable record of one scenario run.
pub struct Outcome {
    pub title: String,
    pub policy: String,
    pub script: Script,
    pub steps: Vec<StepRecord>,
    pub events: Vec<(Event, String)>,
    pub invoices: Vec<Invoice>,
    pub subscriptions: Vec<Subscription>,
    pub handles: Vec<Option<SubscriptionId>>,
    pub rule_hits: Vec<u64>,
    pub end: Instant,
    pub checkpoints: Vec<Checkpoint>,
    /// Lines made after the last invoice of the run (they would be on the next one).
    pub not_invoiced: Vec<LedgerLine>,
}

/// Runs a loaded scenario with a recorder and assembles its outcome.
pub fn record_scenario(loaded: &crate::scenario::load::LoadedScenario, limits: Limits) -> Result<Outcome, EngineError> {
    record(&loaded.title, loaded.script.clone(), &loaded.step_lines(), loaded.checkpoints(), limits)
}

/// Runs a script with a recorder and assembles the outcome.
pub fn record(title: &str, script: Script, step_lines: &[u32], checkpoints: std::collections::BTreeSet<usize>, limits: Limits) -> Result<Outcome, EngineError> {
    let recorder = Recorder { checkpoints, byte_budget: RECORD_BUDGET_BYTES, ..Recorder::default() };
    let FinalState { observer, subscriptions, handles, rule_hits, end, not_invoiced } = crate::engine::run(&script, recorder, limits)?;
    let steps = script
        .steps
        .iter()
        .zip(observer.steps)
        .zip(step_lines)
        .map(|((step, result), line)| StepRecord {
            line: *line,
            at: step.at,
            actor: step.actor.map(|id| script.user(id).handle.clone()),
            action: step.action.as_ref().map(|a| a.name()),
            result,
        })
        .collect();
    Ok(Outcome {
        title: title.to_string(),
        policy: script.policy.name.clone(),
        steps,
        events: observer.events,
        invoices: observer.invoices,
        subscriptions,
        handles,
        rule_hits,
        end,
        checkpoints: observer.states,
        not_invoiced,
        script,
    })
}

impl Outcome {
    pub fn handle_name(&self, id: SubscriptionId) -> &str {
        self.subscriptions[id.0 as usize].handle.map_or("", |h| self.script.handles[h.0 as usize].as_str())
    }

    pub fn subject_text(&self, subject: &Subject) -> String {
        match subject {
            Subject::Partner => self.script.partner.id.clone(),
            Subject::Customer(id) => self.script.customer(*id).handle.clone(),
            Subject::Offer(id) => self.script.catalog.offer(*id).id.clone(),
            Subject::Subscription(id) => id.display(),
            Subject::Invoice(date) => format!("invoice {}", format_date(*date)),
            Subject::Cart(customer, name) => {
                let customer = &self.script.customer(*customer).handle;
                if name.is_empty() { format!("{customer} cart") } else { format!("{customer} cart {name}") }
            }
        }
    }

    pub fn rules_exercised(&self) -> impl Iterator<Item = (Rule, u64)> + '_ {
        Rule::ALL.iter().map(|rule| (*rule, self.rule_hits[rule.index()]))
    }

    // --- rows shared by the snapshot and the CSV reports -----------------------------------

    pub fn step_row(&self, index: usize) -> Row {
        let step = &self.steps[index];
        let mut row = Row::default();
        // No source line: a comment added above a step would change every snapshot after
        // it. Failures and `explain` name the line; the snapshot is about the outcome.
        row.push("step", (index + 1).to_string());
        row.push("at", step.at.to_string());
        row.push("by", step.actor.clone().unwrap_or_default());
        row.push("action", step.action.unwrap_or("").to_string());
        let result = match (&step.action, step.result.refusal) {
            (None, _) => "",
            (Some(_), None) => "ok",
            (Some(_), Some(_)) => "rejected",
        };
        row.push("result", result.to_string());
        if let Some((code, rule)) = step.result.refusal {
            row.push("code", code.name().to_string());
            row.push("number", code.partner_center_number().map(|n| n.to_string()).unwrap_or_default());
            row.push("rule", rule.id().to_string());
        }
        if !step.result.lines.is_empty() {
            let lines: Vec<String> = step
                .result
                .lines
                .iter()
                .map(|line| {
                    let offer = &self.script.catalog.offer(line.offer).id;
                    match (line.subscription, line.refusal) {
                        (Some(id), _) => format!("{offer}={}", id.display()),
                        (None, Some((code, _))) => format!("{offer}={}", code.name()),
                        (None, None) => offer.clone(),
                    }
                })
                .collect();
            row.push("lines", lines.join(" "));
        }
        if !step.result.listing.is_empty() {
            let listing: Vec<String> = step
                .result
                .listing
                .iter()
                .map(|listed| {
                    let offer = &self.script.catalog.offer(listed.offer).id;
                    match listed.refusal {
                        None => format!("{offer}=available"),
                        Some((code, _)) => format!("{offer}={}", code.name()),
                    }
                })
                .collect();
            row.push("listing", listing.join(" "));
        }
        row
    }

    /// An event as `events.csv` shows it, in the order of [`EVENT_COLUMNS`].
    pub fn event_row(&self, seq: usize) -> Row {
        let (event, detail) = &self.events[seq];
        let source = match event.source {
            Source::Action { .. } => "action",
            // The partner's registration at the start is the clock's first event.
            Source::Scheduled | Source::Setup => "scheduled",
        };
        let values = [
            (seq + 1).to_string(),
            event.at.to_string(),
            source.to_string(),
            event.actor.map(|id| self.script.user(id).handle.clone()).unwrap_or_default(),
            event.kind.name().to_string(),
            self.subject_text(&event.subject),
            event.result.name().to_string(),
            event.code.map(|c| c.name().to_string()).unwrap_or_default(),
            event.rule.id().to_string(),
            detail.clone(),
            event.code.and_then(|c| c.partner_center_number()).map(|n| n.to_string()).unwrap_or_default(),
        ];
        Row(EVENT_COLUMNS.into_iter().zip(values).collect())
    }

    /// A subscription as `subscriptions.csv` and `check: subscriptions` see it, in the
    /// order of [`SUBSCRIPTION_COLUMNS`].
    pub fn subscription_row(&self, subscription: &Subscription) -> Row {
        let offer = self.script.catalog.offer(subscription.offer);
        let schedule = subscription.schedule;
        let values = [
            subscription.id.display(),
            self.handle_name(subscription.id).to_string(),
            self.script.customer(subscription.customer).handle.clone(),
            offer.id.clone(),
            subscription.parent.map(|p| p.display()).unwrap_or_default(),
            subscription.status.name().to_string(),
            if offer.billing == BillingType::License { subscription.quantity.to_string() } else { String::new() },
            subscription.billing.map(|b| b.name().to_string()).unwrap_or_default(),
            // An add-on runs on its base's calendar (ADDON-ALIGN) but its first term starts
            // when it was bought, not when its base's did (BUY-TERM).
            schedule.map(|s| format_date(subscription.paid_since.map_or(s.term_start(), |paid| s.term_start().max(paid.date())))).unwrap_or_default(),
            schedule.map(|s| format_date(s.term_end())).unwrap_or_default(),
            subscription.auto_renew.to_string(),
            subscription.trial.map(|t| format_date(t.end.date())).unwrap_or_default(),
            subscription.suspended_at.map(|at| at.to_string()).unwrap_or_default(),
            subscription.deletion_at.map(|at| format_date(at.date())).unwrap_or_default(),
            subscription.status.access().to_string(),
            subscription.cancel_scheduled.to_string(),
            subscription.ordered_at.to_string(),
        ];
        Row(SUBSCRIPTION_COLUMNS.into_iter().zip(values).collect())
    }

    /// A ledger line as `invoice_lines.csv` shows it, in the order of [`LINE_COLUMNS`].
    pub fn line_row(&self, invoice_date: chrono::NaiveDate, line: &LedgerLine) -> Row {
        line_cells(&self.script, self.handle_name(line.subscription), invoice_date, line)
    }

    /// The snapshot text.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "scenario: {}", yaml_scalar(&self.title));
        let _ = writeln!(out, "policy: {}", yaml_scalar(&self.policy));
        let _ = writeln!(out, "end: {}", self.end);
        write_rows(&mut out, "steps", (0..self.steps.len()).map(|i| self.step_row(i)));
        // A refusal's Partner Center number is in its step's line above.
        write_rows(&mut out, "events", (0..self.events.len()).map(|i| without(self.event_row(i), &["seq", "partner_center_number"])));
        write_rows(&mut out, "subscriptions", self.subscriptions.iter().map(|s| self.subscription_row(s)));
        if self.invoices.is_empty() {
            out.push_str("invoices: []\n");
        } else {
            out.push_str("invoices:\n");
            for invoice in &self.invoices {
                let _ = writeln!(out, "  - date: {}", format_date(invoice.date));
                let _ = writeln!(out, "    total: {}", invoice.total);
                if invoice.lines.is_empty() {
                    out.push_str("    lines: []\n");
                    continue;
                }
                out.push_str("    lines:\n");
                for line in &invoice.lines {
                    let row = without(self.line_row(invoice.date, line), &["invoice_date", "customer", "name", "offer", "billable_at"]);
                    let _ = writeln!(out, "      - {}", row.to_flow());
                }
            }
        }
        let exercised: Vec<&str> = self.rules_exercised().filter(|(_, n)| *n > 0).map(|(rule, _)| rule.id()).collect();
        let _ = writeln!(out, "rules: [{}]", exercised.join(", "));
        out
    }
}

/// A ledger line's cells, in the order of [`LINE_COLUMNS`]; `name` is the subscription's
/// name in the scenario (empty for generated customers).
pub fn line_cells(script: &Script, name: &str, invoice_date: chrono::NaiveDate, line: &LedgerLine) -> Row {
    let values = [
        format_date(invoice_date),
        script.customer(line.customer).handle.clone(),
        line.subscription.display(),
        name.to_string(),
        script.catalog.offer(line.offer).id.clone(),
        line.kind.name().to_string(),
        format_date(line.period_start),
        format_date(line.period_end),
        line.quantity.to_string(),
        line.unit_price.to_string(),
        line.days.map(|d| d.to_string()).unwrap_or_default(),
        line.amount.to_string(),
        line.rule.id().to_string(),
        line.billable_at.to_string(),
    ];
    Row(LINE_COLUMNS.into_iter().zip(values).collect())
}

/// The columns of `subscriptions.csv` (after `scenario`): the required ones of the format
/// doc, then `access`, `cancel_scheduled` and `ordered_at`. Every one but `subscription` can
/// be named in a `check: subscriptions`.
pub const SUBSCRIPTION_COLUMNS: [&str; 17] = [
    "subscription",
    "name",
    "customer",
    "offer",
    "parent",
    "status",
    "quantity",
    "billing",
    "term_start",
    "term_end",
    "auto_renew",
    "trial_end",
    "suspended_at",
    "deletion_date",
    "access",
    "cancel_scheduled",
    "ordered_at",
];

/// The columns of `events.csv` (after `scenario`).
pub const EVENT_COLUMNS: [&str; 11] = ["seq", "at", "source", "actor", "kind", "subject", "result", "code", "rule", "detail", "partner_center_number"];

/// The columns of `invoice_lines.csv` (after `scenario`).
pub const LINE_COLUMNS: [&str; 14] = [
    "invoice_date",
    "customer",
    "subscription",
    "name",
    "offer",
    "kind",
    "period_start",
    "period_end",
    "quantity",
    "unit_price",
    "days",
    "amount",
    "rule",
    "billable_at",
];

/// An ordered list of named cells: one row of a report, one flow mapping of a snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row(pub Vec<(&'static str, String)>);

impl Row {
    pub fn push(&mut self, name: &'static str, value: String) {
        self.0.push((name, value));
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
    /// `{step: 1, at: 2020-07-22T09:00:00Z, ...}`, empty cells left out.
    pub fn to_flow(&self) -> String {
        let cells: Vec<String> = self.0.iter().filter(|(_, v)| !v.is_empty()).map(|(n, v)| format!("{n}: {}", yaml_scalar(v))).collect();
        format!("{{{}}}", cells.join(", "))
    }
}

fn without(mut row: Row, names: &[&str]) -> Row {
    row.0.retain(|(name, _)| !names.contains(name));
    row
}

fn write_rows(out: &mut String, name: &str, rows: impl Iterator<Item = Row>) {
    let mut rows = rows.peekable();
    if rows.peek().is_none() {
        let _ = writeln!(out, "{name}: []");
        return;
    }
    let _ = writeln!(out, "{name}:");
    for row in rows {
        let _ = writeln!(out, "  - {}", row.to_flow());
    }
}

/// A scalar as YAML: plain when that is unambiguous, double-quoted (JSON escaping) otherwise.
pub fn yaml_scalar(text: &str) -> String {
    // true and false are written plain: in a snapshot they are booleans either way.
    let reserved = ["null", "~", "yes", "no", "on", "off", "y", "n"];
    let safe_char = |c: char| c.is_ascii_alphanumeric() || "._:/@+-".contains(c);
    let plain = !text.is_empty()
        && text.chars().all(safe_char)
        && (!text.starts_with(['-', '+']) || text[1..].starts_with(|c: char| c.is_ascii_digit()))
        && !text.starts_with([':', '@'])
        && !text.ends_with(':')
        && !text.contains(": ")
        && !reserved.contains(&text.to_ascii_lowercase().as_str());
    if plain { text.to_string() } else { serde_json::to_string(text).expect("strings serialize") }
}

#[cfg(test)]
mod tests {
    use super::yaml_scalar;

    #[test]
    fn scalars_are_quoted_only_when_needed() {
        assert_eq!(yaml_scalar("2020-07-22T09:00:00Z"), "2020-07-22T09:00:00Z");
        assert_eq!(yaml_scalar("-320.00"), "-320.00");
        assert_eq!(yaml_scalar("- x"), "\"- x\"");
        assert_eq!(yaml_scalar("sub-0001 (crm)"), "\"sub-0001 (crm)\"");
        assert_eq!(yaml_scalar("true"), "true");
        assert_eq!(yaml_scalar("null"), "\"null\"");
        assert_eq!(yaml_scalar(""), "\"\"");
        assert_eq!(yaml_scalar("a\"b"), "\"a\\\"b\"");
    }
}
