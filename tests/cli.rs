//! The `cspsim` binary as a user runs it: exit codes, messages, diffs, pending snapshots,
//! reports, and byte-identical output whatever the thread count.

#[cfg(unix)]
use std::os::unix::fs::FileTypeExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cspsim(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cspsim")).args(args).current_dir(dir).env_remove("CI").output().expect("the binary runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// A scratch project: `scenarios/` with the four examples and their catalog.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    std::fs::create_dir_all(dir.path().join("scenarios/catalogs")).unwrap();
    std::fs::copy(source.join("catalogs/standard.yaml"), dir.path().join("scenarios/catalogs/standard.yaml")).unwrap();
    for name in ["browse-availability", "cancel-annual-isv-in-window", "quantity-change-proration", "suspend-retention"] {
        std::fs::copy(source.join(format!("{name}.yaml")), dir.path().join(format!("scenarios/{name}.yaml"))).unwrap();
    }
    dir
}

/// A scratch project whose scenarios have run once and had their snapshots accepted.
fn project_with_accepted_snapshots() -> tempfile::TempDir {
    let dir = project();
    assert_eq!(cspsim(dir.path(), &["run"]).status.code(), Some(0));
    assert_eq!(cspsim(dir.path(), &["accept"]).status.code(), Some(0));
    dir
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_passing_suite_exits_0_and_writes_the_six_reports() {
    let dir = project();
    let output = cspsim(dir.path(), &["run"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    for file in ["summary.csv", "events.csv", "subscriptions.csv", "invoices.csv", "invoice_lines.csv", "rules.csv"] {
        assert!(dir.path().join("reports").join(file).exists(), "{file} is written");
    }
    let summary = read(dir.path().join("reports/summary.csv"));
    assert!(summary.starts_with("scenario,file,policy,status,steps,checks,failures"));
    assert_eq!(summary.matches(",pass,").count(), 4);
}

#[test]
fn a_wrong_check_exits_1_naming_file_line_field_expected_and_actual() {
    let dir = project();
    let path = dir.path().join("scenarios/quantity-change-proration.yaml");
    let changed = read(path.clone()).replace("e3: { status: active, quantity: 12 }", "e3: { status: active, quantity: 13 }");
    std::fs::write(&path, changed).unwrap();
    let output = cspsim(dir.path(), &["run", "scenarios/quantity-change-proration.yaml"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let shown = text(&output);
    assert!(shown.contains("scenarios/quantity-change-proration.yaml:43: step 4 (line 40), subscriptions.e3.quantity: expected 13, got 12"), "{shown}");
}

#[test]
fn checks_are_counted_as_failures_are() {
    // Every amount of an invoice and every offer of a browse expectation wrong: each is a
    // failure, and each was a check, so the summary never shows more failures than checks.
    let dir = project();
    for name in ["quantity-change-proration", "browse-availability"] {
        let path = dir.path().join(format!("scenarios/{name}.yaml"));
        let changed = read(path.clone())
            .replace("amount: ", "amount: 1")
            .replace("amount: 1-", "amount: -1")
            .replace("total: ", "total: 1")
            .replace("available: [", "available: [m365-e3, ");
        std::fs::write(&path, changed).unwrap();
    }
    let output = cspsim(dir.path(), &["run", "--out", "out"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let summary = read(dir.path().join("out/summary.csv"));
    for row in summary.lines().skip(1).filter(|row| row.contains("quantity-change-proration") || row.contains("browse-availability")) {
        let cells: Vec<&str> = row.split(',').collect();
        let (checks, failures): (usize, usize) = (cells[5].parse().unwrap(), cells[6].parse().unwrap());
        assert!(failures > 1 && failures <= checks, "{row}");
    }
}

#[test]
fn an_edited_snapshot_makes_check_exit_1_with_a_diff_and_a_pending_file() {
    let dir = project_with_accepted_snapshots();
    let snapshot = dir.path().join("snapshots/cancel-annual-isv-in-window.snap");
    let accepted = read(snapshot.clone());
    std::fs::write(&snapshot, accepted.replace("total: 0.00", "total: 0.01")).unwrap();
    let output = cspsim(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let shown = text(&output);
    assert!(shown.contains("-    total: 0.01") && shown.contains("+    total: 0.00"), "{shown}");
    assert!(!shown.contains("\u{1b}["), "no color when not on a terminal");
    assert!(dir.path().join("snapshots/cancel-annual-isv-in-window.snap.new").exists());
    assert!(read(snapshot.clone()).contains("total: 0.01"), "the accepted snapshot is never overwritten");
    // The hunk's line numbers are the snapshot file's own.
    let edited_line = accepted.lines().position(|line| line.contains("total: 0.00")).unwrap() + 1;
    let hunk = shown.lines().find(|line| line.trim_start().starts_with("@@ -")).unwrap();
    let hunk_start: usize = hunk.trim_start()[4..].split(',').next().unwrap().parse().unwrap();
    assert!((hunk_start..hunk_start + 7).contains(&edited_line), "{hunk} should cover line {edited_line}");
    // Accepting the pending version restores agreement.
    assert_eq!(cspsim(dir.path(), &["accept"]).status.code(), Some(0));
    assert_eq!(cspsim(dir.path(), &["check"]).status.code(), Some(0));
}

#[test]
fn check_fails_on_a_missing_snapshot_and_ci_writes_nothing() {
    let dir = project();
    let output = Command::new(env!("CARGO_BIN_EXE_cspsim")).args(["check"]).current_dir(dir.path()).env("CI", "true").output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("no accepted snapshot at snapshots/browse-availability.snap"));
    assert!(!dir.path().join("snapshots").exists(), "with CI set nothing is written");
    assert!(text(&output).contains("+input_file: scenarios/browse-availability.yaml"), "the log shows the snapshot it would write");
    // Outside CI too, as a unified diff from nothing, beside the pending file it writes.
    let output = cspsim(dir.path(), &["check", "scenarios/browse-availability.yaml", "--color", "never"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("--- snapshots/browse-availability.snap (none accepted)\n") && text(&output).contains("@@ -0,0 +1,"), "{}", text(&output));
    assert!(dir.path().join("snapshots/browse-availability.snap.new").exists());
}

#[test]
fn an_unreadable_snapshot_fails_and_accept_takes_only_what_the_scenario_gives_now() {
    let dir = project_with_accepted_snapshots();
    let snapshot = dir.path().join("snapshots/suspend-retention.snap");
    std::fs::write(&snapshot, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let output = cspsim(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("cannot read the snapshot snapshots/suspend-retention.snap"), "{}", text(&output));
    // A pending snapshot edited by hand is not accepted; one that matches the scenario is.
    let pending = dir.path().join("snapshots/suspend-retention.snap.new");
    let written = read(pending.clone());
    std::fs::write(&pending, written.replace("status: deleted", "status: active")).unwrap();
    let output = cspsim(dir.path(), &["accept", "snapshots/suspend-retention.snap.new"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("does not match what scenarios/suspend-retention.yaml gives now"), "{}", text(&output));
    std::fs::write(&pending, written).unwrap();
    assert_eq!(cspsim(dir.path(), &["accept", "snapshots/suspend-retention.snap.new"]).status.code(), Some(0));
    assert_eq!(cspsim(dir.path(), &["check"]).status.code(), Some(0));
    // A snapshot whose scenario is gone is pointed out.
    std::fs::remove_file(dir.path().join("scenarios/suspend-retention.yaml")).unwrap();
    let output = cspsim(dir.path(), &["check"]);
    assert!(text(&output).contains("warning: snapshots/suspend-retention.snap belongs to no scenario"), "{}", text(&output));
}

#[test]
fn malformed_input_exits_2_with_file_line_and_column_and_good_files_still_run() {
    let dir = project();
    std::fs::write(dir.path().join("scenarios/broken.yaml"), "scenario: x\nstart: [2021\n").unwrap();
    std::fs::write(dir.path().join("scenarios/garbage.yaml"), [0xff_u8, 0xfe, 0x00, 0x12]).unwrap();
    let output = cspsim(dir.path(), &["run"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let shown = text(&output);
    assert!(shown.contains("scenarios/broken.yaml:"), "{shown}");
    assert!(shown.contains("scenarios/garbage.yaml"), "{shown}");
    assert!(shown.contains("4 passed"), "the good files still run: {shown}");
    let summary = read(dir.path().join("reports/summary.csv"));
    assert_eq!(summary.matches(",error,").count(), 2);
}

#[test]
fn usage_mistakes_exit_2_and_help_exits_0() {
    let dir = project();
    assert_eq!(cspsim(dir.path(), &["run", "--jobs", "zero"]).status.code(), Some(2));
    assert_eq!(cspsim(dir.path(), &["run", "--jobs", "0"]).status.code(), Some(2));
    assert_eq!(cspsim(dir.path(), &["run", "no/such/folder"]).status.code(), Some(2));
    assert_eq!(cspsim(dir.path(), &["frobnicate"]).status.code(), Some(2));
    let help = cspsim(dir.path(), &["run", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help).contains("Examples:"));
}

#[test]
fn an_unwritable_report_folder_is_an_error() {
    let dir = project();
    std::fs::write(dir.path().join("blocker"), "a file where a folder should be").unwrap();
    // Found before the run, so no scenario runs for nothing.
    let output = cspsim(dir.path(), &["run", "--out", "blocker/reports"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("--out blocker/reports: blocker is a file, not a folder"), "{}", text(&output));
    assert!(!text(&output).contains("PASS"), "{}", text(&output));
    let output = cspsim(dir.path(), &["run", "--junit", "blocker/junit.xml"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("--junit blocker/junit.xml: blocker is a file, not a folder"), "{}", text(&output));
}

#[test]
fn reports_are_byte_identical_across_runs_and_thread_counts() {
    // The bundled suite against its accepted snapshots, as CI runs it: it must pass, and every
    // report and the JUnit file must come out byte for byte the same.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let run = |name: &str, jobs: &str| {
        let folder = out.path().join(name);
        let junit = folder.join("junit.xml");
        let output = Command::new(env!("CARGO_BIN_EXE_cspsim"))
            .args(["check", "scenarios", "--jobs", jobs, "--out", folder.to_str().unwrap(), "--junit", junit.to_str().unwrap()])
            .current_dir(root)
            .env("CI", "true")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        folder
    };
    let first = run("one", "1");
    let again = run("again", "1");
    let parallel = run("two", "2");
    let many = run("eight", "8");
    for file in ["summary.csv", "events.csv", "subscriptions.csv", "invoices.csv", "invoice_lines.csv", "rules.csv", "junit.xml"] {
        let reference = std::fs::read(first.join(file)).unwrap();
        assert!(reference.len() > 100, "{file} is nearly empty");
        for other in [&again, &parallel, &many] {
            assert_eq!(reference, std::fs::read(other.join(file)).unwrap(), "{file} differs");
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn output_that_cannot_be_written_fails_the_command() {
    // `cspsim schema > file` on a full disk must not report success.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let reports = out.path().to_str().unwrap();
    for args in [
        &["schema", "scenario"][..],
        &["policies"],
        &["explain", "scenarios/suspend-retention.yaml"],
        &["run", "scenarios/suspend-retention.yaml", "--out", reports],
    ] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_cspsim")).args(args).current_dir(root).env_remove("CI").stdout(full).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.matches("cannot write to standard output").count(), 1, "{args:?}: {stderr}");
    }
}

#[test]
fn junit_has_one_case_per_scenario() {
    let dir = project();
    let output = cspsim(dir.path(), &["run", "--junit", "out/junit.xml"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let xml = read(dir.path().join("out/junit.xml"));
    assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
    // However the run reaches the scenarios, CI sees the same cases.
    let absolute = dir.path().join("scenarios");
    for path in ["./scenarios", absolute.to_str().unwrap()] {
        let output = cspsim(dir.path(), &["run", path, "--junit", "out/again.xml"]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        assert_eq!(read(dir.path().join("out/again.xml")), xml, "run as {path}");
    }
    assert!(xml.contains(r#"classname="scenarios/suspend-retention.yaml""#), "{xml}");
    // A file that does not load keeps its case's name, from its `scenario:` line.
    let broken = dir.path().join("scenarios/suspend-retention.yaml");
    let original = read(broken.clone());
    std::fs::write(&broken, original.replace("steps:", "stepz:")).unwrap();
    let output = cspsim(dir.path(), &["run", "--junit", "out/broken.xml"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let name = |xml: &str| xml.split("<testcase ").find(|case| case.contains("suspend-retention")).map(|case| case.split('"').nth(1).unwrap().to_string());
    assert_eq!(name(&read(dir.path().join("out/broken.xml"))), name(&xml));
    std::fs::write(&broken, original).unwrap();
    // Two projects' suites in one run: their cases stay apart.
    let other = dir.path().join("other/scenarios");
    std::fs::create_dir_all(other.join("catalogs")).unwrap();
    for entry in std::fs::read_dir(dir.path().join("scenarios")).unwrap().chain(std::fs::read_dir(dir.path().join("scenarios/catalogs")).unwrap()) {
        let path = entry.unwrap().path();
        if path.is_file() {
            let relative = path.strip_prefix(dir.path().join("scenarios")).unwrap();
            std::fs::copy(&path, other.join(relative)).unwrap();
        }
    }
    let output = cspsim(dir.path(), &["run", "scenarios", "other/scenarios", "--junit", "out/two.xml"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let two = read(dir.path().join("out/two.xml"));
    let classnames: Vec<&str> = two.split("classname=\"").skip(1).map(|rest| rest.split('"').next().unwrap()).collect();
    let distinct: std::collections::BTreeSet<&&str> = classnames.iter().collect();
    assert_eq!((classnames.len(), distinct.len()), (8, 8), "{two}");
    // A run that does not start replaces the JUnit file with one that says why, so CI never
    // publishes an earlier run's results.
    let output = cspsim(dir.path(), &["run", "--tag", "nosuch", "--junit", "out/junit.xml"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stopped = read(dir.path().join("out/junit.xml"));
    assert!(stopped.contains(r#"errors="1""#) && stopped.contains("no scenario has the tag nosuch"), "{stopped}");
}

#[test]
fn a_listed_rule_the_run_did_not_exercise_is_a_warning_with_its_line() {
    let dir = project();
    let path = dir.path().join("scenarios/suspend-retention.yaml");
    let original = read(path.clone());
    assert!(original.contains("rules: [SUSPEND,"), "the example lists its rules");
    std::fs::write(&path, original.replace("rules: [SUSPEND,", "rules: [TRIAL-MS, SUSPEND,")).unwrap();
    let line = read(path.clone()).lines().position(|l| l.starts_with("rules:")).unwrap() + 1;
    let output = cspsim(dir.path(), &["run", "--junit", "out/junit.xml"]);
    assert_eq!(output.status.code(), Some(0), "a warning does not fail the run: {}", text(&output));
    let warning = format!("suspend-retention.yaml:{line}: rule TRIAL-MS is listed in `rules:` but this run did not exercise it");
    assert!(text(&output).contains(&warning), "{}", text(&output));
    let xml = read(dir.path().join("out/junit.xml"));
    assert!(xml.contains("<system-out>warning: ") && xml.contains(&warning), "{xml}");
}

#[test]
fn a_scenario_never_takes_the_place_of_another_tests_snapshot() {
    let dir = project();
    std::fs::create_dir_all(dir.path().join("scenarios/errors")).unwrap();
    let scenario = read(dir.path().join("scenarios/suspend-retention.yaml")).replace("catalogs/standard.yaml", "../catalogs/standard.yaml");
    std::fs::write(dir.path().join("scenarios/errors/bad-policy.yaml"), scenario).unwrap();
    std::fs::create_dir_all(dir.path().join("snapshots/errors")).unwrap();
    let theirs = "---\nsource: tests/errors.rs\nexpression: diagnostics\n---\nerror: something\n";
    std::fs::write(dir.path().join("snapshots/errors/bad-policy.snap"), theirs).unwrap();
    let output = cspsim(dir.path(), &["check", "scenarios/errors"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("it is the snapshot of tests/errors.rs, not of a scenario"), "{}", text(&output));
    assert_eq!(read(dir.path().join("snapshots/errors/bad-policy.snap")), theirs);
    assert!(!dir.path().join("snapshots/errors/bad-policy.snap.new").exists(), "nothing is written to be accepted over it");
}

#[test]
fn explain_shows_rules_and_computations() {
    let dir = project();
    let output = cspsim(dir.path(), &["explain", "scenarios/quantity-change-proration.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let shown = text(&output);
    assert!(shown.contains("15 days x 32.00/30 x 10 = 160.00"), "{shown}");
    assert!(shown.contains("[BILL-QTY-CHANGE]"));
    assert!(shown.contains("step 2 (line 26)"));
}

#[test]
fn an_overflow_stops_the_scenario_with_exit_2_naming_the_step() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = cspsim(root, &["run", "tests/inputs/run-errors/overflow.yaml", "--out", tempfile::tempdir().unwrap().path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let shown = text(&output);
    assert!(shown.contains("tests/inputs/run-errors/overflow.yaml:12:"), "{shown}");
    assert!(shown.contains("arithmetic overflow computing a period charge in step 2"), "{shown}");
}

#[test]
fn a_run_beyond_the_event_limit_stops_with_a_clear_error() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let output = cspsim(root, &["run", "tests/inputs/run-errors/long-horizon.yaml", "--max-events", "5000", "--out", out.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("the run produced more than 5000 events"), "{}", text(&output));
}

#[test]
fn spreadsheet_formulas_in_user_text_are_neutralized_and_amounts_stay_numbers() {
    let dir = project();
    let scenario = read(dir.path().join("scenarios/quantity-change-proration.yaml"))
        .replace("  wingtip:\n    country: US", "  \"=HYPERLINK(1)\":\n    country: US")
        .replace("customer: wingtip", "customer: \"=HYPERLINK(1)\"")
        .replace("name: e3 }", "name: \"+e3\" }")
        .replace("subscription: e3,", "subscription: \"+e3\",")
        .replace("e3: { status", "\"+e3\": { status");
    std::fs::write(dir.path().join("scenarios/formulas.yaml"), scenario).unwrap();
    let output = cspsim(dir.path(), &["run", "scenarios/formulas.yaml"]);
    assert!(output.status.code().is_some_and(|c| c <= 1), "{}", text(&output));
    let lines = read(dir.path().join("reports/invoice_lines.csv"));
    assert!(lines.contains(",'=HYPERLINK(1),sub-0001,'+e3,m365-e3,prorate-credit,"), "{lines}");
    assert!(lines.contains(",-320.00,BILL-QTY-CHANGE,"), "negative amounts stay numbers: {lines}");
    assert!(!lines.contains(",=HYPERLINK"));
}

#[test]
fn a_tag_filter_runs_only_tagged_scenarios() {
    let dir = project();
    let output = cspsim(dir.path(), &["run", "--tag", "suspend"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("1 scenario tagged suspend: 1 passed"), "{}", text(&output));
    assert_eq!(cspsim(dir.path(), &["run", "--tag", "no-such-tag"]).status.code(), Some(2));
}

#[test]
fn a_snapshot_does_not_depend_on_the_folder_a_run_was_given() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    for target in ["scenarios/billing", "scenarios/billing/calendar-anchor-31st.yaml", "scenarios/suspend-retention.yaml"] {
        let output = Command::new(env!("CARGO_BIN_EXE_cspsim"))
            .args(["check", target, "--out", out.path().to_str().unwrap()])
            .current_dir(root)
            .env("CI", "true")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{target}: {}", text(&output));
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    // `cspsim explain X | head -1`: the pipe is closed before the program writes.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for args in [&["explain", "scenarios/suspend-retention.yaml"][..], &["policies"], &["schema", "scenario"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = Command::new(env!("CARGO_BIN_EXE_cspsim")).args(args).current_dir(root).stdout(writer).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_loop_in_a_scenario_folder_is_walked_once() {
    let dir = project();
    std::os::unix::fs::symlink("..", dir.path().join("scenarios/up")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("scenarios/here")).unwrap();
    let output = cspsim(dir.path(), &["run", "scenarios"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("4 scenarios: 4 passed"), "{}", text(&output));
}

#[cfg(unix)]
#[test]
fn an_output_named_by_a_link_or_a_pipe_is_written_through_it() {
    // A symbolic link stays a link (the file it names is replaced), and a named pipe is
    // written to, not replaced by a regular file.
    let dir = project();
    std::fs::write(dir.path().join("real.xml"), "old").unwrap();
    std::os::unix::fs::symlink("real.xml", dir.path().join("link.xml")).unwrap();
    let output = cspsim(dir.path(), &["run", "--junit", "link.xml"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(std::fs::symlink_metadata(dir.path().join("link.xml")).unwrap().file_type().is_symlink());
    assert!(read(dir.path().join("real.xml")).contains("<testsuites"));

    let fifo = dir.path().join("junit.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let output = cspsim(dir.path(), &["run", "--junit", "junit.fifo"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(reader.join().unwrap().contains("<testsuites"));
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

#[cfg(target_os = "linux")]
#[test]
fn reports_and_junit_are_replaced_together_or_not_at_all() {
    // The JUnit file cannot be written (a full device): the reports of the earlier run stay
    // as they were, untouched, rather than half of the set being new.
    let dir = project();
    assert_eq!(cspsim(dir.path(), &["run"]).status.code(), Some(0));
    let before = read(dir.path().join("reports/summary.csv"));
    std::fs::remove_file(dir.path().join("scenarios/suspend-retention.yaml")).unwrap();
    let output = cspsim(dir.path(), &["run", "--junit", "/dev/full"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("cannot write /dev/full") && text(&output).contains("no report was replaced"), "{}", text(&output));
    assert_eq!(read(dir.path().join("reports/summary.csv")), before);
    let leftovers: Vec<_> =
        std::fs::read_dir(dir.path().join("reports")).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n.to_string_lossy().ends_with(".tmp")).collect();
    assert!(leftovers.is_empty(), "temporary files are removed: {leftovers:?}");
}

#[test]
fn junit_is_never_written_over_a_yaml_file_and_ci_accepts_nothing() {
    let dir = project();
    let scenario = dir.path().join("scenarios/suspend-retention.yaml");
    let before = read(scenario.clone());
    let output = cspsim(dir.path(), &["run", "--junit", "scenarios/suspend-retention.yaml"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("the JUnit report would replace it"), "{}", text(&output));
    assert_eq!(read(scenario), before);

    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("scenarios/suspend-retention.yaml", dir.path().join("junit.xml")).unwrap();
        let output = cspsim(dir.path(), &["run", "--junit", "junit.xml"]);
        assert_eq!(output.status.code(), Some(2), "a link to a scenario is the scenario: {}", text(&output));
        assert_eq!(read(dir.path().join("scenarios/suspend-retention.yaml")), before);
    }
    let output = cspsim(dir.path(), &["run", "--junit", "reports/summary.csv"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("is one of the reports this run writes"), "{}", text(&output));

    assert_eq!(cspsim(dir.path(), &["run"]).status.code(), Some(0));
    let output = Command::new(env!("CARGO_BIN_EXE_cspsim")).args(["accept"]).current_dir(dir.path()).env("CI", "true").output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("never in CI"), "{}", text(&output));
    assert!(!dir.path().join("scenarios/snapshots/suspend-retention.snap").exists() && !dir.path().join("snapshots/suspend-retention.snap").exists());
}

#[cfg(unix)]
#[test]
fn a_pipe_in_a_scenario_folder_is_an_input_error_not_a_wait() {
    let dir = project();
    assert!(Command::new("mkfifo").arg(dir.path().join("scenarios/pipe.yaml")).status().unwrap().success());
    let output = cspsim(dir.path(), &["run", "scenarios"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("this is not a regular file"), "{}", text(&output));
    assert!(text(&output).contains("4 passed"), "the other scenarios still run: {}", text(&output));
}

#[test]
fn whatif_outputs_are_replaced_together_or_not_at_all() {
    let dir = project();
    std::fs::create_dir_all(dir.path().join("out/whatif.svg")).unwrap();
    std::fs::write(dir.path().join("out/whatif.csv"), "old").unwrap();
    let output = cspsim(dir.path(), &["whatif", "--policy", "csp-2020", "--policy", "nce-2022", "--out", "out"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("whatif.svg is a folder, not a file"), "{}", text(&output));
    assert_eq!(read(dir.path().join("out/whatif.csv")), "old", "nothing is replaced");
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_leaves_no_temporary_or_half_written_output() {
    use std::os::unix::process::ExitStatusExt;
    /// Ends the child however the test ends, so that a failing test leaves no run behind.
    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let out = tempfile::tempdir().unwrap();
    let population = Path::new(env!("CARGO_MANIFEST_DIR")).join("populations/book-of-business.yaml");
    // A million customers with every line written out: long enough to be interrupted while
    // whatif_lines.csv is being written beside its place.
    let mut child = Running(
        std::process::Command::new(env!("CARGO_BIN_EXE_cspsim"))
            .args(["whatif", "--detail", "--out", out.path().to_str().unwrap(), population.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let temporaries = || -> Vec<String> {
        std::fs::read_dir(out.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(".cspsim-"))
            .collect()
    };
    // Wait for the unfinished file to appear (the run takes seconds; this waits for a state,
    // not for a time, and gives up only if the run ended first).
    while temporaries().is_empty() {
        assert!(child.0.try_wait().unwrap().is_none(), "the run ended before it could be interrupted");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pid = i32::try_from(child.0.id()).unwrap();
    // SAFETY: sends a signal to the child this test started and still owns.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let status = child.0.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGINT), "it ends by the signal, as a shell expects: {status:?}");
    assert_eq!(temporaries(), Vec::<String>::new(), "the unfinished file was removed");
    assert!(!out.path().join("whatif_lines.csv").exists(), "no output under its final name");
}
