//! Evaluating a scenario's `expect` and `check` against the outcome of its run.
//!
//! The loader turns what a scenario expects into these types (every name already resolved,
//! every value already parsed), so evaluation cannot fail on input; it only finds
//! differences. A difference names the scenario file and the line of the step, the field,
//! the expected and the actual value.

use chrono::NaiveDate;

use crate::engine::catalog::OfferId;
use crate::engine::money::{Decimal, Money};
use crate::engine::observe::{Invoice, LedgerLine, LineKind, SubscriptionId};
use crate::engine::rules::{Code, Rule};
use crate::engine::script::SubscriptionRef;
use crate::engine::time::format_date;
use crate::outcome::Outcome;
use crate::scenario::diagnostic::Position;

/// What an action's result must be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expectation {
    Ok,
    Rejected(Code),
    /// Each offer with the place it is named (a failure points there).
    Browse {
        available: Vec<(Position, OfferId)>,
        unavailable: Vec<(Position, OfferId, Code)>,
        hidden: Vec<(Position, OfferId)>,
    },
}

/// The subscription fields a check can name: the columns of `subscriptions.csv` but the id.
pub fn subscription_fields() -> &'static [&'static str] {
    &crate::outcome::SUBSCRIPTION_COLUMNS[1..]
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineExpectation {
    pub position: Position,
    pub subscription: SubscriptionRef,
    pub label: String,
    pub kind: Option<LineKind>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub quantity: Option<Decimal>,
    pub unit_price: Option<Money>,
    pub days: Option<u32>,
    pub rule: Option<Rule>,
    pub amount: Money,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// `subscriptions: {name: {field: value}}`; `expected` is already normalized.
    Field { subscription: SubscriptionRef, label: String, field: &'static str, expected: String },
    /// `invoices: [{date, total?, lines?}]`.
    Invoice { date: NaiveDate, total: Option<(Position, Money)>, lines: Vec<LineExpectation> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub position: Position,
    pub kind: CheckKind,
}

/// Everything one step expects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepExpectations {
    pub line: u32,
    pub expect: Option<(Position, Expectation)>,
    pub checks: Vec<Check>,
}

/// One difference between what was expected and what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The line of the step.
    pub line: u32,
    /// The line of the expectation itself, when it is not the step's.
    pub detail_line: u32,
    pub step: usize,
    pub field: String,
    pub expected: String,
    pub actual: String,
}

impl Failure {
    /// `scenarios/x.yaml:37: step 5 (line 34), subscriptions.e3.status: expected deleted, got
    /// suspended`: the location is the expectation's own line, where an editor or a CI
    /// annotation should point; the step's line follows.
    pub fn render(&self, file: &str) -> String {
        let (at, step_line) = match self.detail_line {
            0 => (self.line, String::new()),
            line if line == self.line => (line, String::new()),
            line => (line, format!(" (line {})", self.line)),
        };
        format!("{file}:{at}: step {}{step_line}, {}: expected {}, got {}", self.step + 1, self.field, self.expected, self.actual)
    }
}

/// How many expectations were evaluated, and which failed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub checks: usize,
    pub failures: Vec<Failure>,
}

