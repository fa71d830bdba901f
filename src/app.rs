//! The commands: each turns validated arguments into library calls and prints results.
//! Exit codes: 0 all passed, 1 a check or snapshot failed, 2 invalid input or usage.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::cli::{AcceptArgs, Cli, ColorChoice, Command, ExplainArgs, PoliciesArgs, RunArgs, SchemaArgs, SchemaKindArg};
use crate::engine::Limits;
use crate::outcome::record_scenario;
use crate::report::csv_reports::stage_reports;
use crate::report::{AtomicFile, commit_all, junit::junit_xml};
use crate::scenario::diagnostic::display_path;
use crate::scenario::load::{LoadOptions, load_scenario};
use crate::snapshot::{Comparison, Pending, SnapshotRoot, accept_one, snapshot_path};
use crate::suite::{ScenarioRun, Status, SuiteOptions, discover, discover_at_least_one, run_all};

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_INVALID: u8 = 2;
/// Stopped by a signal whose default action did not end the process (128 + SIGINT, as shells
/// report an interrupted command).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Terminal styling, on only when asked or when writing to a terminal.
#[derive(Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn new(choice: ColorChoice, terminal: bool) -> Self {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()),
        };
        Style { color }
    }
    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }
    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }
    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }
    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
    /// A unified diff with `-` lines red, `+` lines green and hunk headers cyan.
    pub fn diff(&self, diff: &str) -> String {
        diff.lines()
            .map(|line| {
                if line.starts_with("---") || line.starts_with("+++") {
                    self.bold(line)
                } else if line.starts_with('-') {
                    self.red(line)
                } else if line.starts_with('+') {
                    self.green(line)
                } else if line.starts_with("@@") {
                    self.paint("36", line)
                } else {
                    line.to_string()
                }
            })
            .map(|line| line + "\n")
            .collect()
    }
}

pub fn main_with(cli: Cli) -> u8 {
    let out = Style::new(cli.color, std::io::stdout().is_terminal());
    let err = Style::new(cli.color, std::io::stderr().is_terminal());
    let code = match cli.command {
        Command::Run(args) => run(&args, false, out, err),
        Command::Check(args) => run(&args, true, out, err),
        Command::Accept(args) => accept(&args),
        Command::Explain(args) => explain(&args, out, err),
        Command::Schema(args) => schema(&args),
        Command::Policies(args) => policies(&args),
        Command::Whatif(args) => crate::whatif::command(&args, err),
        Command::Bench(args) => crate::whatif::bench::command(&args),
    };
    // Output that could not be written is a failed command, whatever the command found: a
    // script reading `cspsim schema > file` on a full disk must not see success.
    if STDOUT_FAILED.load(std::sync::atomic::Ordering::Relaxed) { code.max(EXIT_INVALID) } else { code }
}

/// Standard output for a command that must finish its work (its reports) whatever happens to
/// its output: a closed pipe is ignored, any other failure is reported once and fails the
/// command (exit code 2) at its end.
struct CheckedStdout;

impl std::io::Write for CheckedStdout {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        let mut stdout = std::io::stdout().lock();
        if let Err(error) = stdout.write_all(buffer).and_then(|()| stdout.flush()) {
            note_stdout_failure(&error);
        }
        Ok(buffer.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn note_stdout_failure(error: &std::io::Error) {
    if error.kind() != std::io::ErrorKind::BrokenPipe && !STDOUT_FAILED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        eprintln!("error: cannot write to standard output: {error}");
    }
}

/// Set when writing to standard output failed (other than a closed pipe).
static STDOUT_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes to standard output (see `say!`). A closed pipe ends the program with success: the
/// reader has all it wanted. Any other failure to write is reported once, and the program goes
/// on (its files are still written) and ends with exit code 2.
pub fn write_stdout(text: std::fmt::Arguments) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    // Flushed at once so that a full disk is seen here, not lost when the buffer is dropped.
    if let Err(error) = stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(i32::from(EXIT_OK));
        }
        note_stdout_failure(&error);
    }
}

