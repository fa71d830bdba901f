//! The six CSV reports of a run (SCENARIO-FORMAT.md, "Reports"): UTF-8, a header row,
//! RFC 4180 quoting, rows in scenario order then each file's own stable order.

use std::path::{Path, PathBuf};

use crate::engine::rules::Rule;
use crate::outcome::Row;
use crate::report::{csv_bytes, write_atomically};
use crate::suite::{ScenarioRun, Status};

/// Columns whose cells are numbers: never neutralized, so spreadsheets keep them numeric.
const NUMERIC: &[&str] = &["seq", "steps", "checks", "failures", "quantity", "unit_price", "days", "amount", "total", "lines", "exercised", "section"];

pub const FILES: [&str; 6] = ["summary.csv", "events.csv", "subscriptions.csv", "invoices.csv", "invoice_lines.csv", "rules.csv"];

struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new() -> Self {
        Table { header: Vec::new(), rows: Vec::new() }
    }

    fn push(&mut self, row: Row) {
        if self.header.is_empty() {
            self.header = row.0.iter().map(|(name, _)| *name).collect();
        }
        debug_assert_eq!(self.header.len(), row.0.len(), "rows of one report have the same columns");
        self.rows.push(row.0.into_iter().map(|(_, value)| value).collect());
    }

    fn to_csv(&self, empty_header: &[&'static str]) -> Vec<u8> {
        let header = if self.header.is_empty() { empty_header } else { &self.header };
        csv_bytes(header, &self.rows, |column| !NUMERIC.contains(&column))
    }
}

fn prefixed(scenario: &str, row: Row) -> Row {
    let mut cells = vec![("scenario", scenario.to_string())];
    cells.extend(row.0);
    Row(cells)
}

/// Writes every report into `folder`. Each file is complete or absent.
pub fn write_reports(folder: &Path, runs: &[ScenarioRun]) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(folder)?;
    let mut summary = Table::new();
    let mut events = Table::new();
    let mut subscriptions = Table::new();
    let mut invoices = Table::new();
    let mut lines = Table::new();
    let mut rule_counts = vec![0_u64; Rule::COUNT];
    let mut rule_scenarios: Vec<Vec<&str>> = vec![Vec::new(); Rule::COUNT];
    for run in runs {
        summary.push(summary_row(run));
        let Some(outcome) = &run.outcome else { continue };
        let scenario = run.display.as_str();
        for seq in 0..outcome.events.len() {
            events.push(prefixed(scenario, outcome.event_row(seq)));
        }
        for subscription in &outcome.subscriptions {
            subscriptions.push(prefixed(scenario, outcome.subscription_row(subscription)));
        }
        for invoice in &outcome.invoices {
            let mut row = Row::default();
            row.push("scenario", scenario.to_string());
            row.push("invoice_date", crate::engine::time::format_date(invoice.date));
            row.push("lines", invoice.lines.len().to_string());
            row.push("total", invoice.total.to_string());
            invoices.push(row);
            for line in &invoice.lines {
                lines.push(prefixed(scenario, outcome.line_row(invoice.date, line)));
            }
        }
        for (rule, hits) in outcome.rules_exercised() {
            if hits > 0 {
                rule_counts[rule.index()] += hits;
                rule_scenarios[rule.index()].push(scenario);
            }
        }
    }
    let mut rules = Table::new();
    for rule in Rule::ALL {
        let mut row = Row::default();
        row.push("rule", rule.id().to_string());
        row.push("exercised", rule_counts[rule.index()].to_string());
        row.push("scenarios", rule_scenarios[rule.index()].join(";"));
        row.push("section", rule.section().to_string());
        row.push("summary", rule.summary().to_string());
        rules.push(row);
    }
    let subscription_header: Vec<&'static str> = std::iter::once("scenario").chain(crate::outcome::SUBSCRIPTION_COLUMNS).collect();
    let outputs: [(&str, &Table, &[&'static str]); 6] = [
        ("summary.csv", &summary, &["scenario", "file", "policy", "status", "steps", "checks", "failures"]),
        ("events.csv", &events, &["scenario", "seq", "at", "source", "actor", "kind", "subject", "result", "code", "rule", "detail"]),
        ("subscriptions.csv", &subscriptions, &subscription_header),
        ("invoices.csv", &invoices, &["scenario", "invoice_date", "lines", "total"]),
        (
            "invoice_lines.csv",
            &lines,
            &[
                "scenario",
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
            ],
        ),
        ("rules.csv", &rules, &["rule", "exercised", "scenarios", "section", "summary"]),
    ];
    let mut written = Vec::new();
    for (name, table, header) in outputs {
        let path = folder.join(name);
        write_atomically(&path, &table.to_csv(header))?;
        written.push(path);
    }
    Ok(written)
}

fn summary_row(run: &ScenarioRun) -> Row {
    let mut row = Row::default();
    row.push("scenario", run.display.clone());
    row.push("file", run.shown_path.clone());
    row.push("policy", run.policy.clone().unwrap_or_default());
    row.push(
        "status",
        match run.status {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
        }
        .to_string(),
    );
    row.push("steps", run.steps.to_string());
    row.push("checks", run.checks.to_string());
    row.push("failures", run.failure_count().to_string());
    row.push("title", run.title.clone().unwrap_or_default());
    row.push("snapshot", run.snapshot_state().to_string());
    row
}
