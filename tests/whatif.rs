//! What-if numbers pinned against a second, straightforward computation that does not use
//! the engine: a small population, two policies, every metric.

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use cspsim::engine::Limits;
use cspsim::engine::script::Action;
use cspsim::scenario::load::{LoadOptions, load_scenario};
use cspsim::whatif::{LinesOut, resolve_policy, simulate};

const PRICE_CENTS: i64 = 3200; // m365-e3, per license per month

fn load(policy: &str) -> cspsim::scenario::load::LoadedScenario {
    load_input("suspend-population.yaml", policy)
}

fn load_input(name: &str, policy: &str) -> cspsim::scenario::load::LoadedScenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs/whatif").join(name);
    let options = LoadOptions { policy: Some(resolve_policy(policy).unwrap()), sweep: Vec::new() };
    load_scenario(&path, name, &options).unwrap_or_else(|d| panic!("{d}"))
}

/// `date` plus `months` months, the day clamped to the month's last day.
fn plus_months(date: NaiveDate, months: u32) -> NaiveDate {
    let index = date.year() * 12 + date.month0() as i32 + months as i32;
    let (year, month) = (index / 12, (index % 12) as u32 + 1);
    (1..=date.day()).rev().find_map(|day| NaiveDate::from_ymd_opt(year, month, day)).unwrap()
}

/// Half-up to whole cents of `numerator / denominator` (both positive).
fn half_up(numerator: i64, denominator: i64) -> i64 {
    (2 * numerator + denominator) / (2 * denominator)
}

/// Each customer's purchase (date, licenses) and suspension date, as the generator made them.
fn customers(loaded: &cspsim::scenario::load::LoadedScenario) -> Vec<(NaiveDate, i64, NaiveDate)> {
    let population = loaded.population.as_ref().unwrap();
    (0..population.customers)
        .map(|index| {
            let script = population.customer_script(&loaded.script, index, Limits::default()).unwrap();
            let Some(Action::Buy { lines, .. }) = &script.steps[0].action else { panic!("a purchase first") };
            let quantity = lines[0].quantity.and_then(|q| q.whole()).unwrap();
            let suspended = script.steps.iter().find(|s| matches!(s.action, Some(Action::Suspend { .. }))).expect("every customer suspends").at;
            (script.steps[0].at.date(), quantity, suspended.date())
        })
        .collect()
}

#[test]
fn csp_2020_credits_the_suspension_and_deletes_the_subscription() {
    let loaded = load("csp-2020");
    let metrics = simulate(&loaded, Limits::default(), &indicatif::ProgressBar::hidden(), None).unwrap();
    let (mut billed, mut credited) = (0, 0);
    for (bought, quantity, suspended) in customers(&loaded) {
        // Monthly periods from the purchase date; those starting by the suspension are charged.
        let mut k = 0;
        let mut charges = Vec::new();
        while plus_months(bought, k) <= suspended {
            charges.push(PRICE_CENTS * quantity);
            k += 1;
        }
        billed += charges.iter().sum::<i64>();
        if (suspended - bought).num_days() < 30 {
            credited -= charges.iter().sum::<i64>();
        } else {
            let period_start = plus_months(bought, k - 1);
            let period_end = plus_months(bought, k);
            let period_days = (period_end - period_start).num_days();
            let days_left = (period_end - suspended).num_days();
            credited -= half_up(days_left * PRICE_CENTS * quantity, period_days);
        }
    }
    assert_eq!(metrics.billed(), i128::from(billed));
    assert_eq!(metrics.credited(), i128::from(credited));
    assert_eq!(metrics.active_at_end, 0, "every subscription was deleted 90 days after its suspension");
    assert_eq!(metrics.deleted_at_end, 300);
    assert_eq!(metrics.refused(), 0);
    assert_eq!(metrics.customers, 300);
}