/// "1 step", "2 steps": a count with its noun.
pub(crate) fn plural(count: impl std::fmt::Display, noun: &str) -> String {
    let count = count.to_string();
    if count == "1" { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

/// Prints a usage or input error and gives the exit code for it.
pub(crate) fn usage_error(message: &str) -> u8 {
    eprintln!("error: {message}");
    EXIT_INVALID
}

/// More threads than this only cost memory and start-up time: the work is CPU-bound.
pub const MAX_JOBS: usize = 1024;

pub fn jobs_or_default(jobs: Option<usize>) -> usize {
    // The command line has checked the range (`cli::thread_count`).
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_JOBS))
}

/// An output place this process cannot write to (a read-only file system, a folder without
/// write permission), found before the run rather than after it. `path` is the folder the
/// output goes into; where it does not exist yet, its nearest existing ancestor is tried.
pub(crate) fn folder_not_writable(flag: &str, shown: &Path, path: &Path) -> Option<String> {
    let existing = path.ancestors().find(|folder| !folder.as_os_str().is_empty() && folder.is_dir()).unwrap_or(Path::new("."));
    // A file without a name where the system allows it (nothing to leave behind if the run
    // is interrupted right then).
    let error = tempfile::tempfile_in(existing).err()?;
    // The error may name the probe file, which the user never asked for: keep the reason only.
    let reason = error.to_string();
    let reason = reason.split(" at path ").next().unwrap_or_default();
    Some(format!("{flag} {}: cannot write in {}: {reason}", display_path(shown), display_path(existing)))
}

/// A file where an output path needs a folder (`--out reports.csv/x`): the message for it.
pub(crate) fn file_in_the_way(flag: &str, path: &Path) -> Option<String> {
    let blocking = path.ancestors().skip(1).filter(|folder| !folder.as_os_str().is_empty()).find(|folder| folder.exists() && !folder.is_dir())?;
    Some(format!("{flag} {}: {} is a file, not a folder", display_path(path), display_path(blocking)))
}

/// CI systems set CI=true (or 1); CI=false or CI=0 is how one says "not CI".
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

fn progress_bar(total: usize) -> indicatif::ProgressBar {
    if total < 2 {
        return indicatif::ProgressBar::hidden();
    }
    progress_bar_for_long_runs(total as u64, "{spinner} {pos}/{len} scenarios {wide_bar} {elapsed}")
}

/// A progress bar on stderr that appears only once a run has taken a second (a quick run
/// prints no bar to flicker and clear), and never when stderr is not a terminal.
pub fn progress_bar_for_long_runs(length: u64, template: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(length), indicatif::ProgressDrawTarget::hidden());
    bar.set_style(indicatif::ProgressStyle::with_template(template).expect("a valid template"));
    let later = bar.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(1));
        if !later.is_finished() {
            later.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    });
    bar
}

/// What stops `run`'s outputs (the reports, the JUnit file, pending snapshots) from being
/// written where the command line says, or would make them replace something they must not.
fn output_places_problem(args: &RunArgs, in_ci: bool) -> Option<String> {
    if let Some(junit) = args.junit.as_ref().filter(|junit| junit.is_dir()) {
        return Some(format!("--junit {}: is a folder; expected a file name, e.g. junit.xml", display_path(junit)));
    }
    if args.out.exists() && !args.out.is_dir() {
        return Some(format!("--out {}: is a file; expected a folder for the reports", display_path(&args.out)));
    }
    if let Some(snapshots) = args.snapshots.as_ref().filter(|folder| folder.exists() && !folder.is_dir()) {
        return Some(format!("--snapshots {}: is a file; expected the folder of snapshots", display_path(snapshots)));
    }
    for (flag, path) in [("--out", Some(&args.out)), ("--junit", args.junit.as_ref()), ("--snapshots", args.snapshots.as_ref())] {
        if let Some(message) = path.and_then(|path| file_in_the_way(flag, path)) {
            return Some(message);
        }
    }
    if let Some(message) = folder_not_writable("--out", &args.out, &args.out) {
        return Some(message);
    }
    if let Some(junit) = args.junit.as_ref().filter(|junit| !AtomicFile::writes_directly(junit))
        && let Some(message) = folder_not_writable("--junit", junit, junit.parent().unwrap_or(Path::new("")))
    {
        return Some(message);
    }
    if let Some(junit) = &args.junit {
        // `--junit scenarios/x.yaml` would replace a scenario (or a catalog) with XML, also
        // through a link; `--junit reports/summary.csv` a report of this very run.
        let target = std::fs::canonicalize(junit).unwrap_or_else(|_| junit.clone());
        if crate::suite::has_scenario_extension(junit) || crate::suite::has_scenario_extension(&target) {
            return Some(format!("--junit {}: is a YAML file; the JUnit report would replace it (give an .xml name, e.g. junit.xml)", display_path(junit)));
        }
        let resolved = |path: &Path| std::fs::canonicalize(path).unwrap_or_else(|_| path.components().collect());
        let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let is_report = target.file_name().is_some_and(|name| crate::report::csv_reports::FILES.iter().any(|report| name == *report));
        if is_report && resolved(parent) == resolved(&args.out) {
            return Some(format!("--junit {}: is one of the reports this run writes to {}", display_path(junit), display_path(&args.out)));
        }
    }
    // Pending snapshots are written only outside CI.
    args.snapshots.as_ref().filter(|_| !in_ci).and_then(|folder| folder_not_writable("--snapshots", folder, folder))
}