pub fn evaluate(outcome: &Outcome, expectations: &[StepExpectations]) -> Verdict {
    let mut verdict = Verdict::default();
    for (index, step) in expectations.iter().enumerate() {
        if let Some((position, expectation)) = &step.expect {
            // Counted as failures are: each offer a browse expectation names is a check.
            verdict.checks += match expectation {
                Expectation::Browse { available, unavailable, hidden } => (available.len() + unavailable.len() + hidden.len()).max(1),
                Expectation::Ok | Expectation::Rejected(_) => 1,
            };
            evaluate_expect(outcome, index, step.line, position.line, expectation, &mut verdict.failures);
        }
        if step.checks.is_empty() {
            continue;
        }
        let Some(checkpoint) = outcome.checkpoints.iter().find(|c| c.step == index) else {
            panic!("the recorder keeps the state after every step with checks (step {index})");
        };
        for check in &step.checks {
            // An invoice's date, its total and each of its lines are checks of their own, as
            // they are failures of their own.
            verdict.checks += match &check.kind {
                CheckKind::Field { .. } => 1,
                CheckKind::Invoice { total, lines, .. } => 1 + usize::from(total.is_some()) + lines.len(),
            };
            let (line, detail_line) = (step.line, check.position.line);
            match &check.kind {
                CheckKind::Field { subscription, label, field, expected } => {
                    let failure = |actual: String| Failure {
                        line,
                        detail_line,
                        step: index,
                        field: format!("subscriptions.{label}.{field}"),
                        expected: show(expected),
                        actual,
                    };
                    let Some(id) = resolve(outcome, &checkpoint.subscriptions, *subscription) else {
                        verdict.failures.push(failure(format!("no subscription `{label}` (its purchase did not happen)")));
                        continue;
                    };
                    let row = outcome.subscription_row(&checkpoint.subscriptions[id.0 as usize]);
                    let actual = row.get(field).unwrap_or_default().to_string();
                    let expected_value = if *field == "parent" { resolve_parent_name(outcome, expected) } else { expected.clone() };
                    if actual != expected_value {
                        // A parent is written by its name when it has one: show both.
                        let shown = match handle_of(outcome, &actual) {
                            Some(name) if *field == "parent" => format!("{actual} ({name})"),
                            _ => show(&actual),
                        };
                        verdict.failures.push(failure(shown));
                    }
                }
                CheckKind::Invoice { date, total, lines } => {
                    let issued = &outcome.invoices[..checkpoint.invoices];
                    evaluate_invoice(outcome, &checkpoint.subscriptions, issued, index, (line, detail_line), *date, *total, lines, &mut verdict.failures);
                }
            }
        }
    }
    // In the order a person reads the file.
    verdict.failures.sort_by_key(|failure| (failure.step, failure.detail_line));
    verdict
}

fn show(value: &str) -> String {
    if value.is_empty() { "(none)".to_string() } else { value.to_string() }
}

fn resolve(outcome: &Outcome, subscriptions: &[crate::engine::state::Subscription], reference: SubscriptionRef) -> Option<SubscriptionId> {
    let id = match reference {
        SubscriptionRef::Handle(handle) => outcome.handles[handle.0 as usize]?,
        SubscriptionRef::Generated(number) => SubscriptionId(number.checked_sub(1)?),
    };
    ((id.0 as usize) < subscriptions.len()).then_some(id)
}

/// The handle of the subscription with generated id `id` (`sub-0001`), if it has one.
fn handle_of<'o>(outcome: &'o Outcome, id: &str) -> Option<&'o str> {
    let index = outcome.handles.iter().position(|handle| handle.is_some_and(|h| h.display() == id))?;
    outcome.script.handles.get(index).map(String::as_str)
}

fn resolve_parent_name(outcome: &Outcome, expected: &str) -> String {
    outcome
        .script
        .handles
        .iter()
        .position(|handle| handle == expected)
        .and_then(|index| outcome.handles[index])
        .map_or_else(|| expected.to_string(), |id| id.display())
}