#[test]
fn nce_2022_keeps_billing_a_suspended_subscription_until_its_term_ends() {
    let loaded = load("nce-2022");
    let metrics = simulate(&loaded, Limits::default(), &indicatif::ProgressBar::hidden(), None).unwrap();
    let horizon = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    let mut billed = 0;
    for (bought, quantity, _) in customers(&loaded) {
        // Every monthly period of the 12-month term that starts by the last invoice (2023-01-01)
        // is billed, suspended or not; the term ends at 12 months.
        let periods = (0..12).filter(|k| plus_months(bought, *k) <= horizon).count() as i64;
        billed += periods * PRICE_CENTS * quantity;
    }
    assert_eq!(metrics.billed(), i128::from(billed));
    assert_eq!(metrics.credited(), 0, "nce-2022 gives no suspension credit");
    assert_eq!(metrics.active_at_end, 0, "suspended (or disabled at term end), never active");
    assert_eq!(metrics.deleted_at_end, 0, "nce-2022 deletes 120 days after the term ends");
    // A term that ends by the horizon while suspended ends disabled; the others are still
    // suspended. Every subscription is in one of the two.
    let disabled = customers(&loaded).iter().filter(|(bought, _, _)| plus_months(*bought, 12) <= horizon).count() as u64;
    assert!(disabled > 0 && disabled < 300, "both ends: {disabled}");
    assert_eq!((metrics.disabled_at_end, metrics.suspended_at_end, metrics.expired_at_end), (disabled, 300 - disabled, 0));
    assert_eq!(metrics.refused(), 0);
}