fn run(args: &RunArgs, require_snapshots: bool, out: Style, err: Style) -> u8 {
    let jobs = jobs_or_default(args.jobs);
    let in_ci = in_ci();
    // Output places that cannot work are found before any work, not after the reports.
    if let Some(message) = output_places_problem(args, in_ci) {
        return usage_error(&message);
    }
    let files = match discover_at_least_one(&args.paths) {
        Ok(files) => files,
        Err(message) => return did_not_start(args, &message),
    };
    let options = SuiteOptions {
        snapshots: args.snapshots.clone().map_or(SnapshotRoot::Beside, SnapshotRoot::Folder),
        compare_snapshots: true,
        require_snapshots,
        write_pending: !in_ci,
        limits: Limits { max_events: args.max_events },
        load: LoadOptions::default(),
        tags: args.tags.clone(),
    };
    // The wall clock only times the run for the summary line; no outcome or report reads it.
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    let progress = progress_bar(files.len());
    let runs = run_all(&files, &options, jobs, &progress);
    progress.finish_and_clear();
    if runs.is_empty() {
        return did_not_start(args, &format!("no scenario has the tag {}", args.tags.join(" or ")));
    }
    let elapsed = started.elapsed();

    let mut stdout = CheckedStdout;
    for run in &runs {
        print_run(&mut stdout, run, args.quiet, out, err);
    }
    warn_unreferenced_snapshots(&mut stdout, &args.paths, &files, &options.snapshots, out);
    let mut exit = EXIT_OK;
    // The reports and the JUnit file are one set: each is written in full beside its place
    // first, and only when all of them could be written does any replace the old one.
    let staged =
        stage_reports(&args.out, &runs).map_err(|error| format!("cannot write the reports to {}: {error}", display_path(&args.out))).and_then(|mut files| {
            if let Some(junit) = &args.junit {
                files.push(stage_junit(junit, &runs).map_err(|error| format!("cannot write {}: {error}", display_path(junit)))?);
            }
            Ok(files)
        });
    let committed = staged
        .map_err(|message| format!("{message}; no report was replaced"))
        .and_then(|files| commit_all(files).map_err(|error| format!("cannot write the reports to {}: {error}", display_path(&args.out))));
    let reports_written = committed.is_ok();
    let mut report_error = committed.err();
    let unkept_snapshots = runs.iter().filter(|r| matches!(r.snapshot.as_ref().and_then(Comparison::pending), Some(Pending::Failed(_)))).count();
    if unkept_snapshots > 0 && report_error.is_none() {
        report_error = Some(format!("{} could not be written (see above)", plural(unkept_snapshots, "pending snapshot")));
    }
    let passed = runs.iter().filter(|r| r.status == Status::Pass).count();
    let failed = runs.iter().filter(|r| r.status == Status::Fail).count();
    let invalid = runs.iter().filter(|r| r.status == Status::Error).count();
    let mut parts = vec![out.green(&format!("{passed} passed"))];
    if failed > 0 {
        parts.push(out.red(&format!("{failed} failed")));
    }
    if invalid > 0 {
        parts.push(out.red(&format!("{invalid} invalid")));
    }
    let pending = runs.iter().filter(|r| matches!(r.snapshot.as_ref().and_then(Comparison::pending), Some(Pending::Written(_)))).count();
    let without_place = runs.iter().filter(|r| r.status == Status::Pass && r.snapshot == Some(Comparison::NoPlace)).count();
    if without_place > 0 && !require_snapshots && !args.quiet {
        // Said once, not per scenario: a suite kept outside a `scenarios/` folder is normal.
        let _ = writeln!(
            stdout,
            "{}",
            out.dim(&format!(
                "note: {without_place} scenario{} outside a scenarios/ folder had no snapshot to compare (use --snapshots DIR)",
                if without_place == 1 { "" } else { "s" }
            ))
        );
    }
    if in_ci && runs.iter().any(|r| matches!(r.snapshot.as_ref().and_then(Comparison::pending), Some(Pending::NotWritten))) {
        let shown = if args.quiet { "run without -q to see the differences" } else { "the differences are shown above" };
        let _ = writeln!(stdout, "note: CI is set, so no pending snapshot was written; {shown}");
    }
    // A filtered run says so: its count is not the suite's.
    let filter = if args.tags.is_empty() { String::new() } else { format!(" tagged {}", args.tags.join(" or ")) };
    let _ = writeln!(
        stdout,
        "{} scenario{}{filter}: {} ({:.2}s){}{}",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        parts.join(", "),
        elapsed.as_secs_f64(),
        if reports_written { format!("; reports in {}", display_path(&args.out)) } else { String::new() },
        if pending > 0 {
            format!("; {pending} pending snapshot{} (review with `cspsim accept` or `cargo insta review`)", if pending == 1 { "" } else { "s" })
        } else {
            String::new()
        }
    );
    if failed > 0 {
        exit = EXIT_FAILED;
    }
    if invalid > 0 {
        exit = EXIT_INVALID;
    }
    if let Some(message) = report_error {
        eprintln!("{}", err.red(&format!("error: {message}")));
        exit = EXIT_INVALID;
    }
    exit
}

