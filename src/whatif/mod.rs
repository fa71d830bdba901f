//! What-if analysis: the same scenarios and populations under several policies (or parameter
//! sweeps), compared metric by metric and month by month.
//!
//! Populations are simulated one customer at a time, in parallel (rayon), each customer's
//! results added into per-thread totals that are then added together: sums of integers, so
//! the result is the same for any thread count. Memory stays bounded by the totals; no
//! customer's lines are kept unless `--detail` asks for them.

pub mod bench;
pub mod chart;
pub mod metrics;

use std::fmt::Write as _;
use std::path::Path;

use rayon::prelude::*;

use crate::app::{EXIT_INVALID, EXIT_OK, Style, jobs_or_default};
use crate::cli::WhatifArgs;
use crate::engine::money::Money;
use crate::engine::{EngineError, Limits};
use crate::policy::{ParameterValue, Policy};
use crate::report::write_atomically;
use crate::scenario::diagnostic::display_path;
use crate::scenario::load::{LoadOptions, LoadedScenario, load_scenario};
use crate::suite::discover;
use metrics::{Metrics, MetricsObserver, month_number};

/// A policy by built-in name or file path, or a rendered error.
pub fn resolve_policy(name: &str) -> Result<Policy, String> {
    if let Some(policy) = crate::policy::builtin::find(name) {
        return Ok(policy);
    }
    let path = Path::new(name);
    if path.is_file() {
        return crate::scenario::policy_file::load_policy_file(path).map_err(|d| d.render());
    }
    let suggestion = crate::scenario::suggest::nearest(name, crate::policy::builtin::names()).map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
    Err(format!(
        "error: `{name}` is neither a built-in policy ({}) nor a policy file{suggestion}\n",
        crate::policy::builtin::names().collect::<Vec<_>>().join(", ")
    ))
}

/// One column of the comparison: a policy, with a sweep's parameter values.
#[derive(Clone, Debug)]
pub struct Variant {
    pub label: String,
    pub policy: Policy,
    pub sweep: Vec<(String, ParameterValue)>,
}

/// The variants of `--policy` (each) times `--set name=v1,v2` (each value, every combination).
pub fn variants(policies: &[String], sets: &[String]) -> Result<Vec<Variant>, String> {
    let names: Vec<String> = if policies.is_empty() { vec!["csp-2020".to_string()] } else { policies.to_vec() };
    let mut variants = Vec::new();
    for name in &names {
        let policy = resolve_policy(name)?;
        variants.push(Variant { label: policy.name.clone(), policy, sweep: Vec::new() });
    }
    for set in sets {
        let (parameter, values) = set.split_once('=').ok_or_else(|| format!("error: `--set {set}`: expected name=value1,value2,...\n"))?;
        let parameter = parameter.trim();
        let known = Policy::parameter(parameter).map_err(|near| {
            let suggestion = near.map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
            format!("error: `--set {set}`: `{parameter}` is not a policy parameter{suggestion}\n")
        })?;
        let values: Vec<&str> = values.split(',').map(str::trim).filter(|v| !v.is_empty()).collect();
        if values.is_empty() {
            return Err(format!("error: `--set {set}`: no values\n"));
        }
        let mut next = Vec::new();
        for variant in &variants {
            for value in &values {
                let value = ParameterValue::Text((*value).to_string());
                let mut check = variant.policy.clone();
                known.apply_to(&mut check, &value).map_err(|message| format!("error: `--set {set}`: {message} (expected {})\n", known.expected))?;
                let mut sweep = variant.sweep.clone();
                sweep.push((known.name.to_string(), value.clone()));
                let shown = match &value {
                    ParameterValue::Text(text) => text.clone(),
                    _ => String::new(),
                };
                next.push(Variant { label: format!("{} {}={shown}", variant.label, known.name), policy: variant.policy.clone(), sweep });
            }
        }
        variants = next;
    }
    Ok(variants)
}