fn evaluate_expect(outcome: &Outcome, index: usize, line: u32, detail_line: u32, expectation: &Expectation, failures: &mut Vec<Failure>) {
    let result = &outcome.steps[index].result;
    let actual = match result.refusal {
        None => "ok".to_string(),
        Some((code, rule)) => format!("rejected {} ({})", code.name(), rule.id()),
    };
    let fail_at = |failures: &mut Vec<Failure>, detail_line: u32, field: String, expected: String, actual: String| {
        failures.push(Failure { line, detail_line, step: index, field, expected, actual });
    };
    let fail = |failures: &mut Vec<Failure>, field: String, expected: String, actual: String| fail_at(failures, detail_line, field, expected, actual);
    match expectation {
        Expectation::Ok => {
            if result.refusal.is_some() {
                fail(failures, "expect".into(), "ok".into(), actual);
            }
        }
        Expectation::Rejected(code) => {
            let matches = result.refusal.is_some_and(|(c, _)| c == *code) || result.lines.iter().any(|l| l.refusal.is_some_and(|(c, _)| c == *code));
            if !matches {
                fail(failures, "expect".into(), format!("rejected {}", code.name()), actual);
            }
        }
        Expectation::Browse { available, unavailable, hidden } => {
            for (position, offer) in hidden {
                let name = &outcome.script.catalog.offer(*offer).id;
                if let Some(entry) = result.listing.iter().find(|l| l.offer == *offer) {
                    let actual = match entry.refusal {
                        None => "listed as available".to_string(),
                        Some((code, _)) => format!("listed as unavailable {}", code.name()),
                    };
                    fail_at(failures, position.line, format!("expect.hidden.{name}"), "not listed".into(), actual);
                }
            }
            let listed = |offer: OfferId| result.listing.iter().find(|l| l.offer == offer);
            for (position, offer) in available {
                let name = &outcome.script.catalog.offer(*offer).id;
                match listed(*offer) {
                    Some(entry) if entry.refusal.is_none() => {}
                    Some(entry) => {
                        let (code, rule) = entry.refusal.expect("checked above");
                        fail_at(
                            failures,
                            position.line,
                            format!("expect.available.{name}"),
                            "available".into(),
                            format!("unavailable {} ({})", code.name(), rule.id()),
                        );
                    }
                    None => fail_at(
                        failures,
                        position.line,
                        format!("expect.available.{name}"),
                        "available".into(),
                        "not listed for this customer and filter".into(),
                    ),
                }
            }
            for (position, offer, code) in unavailable {
                let name = &outcome.script.catalog.offer(*offer).id;
                let actual = match listed(*offer) {
                    Some(entry) => match entry.refusal {
                        Some((c, _)) if c == *code => continue,
                        Some((c, rule)) => format!("unavailable {} ({})", c.name(), rule.id()),
                        None => "available".to_string(),
                    },
                    None => "not listed for this customer and filter".to_string(),
                };
                fail_at(failures, position.line, format!("expect.unavailable.{name}"), format!("unavailable {}", code.name()), actual);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn evaluate_invoice(
    outcome: &Outcome,
    subscriptions: &[crate::engine::state::Subscription],
    issued: &[Invoice],
    index: usize,
    (line, detail_line): (u32, u32),
    date: NaiveDate,
    total: Option<(Position, Money)>,
    lines: &[LineExpectation],
    failures: &mut Vec<Failure>,
) {
    let field = format!("invoices[{}]", format_date(date));
    let Some(invoice) = issued.iter().find(|invoice| invoice.date == date) else {
        let dates: Vec<String> = issued.iter().map(|i| format_date(i.date)).collect();
        let actual = if dates.is_empty() { "no invoice issued yet".to_string() } else { format!("invoices issued on {}", dates.join(", ")) };
        failures.push(Failure { line, detail_line, step: index, field, expected: format!("an invoice dated {}", format_date(date)), actual });
        return;
    };
    if let Some((position, total)) = total
        && invoice.total != total
    {
        failures.push(Failure {
            line,
            detail_line: position.line,
            step: index,
            field: format!("{field}.total"),
            expected: total.to_string(),
            actual: invoice.total.to_string(),
        });
    }
    let mut used = vec![false; invoice.lines.len()];
    for (number, expected) in lines.iter().enumerate() {
        let id = resolve(outcome, subscriptions, expected.subscription);
        let found = invoice.lines.iter().enumerate().position(|(i, actual)| !used[i] && id.is_some_and(|id| line_matches(actual, id, expected)));
        match found {
            Some(i) => used[i] = true,
            None => {
                let candidates: Vec<String> =
                    invoice.lines.iter().filter(|actual| Some(actual.subscription) == id).map(|actual| describe_line(actual, expected)).collect();
                let matched_earlier = invoice.lines.iter().enumerate().any(|(i, actual)| used[i] && id.is_some_and(|id| line_matches(actual, id, expected)));
                let actual = if matched_earlier {
                    format!("the only such line was already matched by an earlier expected line (lines for {}: {})", expected.label, candidates.join("; "))
                } else if candidates.is_empty() {
                    format!("no line for {} on this invoice", expected.label)
                } else {
                    format!("lines for {}: {}", expected.label, candidates.join("; "))
                };
                // The commonest mistake is the invoice: say where such a line is.
                let elsewhere = id.and_then(|id| {
                    let on = issued.iter().find(|other| other.date != date && other.lines.iter().any(|actual| line_matches(actual, id, expected)));
                    match on {
                        Some(other) => Some(format!("; such a line is on the invoice of {}", format_date(other.date))),
                        None => outcome
                            .not_invoiced
                            .iter()
                            .any(|actual| line_matches(actual, id, expected))
                            .then(|| "; such a line is not invoiced yet (it goes on the next billing date)".to_string()),
                    }
                });
                let actual = format!("{actual}{}", elsewhere.unwrap_or_default());
                failures.push(Failure {
                    line,
                    detail_line: expected.position.line,
                    step: index,
                    field: format!("{field}.lines[{}]", number + 1),
                    expected: describe_expected_line(expected),
                    actual,
                });
            }
        }
    }
}

fn line_matches(actual: &LedgerLine, id: SubscriptionId, expected: &LineExpectation) -> bool {
    actual.subscription == id
        && actual.amount == expected.amount
        && expected.kind.is_none_or(|k| k == actual.kind)
        && expected.from.is_none_or(|d| d == actual.period_start)
        && expected.to.is_none_or(|d| d == actual.period_end)
        && expected.quantity.is_none_or(|q| decimal_equal(q, actual.quantity))
        && expected.unit_price.is_none_or(|p| p == actual.unit_price)
        && expected.days.is_none_or(|d| Some(d) == actual.days)
        && expected.rule.is_none_or(|r| r == actual.rule)
}

fn decimal_equal(a: Decimal, b: Decimal) -> bool {
    let scale = a.scale.max(b.scale);
    let widen = |d: Decimal| d.mantissa.checked_mul(10_i128.pow(scale - d.scale));
    widen(a).is_some() && widen(a) == widen(b)
}

/// An actual line, with every field the expected line names, so the one that differs shows.
fn describe_line(line: &LedgerLine, expected: &LineExpectation) -> String {
    let mut text = format!("{} {}..{} x{}", line.kind.name(), format_date(line.period_start), format_date(line.period_end), line.quantity);
    if expected.unit_price.is_some() {
        text.push_str(&format!(" unit_price {}", line.unit_price));
    }
    if expected.days.is_some() {
        text.push_str(&format!(" days {}", line.days.map_or_else(|| "none".to_string(), |d| d.to_string())));
    }
    if expected.rule.is_some() {
        text.push_str(&format!(" rule {}", line.rule.id()));
    }
    format!("{text} {}", line.amount)
}

fn describe_expected_line(expected: &LineExpectation) -> String {
    let mut parts = vec![format!("subscription {}", expected.label)];
    if let Some(kind) = expected.kind {
        parts.push(format!("kind {}", kind.name()));
    }
    if let Some(from) = expected.from {
        parts.push(format!("from {}", format_date(from)));
    }
    if let Some(to) = expected.to {
        parts.push(format!("to {}", format_date(to)));
    }
    if let Some(quantity) = expected.quantity {
        parts.push(format!("quantity {quantity}"));
    }
    if let Some(price) = expected.unit_price {
        parts.push(format!("unit_price {price}"));
    }
    if let Some(days) = expected.days {
        parts.push(format!("days {days}"));
    }
    if let Some(rule) = expected.rule {
        parts.push(format!("rule {}", rule.id()));
    }
    parts.push(format!("amount {}", expected.amount));
    format!("a line with {}", parts.join(", "))
}