/// Snapshots in the snapshot folders of the run's folders that no scenario owns any more.
fn warn_unreferenced_snapshots(out: &mut impl Write, paths: &[std::path::PathBuf], files: &[crate::suite::ScenarioFile], root: &SnapshotRoot, style: Style) {
    let expected: std::collections::BTreeSet<std::path::PathBuf> = files.iter().filter_map(|file| snapshot_path(root, &file.path, &file.display)).collect();
    let unreferenced: std::collections::BTreeSet<std::path::PathBuf> =
        paths.iter().filter(|path| path.is_dir()).flat_map(|folder| crate::snapshot::unreferenced(root, folder, &expected)).collect();
    for snapshot in &unreferenced {
        let warning = format!("warning: {} belongs to no scenario: delete it if its scenario was removed or renamed", display_path(snapshot));
        let _ = writeln!(out, "{}", style.yellow(&warning));
    }
}

/// A run that found nothing to run is a usage error; with `--junit`, the JUnit file says so
/// too (one errored case), so that a CI job publishing it never shows an earlier run's results.
fn did_not_start(args: &RunArgs, message: &str) -> u8 {
    if let Some(junit) = args.junit.as_ref() {
        let _ = junit.parent().map_or(Ok(()), crate::report::create_folder);
        if let Err(error) = crate::report::write_atomically(junit, crate::report::junit::run_did_not_start_xml(message).as_bytes()) {
            eprintln!("error: cannot write {}: {error}", display_path(junit));
        }
    }
    usage_error(message)
}

/// The JUnit file written beside its place, not yet in place.
fn stage_junit(path: &Path, runs: &[ScenarioRun]) -> std::io::Result<AtomicFile> {
    if let Some(folder) = path.parent() {
        crate::report::create_folder(folder)?;
    }
    crate::report::stage(path, junit_xml(runs).as_bytes())
}