/// Simulates a scenario's hand-written part and its population, adding everything up.
pub fn simulate(loaded: &LoadedScenario, limits: Limits, progress: &indicatif::ProgressBar) -> Result<Metrics, EngineError> {
    let script = &loaded.script;
    let months = match &loaded.population {
        Some(population) => population.months as usize + 1,
        None => 1,
    };
    let mut total = Metrics::default();
    if !script.steps.is_empty() || !script.customers.is_empty() {
        let observer = MetricsObserver::new(script.start, months, script.steps.iter().map(|s| s.at));
        let state = crate::engine::run(script, observer, limits)?;
        let mut metrics = state.observer.metrics;
        metrics.customers = script.customers.len() as u64;
        metrics.add_final_state(&state.subscriptions);
        total.add(&metrics);
    }
    if let Some(population) = &loaded.population {
        let chunk = 4096_u64;
        let chunks = population.customers.div_ceil(chunk);
        let populated = (0..chunks)
            .into_par_iter()
            .map(|c| {
                let mut sum = Metrics::default();
                for index in c * chunk..((c + 1) * chunk).min(population.customers) {
                    let customer = population.customer_script(script, index);
                    let observer = MetricsObserver::new(customer.start, months, customer.steps.iter().map(|s| s.at));
                    let state = crate::engine::run(&customer, observer, limits)?;
                    sum.add(&state.observer.metrics);
                    sum.add_final_state(&state.subscriptions);
                }
                progress.inc(((c + 1) * chunk).min(population.customers) - c * chunk);
                Ok(sum)
            })
            .try_reduce(Metrics::default, |mut a, b| {
                a.add(&b);
                Ok(a)
            })?;
        total.add(&populated);
    }
    Ok(total)
}

struct ScenarioComparison {
    display: String,
    start: crate::engine::time::Instant,
    results: Vec<Metrics>,
}

fn money(cents: i64) -> String {
    Money::from_cents(cents).to_string()
}

const METRICS: [&str; 6] = ["billed", "credited", "net", "active_at_end", "deleted_at_end", "refused_actions"];

fn metric_value(metrics: &Metrics, metric: &str) -> (i128, bool) {
    match metric {
        "billed" => (i128::from(metrics.billed()), true),
        "credited" => (i128::from(metrics.credited()), true),
        "net" => (i128::from(metrics.billed()) + i128::from(metrics.credited()), true),
        "active_at_end" => (i128::from(metrics.active_at_end), false),
        "deleted_at_end" => (i128::from(metrics.deleted_at_end), false),
        "refused_actions" => (i128::from(metrics.refused()), false),
        _ => unreachable!("a known metric"),
    }
}

fn show(value: i128, is_money: bool) -> String {
    if is_money { money(value as i64) } else { value.to_string() }
}

/// The text columns of the what-if CSVs; every other column holds a number.
fn is_text_column(column: &str) -> bool {
    matches!(column, "scenario" | "metric" | "month" | "variant" | "customer" | "subscription" | "offer" | "kind" | "rule")
}

fn month_label(start: crate::engine::time::Instant, index: usize) -> String {
    let month = month_number(start) + index as i32;
    format!("{:04}-{:02}", month.div_euclid(12), month.rem_euclid(12) + 1)
}

