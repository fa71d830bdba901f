//! The command line, as clap types. Nothing here does work: `main` turns these into calls.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  cspsim run                          run the bundled suite (scenarios/), write reports/
  cspsim run scenarios/billing -j 4   run one folder on 4 threads
  cspsim check --junit junit.xml      the CI gate: fail on any difference or missing snapshot
  cspsim accept scenarios/billing     accept the pending snapshots of a folder
  cspsim explain scenarios/suspend-retention.yaml
  cspsim whatif --policy csp-2020 --policy nce-2022 populations/small-partner.yaml
  cspsim whatif --policy csp-2020 --set cancel_window_monthly=24h,72h,168h
  cspsim schema scenario > scenario.schema.json

Exit codes: 0 all passed, 1 a check or snapshot failed, 2 invalid input or usage.";

/// Simulate Partner Center CSP subscription workflows over simulated time, check the
/// outcomes against expectations and snapshots, and export CSV reports.
#[derive(Debug, Parser)]
#[command(name = "cspsim", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// When to color output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios: check expectations, compare snapshots where they exist, write reports.
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// The CI gate: like run, but a scenario without an accepted snapshot fails.
    #[command(after_help = EXAMPLES)]
    Check(RunArgs),
    /// Accept pending snapshots (`.snap.new`) of the given scenarios or folders.
    Accept(AcceptArgs),
    /// Show a scenario's timeline: each event, what happened, and the rule that decided it.
    Explain(ExplainArgs),
    /// Print the JSON Schema of scenario, catalog or policy files.
    Schema(SchemaArgs),
    /// List the built-in policies with their parameters.
    Policies(PoliciesArgs),
    /// Compare policies over the same scenarios and populations.
    Whatif(WhatifArgs),
    /// Measure simulation speed on generated populations.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files or folders (searched recursively, sorted).
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// Where to write the CSV reports.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Scenarios to run in parallel (default: the number of CPUs).
    #[arg(short = 'j', long, allow_negative_numbers = true, value_parser = thread_count)]
    pub jobs: Option<usize>,
    /// Also write JUnit XML (one test case per scenario) to this file.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Snapshot folder, mirroring the scenarios' paths (default: `snapshots/` beside the
    /// nearest `scenarios/` folder).
    #[arg(long)]
    pub snapshots: Option<PathBuf>,
    /// Only run scenarios with this tag (repeatable).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// The most events one scenario may produce before it is stopped.
    #[arg(long, default_value_t = 20_000_000, allow_negative_numbers = true, value_parser = event_limit)]
    pub max_events: u64,
    /// Print only failures and the total.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// Scenario files or folders whose pending snapshots to accept.
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// Snapshot folder, as given to `run` and `check`.
    #[arg(long)]
    pub snapshots: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Explain one generated customer of the scenario's population instead (0-based).
    #[arg(long, allow_negative_numbers = true, value_parser = customer_number)]
    pub customer: Option<u64>,
    /// Under another policy than the scenario's own (a built-in name or a policy file).
    #[arg(long)]
    pub policy: Option<String>,
    /// The most events the run may produce before it is stopped.
    #[arg(long, default_value_t = 20_000_000, allow_negative_numbers = true, value_parser = event_limit)]
    pub max_events: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaKindArg {
    Scenario,
    Catalog,
    Policy,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which file format.
    #[arg(value_enum, default_value_t = SchemaKindArg::Scenario)]
    pub kind: SchemaKindArg,
}

#[derive(Debug, Args)]
pub struct PoliciesArgs {
    /// Show one policy (a built-in name or a policy file).
    pub policy: Option<String>,
}

#[derive(Debug, Args)]
pub struct WhatifArgs {
    /// Scenario files or folders (their populations and hand-written steps).
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// A policy to compare: a built-in name or a policy file (repeat; default csp-2020).
    #[arg(long = "policy")]
    pub policies: Vec<String>,
    /// A parameter sweep, `name=value1,value2,...`: one variant per value (repeatable).
    #[arg(long = "set")]
    pub sets: Vec<String>,
    /// Where to write whatif.csv, whatif_monthly.csv and whatif.svg.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Threads simulating customers in parallel (default: the number of CPUs).
    #[arg(short = 'j', long, allow_negative_numbers = true, value_parser = thread_count)]
    pub jobs: Option<usize>,
    /// Also write whatif_lines.csv: every invoice line of every run, population customers
    /// included.
    #[arg(long)]
    pub detail: bool,
    /// The most events one run (a scenario, or one generated customer) may produce.
    #[arg(long, default_value_t = 20_000_000, allow_negative_numbers = true, value_parser = event_limit)]
    pub max_events: u64,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The population to measure: a scenario file with a `population` section.
    #[arg(long, default_value = "populations/book-of-business.yaml")]
    pub population: PathBuf,
    /// Customer counts to measure (1 to 100,000,000 each; `--customers 1000 5000` or `1000,5000`).
    #[arg(long = "customers", num_args = 1.., value_delimiter = ',', default_values_t = vec![10_000_u64, 100_000, 1_000_000],
          allow_negative_numbers = true, value_parser = customer_count)]
    pub customers: Vec<u64>,
    /// Simulated months (1 to 1200).
    #[arg(long, default_value_t = 36, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=1200))]
    pub months: u32,
    /// Policies to compare in the what-if measurement (default csp-2020 and nce-2022).
    #[arg(long = "policy")]
    pub policies: Vec<String>,
    /// Size of the hand-written suite to check (copies of the bundled scenarios, up to 100,000;
    /// 0 skips it).
    #[arg(long, default_value_t = 1000, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub suite: u32,
    /// Threads (default: the number of CPUs).
    #[arg(short = 'j', long, allow_negative_numbers = true, value_parser = thread_count)]
    pub jobs: Option<usize>,
    /// Runs of each population size; the median time counts (1 to 99).
    #[arg(long, default_value_t = 3, allow_negative_numbers = true, value_parser = repeat_count)]
    pub repeat: u32,
}

/// A whole number from `min` to `max`; anything else (`-1`, `2.5`, `many`) is told the range.
fn whole_number(text: &str, min: u64, max: u64, what: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(number) if (min..=max).contains(&number) => Ok(number),
        _ => Err(format!("expected {what} from {min} to {max}")),
    }
}

fn thread_count(text: &str) -> Result<usize, String> {
    whole_number(text, 1, crate::app::MAX_JOBS as u64, "a number of threads").map(|n| n as usize)
}

fn event_limit(text: &str) -> Result<u64, String> {
    whole_number(text, 1, u64::MAX, "a number of events")
}

fn repeat_count(text: &str) -> Result<u32, String> {
    whole_number(text, 1, 99, "a number of runs").map(|n| n as u32)
}

fn customer_count(text: &str) -> Result<u64, String> {
    whole_number(text, 1, 100_000_000, "a number of customers")
}

fn customer_number(text: &str) -> Result<u64, String> {
    whole_number(text, 0, 99_999_999, "a customer number (0-based)")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of `--help` name bundled files and folders; they must exist.
    #[test]
    fn help_examples_name_bundled_paths() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let paths: Vec<&str> = EXAMPLES
            .split_whitespace()
            .filter(|word| word.starts_with("scenarios/") || word.starts_with("populations/"))
            .map(|word| word.trim_end_matches(','))
            .collect();
        assert!(paths.len() >= 4, "{paths:?}");
        for path in paths {
            assert!(root.join(path).exists(), "`cspsim --help` names {path}, which does not exist");
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }
}