fn print_run(out: &mut impl Write, run: &ScenarioRun, quiet: bool, style: Style, err: Style) {
    let counts = format!("({}, {}, {:.0?})", plural(run.steps, "step"), plural(run.checks, "check"), run.elapsed);
    match run.status {
        Status::Pass => {
            if !quiet {
                let _ = writeln!(out, "{}  {}  {}", style.green("PASS "), run.display, style.dim(&counts));
            }
        }
        Status::Fail => {
            let _ = writeln!(out, "{}  {}  {}", style.red("FAIL "), run.display, style.dim(&counts));
            for failure in &run.verdict.failures {
                let _ = writeln!(out, "       {}", failure.render(&run.shown_path));
            }
        }
        Status::Error => {
            let count = run.diagnostics.as_ref().map_or(0, |d| d.len());
            let _ = writeln!(out, "{}  {}  ({count} input error{})", style.red("ERROR"), run.display, if count == 1 { "" } else { "s" });
            if let Some(diagnostics) = &run.diagnostics {
                let _ = out.flush();
                eprint!("{}", err.red(&diagnostics.render()));
            }
        }
    }
    match &run.snapshot {
        Some(Comparison::Changed { path, diff, pending }) => {
            let _ = writeln!(out, "       snapshot {} differs:", display_path(path));
            let _ = write!(out, "{}", indent(&style.diff(diff)));
            print_pending(out, pending, "the new version is in", style);
        }
        Some(Comparison::Missing { path, pending, new_snapshot }) if run.status == Status::Fail || (run.status == Status::Pass && !quiet) => {
            let written = match pending {
                Pending::Written(pending) => format!(", new one written to {}", display_path(pending)),
                _ => String::new(),
            };
            let _ = writeln!(out, "       {}", style.yellow(&format!("no accepted snapshot at {}{written}", display_path(path))));
            // Where the missing snapshot fails the gate, or there is nothing on disk to review
            // (CI, a failed write), the log shows what it would hold, as a diff from nothing.
            let on_disk = matches!(pending, Pending::Written(_));
            if run.status == Status::Fail || !on_disk {
                let diff = crate::snapshot::diff_from_nothing(path, new_snapshot);
                let _ = write!(out, "{}", indent(&style.diff(&diff)));
                if !on_disk {
                    print_pending(out, pending, "", style);
                }
            }
        }
        Some(Comparison::Unreadable { path, error, pending }) => {
            let _ = writeln!(out, "       {}", style.red(&format!("cannot read the snapshot {}: {error}", display_path(path))));
            print_pending(out, pending, "the new version is in", style);
        }
        Some(Comparison::NoPlace) if run.status == Status::Fail => {
            let _ = writeln!(out, "       no snapshot: the scenario is not under a scenarios/ folder (use --snapshots DIR)");
        }
        _ => {}
    }
    for warning in &run.warnings {
        let _ = writeln!(out, "       {}", style.yellow(&format!("warning: {warning}")));
    }
}

fn print_pending(out: &mut impl Write, pending: &Pending, written: &str, style: Style) {
    match pending {
        Pending::Written(path) => {
            let _ = writeln!(out, "       {written} {}", display_path(path));
        }
        Pending::NotWritten => {}
        Pending::Failed(error) => {
            let _ = writeln!(out, "       {}", style.red(&format!("the new version could not be kept: {error}")));
        }
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("       {line}\n")).collect()
}