pub fn command(args: &WhatifArgs, err: Style) -> u8 {
    let jobs = match jobs_or_default(args.jobs) {
        Ok(jobs) => jobs,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_INVALID;
        }
    };
    let variants = match variants(&args.policies, &args.sets) {
        Ok(variants) => variants,
        Err(message) => {
            eprint!("{}", err.red(&message));
            return EXIT_INVALID;
        }
    };
    let files = match discover(&args.paths) {
        Ok(files) => files,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_INVALID;
        }
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().expect("a thread pool");
    let limits = Limits { max_events: args.max_events };
    // Load everything first: every input error of every file is reported before any work.
    let mut loaded: Vec<Vec<LoadedScenario>> = Vec::new();
    let mut invalid = false;
    for variant in &variants {
        let options = LoadOptions { policy: Some(variant.policy.clone()), sweep: variant.sweep.clone() };
        let mut row = Vec::new();
        for file in &files {
            match load_scenario(&file.path, &file.display, &options) {
                Ok(scenario) => row.push(scenario),
                Err(diagnostics) => {
                    if loaded.is_empty() {
                        eprint!("{}", err.red(&diagnostics.render()));
                    }
                    invalid = true;
                }
            }
        }
        loaded.push(row);
    }
    if invalid {
        return EXIT_INVALID;
    }
    let work: u64 = loaded.iter().flatten().map(|s| s.population.as_ref().map_or(0, |p| p.customers)).sum();
    let progress = if work >= 10_000 && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let bar = indicatif::ProgressBar::new(work);
        bar.set_style(indicatif::ProgressStyle::with_template("{spinner} {pos}/{len} customers {wide_bar} {elapsed} (eta {eta})").expect("a valid template"));
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut comparisons: Vec<ScenarioComparison> = files
        .iter()
        .zip(&loaded[0])
        .map(|(file, scenario)| ScenarioComparison { display: file.display.clone(), start: scenario.script.start, results: Vec::new() })
        .collect();
    for scenarios in &loaded {
        for (comparison, scenario) in comparisons.iter_mut().zip(scenarios) {
            match pool.install(|| simulate(scenario, limits, &progress)) {
                Ok(metrics) => comparison.results.push(metrics),
                Err(error) => {
                    progress.finish_and_clear();
                    eprintln!("{}", err.red(&format!("error: {}: {error}", display_path(&scenario.path))));
                    return EXIT_INVALID;
                }
            }
        }
    }
    progress.finish_and_clear();
    let labels: Vec<String> = variants.iter().map(|v| v.label.clone()).collect();
    match write_outputs(&args.out, &labels, &comparisons) {
        Ok(()) => {}
        Err(error) => {
            eprintln!("{}", err.red(&format!("error: cannot write to {}: {error}", display_path(&args.out))));
            return EXIT_INVALID;
        }
    }
    if args.detail
        && let Err(message) = write_detail(&args.out, &variants, &loaded, limits, &pool)
    {
        eprintln!("{}", err.red(&format!("error: {message}")));
        return EXIT_INVALID;
    }
    print!("{}", summary_table(&labels, &comparisons));
    println!(
        "wrote {}, {} and {}",
        display_path(&args.out.join("whatif.csv")),
        display_path(&args.out.join("whatif_monthly.csv")),
        display_path(&args.out.join("whatif.svg"))
    );
    EXIT_OK
}

fn total(comparisons: &[ScenarioComparison], variants: usize) -> Vec<Metrics> {
    let mut totals = vec![Metrics::default(); variants];
    for comparison in comparisons {
        for (sum, metrics) in totals.iter_mut().zip(&comparison.results) {
            sum.add(metrics);
        }
    }
    totals
}

fn summary_table(labels: &[String], comparisons: &[ScenarioComparison]) -> String {
    let mut out = String::new();
    let width = labels.iter().map(|l| l.len()).max().unwrap_or(8).max(14);
    for comparison in comparisons {
        let customers = comparison.results.first().map_or(0, |m| m.customers);
        let _ = writeln!(out, "{} ({customers} customers)", comparison.display);
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

fn write_outputs(folder: &Path, labels: &[String], comparisons: &[ScenarioComparison]) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)?;
    let totals = total(comparisons, labels.len());
    let mut header = vec!["scenario".to_string(), "metric".to_string()];
    header.extend(labels.iter().cloned());
    header.push("difference".to_string());
    let mut rows = Vec::new();
    let all_start = comparisons.first().map(|c| c.start);
    let groups: Vec<(&str, &[Metrics])> =
        comparisons.iter().map(|c| (c.display.as_str(), c.results.as_slice())).chain(std::iter::once(("(all)", totals.as_slice()))).collect();
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
    write_atomically(&folder.join("whatif.csv"), &crate::report::csv_bytes(&header, &rows, is_text_column))?;

    let mut monthly_header = vec!["scenario".to_string(), "month".to_string(), "metric".to_string()];
    monthly_header.extend(labels.iter().cloned());
    monthly_header.push("difference".to_string());
    let mut monthly = Vec::new();
    for (index, (scenario, results)) in groups.iter().enumerate() {
        let start = comparisons.get(index).map(|c| c.start).or(all_start);
        let Some(start) = start else { continue };
        let months = results.iter().map(|m| m.months.len()).max().unwrap_or(0);
        for month in 0..months {
            for metric in ["billed", "credited", "net", "refused_actions"] {
                let values: Vec<i128> = results
                    .iter()
                    .map(|m| {
                        let entry = m.months.get(month).copied().unwrap_or_default();
                        match metric {
                            "billed" => i128::from(entry.billed),
                            "credited" => i128::from(entry.credited),
                            "net" => i128::from(entry.billed) + i128::from(entry.credited),
                            _ => i128::from(entry.refused),
                        }
                    })
                    .collect();
                let is_money = metric != "refused_actions";
                let mut row = vec![scenario.to_string(), month_label(start, month), metric.to_string()];
                row.extend(values.iter().map(|v| show(*v, is_money)));
                row.push(show(values.last().copied().unwrap_or(0) - values.first().copied().unwrap_or(0), is_money));
                monthly.push(row);
            }
        }
    }
    write_atomically(&folder.join("whatif_monthly.csv"), &crate::report::csv_bytes(&monthly_header, &monthly, is_text_column))?;
    let start = all_start.unwrap_or(crate::engine::time::Instant::from_unix_seconds(0));
    let series: Vec<(String, Vec<i64>)> =
        labels.iter().zip(&totals).map(|(label, metrics)| (label.clone(), metrics.months.iter().map(|m| m.billed + m.credited).collect())).collect();
    let svg = chart::net_billing_chart(&series, |index| month_label(start, index));
    write_atomically(&folder.join("whatif.svg"), svg.as_bytes())
}

