//! What-if analysis: the same scenarios and populations under several policies (or parameter
//! sweeps), compared metric by metric and month by month.
//!
//! Populations are simulated one customer at a time, in parallel (rayon), each customer's
//! results added into per-thread totals that are then added together: sums of integers, so
//! the result is the same for any thread count. Memory stays bounded by the totals: no
//! customer's lines are kept, and `--detail` writes them out as the runs go.

pub mod bench;
pub mod chart;
pub mod metrics;

use std::fmt::Write as _;
use std::path::Path;

use rayon::prelude::*;

use crate::app::{EXIT_INVALID, EXIT_OK, Style, jobs_or_default, usage_error};
use crate::cli::WhatifArgs;
use crate::engine::script::Script;
use crate::engine::{EngineError, Limits, ScriptSteps, StepSource};
use crate::outcome::line_cells;
use crate::policy::{ParameterValue, Policy};
use crate::report::{AtomicFile, commit_all, stage};
use crate::scenario::diagnostic::display_path;
use crate::scenario::load::{LoadOptions, LoadedScenario, load_scenario};
use crate::suite::discover_at_least_one;
use metrics::{Metrics, MetricsObserver, Month};

/// A policy by built-in name or file path, or a rendered error.
pub fn resolve_policy(name: &str) -> Result<Policy, String> {
    if let Some(policy) = crate::scenario::builtin_policies::find(name) {
        return Ok(policy);
    }
    let path = Path::new(name);
    if path.is_file() {
        return crate::scenario::policy_file::load_policy_file(path).map_err(|d| d.render());
    }
    if path.is_dir() {
        return Err(format!("error: {}: is a folder; expected a policy file or a built-in policy name\n", crate::scenario::diagnostic::display_path(path)));
    }
    let suggestion = crate::suggest::nearest(name, crate::scenario::builtin_policies::names())
        .or_else(|| crate::scenario::builtin_policies::names().find(|builtin| builtin.starts_with(name)))
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default();
    Err(format!(
        "error: `{name}` is neither a built-in policy ({}) nor a policy file{suggestion}\n",
        crate::scenario::builtin_policies::names().collect::<Vec<_>>().join(", ")
    ))
}

/// One column of the comparison: a policy, with a sweep's parameter values.
#[derive(Clone, Debug)]
pub struct Variant {
    pub label: String,
    pub policy: Policy,
    pub sweep: Vec<(String, ParameterValue)>,
}

/// Each variant is a column of every what-if report and a full simulation: beyond this many,
/// a sweep is a mistake, not an analysis.
pub const MAX_VARIANTS: usize = 256;