fn accept(args: &AcceptArgs) -> u8 {
    // CI never writes or accepts a snapshot: a reviewed snapshot is a person's decision.
    if in_ci() {
        return usage_error("CI is set: snapshots are accepted by a person who reviewed them, never in CI (run `cspsim accept` without CI set)");
    }
    // A snapshot named directly stands for its scenario.
    let mut paths = Vec::new();
    for path in &args.paths {
        let name = path.to_string_lossy();
        if name.ends_with(".snap") || name.ends_with(".snap.new") {
            match crate::snapshot::scenario_of_snapshot(path) {
                Some(scenario) => paths.push(scenario),
                None => {
                    return usage_error(&format!("{}: no scenario file belongs to this snapshot; give the scenario file or its folder", display_path(path)));
                }
            }
        } else {
            paths.push(path.clone());
        }
    }
    let files = match discover(&paths) {
        Ok(files) => files,
        Err(message) => return usage_error(&message),
    };
    if files.is_empty() {
        return usage_error(&format!("{}; give the scenarios (or their folder) whose pending snapshots to accept", crate::suite::no_scenario_files(&paths)));
    }
    let root = args.snapshots.clone().map_or(SnapshotRoot::Beside, SnapshotRoot::Folder);
    let (mut accepted, mut refused, mut invalid, mut unwritable) = (Vec::new(), 0, 0, 0);
    for file in &files {
        let Some(snapshot) = snapshot_path(&root, &file.path, &file.display) else {
            continue;
        };
        let pending = crate::snapshot::pending_path(&snapshot);
        if !pending.exists() {
            continue;
        }
        // Only what the scenario gives now is accepted: a pending file left from before the
        // scenario changed, or edited by hand, would put a wrong expectation in place.
        match pending_matches_the_scenario(file, &pending) {
            Ok(()) => {}
            Err(PendingRefused::Differs(reason)) => {
                eprintln!("error: not accepted: {}: {reason}", display_path(&pending));
                refused += 1;
                continue;
            }
            Err(PendingRefused::InvalidScenario(diagnostics)) => {
                eprint!("{}", diagnostics.render());
                eprintln!("error: not accepted: {}: its scenario has input errors (above)", display_path(&pending));
                invalid += 1;
                continue;
            }
        }
        // One snapshot that cannot be put in place does not stop the others.
        match accept_one(&pending) {
            Ok(done) => accepted.push(done),
            Err(error) => {
                eprintln!("error: cannot put {} in place of {}: {error}", display_path(&pending), display_path(&snapshot));
                unwritable += 1;
            }
        }
    }
    for path in &accepted {
        sayln!("accepted {}", display_path(path));
    }
    sayln!("{} snapshot{} accepted", accepted.len(), if accepted.len() == 1 { "" } else { "s" });
    if accepted.is_empty() && refused == 0 && invalid == 0 {
        sayln!("note: no pending snapshot (.snap.new) belongs to these scenarios; `cspsim check` writes one for each scenario whose outcome changed");
    }
    if refused > 0 {
        let (noun, pronoun) = if refused == 1 { ("snapshot", "it") } else { ("snapshots", "them") };
        eprintln!("{refused} pending {noun} not accepted: run `cspsim check` to write {pronoun} again from the scenarios");
    }
    if invalid > 0 || unwritable > 0 {
        return EXIT_INVALID;
    }
    if refused > 0 {
        return EXIT_FAILED;
    }
    EXIT_OK
}

enum PendingRefused {
    Differs(String),
    InvalidScenario(crate::scenario::diagnostic::Diagnostics),
}

/// Runs the scenario again and compares its outcome with the pending snapshot.
fn pending_matches_the_scenario(file: &crate::suite::ScenarioFile, pending: &Path) -> Result<(), PendingRefused> {
    let text = std::fs::read_to_string(pending).map_err(|error| PendingRefused::Differs(format!("cannot read it: {error}")))?;
    let loaded = load_scenario(&file.path, &file.display, &LoadOptions::default()).map_err(PendingRefused::InvalidScenario)?;
    let outcome = record_scenario(&loaded, Limits::default()).map_err(|error| PendingRefused::InvalidScenario(crate::suite::runtime_error(&loaded, &error)))?;
    if crate::snapshot::contents(&text) != outcome.to_yaml().trim_end() {
        let reason = format!("it does not match what {} gives now (the scenario changed, or the file was edited)", display_path(&file.path));
        return Err(PendingRefused::Differs(reason));
    }
    Ok(())
}