/// `--detail`: every invoice line of every run, population customers included, in a fixed
/// order (variant, scenario, customer).
fn write_detail(folder: &Path, variants: &[Variant], loaded: &[Vec<LoadedScenario>], limits: Limits, pool: &rayon::ThreadPool) -> Result<(), String> {
    let mut rows = Vec::new();
    for (variant, scenarios) in variants.iter().zip(loaded) {
        for scenario in scenarios {
            let mut scripts = vec![scenario.script.clone()];
            if let Some(population) = &scenario.population {
                scripts.extend((0..population.customers).map(|i| population.customer_script(&scenario.script, i)));
            }
            let lines: Vec<Vec<Vec<String>>> = pool
                .install(|| {
                    scripts
                        .par_iter()
                        .map(|script| -> Result<Vec<Vec<String>>, EngineError> {
                            let state = crate::engine::run(script, Invoices::default(), limits)?;
                            let mut rows = Vec::new();
                            for invoice in state.observer.0 {
                                for line in invoice.lines {
                                    rows.push(vec![
                                        variant.label.clone(),
                                        scenario.display.clone(),
                                        script.customer(line.customer).handle.clone(),
                                        crate::engine::time::format_date(invoice.date),
                                        line.subscription.display(),
                                        script.catalog.offer(line.offer).id.clone(),
                                        line.kind.name().to_string(),
                                        crate::engine::time::format_date(line.period_start),
                                        crate::engine::time::format_date(line.period_end),
                                        line.quantity.to_string(),
                                        line.unit_price.to_string(),
                                        line.days.map(|d| d.to_string()).unwrap_or_default(),
                                        line.amount.to_string(),
                                        line.rule.id().to_string(),
                                    ]);
                                }
                            }
                            Ok(rows)
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(|e| e.to_string())?;
            rows.extend(lines.into_iter().flatten());
        }
    }
    let header: Vec<String> = [
        "variant",
        "scenario",
        "customer",
        "invoice_date",
        "subscription",
        "offer",
        "kind",
        "period_start",
        "period_end",
        "quantity",
        "unit_price",
        "days",
        "amount",
        "rule",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    write_atomically(&folder.join("whatif_lines.csv"), &crate::report::csv_bytes(&header, &rows, is_text_column))
        .map_err(|e| format!("cannot write whatif_lines.csv: {e}"))
}

/// Keeps only the invoices of a run.
#[derive(Default)]
struct Invoices(Vec<crate::engine::observe::Invoice>);

impl crate::engine::observe::Observer for Invoices {
    const WANTS_DETAIL: bool = false;
    fn event(&mut self, _event: crate::engine::observe::Event, _detail: String) {}
    fn invoice(&mut self, invoice: crate::engine::observe::Invoice) {
        self.0.push(invoice);
    }
    fn step_finished(&mut self, _step: usize, _result: crate::engine::observe::StepResult, _subscriptions: &[crate::engine::state::Subscription]) {}
}