/// The variants of `--policy` (each) times `--set name=v1,v2` (each value, every combination).
pub fn variants(policies: &[String], sets: &[String]) -> Result<Vec<Variant>, String> {
    let names: Vec<String> = if policies.is_empty() { vec!["csp-2020".to_string()] } else { policies.to_vec() };
    let mut variants = Vec::new();
    for name in &names {
        let policy = resolve_policy(name)?;
        // Each variant is a column of the reports, named after its policy.
        if variants.iter().any(|v: &Variant| v.label == policy.name) {
            return Err(format!("error: `--policy {name}`: a policy named `{}` is already compared; give each policy once\n", policy.name));
        }
        variants.push(Variant { label: policy.name.clone(), policy, sweep: Vec::new() });
    }
    let mut swept: Vec<&str> = Vec::new();
    for set in sets {
        let (parameter, values) = set.split_once('=').ok_or_else(|| format!("error: `--set {set}`: expected name=value1,value2,...\n"))?;
        let parameter = parameter.trim();
        let known = Policy::parameter(parameter).map_err(|near| {
            let suggestion = near.map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
            format!("error: `--set {set}`: `{parameter}` is not a policy parameter{suggestion}\n")
        })?;
        if known.name == "role_matrix" {
            // A table, not a value a comma-separated list can sweep.
            return Err(format!(
                "error: `--set {set}`: the role matrix is a table and cannot be swept; write a policy file (`extends: csp-2020` and `parameters: {{role_matrix: ...}}`) and pass it with --policy\n"
            ));
        }
        if swept.contains(&known.name) {
            return Err(format!("error: `--set {set}`: `{}` is already swept; list all its values in one --set, separated by commas\n", known.name));
        }
        swept.push(known.name);
        let values: Vec<&str> = values.split(',').map(str::trim).filter(|v| !v.is_empty()).collect();
        if values.is_empty() {
            return Err(format!("error: `--set {set}`: no values\n"));
        }
        // Values are compared as the policy reads them: `24h` and `1d` are the same variant.
        let mut read: Vec<(String, &str)> = Vec::new();
        for value in &values {
            let mut check = variants[0].policy.clone();
            known.apply_to(&mut check, &ParameterValue::Text((*value).to_string())).map_err(|message| {
                // Some parse messages already say what was expected; say it once.
                let expected = if message.contains("expected") { String::new() } else { format!(" (expected {})", known.expected) };
                format!("error: `--set {set}`: {message}{expected}\n")
            })?;
            let meaning = check.show(known.name).unwrap_or_default();
            if let Some((_, first)) = read.iter().find(|(earlier, _)| *earlier == meaning) {
                if value == first {
                    return Err(format!("error: `--set {set}`: `{value}` is given twice\n"));
                }
                return Err(format!("error: `--set {set}`: `{value}` is the same value as `{first}`\n"));
            }
            read.push((meaning, value));
        }
        if variants.len() * values.len() > MAX_VARIANTS {
            return Err(format!(
                "error: `--set {set}`: {} variants to compare is too many (at most {MAX_VARIANTS}); sweep fewer values at once\n",
                variants.len() * values.len()
            ));
        }
        let mut next = Vec::new();
        for variant in &variants {
            for value in &values {
                // Each value was read (and so checked) above.
                let parameter_value = ParameterValue::Text((*value).to_string());
                let mut sweep = variant.sweep.clone();
                sweep.push((known.name.to_string(), parameter_value));
                next.push(Variant { label: format!("{} {}={value}", variant.label, known.name), policy: variant.policy.clone(), sweep });
            }
        }
        variants = next;
    }
    Ok(variants)
}

/// `whatif --detail`: where the invoice lines of one run go, labelled with its variant and
/// scenario. Lines are written as the simulation goes (in the order of customers), so memory
/// stays bounded whatever the population's size.
pub struct LinesOut<'a> {
    pub out: &'a mut (dyn std::io::Write + Send),
    pub variant: &'a str,
    pub scenario: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum SimulationError {
    /// In the scenario's hand-written part.
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("generated customer {index} of the population: {error} (`cspsim explain FILE --customer {index}` shows its timeline)")]
    Customer { index: u64, error: EngineError },
    #[error("cannot write whatif_lines.csv: {0}")]
    Write(#[from] std::io::Error),
}