fn explain(args: &ExplainArgs, out: Style, err: Style) -> u8 {
    if args.scenario.is_file() && !crate::suite::has_scenario_extension(&args.scenario) {
        return usage_error(&format!("{}: not a scenario file: expected a file ending in .yaml or .yml", display_path(&args.scenario)));
    }
    let display = args.scenario.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut options = LoadOptions::default();
    if let Some(name) = &args.policy {
        match crate::whatif::resolve_policy(name) {
            Ok(policy) => options.policy = Some(policy),
            Err(message) => {
                eprint!("{}", err.red(&message));
                return EXIT_INVALID;
            }
        }
    }
    let mut loaded = match load_scenario(&args.scenario, &display, &options) {
        Ok(loaded) => loaded,
        Err(diagnostics) => {
            eprint!("{}", err.red(&diagnostics.render()));
            return EXIT_INVALID;
        }
    };
    if let Some(index) = args.customer {
        let Some(population) = &loaded.population else {
            return usage_error(&format!("{} has no population", display_path(&args.scenario)));
        };
        if index >= population.customers {
            return usage_error(&format!("the population has customers 0 to {}", population.customers - 1));
        }
        // The generated customer as a scenario of its own: no expectations, one step each.
        loaded.script = match population.customer_script(&loaded.script, index, Limits { max_events: args.max_events }) {
            Ok(script) => script,
            Err(error) => {
                eprint!("{}", err.red(&crate::suite::runtime_error(&loaded, &error).render()));
                return EXIT_INVALID;
            }
        };
        loaded.title = format!("{}: customer {index} of the population", loaded.title);
        loaded.expectations = loaded.script.steps.iter().map(|_| crate::expect::StepExpectations::default()).collect();
    }
    let outcome = match crate::outcome::record_scenario(&loaded, Limits { max_events: args.max_events }) {
        Ok(outcome) => outcome,
        Err(error) => {
            eprint!("{}", err.red(&crate::suite::runtime_error(&loaded, &error).render()));
            return EXIT_INVALID;
        }
    };
    let verdict = crate::expect::evaluate(&outcome, &loaded.expectations);
    say!("{}", crate::explain::timeline(&outcome, &display_path(&args.scenario), &verdict.failures));
    if verdict.failures.is_empty() {
        sayln!("\n{} expectation{} hold{}.", verdict.checks, if verdict.checks == 1 { "" } else { "s" }, if verdict.checks == 1 { "s" } else { "" });
        EXIT_OK
    } else {
        sayln!();
        for failure in &verdict.failures {
            sayln!("{} {}", out.red("FAIL"), failure.render(&display_path(&args.scenario)));
        }
        EXIT_FAILED
    }
}

fn schema(args: &SchemaArgs) -> u8 {
    use crate::scenario::model::{SchemaKind, schema_json};
    let kind = match args.kind {
        SchemaKindArg::Scenario => SchemaKind::Scenario,
        SchemaKindArg::Catalog => SchemaKind::Catalog,
        SchemaKindArg::Policy => SchemaKind::Policy,
    };
    say!("{}", schema_json(kind));
    EXIT_OK
}

fn policies(args: &PoliciesArgs) -> u8 {
    let policies = match &args.policy {
        Some(name) => match crate::whatif::resolve_policy(name) {
            Ok(policy) => vec![policy],
            Err(message) => {
                eprint!("{message}");
                return EXIT_INVALID;
            }
        },
        None => crate::scenario::builtin_policies::names().filter_map(crate::scenario::builtin_policies::find).collect(),
    };
    for policy in &policies {
        sayln!("{}", policy.name);
        if !policy.description.is_empty() {
            sayln!("  {}", policy.description);
        }
        for parameter in crate::policy::PARAMETERS {
            if parameter.name == "role_matrix" {
                sayln!("  {:<28} {}", parameter.name, parameter.doc);
                for permission in crate::policy::Permission::ALL {
                    let roles: Vec<&str> = policy.role_matrix.roles_for(permission).iter().map(|r| r.name()).collect();
                    sayln!("    {:<26} {}", permission.name(), roles.join(", "));
                }
                continue;
            }
            sayln!("  {:<28} {:<34} {}", parameter.name, policy.show(parameter.name).unwrap_or_default(), parameter.doc);
        }
        sayln!();
    }
    EXIT_OK
}
