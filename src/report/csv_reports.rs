//! The six CSV reports of a run (SCENARIO-FORMAT.md, "Reports"): UTF-8, a header row,
//! RFC 4180 quoting, rows in scenario order then each file's own stable order. Each file is
//! written row by row and put in place only when complete.

use std::path::Path;

use crate::engine::rules::Rule;
use crate::outcome::{EVENT_COLUMNS, LINE_COLUMNS, Row, SUBSCRIPTION_COLUMNS};
use crate::report::{AtomicFile, CsvFile, commit_all};
use crate::suite::{ScenarioRun, Status};

/// Columns whose cells are numbers: never neutralized, so spreadsheets keep them numeric.
const NUMERIC: &[&str] = &["seq", "steps", "checks", "failures", "quantity", "unit_price", "days", "amount", "total", "lines", "exercised", "section"];

pub const FILES: [&str; 6] = ["summary.csv", "events.csv", "subscriptions.csv", "invoices.csv", "invoice_lines.csv", "rules.csv"];

fn prefixed(scenario: &str, row: Row) -> Row {
    let mut cells = vec![("scenario", scenario.to_string())];
    cells.extend(row.0);
    Row(cells)
}

fn with_scenario(columns: &[&'static str]) -> Vec<&'static str> {
    std::iter::once("scenario").chain(columns.iter().copied()).collect()
}

fn create(folder: &Path, name: &str, header: Vec<&'static str>) -> std::io::Result<CsvFile> {
    CsvFile::create(&folder.join(name), header, |column| !NUMERIC.contains(&column))
}

/// Writes every report into `folder`. Each file is complete or absent.
pub fn write_reports(folder: &Path, runs: &[ScenarioRun]) -> std::io::Result<()> {
    commit_all(stage_reports(folder, runs)?)
}

/// The six reports, written beside their final names without replacing anything yet (see
/// [`commit_all`]).
pub fn stage_reports(folder: &Path, runs: &[ScenarioRun]) -> std::io::Result<Vec<AtomicFile>> {
    crate::report::create_folder(folder)?;
    // The six files are a set: a place that cannot take one of them is found before any of
    // them is replaced.
    if let Some(blocked) = FILES.iter().map(|name| folder.join(name)).find(|path| path.is_dir()) {
        let message = format!("{} is a folder, not a file", crate::scenario::diagnostic::display_path(&blocked));
        return Err(std::io::Error::new(std::io::ErrorKind::IsADirectory, message));
    }
    let mut summary = create(folder, "summary.csv", vec!["scenario", "file", "policy", "status", "steps", "checks", "failures", "title", "snapshot"])?;
    let mut events = create(folder, "events.csv", with_scenario(&EVENT_COLUMNS))?;
    let mut subscriptions = create(folder, "subscriptions.csv", with_scenario(&SUBSCRIPTION_COLUMNS))?;
    // Amounts are in the scenario's catalog currency; a run may mix currencies, so each row
    // says which (after the columns of the format doc).
    let mut invoices = create(folder, "invoices.csv", vec!["scenario", "invoice_date", "lines", "total", "currency"])?;
    let mut lines = create(folder, "invoice_lines.csv", with_scenario(&LINE_COLUMNS).into_iter().chain(["currency"]).collect())?;
    let mut rule_counts = vec![0_u64; Rule::COUNT];
    let mut rule_scenarios: Vec<Vec<&str>> = vec![Vec::new(); Rule::COUNT];
    for run in runs {
        summary.write(summary_row(run))?;
        let Some(outcome) = &run.outcome else { continue };
        let scenario = run.display.as_str();
        for seq in 0..outcome.events.len() {
            events.write(prefixed(scenario, outcome.event_row(seq)))?;
        }
        for subscription in &outcome.subscriptions {
            subscriptions.write(prefixed(scenario, outcome.subscription_row(subscription)))?;
        }
        for invoice in &outcome.invoices {
            let mut row = Row::default();
            row.push("scenario", scenario.to_string());
            row.push("invoice_date", crate::engine::time::format_date(invoice.date));
            row.push("lines", invoice.lines.len().to_string());
            row.push("total", invoice.total.to_string());
            row.push("currency", outcome.script.catalog.currency.clone());
            invoices.write(row)?;
            for line in &invoice.lines {
                let mut row = prefixed(scenario, outcome.line_row(invoice.date, line));
                row.push("currency", outcome.script.catalog.currency.clone());
                lines.write(row)?;
            }
        }
        for (rule, hits) in outcome.rules_exercised() {
            if hits > 0 {
                rule_counts[rule.index()] += hits;
                rule_scenarios[rule.index()].push(scenario);
            }
        }
    }
    let mut rules = create(folder, "rules.csv", vec!["rule", "exercised", "scenarios", "section", "summary"])?;
    for rule in Rule::ALL {
        let mut row = Row::default();
        row.push("rule", rule.id().to_string());
        row.push("exercised", rule_counts[rule.index()].to_string());
        row.push("scenarios", rule_scenarios[rule.index()].join(";"));
        row.push("section", rule.section().to_string());
        row.push("summary", rule.summary().to_string());
        rules.write(row)?;
    }
    let mut files = Vec::with_capacity(FILES.len());
    for file in [summary, events, subscriptions, invoices, lines, rules] {
        files.push(file.finish()?);
    }
    Ok(files)
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