/// Simulates a scenario's hand-written part and its population, adding everything up; with
/// `lines`, also writes every invoice line.
pub fn simulate(loaded: &LoadedScenario, limits: Limits, progress: &indicatif::ProgressBar, mut lines: Option<LinesOut>) -> Result<Metrics, SimulationError> {
    let script = &loaded.script;
    let months = match &loaded.population {
        Some(population) => population.months as usize + 1,
        None => 1,
    };
    let labels = lines.as_ref().map(|l| (l.variant, l.scenario));
    // One run: its metrics, and its lines as CSV records when they are wanted.
    let run_one = |script: &Script, steps: &mut dyn StepSource| -> Result<(Metrics, Vec<u8>), EngineError> {
        let mut observer = MetricsObserver::new(script.start, months);
        if labels.is_some() {
            observer = observer.keeping_invoices();
        }
        let state = crate::engine::run_steps(script, steps, observer, limits)?;
        let mut metrics = state.observer.metrics;
        metrics.add_final_state(&state.subscriptions);
        let records = match (labels, &state.observer.invoices) {
            (Some((variant, scenario)), Some(invoices)) => detail_records(variant, scenario, script, invoices),
            _ => Vec::new(),
        };
        Ok((metrics, records))
    };
    let mut total = Metrics::default();
    if !script.steps.is_empty() || !script.customers.is_empty() {
        let (mut metrics, records) = run_one(script, &mut ScriptSteps::new(&script.steps))?;
        metrics.customers = script.customers.len() as u64;
        total.add(&metrics);
        if let Some(lines) = &mut lines {
            lines.out.write_all(&records)?;
        }
    }
    if let Some(population) = &loaded.population {
        let chunk = 4096_u64;
        let chunks: Vec<u64> = (0..population.customers.div_ceil(chunk)).collect();
        // Lines are written in the order of customers whatever the thread count: chunks are
        // simulated a few at a time and written in order, so only those few are held.
        let batch = if lines.is_some() { 2 * rayon::current_num_threads() } else { chunks.len() };
        for batch in chunks.chunks(batch.max(1)) {
            let parts = batch
                .par_iter()
                .map(|&c| {
                    let mut sum = Metrics::default();
                    let mut records = Vec::new();
                    for index in c * chunk..((c + 1) * chunk).min(population.customers) {
                        let setting = population.customer_setting(script, index);
                        let mut steps = population.customer_steps(script, index);
                        let (metrics, customer_records) = run_one(&setting, &mut steps).map_err(|error| SimulationError::Customer { index, error })?;
                        sum.add(&metrics);
                        records.extend(customer_records);
                    }
                    progress.inc(((c + 1) * chunk).min(population.customers) - c * chunk);
                    Ok((sum, records))
                })
                .collect::<Result<Vec<(Metrics, Vec<u8>)>, SimulationError>>()?;
            for (metrics, records) in parts {
                total.add(&metrics);
                if let Some(lines) = &mut lines {
                    lines.out.write_all(&records)?;
                }
            }
        }
    }
    Ok(total)
}

struct ScenarioComparison {
    display: String,
    /// The currency of the scenario's catalog: totals add only amounts of one currency.
    currency: String,
    results: Vec<Metrics>,
}

/// Every subscription is counted in exactly one of the `*_at_end` metrics.
const METRICS: [&str; 9] =
    ["billed", "credited", "net", "active_at_end", "suspended_at_end", "expired_at_end", "disabled_at_end", "deleted_at_end", "refused_actions"];

