//! `cspsim bench`: simulation speed on the bundled population, measured the way the targets
//! are stated (customers x simulated years per second, events per second, peak memory), at
//! several sizes, and the full two-policy what-if at the largest.

use std::path::Path;

use crate::app::{EXIT_INVALID, EXIT_OK, jobs_or_default};
use crate::cli::BenchArgs;
use crate::engine::Limits;
use crate::scenario::load::{LoadOptions, load_scenario};
use crate::whatif::{simulate, variants};

/// The bundled population the benchmark runs (its customer count is set per measurement).
pub const POPULATION: &str = "populations/book-of-business.yaml";

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

pub fn command(args: &BenchArgs) -> u8 {
    let jobs = match jobs_or_default(args.jobs) {
        Ok(jobs) => jobs,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_INVALID;
        }
    };
    let policies = if args.policies.is_empty() { vec!["csp-2020".to_string(), "nce-2022".to_string()] } else { args.policies.clone() };
    let variants = match variants(&policies, &[]) {
        Ok(variants) => variants,
        Err(message) => {
            eprint!("{message}");
            return EXIT_INVALID;
        }
    };
    let path = Path::new(POPULATION);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().expect("a thread pool");
    println!("cspsim bench: {POPULATION}, {} months, {jobs} thread(s)", args.months);
    println!("{:>10} {:>18} {:>10} {:>16} {:>16} {:>14} {:>10}", "customers", "policy", "seconds", "cust-years/s", "events/s", "events", "peak MiB");
    let mut largest = 0;
    for &customers in &args.customers {
        largest = largest.max(customers);
        // One policy per size: the cost per customer, and how it grows.
        let variant = &variants[0];
        let options = LoadOptions { policy: Some(variant.policy.clone()), sweep: Vec::new() };
        let mut loaded = match load_scenario(path, POPULATION, &options) {
            Ok(loaded) => loaded,
            Err(diagnostics) => {
                eprint!("{}", diagnostics.render());
                return EXIT_INVALID;
            }
        };
        let Some(population) = loaded.population.as_mut() else {
            eprintln!("error: {POPULATION} has no population");
            return EXIT_INVALID;
        };
        population.customers = customers;
        population.months = args.months;
        reset_peak_memory();
        // Wall-clock timing is what a benchmark measures; it never reaches an outcome.
        #[allow(clippy::disallowed_methods)]
        let started = std::time::Instant::now();
        let metrics = match pool.install(|| simulate(&loaded, Limits::default(), &indicatif::ProgressBar::hidden())) {
            Ok(metrics) => metrics,
            Err(error) => {
                eprintln!("error: {error}");
                return EXIT_INVALID;
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        let customer_years = customers as f64 * f64::from(args.months) / 12.0;
        println!(
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
            let options = LoadOptions { policy: Some(variant.policy.clone()), sweep: Vec::new() };
            let Ok(mut loaded) = load_scenario(path, POPULATION, &options) else { return EXIT_INVALID };
            if let Some(population) = loaded.population.as_mut() {
                population.customers = largest;
                population.months = args.months;
            }
            match pool.install(|| simulate(&loaded, Limits::default(), &indicatif::ProgressBar::hidden())) {
                Ok(metrics) => events += metrics.events,
                Err(error) => {
                    eprintln!("error: {error}");
                    return EXIT_INVALID;
                }
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let labels: Vec<&str> = variants.iter().map(|v| v.label.as_str()).collect();
        println!(
            "what-if of {} over {largest} customers and {} months: {seconds:.3} s, {events} events, peak {} MiB",
            labels.join(" vs "),
            args.months,
            peak_memory_mib().map_or("n/a".to_string(), |m| format!("{m:.0}"))
        );
    }
    EXIT_OK
}
