//! `cspsim explain`: a scenario's timeline for a person. Each step, each event with what
//! happened and the rule that decided it, and each invoice with how every amount was computed.

use std::fmt::Write as _;

use crate::engine::observe::{EventKind, Source, Subject};
use crate::engine::time::format_date;
use crate::outcome::Outcome;

fn write_line(out: &mut String, outcome: &Outcome, line: &crate::engine::observe::LedgerLine) {
    let name = outcome.handle_name(line.subscription);
    let label = if name.is_empty() { line.subscription.display() } else { format!("{} ({name})", line.subscription.display()) };
    let _ = writeln!(
        out,
        "      {:<15} {label}  {} to {}  {}  [{}]",
        line.kind.name(),
        format_date(line.period_start),
        format_date(line.period_end),
        line.computation_text(),
        line.rule.id()
    );
}

/// The timeline; each failed expectation is shown at the end of its step, where it failed.
pub fn timeline(outcome: &Outcome, shown_path: &str, failures: &[crate::expect::Failure]) -> String {
    let mut out = String::new();
    let policy = &outcome.script.policy;
    let changed = crate::scenario::builtin_policies::find(&policy.name).map(|base| policy.differences_from(&base)).unwrap_or_default();
    let overrides = if changed.is_empty() {
        String::new()
    } else {
        format!(" with {}", changed.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join(", "))
    };
    let _ = writeln!(out, "{}\n  {} (policy {}{overrides})\n", outcome.title, shown_path, outcome.policy);
    let _ = writeln!(out, "  Each event shows its instant, whether a step's action or the clock made it, its kind, result and rule.\n");
    let mut next_step = 0;
    let mut after_last_step = false;
    let step_failures = |out: &mut String, index: usize| {
        for failure in failures.iter().filter(|failure| failure.step == index) {
            let _ = writeln!(out, "  FAIL {}", failure.render(shown_path));
        }
    };
    let print_step = |out: &mut String, index: usize| {
        let step = &outcome.steps[index];
        let what = match step.action {
            None => "the clock moves here, then the checks".to_string(),
            Some(action) => {
                let by = step.actor.as_deref().map(|a| format!("{a}: ")).unwrap_or_default();
                let result = match step.result.refusal {
                    None => "ok".to_string(),
                    Some((code, rule)) => {
                        let number = code.partner_center_number().map(|n| format!(" ({n})")).unwrap_or_default();
                        format!("rejected {}{number} [{}]", code.name(), rule.id())
                    }
                };
                format!("{by}{action} -> {result}")
            }
        };
        if index > 0 {
            step_failures(out, index - 1);
        }
        let line = if step.line == 0 { "generated".to_string() } else { format!("line {}", step.line) };
        let _ = writeln!(out, "\n-- step {} ({line}) at {}: {what}", index + 1, step.at);
    };
    // A step's heading comes before everything that happened on the way to it: the scheduled
    // events due up to its instant (they run before its action, ORDER-SAME-INSTANT), then its
    // action. So a scheduled event belongs to the first step at or after its instant.
    for (event, detail) in &outcome.events {
        let belongs_to = match event.source {
            Source::Action { step } => step as usize,
            _ => outcome.steps.iter().position(|step| step.at >= event.at).unwrap_or(outcome.steps.len()),
        };
        // The partner's setup is at the start, before any step.
        let setup = matches!(event.source, Source::Setup);
        while !setup && next_step <= belongs_to && next_step < outcome.steps.len() {
            print_step(&mut out, next_step);
            next_step += 1;
        }
        if !setup && belongs_to >= outcome.steps.len() && !after_last_step {
            // Scheduled events after the last step: the clock runs on to `until`.
            if next_step > 0 {
                step_failures(&mut out, next_step - 1);
            }
            let until = outcome.script.until.map(|until| until.to_string()).unwrap_or_default();
            let _ = writeln!(out, "\n-- after the last step: the clock runs to {until}");
            after_last_step = true;
        }
        let result = match event.code {
            Some(code) => format!("{} {}", event.result.name(), code.name()),
            None => event.result.name().to_string(),
        };
        let by = if matches!(event.source, Source::Action { .. }) { "step " } else { "clock" };
        let _ = writeln!(out, "  {}  {by}  {:<22} {:<10} [{}] {}", event.at, event.kind.name(), result, event.rule.id(), detail);
        if event.kind == EventKind::InvoiceIssued
            && let Subject::Invoice(date) = event.subject
            && let Some(invoice) = outcome.invoices.iter().find(|i| i.date == date)
        {
            for line in &invoice.lines {
                write_line(&mut out, outcome, line);
            }
        }
    }
    while next_step < outcome.steps.len() {
        print_step(&mut out, next_step);
        next_step += 1;
    }
    if next_step > 0 && !after_last_step {
        step_failures(&mut out, next_step - 1);
    }
    if !outcome.not_invoiced.is_empty() {
        let _ = writeln!(out, "\nNot invoiced yet (on the next billing date):");
        for line in &outcome.not_invoiced {
            write_line(&mut out, outcome, line);
        }
    }
    let exercised: Vec<&str> = outcome.rules_exercised().filter(|(_, n)| *n > 0).map(|(rule, _)| rule.id()).collect();
    let _ = writeln!(out, "\nRules exercised: {}", exercised.join(", "));
    out
}