/// The metrics counted month by month: name, the value of one month, whether it is money.
/// A run's total of each is the sum of its months.
type MonthlyMetric = (&'static str, fn(&Month) -> i128, bool);
const MONTHLY_METRICS: [MonthlyMetric; 4] = [
    ("billed", |m| m.billed, true),
    ("credited", |m| m.credited, true),
    ("net", |m| m.billed + m.credited, true),
    ("refused_actions", |m| i128::from(m.refused), false),
];

fn metric_value(metrics: &Metrics, metric: &str) -> (i128, bool) {
    if let Some((_, of_month, is_money)) = MONTHLY_METRICS.iter().find(|(name, _, _)| *name == metric) {
        return (metrics.months.iter().map(of_month).sum(), *is_money);
    }
    match metric {
        "active_at_end" => (i128::from(metrics.active_at_end), false),
        "suspended_at_end" => (i128::from(metrics.suspended_at_end), false),
        "expired_at_end" => (i128::from(metrics.expired_at_end), false),
        "disabled_at_end" => (i128::from(metrics.disabled_at_end), false),
        "deleted_at_end" => (i128::from(metrics.deleted_at_end), false),
        _ => unreachable!("a known metric"),
    }
}

fn show(value: i128, is_money: bool) -> String {
    if is_money { crate::engine::money::format_cents(value) } else { value.to_string() }
}

/// The text columns of the what-if CSVs; every other column holds a number.
fn is_text_column(column: &str) -> bool {
    matches!(column, "scenario" | "metric" | "month" | "variant" | "customer" | "subscription" | "offer" | "kind" | "rule")
}

fn month_label(month: i32) -> String {
    format!("{:04}-{:02}", month.div_euclid(12), month.rem_euclid(12) + 1)
}

pub fn command(args: &WhatifArgs, err: Style) -> u8 {
    let jobs = jobs_or_default(args.jobs);
    let variants = match variants(&args.policies, &args.sets) {
        Ok(variants) => variants,
        Err(message) => {
            eprint!("{}", err.red(&message));
            return EXIT_INVALID;
        }
    };
    // Found before the simulation, not after it.
    if args.out.exists() && !args.out.is_dir() {
        return usage_error(&format!("--out {}: is a file; expected a folder for the what-if outputs", display_path(&args.out)));
    }
    if let Some(message) = crate::app::file_in_the_way("--out", &args.out).or_else(|| crate::app::folder_not_writable("--out", &args.out, &args.out)) {
        return usage_error(&message);
    }
    let outputs = ["whatif.csv", "whatif_monthly.csv", "whatif.svg"].into_iter().chain(args.detail.then_some("whatif_lines.csv"));
    if let Some(blocked) = outputs.map(|name| args.out.join(name)).find(|path| path.is_dir()) {
        return usage_error(&format!("--out {}: {} is a folder, not a file", display_path(&args.out), display_path(&blocked)));
    }
    let files = match discover_at_least_one(&args.paths) {
        Ok(files) => files,
        Err(message) => return usage_error(&message),
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().expect("a thread pool");
    let limits = Limits { max_events: args.max_events };
    // Load everything first: every input error of every file is reported before any work.
    // Each file is read once; only its policy differs from one variant to the next.
    let first = LoadOptions { policy: Some(variants[0].policy.clone()), sweep: variants[0].sweep.clone() };
    let mut scenarios = Vec::new();
    let mut invalid = 0;
    for file in &files {
        match load_scenario(&file.path, &file.display, &first) {
            Ok(scenario) => scenarios.push(scenario),
            Err(diagnostics) => {
                eprint!("{}", err.red(&diagnostics.render()));
                invalid += 1;
            }
        }
    }
    // As `run` does, the good files are still compared; the exit code says some were not.
    if scenarios.is_empty() {
        return EXIT_INVALID;
    }
    let work: u64 = scenarios.iter().map(|s| s.population.as_ref().map_or(0, |p| p.customers)).sum::<u64>() * variants.len() as u64;
    let progress = if work > 0 {
        crate::app::progress_bar_for_long_runs(work, "{spinner} {pos}/{len} customer runs (customers x variants) {wide_bar} {elapsed} (eta {eta})")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut comparisons: Vec<ScenarioComparison> = scenarios
        .iter()
        .map(|scenario| ScenarioComparison { display: scenario.display.clone(), currency: scenario.script.catalog.currency.clone(), results: Vec::new() })
        .collect();
    let mut detail = match args.detail.then(|| DetailFile::create(&args.out)).transpose() {
        Ok(detail) => detail,
        Err(error) => {
            eprintln!("{}", err.red(&format!("error: cannot write whatif_lines.csv in {}: {error}", display_path(&args.out))));
            return EXIT_INVALID;
        }
    };
    let mut stopped = vec![false; scenarios.len()];
    for variant in &variants {
        for ((comparison, scenario), stopped) in comparisons.iter_mut().zip(&scenarios).zip(stopped.iter_mut()) {
            if *stopped {
                continue;
            }
            let scenario = scenario.under_policy(&variant.policy, &variant.sweep);
            let lines = detail.as_mut().map(|file| LinesOut { out: file.writer(), variant: &variant.label, scenario: &scenario.display });
            match pool.install(|| simulate(&scenario, limits, &progress, lines)) {
                Ok(metrics) => comparison.results.push(metrics),
                Err(error) => {
                    progress.suspend(|| {
                        let message = match &error {
                            SimulationError::Engine(error) => crate::suite::runtime_error(&scenario, error).render(),
                            other => format!("error: {}: {other}\n", display_path(&scenario.path)),
                        };
                        eprint!("{}", err.red(&message));
                    });
                    if detail.is_some() {
                        // Its lines are already in whatif_lines.csv; a partial file is not kept.
                        progress.finish_and_clear();
                        eprintln!("{}", err.red("error: the what-if run stopped; nothing was written"));
                        return EXIT_INVALID;
                    }
                    // Its numbers would be partial: the scenario is left out, the others compared.
                    *stopped = true;
                    invalid += 1;
                }
            }
        }
    }
    progress.finish_and_clear();
    let comparisons: Vec<ScenarioComparison> = comparisons.into_iter().zip(&stopped).filter(|(_, stopped)| !**stopped).map(|(c, _)| c).collect();
    if comparisons.is_empty() {
        return EXIT_INVALID;
    }
    let labels: Vec<String> = variants.iter().map(|v| v.label.clone()).collect();
    // The outputs are one set: all are written beside their places first, and only when every
    // one could be written does any replace the old one.
    let staged = stage_outputs(&args.out, &labels, &comparisons).and_then(|mut files| {
        if let Some(detail) = detail {
            files.push(detail.finish()?);
        }
        Ok(files)
    });
    let committed = staged.map_err(|error| format!("{error}; no output was replaced")).and_then(|files| commit_all(files).map_err(|error| error.to_string()));
    if let Err(error) = committed {
        eprintln!("{}", err.red(&format!("error: cannot write to {}: {error}", display_path(&args.out))));
        return EXIT_INVALID;
    }
    if !args.detail {
        // A whatif_lines.csv of an earlier --detail run would sit beside numbers it does
        // not belong to.
        let stale = args.out.join("whatif_lines.csv");
        if stale.is_file() && std::fs::remove_file(&stale).is_ok() {
            eprintln!("removed {} of an earlier --detail run", display_path(&stale));
        }
    }
    say!("{}", summary_table(&labels, &comparisons));
    let mut written: Vec<String> = ["whatif.csv", "whatif_monthly.csv", "whatif.svg"].iter().map(|name| display_path(&args.out.join(name))).collect();
    if args.detail {
        written.push(display_path(&args.out.join("whatif_lines.csv")));
    }
    let last = written.pop().expect("at least one file");
    sayln!("wrote {} and {last}", written.join(", "));
    if invalid > 0 {
        eprintln!("{}", err.red(&format!("{invalid} file{} left out of the comparison (errors above)", if invalid == 1 { "" } else { "s" })));
        return EXIT_INVALID;
    }
    EXIT_OK
}

/// The calendar months any of the runs spans.
fn month_span<'m>(results: impl IntoIterator<Item = &'m Metrics>) -> Option<(i32, i32)> {
    let spans: Vec<(i32, i32)> = results.into_iter().filter_map(Metrics::month_span).collect();
    Some((spans.iter().map(|s| s.0).min()?, spans.iter().map(|s| s.1).max()?))
}

/// The `(all)` totals, one per currency (named `(all USD)`, `(all JPY)` when there are
/// several): yen and dollars do not add up.
fn totals_by_currency(comparisons: &[ScenarioComparison], variants: usize) -> Vec<(String, String, Vec<Metrics>)> {
    let mut totals: std::collections::BTreeMap<&str, Vec<Metrics>> = std::collections::BTreeMap::new();
    for comparison in comparisons {
        let sums = totals.entry(comparison.currency.as_str()).or_insert_with(|| vec![Metrics::default(); variants]);
        for (sum, metrics) in sums.iter_mut().zip(&comparison.results) {
            sum.add(metrics);
        }
    }
    let several = totals.len() > 1;
    totals
        .into_iter()
        .map(|(currency, sums)| {
            let label = if several { format!("(all {currency})") } else { "(all)".to_string() };
            (label, currency.to_string(), sums)
        })
        .collect()
}

fn summary_table(labels: &[String], comparisons: &[ScenarioComparison]) -> String {
    let mut out = String::new();
    // Names are short (a policy's is at most 64 characters); the cap keeps any label
    // inside what a format width can take.
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(8).clamp(14, 200);
    for comparison in comparisons {
        let customers = comparison.results.first().map_or(0, |m| m.customers);
        let _ = writeln!(out, "{} ({})", comparison.display, crate::app::plural(customers, "customer"));
        let _ = writeln!(out, "  {:<16}{}", "", labels.iter().map(|l| format!("{l:>width$}")).collect::<Vec<_>>().join("  "));
        for metric in METRICS {
            let cells: Vec<String> = comparison
                .results
                .iter()
                .map(|m| {
                    let (value, is_money) = metric_value(m, metric);
                    format!("{:>width$}", show(value, is_money))
                })
                .collect();
            let _ = writeln!(out, "  {metric:<16}{}", cells.join("  "));
        }
    }
    out
}

/// `whatif.csv`, `whatif_monthly.csv` and `whatif.svg`, written beside their places.
fn stage_outputs(folder: &Path, labels: &[String], comparisons: &[ScenarioComparison]) -> std::io::Result<Vec<AtomicFile>> {
    crate::report::create_folder(folder)?;
    let totals = totals_by_currency(comparisons, labels.len());
    let mut header = vec!["scenario".to_string(), "metric".to_string()];
    header.extend(labels.iter().cloned());
    header.push("difference".to_string());
    let mut rows = Vec::new();
    let groups: Vec<(&str, &[Metrics])> = comparisons
        .iter()
        .map(|c| (c.display.as_str(), c.results.as_slice()))
        .chain(totals.iter().map(|(label, _, sums)| (label.as_str(), sums.as_slice())))
        .collect();
    for (scenario, results) in &groups {
        for metric in METRICS {
            let values: Vec<(i128, bool)> = results.iter().map(|m| metric_value(m, metric)).collect();
            let mut row = vec![scenario.to_string(), metric.to_string()];
            row.extend(values.iter().map(|(v, m)| show(*v, *m)));
            let difference = values.last().map_or(0, |v| v.0) - values.first().map_or(0, |v| v.0);
            row.push(show(difference, values.first().is_some_and(|v| v.1)));
            rows.push(row);
        }
    }
    let whatif = stage(&folder.join("whatif.csv"), &crate::report::csv_bytes(&header, &rows, is_text_column))?;

    let mut monthly_header = vec!["scenario".to_string(), "month".to_string(), "metric".to_string()];
    monthly_header.extend(labels.iter().cloned());
    monthly_header.push("difference".to_string());
    let mut monthly = Vec::new();
    for (scenario, results) in &groups {
        let Some((first, last)) = month_span(results.iter()) else { continue };
        for month in first..=last {
            for (metric, of_month, is_money) in MONTHLY_METRICS {
                let values: Vec<i128> = results.iter().map(|m| of_month(&m.month(month))).collect();
                let mut row = vec![scenario.to_string(), month_label(month), metric.to_string()];
                row.extend(values.iter().map(|v| show(*v, is_money)));
                row.push(show(values.last().copied().unwrap_or(0) - values.first().copied().unwrap_or(0), is_money));
                monthly.push(row);
            }
        }
    }
    let whatif_monthly = stage(&folder.join("whatif_monthly.csv"), &crate::report::csv_bytes(&monthly_header, &monthly, is_text_column))?;
    // One panel per currency, over the months any run spans.
    let (first, last) = month_span(totals.iter().flat_map(|(_, _, sums)| sums)).unwrap_or((0, -1));
    let panels: Vec<chart::Panel> = totals
        .iter()
        .map(|(_, currency, sums)| chart::Panel {
            currency: currency.clone(),
            series: labels
                .iter()
                .zip(sums)
                .map(|(label, metrics)| (label.clone(), (first..=last).map(|month| metrics.month(month)).map(|m| m.billed + m.credited).collect()))
                .collect(),
        })
        .collect();
    let svg = chart::net_billing_chart(&panels, |index| month_label(first + index as i32));
    Ok(vec![whatif, whatif_monthly, stage(&folder.join("whatif.svg"), svg.as_bytes())?])
}

/// The columns of `whatif_lines.csv` after `variant` and `scenario`, taken from an invoice
/// line's cells.
const DETAIL_COLUMNS: [&str; 12] =
    ["customer", "invoice_date", "subscription", "offer", "kind", "period_start", "period_end", "quantity", "unit_price", "days", "amount", "rule"];

/// `whatif_lines.csv`, written while the runs go and put in place when all are done.
struct DetailFile(std::io::BufWriter<crate::report::AtomicFile>);

impl DetailFile {
    fn create(folder: &Path) -> std::io::Result<DetailFile> {
        crate::report::create_folder(folder)?;
        let mut writer = std::io::BufWriter::new(crate::report::AtomicFile::create(&folder.join("whatif_lines.csv"))?);
        let header: Vec<String> = ["variant", "scenario"].into_iter().chain(DETAIL_COLUMNS).map(str::to_string).collect();
        std::io::Write::write_all(&mut writer, &crate::report::csv_records([header], &[false; 2 + DETAIL_COLUMNS.len()]))?;
        Ok(DetailFile(writer))
    }
    fn writer(&mut self) -> &mut (dyn std::io::Write + Send) {
        &mut self.0
    }
    /// Every record flushed; the file is not yet in place.
    fn finish(self) -> std::io::Result<AtomicFile> {
        let mut file = self.0.into_inner().map_err(|error| error.into_error())?;
        file.make_ready()?;
        Ok(file)
    }
}

/// The CSV records of one run's invoice lines (variant, scenario, then [`DETAIL_COLUMNS`]).
fn detail_records(variant: &str, scenario: &str, script: &Script, invoices: &[crate::engine::observe::Invoice]) -> Vec<u8> {
    let text: Vec<bool> = ["variant", "scenario"].into_iter().chain(DETAIL_COLUMNS).map(is_text_column).collect();
    let rows = invoices.iter().flat_map(|invoice| {
        invoice.lines.iter().map(move |line| {
            let cells = line_cells(script, "", invoice.date, line);
            let picked = DETAIL_COLUMNS.iter().map(move |column| cells.get(column).expect("an invoice line has every column").to_string());
            [variant.to_string(), scenario.to_string()].into_iter().chain(picked).collect::<Vec<String>>()
        })
    });
    crate::report::csv_records(rows, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policies: &[&str], sets: &[&str]) -> String {
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        match variants(&owned(policies), &owned(sets)) {
            Ok(found) => panic!("{} variants, expected a refusal", found.len()),
            Err(message) => message,
        }
    }

    #[test]
    fn every_variant_is_a_distinct_column() {
        let sweep = variants(&["csp-2020".into(), "nce-2022".into()], &["cancel_window_monthly=24h,72h".into()]).unwrap();
        let labels: Vec<&str> = sweep.iter().map(|v| v.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "csp-2020 cancel_window_monthly=24h",
                "csp-2020 cancel_window_monthly=72h",
                "nce-2022 cancel_window_monthly=24h",
                "nce-2022 cancel_window_monthly=72h"
            ]
        );
        assert!(refused(&["nce-2022", "nce-2022"], &[]).contains("already compared"));
        assert!(refused(&[], &["cancel_window_monthly=24h", "cancel_window_monthly=72h"]).contains("already swept"));
        assert!(refused(&[], &["cancel_window_monthly=24h,24h"]).contains("given twice"));
        assert!(refused(&[], &["cancel_window_monthly=24h,1d"]).contains("the same value"));
        let many: Vec<String> = (1..=300).map(|days| days.to_string()).collect();
        assert!(refused(&[], &[&format!("retention_days={}", many.join(","))]).contains("too many"));
    }
}