#[test]
fn the_what_if_command_writes_both_csvs_and_the_chart_and_compares_the_policies() {
    let out = tempfile::tempdir().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs/whatif/suspend-population.yaml");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cspsim"))
        .args(["whatif", "--policy", "csp-2020", "--policy", "nce-2022", path.to_str().unwrap(), "--out", out.path().to_str().unwrap(), "--jobs", "2"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let summary = std::fs::read_to_string(out.path().join("whatif.csv")).unwrap();
    assert!(summary.starts_with("scenario,metric,csp-2020,nce-2022,difference\r\n"), "{summary}");
    let csp = simulate(&load("csp-2020"), Limits::default(), &indicatif::ProgressBar::hidden(), None).unwrap();
    let nce = simulate(&load("nce-2022"), Limits::default(), &indicatif::ProgressBar::hidden(), None).unwrap();
    let net = |m: &cspsim::whatif::metrics::Metrics| m.billed() + m.credited();
    let money = cspsim::engine::money::format_cents;
    let row = format!("suspend-population.yaml,net,{},{},{}", money(net(&csp)), money(net(&nce)), money(net(&nce) - net(&csp)));
    assert!(summary.contains(&row), "{row}\n{summary}");
    let monthly = std::fs::read_to_string(out.path().join("whatif_monthly.csv")).unwrap();
    assert!(monthly.contains("suspend-population.yaml,2022-02,billed,"));
    let svg = std::fs::read_to_string(out.path().join("whatif.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.matches("<polyline").count() == 2);
}

/// Each generated customer's steps under a policy, as (instant, action) pairs.
fn actions(loaded: &cspsim::scenario::load::LoadedScenario) -> Vec<Vec<(i64, Action)>> {
    let population = loaded.population.as_ref().unwrap();
    (0..population.customers)
        .map(|index| {
            let script = population.customer_script(&loaded.script, index, Limits::default()).unwrap();
            script.steps.iter().map(|step| (step.at.unix_seconds(), step.action.clone().unwrap())).collect()
        })
        .collect()
}

#[test]
fn a_refused_cancellation_is_followed_by_what_the_policy_allows() {
    // csp-2020: a Microsoft subscription is not cancelled but suspended, at the same instant;
    // the customer then does nothing more (its subscription is deleted after retention).
    let csp = load_input("cancel-population.yaml", "csp-2020");
    for steps in actions(&csp) {
        let kinds: Vec<&str> = steps.iter().map(|(_, action)| action.name()).collect();
        assert_eq!(kinds, ["buy", "cancel", "suspend"], "{steps:?}");
        assert_eq!(steps[1].0, steps[2].0, "suspended at the instant the cancellation was refused");
    }
    let metrics = simulate(&csp, Limits::default(), &indicatif::ProgressBar::hidden(), None).unwrap();
    assert_eq!((metrics.refused(), metrics.active_at_end, metrics.deleted_at_end), (200, 0, 200));

    // nce-2022: inside 7 days of the purchase the cancellation deletes the subscription; later
    // it is refused, auto-renew goes off at once, and the subscription lasts its term: past the
    // horizon (2023-01-01T09:00Z) unless bought on 2022-01-01, whose term ends 2023-01-01T00:00Z.
    let nce = load_input("cancel-population.yaml", "nce-2022");
    let second_day = NaiveDate::from_ymd_opt(2022, 1, 2).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
    let (mut in_window, mut late, mut late_and_active) = (0_u64, 0_u64, 0_u64);
    for steps in actions(&nce) {
        let (bought, cancelled) = (steps[0].0, steps[1].0);
        let kinds: Vec<&str> = steps.iter().map(|(_, action)| action.name()).collect();
        if cancelled - bought < 7 * 24 * 3600 {
            in_window += 1;
            assert_eq!(kinds, ["buy", "cancel"], "{steps:?}");
        } else {
            late += 1;
            late_and_active += u64::from(bought >= second_day);
            assert_eq!(kinds, ["buy", "cancel", "set_auto_renew"], "{steps:?}");
            assert_eq!(steps[1].0, steps[2].0);
        }
    }
    assert!(in_window > 0 && late > 0, "both sides of the window: {in_window} and {late}");
    let metrics = simulate(&nce, Limits::default(), &indicatif::ProgressBar::hidden(), None).unwrap();
    assert_eq!((metrics.refused(), metrics.active_at_end, metrics.deleted_at_end), (late, late_and_active, in_window));
    // Refused late, auto-renew off, and a term that ended by the horizon: expired.
    assert_eq!((metrics.expired_at_end, metrics.suspended_at_end, metrics.disabled_at_end), (late - late_and_active, 0, 0));
}

#[test]
fn amounts_of_different_currencies_are_totalled_apart() {
    let out = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = [root.join("scenarios/quantity-change-proration.yaml"), root.join("scenarios/billing/currency-without-cents.yaml")];
    let output =
        std::process::Command::new(env!("CARGO_BIN_EXE_cspsim")).args(["whatif", "--out", out.path().to_str().unwrap()]).args(&files).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let summary = std::fs::read_to_string(out.path().join("whatif.csv")).unwrap();
    let billed = |scenario: &str| -> String {
        let prefix = format!("{scenario},billed,");
        summary.lines().find_map(|line| line.strip_prefix(&prefix)).unwrap_or_else(|| panic!("no {prefix} row in\n{summary}")).to_string()
    };
    assert_eq!(billed("(all USD)"), billed("quantity-change-proration.yaml"));
    assert_eq!(billed("(all JPY)"), billed("currency-without-cents.yaml"));
    assert!(!summary.contains("(all),"), "no total adds yen to dollars:\n{summary}");
    let svg = std::fs::read_to_string(out.path().join("whatif.svg")).unwrap();
    assert!(svg.contains("net billing (JPY)") && svg.contains("net billing (USD)"), "one panel per currency");
}

#[test]
fn populations_expand_the_same_way_whatever_the_thread_count() {
    let loaded = load("csp-2020");
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let four = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
    // The invoice lines (`--detail`) come out in the same order too.
    let (mut lines_a, mut lines_b) = (Vec::new(), Vec::new());
    let a = one.install(|| {
        let lines = LinesOut { out: &mut lines_a, variant: "v", scenario: "s" };
        simulate(&loaded, Limits::default(), &indicatif::ProgressBar::hidden(), Some(lines)).unwrap()
    });
    let b = four.install(|| {
        let lines = LinesOut { out: &mut lines_b, variant: "v", scenario: "s" };
        simulate(&loaded, Limits::default(), &indicatif::ProgressBar::hidden(), Some(lines)).unwrap()
    });
    assert_eq!(a, b);
    assert!(!lines_a.is_empty());
    assert_eq!(lines_a, lines_b);
}

#[test]
fn the_all_rows_add_up_scenarios_by_calendar_month_when_they_start_in_different_months() {
    let out = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = [root.join("scenarios/quantity-change-proration.yaml"), root.join("scenarios/suspend-retention.yaml")];
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cspsim"))
        .args(["whatif", "--policy", "csp-2020", "--policy", "sovereign-60d", "--out", out.path().to_str().unwrap()])
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let monthly = std::fs::read_to_string(out.path().join("whatif_monthly.csv")).unwrap();
    let cents = |cell: &str| -> i64 { cell.replace('.', "").parse().unwrap() };
    // (month, metric) -> the sum of the scenarios' cells, and the (all) row's cells.
    let mut sums: std::collections::BTreeMap<(String, String), Vec<i64>> = std::collections::BTreeMap::new();
    let mut all_rows: std::collections::BTreeMap<(String, String), Vec<i64>> = std::collections::BTreeMap::new();
    let mut scenario_months = std::collections::BTreeSet::new();
    for line in monthly.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let key = (cells[1].to_string(), cells[2].to_string());
        let values: Vec<i64> = cells[3..].iter().map(|cell| cents(cell)).collect();
        if cells[0] == "(all)" {
            all_rows.insert(key, values);
        } else {
            scenario_months.insert((cells[0].to_string(), cells[1].to_string()));
            let sum = sums.entry(key).or_insert_with(|| vec![0; values.len()]);
            sum.iter_mut().zip(&values).for_each(|(sum, value)| *sum += value);
        }
    }
    let starts: std::collections::BTreeSet<&str> = ["quantity-change-proration.yaml", "suspend-retention.yaml"]
        .iter()
        .map(|name| scenario_months.iter().find(|(scenario, _)| scenario == name).map(|(_, month)| month.as_str()).unwrap())
        .collect();
    assert_eq!(starts.len(), 2, "the two scenarios start in different months: {starts:?}");
    assert_eq!(sums, all_rows.iter().filter(|(key, _)| sums.contains_key(*key)).map(|(k, v)| (k.clone(), v.clone())).collect());
    assert!(all_rows.keys().all(|key| sums.contains_key(key)), "an (all) month no scenario has");
    assert!(all_rows.values().any(|values| values.iter().any(|v| *v != 0)), "{monthly}");
}

#[test]
fn a_population_of_trials_takes_the_licenses_each_variant_gives() {
    let out = tempfile::tempdir().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs/whatif/trial-population.yaml");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cspsim"))
        .args(["whatif", "--policy", "nce-2022", "--set", "microsoft_trial_licenses=10,25", "--out", out.path().to_str().unwrap(), path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let summary = std::fs::read_to_string(out.path().join("whatif.csv")).unwrap();
    let row = |metric: &str| -> Vec<String> {
        let prefix = format!("trial-population.yaml,{metric},");
        let cells = summary.lines().find_map(|line| line.strip_prefix(&prefix)).unwrap_or_else(|| panic!("no {metric} row in\n{summary}"));
        cells.split(',').map(str::to_string).collect()
    };
    assert_eq!(row("refused_actions")[..2], ["0", "0"], "no variant refuses the trials");
    let billed: Vec<i64> = row("billed")[..2].iter().map(|cell| cell.replace('.', "").parse().unwrap()).collect();
    assert!(billed[0] > 0, "{summary}");
    assert_eq!(billed[0] * 25, billed[1] * 10, "billed in proportion to 10 and 25 licenses: {billed:?}");
}
