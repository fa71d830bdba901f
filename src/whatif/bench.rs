//! `cspsim bench`: simulation speed on the bundled population, measured the way the targets
//! are stated (customers x simulated years per second, events per second, peak memory), at
//! several sizes, and the full two-policy what-if at the largest.

use std::path::Path;

use crate::app::{EXIT_FAILED, EXIT_INVALID, EXIT_OK, jobs_or_default, usage_error};
use crate::cli::BenchArgs;
use crate::engine::Limits;
use crate::scenario::diagnostic::display_path;
use crate::scenario::load::{LoadOptions, load_scenario};
use crate::whatif::{Variant, simulate, variants};

/// Peak resident memory of this process so far, in MiB (Linux; `None` elsewhere).
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets the peak so that each measurement reports its own (Linux 4.0+; ignored elsewhere).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Checks a suite of `size` hand-written scenarios (copies of `scenarios/`, each with an
/// accepted snapshot) the way `cspsim check` does, reports included, and times it.
fn bench_suite(size: usize, jobs: usize) -> Result<(String, f64), String> {
    use crate::snapshot::{SnapshotRoot, accept_pending};
    use crate::suite::{Status, SuiteOptions, discover, run_all};
    let originals = discover(&[std::path::PathBuf::from("scenarios")])?;
    if originals.is_empty() {
        return Err("no scenarios/ folder here to copy".into());
    }
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let _removed_if_interrupted = crate::report::remove_on_interrupt(scratch.path());
    let root = scratch.path().join("scenarios");
    let copies = size.div_ceil(originals.len());
    let catalogs = Path::new("scenarios/catalogs");
    let mut written = 0;
    for copy in 0..copies {
        let folder = root.join(format!("copy-{copy:03}"));
        crate::report::create_folder(&folder.join("catalogs")).map_err(|e| e.to_string())?;
        for entry in std::fs::read_dir(catalogs).map_err(|e| e.to_string())? {
            let entry = entry.map_err(|e| e.to_string())?;
            crate::report::copy_into_scratch(&entry.path(), &folder.join("catalogs").join(entry.file_name())).map_err(|e| e.to_string())?;
        }
        for original in &originals {
            if written == size {
                break;
            }
            let target = folder.join(&original.display);
            crate::report::create_folder(target.parent().expect("a folder")).map_err(|e| e.to_string())?;
            // Scenarios in subfolders name their catalog `../catalogs/...`: keep that working.
            crate::report::copy_into_scratch(&original.path, &target).map_err(|e| e.to_string())?;
            written += 1;
        }
    }
    let files = discover(std::slice::from_ref(&root))?;
    let mut options = SuiteOptions {
        snapshots: SnapshotRoot::Beside,
        compare_snapshots: true,
        require_snapshots: false,
        write_pending: true,
        limits: Limits::default(),
        load: LoadOptions::default(),
        tags: Vec::new(),
    };
    let hidden = indicatif::ProgressBar::hidden();
    run_all(&files, &options, jobs, &hidden);
    accept_pending(&scratch.path().join("snapshots")).map_err(|e| e.to_string())?;
    options.require_snapshots = true;
    options.write_pending = false;
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    let runs = run_all(&files, &options, jobs, &hidden);
    crate::report::csv_reports::write_reports(&scratch.path().join("reports"), &runs).map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let passed = runs.iter().filter(|r| r.status == Status::Pass).count();
    // A suite that does not pass measures the wrong thing (an input error stops a scenario
    // before it runs): the measurement is refused rather than reported.
    if passed < runs.len() {
        return Err(format!(
            "the suite copied from scenarios/ does not pass ({passed} of {} scenarios passed): run `cspsim check` and fix it before measuring",
            runs.len()
        ));
    }
    Ok((format!("check of a {}-scenario suite (snapshots compared, reports written): {seconds:.3} s, {passed} passed", runs.len()), seconds))
}

pub fn command(args: &BenchArgs) -> u8 {
    let jobs = jobs_or_default(args.jobs);
    let policies = if args.policies.is_empty() { vec!["csp-2020".to_string(), "nce-2022".to_string()] } else { args.policies.clone() };
    let variants = match variants(&policies, &[]) {
        Ok(variants) => variants,
        Err(message) => {
            eprint!("{message}");
            return EXIT_INVALID;
        }
    };
    if args.suite > 0 && !std::path::Path::new("scenarios").is_dir() {
        // Found now, not after minutes of measuring populations.
        return usage_error(
            "the suite measurement copies scenarios/ from the working folder, and there is none here: run from the project folder, or give --suite 0",
        );
    }
    let path = args.population.as_path();
    let shown = display_path(path);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().expect("a thread pool");
    let options = LoadOptions { policy: Some(variants[0].policy.clone()), sweep: Vec::new() };
    let base = match load_scenario(path, &shown, &options) {
        Ok(loaded) if loaded.population.is_some() => loaded,
        Ok(_) => {
            eprintln!("error: {shown} has no population");
            return EXIT_INVALID;
        }
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render());
            return EXIT_INVALID;
        }
    };
    sayln!("cspsim bench: {shown}, {} months, {jobs} thread(s)", args.months);
    sayln!("{:>10} {:>18} {:>10} {:>16} {:>16} {:>14} {:>10}", "customers", "policy", "seconds", "cust-years/s", "events/s", "events", "peak MiB");
    let mut targets = Targets::default();
    // The bundled population, resized; under one variant's policy.
    let sized = |variant: &Variant, customers: u64| {
        let mut loaded = base.under_policy(&variant.policy, &[]);
        let population = loaded.population.as_mut().expect("checked above");
        population.customers = customers;
        population.months = args.months;
        loaded
    };
    let mut largest = 0;
    for &customers in &args.customers {
        largest = largest.max(customers);
        // One policy per size: the cost per customer, and how it grows.
        let variant = &variants[0];
        let loaded = sized(variant, customers);
        reset_peak_memory();
        // Each size runs `--repeat` times and the median counts: one slow run (another
        // process, a frequency change) must not decide whether cost grows linearly.
        let mut times = Vec::new();
        let mut measured = None;
        for _ in 0..args.repeat {
            // Wall-clock timing is what a benchmark measures; it never reaches an outcome.
            #[allow(clippy::disallowed_methods)]
            let started = std::time::Instant::now();
            match pool.install(|| simulate(&loaded, Limits::default(), &indicatif::ProgressBar::hidden(), None)) {
                Ok(metrics) => measured = Some(metrics),
                Err(error) => {
                    eprintln!("error: {error}");
                    return EXIT_INVALID;
                }
            }
            times.push(started.elapsed().as_secs_f64());
        }
        let metrics = measured.expect("at least one run");
        times.sort_by(f64::total_cmp);
        let seconds = times[times.len() / 2];
        targets.population_seconds.push((customers, seconds));
        let customer_years = customers as f64 * f64::from(args.months) / 12.0;
        sayln!(
            "{:>10} {:>18} {:>10.3} {:>16.0} {:>16.0} {:>14} {:>10}",
            customers,
            variant.label,
            seconds,
            customer_years / seconds,
            metrics.events as f64 / seconds,
            metrics.events,
            peak_memory_mib().map_or("n/a".to_string(), |m| format!("{m:.0}"))
        );
    }
    if variants.len() > 1 {
        // The what-if target: every policy over the largest population, end to end.
        reset_peak_memory();
        #[allow(clippy::disallowed_methods)]
        let started = std::time::Instant::now();
        let mut events = 0;
        for variant in &variants {
            let loaded = sized(variant, largest);
            match pool.install(|| simulate(&loaded, Limits::default(), &indicatif::ProgressBar::hidden(), None)) {
                Ok(metrics) => events += metrics.events,
                Err(error) => {
                    eprintln!("error: {error}");
                    return EXIT_INVALID;
                }
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        if variants.len() == 2 && largest == 1_000_000 && args.months == 36 {
            targets.whatif = Some((seconds, peak_memory_mib()));
        }
        let labels: Vec<&str> = variants.iter().map(|v| v.label.as_str()).collect();
        sayln!(
            "what-if of {} over {largest} customers and {} months: {seconds:.3} s, {events} events, peak {} MiB",
            labels.join(" vs "),
            args.months,
            peak_memory_mib().map_or("n/a".to_string(), |m| format!("{m:.0}"))
        );
    }
    if args.suite > 0 {
        match bench_suite(args.suite as usize, jobs) {
            Ok((line, seconds)) => {
                sayln!("{line}");
                if args.suite == 1000 {
                    targets.suite_seconds = Some(seconds);
                }
            }
            Err(message) => return usage_error(&message),
        }
    }
    if targets.report() { EXIT_OK } else { EXIT_FAILED }
}

/// The performance targets the measurements of this run can be held to.
#[derive(Default)]
struct Targets {
    /// Seconds per population size, one policy.
    population_seconds: Vec<(u64, f64)>,
    /// The two-policy what-if over 1,000,000 customers and 36 months: seconds, peak MiB.
    whatif: Option<(f64, Option<f64>)>,
    /// The check of a 1,000-scenario suite.
    suite_seconds: Option<f64>,
}

impl Targets {
    /// Prints each target this run measured with its verdict; true when none was missed.
    fn report(&self) -> bool {
        let mut lines: Vec<(String, bool)> = Vec::new();
        if let Some((seconds, memory)) = self.whatif {
            lines.push((format!("two-policy what-if, 1M customers x 3 years, under 30 s: {seconds:.1} s"), seconds < 30.0));
            if let Some(memory) = memory {
                lines.push((format!("its peak memory under 2 GB: {memory:.0} MiB"), memory < 2048.0));
            }
        }
        let seconds_for = |customers: u64| self.population_seconds.iter().find(|(c, _)| *c == customers).map(|(_, s)| *s);
        if let (Some(small), Some(large)) = (seconds_for(100_000), seconds_for(1_000_000)) {
            let ratio = large / small;
            lines.push((format!("1M customers take at most 11 times 100k: {ratio:.1} times"), ratio <= 11.0));
        }
        if let Some(seconds) = self.suite_seconds {
            lines.push((format!("a 1,000-scenario suite checks in under 2 s: {seconds:.2} s"), seconds < 2.0));
        }
        if !lines.is_empty() {
            sayln!("targets:");
        }
        for (line, met) in &lines {
            sayln!("  {} {line}", if *met { "met   " } else { "MISSED" });
        }
        lines.iter().all(|(_, met)| *met)
    }
}
