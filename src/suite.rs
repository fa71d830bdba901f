//! Running a suite: finding scenario files, running each (in parallel across scenarios),
//! judging it by its expectations and its snapshot.
//!
//! Parallelism is only ever across scenarios: each scenario runs on one thread through the
//! single-threaded engine, and results are kept in the order the files were found, so every
//! output is the same whatever `--jobs` says.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::engine::Limits;
use crate::expect::{Verdict, evaluate};
use crate::outcome::{Outcome, record_scenario};
use crate::scenario::diagnostic::{Diagnostic, Diagnostics, Position, display_path};
use crate::scenario::load::{LoadOptions, load_scenario};
use crate::snapshot::{Comparison, SnapshotRoot, compare};

/// A scenario file to run, and how reports name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioFile {
    pub path: PathBuf,
    /// The path relative to the folder the run was given (`/` separators).
    pub display: String,
}

/// Folders that hold a suite's shared files, not scenarios.
const SHARED_FOLDERS: &[&str] = &["catalogs", "policies"];

/// Finds the scenario files under the given paths: a file is taken as it is; a folder is
/// searched recursively for `.yaml`/`.yml` files, sorted, skipping hidden entries and the
/// `catalogs/` and `policies/` folders. Catalog and policy files found elsewhere (a root
/// mapping with `offers`, or `policy` and `parameters`, and no `scenario`) are skipped too.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<ScenarioFile>, String> {
    let mut found: Vec<(ScenarioFile, &PathBuf)> = Vec::new();
    // A file reached twice (a folder and a file inside it, or one folder given twice) runs
    // once, where it was first reached: running it twice would count it twice in every report.
    let mut seen: std::collections::BTreeSet<PathBuf> = std::collections::BTreeSet::new();
    let mut first_time = |file: &Path| seen.insert(std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf()));
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|_| format!("{}: no such file or folder{}", display_path(path), where_the_suite_is(path)))?;
        // Anything but a folder is taken as a file: a pipe or a device named as a scenario
        // gets the loader's "not a regular file", not an attempt to list it.
        if !metadata.is_dir() {
            if !has_scenario_extension(path) {
                return Err(format!("{}: not a scenario file: expected a file ending in .yaml or .yml", display_path(path)));
            }
            let display = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if first_time(path) {
                found.push((ScenarioFile { path: path.clone(), display }, path));
            }
            continue;
        }
        let mut files = Vec::new();
        walk(path, &mut files).map_err(|(folder, error)| format!("{}: cannot read the folder: {error}", display_path(&folder)))?;
        files.sort();
        // A link to a file that the walk also reaches directly stands aside for it: the real
        // file's path names its snapshot and resolves its relative catalog.
        let files: Vec<(PathBuf, bool, Option<PathBuf>)> = files
            .into_iter()
            .map(|file| {
                let is_link = std::fs::symlink_metadata(&file).is_ok_and(|m| m.file_type().is_symlink());
                let target = std::fs::canonicalize(&file).ok();
                (file, is_link, target)
            })
            .collect();
        let reached_directly: std::collections::BTreeSet<&PathBuf> =
            files.iter().filter(|(_, is_link, _)| !is_link).filter_map(|(_, _, target)| target.as_ref()).collect();
        for (file, is_link, target) in &files {
            let shadowed = *is_link && target.as_ref().is_some_and(|target| reached_directly.contains(target));
            if shadowed || is_shared_document(file) || !first_time(file) {
                continue;
            }
            let relative = file.strip_prefix(path).unwrap_or(file);
            found.push((ScenarioFile { display: display_path(relative), path: file.clone() }, path));
        }
    }
    // Two folders given to one run may hold files of the same relative path: name those by
    // the folder too, so that no two rows of a report share a `scenario`.
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (file, _) in &found {
        *counts.entry(file.display.clone()).or_default() += 1;
    }
    Ok(found
        .into_iter()
        .map(|(mut file, root)| {
            if counts[&file.display] > 1 {
                let folder = if root.is_file() { root.parent().map(display_path).unwrap_or_default() } else { display_path(root) };
                file.display = format!("{}/{}", folder.trim_end_matches('/'), file.display);
            }
            file
        })
        .collect())
}

/// For the default `scenarios` not found: the nearest folder above that has one, to run from
/// (a run started inside the suite itself, say).
fn where_the_suite_is(path: &Path) -> String {
    if path != Path::new("scenarios") {
        return String::new();
    }
    let Ok(here) = std::env::current_dir() else { return String::new() };
    match here.ancestors().skip(1).find(|folder| folder.join("scenarios").is_dir()) {
        Some(project) => format!(" here; the nearest suite is in {}: run from there, or name the files (`cspsim run .`)", display_path(project)),
        None => " here: run from the folder that holds scenarios/, or name the files".to_string(),
    }
}

/// The files under `folder`; a folder that cannot be read is named in the error, which is
/// often one deep inside the tree rather than the one given.
fn walk(folder: &Path, files: &mut Vec<PathBuf>) -> Result<(), (PathBuf, std::io::Error)> {
    walk_once(folder, files, &mut std::collections::BTreeSet::new(), false)
}

/// Walks a folder tree; a folder reached again through a symbolic link (`up -> ..`) is not
/// walked twice, so a link loop cannot make the walk endless.
fn walk_once(
    folder: &Path,
    files: &mut Vec<PathBuf>,
    visited: &mut std::collections::BTreeSet<PathBuf>,
    into_shared_folders: bool,
) -> Result<(), (PathBuf, std::io::Error)> {
    let here = |error: std::io::Error| (folder.to_path_buf(), error);
    if !visited.insert(std::fs::canonicalize(folder).map_err(here)?) {
        return Ok(());
    }
    for entry in std::fs::read_dir(folder).map_err(here)? {
        let entry = entry.map_err(here)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(here)?;
        if kind.is_dir() || (kind.is_symlink() && path.is_dir()) {
            if into_shared_folders || !SHARED_FOLDERS.contains(&name.as_str()) {
                walk_once(&path, files, visited, into_shared_folders)?;
            }
        } else if has_scenario_extension(&path) {
            files.push(path);
        }
    }
    Ok(())
}

/// [`discover`] for a command that needs at least one scenario: finding none is an error.
pub fn discover_at_least_one(paths: &[PathBuf]) -> Result<Vec<ScenarioFile>, String> {
    let files = discover(paths)?;
    if files.is_empty() {
        return Err(no_scenario_files(paths));
    }
    Ok(files)
}

/// What to say when the paths of a command hold no scenario file.
pub fn no_scenario_files(paths: &[PathBuf]) -> String {
    let places = paths.iter().map(|p| display_path(p)).collect::<Vec<_>>().join(", ");
    // YAML files that are catalogs or policies are there, but are not run: say so, or the
    // message would seem to deny files the user can see.
    let mut yaml_files = Vec::new();
    for path in paths.iter().filter(|path| path.is_dir()) {
        let _ = walk_once(path, &mut yaml_files, &mut std::collections::BTreeSet::new(), true);
    }
    match yaml_files.iter().filter(|file| is_shared_document(file)).count() {
        0 => format!("no scenario files (.yaml or .yml) under {places}"),
        1 => format!(
            "no scenario files under {places}: the one YAML file there is a catalog or a policy, which scenarios refer to but which does not run by itself"
        ),
        count => format!(
            "no scenario files under {places}: the {count} YAML files there are catalogs or policies, which scenarios refer to but which do not run by themselves"
        ),
    }
}

/// `.yaml` or `.yml`, in any case (`.YAML` is the same file type on every system).
pub(crate) fn has_scenario_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| extension.eq_ignore_ascii_case("yaml") || extension.eq_ignore_ascii_case("yml"))
}

/// A file's text, for a quick look before it is loaded. Only a regular file is read: reading a
/// pipe would wait for a writer forever.
fn read_regular_file(path: &Path) -> Option<String> {
    std::fs::metadata(path).is_ok_and(|metadata| metadata.is_file()).then(|| std::fs::read_to_string(path).ok()).flatten()
}

/// The title on a file's top-level `scenario:` line, read without loading the file (for a
/// file that does not load).
pub fn title_line(path: &Path) -> Option<String> {
    let text = read_regular_file(path)?;
    // The line alone, read as YAML: quotes, escapes and comments as the loader reads them.
    let line = text.lines().find(|line| line.starts_with("scenario:"))?;
    let read: std::collections::BTreeMap<String, String> = serde_saphyr::from_str(line).ok()?;
    read.get("scenario").map(|title| title.trim().to_string()).filter(|title| !title.is_empty())
}

/// A quick look at the top-level keys, without reporting anything: unreadable or invalid
/// files are scenarios (and get their errors when loaded).
fn is_shared_document(path: &Path) -> bool {
    let Some(text) = read_regular_file(path) else { return false };
    let top_keys: Vec<&str> = text
        .lines()
        .filter(|line| !line.starts_with([' ', '\t', '#', '-']) && line.contains(':'))
        .filter_map(|line| line.split(':').next())
        .map(str::trim)
        .collect();
    let has = |key: &str| top_keys.contains(&key);
    !has("scenario") && (has("offers") || (has("policy") && has("parameters")))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Pass,
    Fail,
    Error,
}

/// Everything known about one scenario's run.
pub struct ScenarioRun {
    pub path: PathBuf,
    pub display: String,
    /// The path as the user can open it (`scenarios/a/b.yaml`).
    pub shown_path: String,
    pub status: Status,
    pub title: Option<String>,
    pub policy: Option<String>,
    pub steps: usize,
    pub checks: usize,
    pub verdict: Verdict,
    pub diagnostics: Option<Diagnostics>,
    pub snapshot: Option<Comparison>,
    /// Whether a missing snapshot fails the scenario (`check`) or not (`run`).
    pub snapshot_required: bool,
    pub warnings: Vec<String>,
    pub outcome: Option<Outcome>,
    pub elapsed: std::time::Duration,
}

impl ScenarioRun {
    pub fn failure_count(&self) -> usize {
        self.verdict.failures.len() + usize::from(self.snapshot.as_ref().is_some_and(|comparison| comparison.fails(self.snapshot_required)))
    }

    pub fn snapshot_state(&self) -> &'static str {
        match &self.snapshot {
            None | Some(Comparison::NoPlace) => "none",
            Some(Comparison::Matches) => "matches",
            Some(Comparison::Missing { .. }) => "missing",
            Some(Comparison::Changed { .. }) => "changed",
            Some(Comparison::Unreadable { .. }) => "unreadable",
        }
    }

    /// Failures and errors as text (for JUnit and summaries).
    pub fn problem_text(&self) -> String {
        let mut text = String::new();
        if let Some(diagnostics) = &self.diagnostics {
            text.push_str(&diagnostics.render());
        }
        for failure in &self.verdict.failures {
            text.push_str(&failure.render(&self.shown_path));
            text.push('\n');
        }
        match &self.snapshot {
            Some(Comparison::Changed { diff, .. }) => text.push_str(diff),
            Some(Comparison::Missing { path, new_snapshot, .. }) => {
                text.push_str(&format!("no accepted snapshot at {}\n", display_path(path)));
                if self.status == Status::Fail {
                    text.push_str(&crate::snapshot::diff_from_nothing(path, new_snapshot));
                }
            }
            Some(Comparison::Unreadable { path, error, .. }) => text.push_str(&format!("cannot read the snapshot {}: {error}\n", display_path(path))),
            Some(Comparison::NoPlace) => text.push_str("no snapshot: the scenario is not under a scenarios/ folder (use --snapshots DIR)\n"),
            _ => {}
        }
        text
    }

    /// One line saying why the scenario did not pass.
    pub fn problem_summary(&self) -> String {
        let mut reasons = Vec::new();
        if let Some(diagnostics) = &self.diagnostics {
            reasons.push(format!("{} input error{}", diagnostics.len(), if diagnostics.len() == 1 { "" } else { "s" }));
        }
        let failed = self.verdict.failures.len();
        if failed > 0 {
            reasons.push(format!("{failed} of {} expectation{} failed", self.checks, if self.checks == 1 { "" } else { "s" }));
        }
        match &self.snapshot {
            Some(Comparison::Changed { .. }) => reasons.push("the outcome differs from its snapshot".to_string()),
            Some(Comparison::Unreadable { .. }) => reasons.push("its snapshot cannot be read".to_string()),
            // Only where it fails the scenario (`check`), not where it is a note (`run`).
            Some(Comparison::Missing { .. }) if self.snapshot_required => reasons.push("no accepted snapshot".to_string()),
            Some(Comparison::NoPlace) if self.snapshot_required => reasons.push("no place for a snapshot".to_string()),
            _ => {}
        }
        reasons.join("; ")
    }
}

#[derive(Clone, Debug)]
pub struct SuiteOptions {
    pub snapshots: SnapshotRoot,
    /// Compare with snapshots at all.
    pub compare_snapshots: bool,
    /// A missing snapshot fails the scenario (`cspsim check`).
    pub require_snapshots: bool,
    /// Write pending `.snap.new` files (never in CI).
    pub write_pending: bool,
    pub limits: Limits,
    pub load: LoadOptions,
    /// Run only scenarios with one of these tags (all when empty).
    pub tags: Vec<String>,
}

/// Runs one scenario; `None` when the tag filter leaves it out.
pub fn run_scenario(file: &ScenarioFile, options: &SuiteOptions) -> Option<ScenarioRun> {
    // Timing for display only (`--quiet` hides it); outcomes and reports never contain it.
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    let shown_path = display_path(&file.path);
    let mut run = ScenarioRun {
        path: file.path.clone(),
        display: file.display.clone(),
        shown_path,
        status: Status::Error,
        title: None,
        policy: None,
        steps: 0,
        checks: 0,
        verdict: Verdict::default(),
        diagnostics: None,
        snapshot: None,
        snapshot_required: options.require_snapshots,
        warnings: Vec::new(),
        outcome: None,
        elapsed: std::time::Duration::ZERO,
    };
    let loaded = match load_scenario(&file.path, &file.display, &options.load) {
        Ok(loaded) => loaded,
        Err(diagnostics) => {
            run.diagnostics = Some(diagnostics);
            run.elapsed = started.elapsed();
            return Some(run);
        }
    };
    if !options.tags.is_empty() && !loaded.tags.iter().any(|tag| options.tags.contains(tag)) {
        return None;
    }
    if let Some(population) = &loaded.population {
        run.warnings.push(format!(
            "{}: its population of {} customers is simulated by `cspsim whatif`; `run` checks the hand-written part",
            run.shown_path, population.customers
        ));
    }
    run.title = Some(loaded.title.clone());
    run.policy = Some(loaded.script.policy.name.clone());
    run.steps = loaded.script.steps.len();
    let outcome = match record_scenario(&loaded, options.limits) {
        Ok(outcome) => outcome,
        Err(error) => {
            run.diagnostics = Some(runtime_error(&loaded, &error));
            run.elapsed = started.elapsed();
            return Some(run);
        }
    };
    run.verdict = evaluate(&outcome, &loaded.expectations);
    run.checks = run.verdict.checks;
    for (rule, line) in &loaded.rules {
        if outcome.rule_hits[rule.index()] == 0 {
            run.warnings.push(format!("{}:{line}: rule {} is listed in `rules:` but this run did not exercise it", run.shown_path, rule.id()));
        }
    }
    if options.compare_snapshots {
        run.snapshot = Some(compare(&options.snapshots, &file.path, &file.display, || outcome.to_yaml(), options.write_pending));
    }
    let snapshot_failed = run.snapshot.as_ref().is_some_and(|comparison| comparison.fails(options.require_snapshots));
    run.status = if run.verdict.failures.is_empty() && !snapshot_failed { Status::Pass } else { Status::Fail };
    run.outcome = Some(outcome);
    run.elapsed = started.elapsed();
    Some(run)
}

/// An error that stopped a scenario's run, located at the step whose action or clock move
/// ran into it (or its `until:` line after the last step), with the file's line shown.
pub fn runtime_error(loaded: &crate::scenario::load::LoadedScenario, error: &crate::engine::EngineError) -> Diagnostics {
    let instants: Vec<crate::engine::time::Instant> = loaded.script.steps.iter().map(|step| step.at).collect();
    let line = match error.step_index(&instants) {
        Some(step) => loaded.expectations.get(step).map_or(0, |e| e.line),
        None => loaded.until_line,
    };
    let source = std::fs::read_to_string(&loaded.path).unwrap_or_default();
    // The caret goes under the step's `-` (or `until`), past the indentation.
    let column = match line {
        0 => 0,
        _ => source.lines().nth(line as usize - 1).map_or(1, |text| text.len() - text.trim_start().len() + 1),
    };
    let diagnostic = Diagnostic::new(&loaded.path, Position::new(line, column as u32), error.to_string());
    Diagnostics(vec![diagnostic.with_source(&source)])
}

/// Runs every file with `jobs` threads; results come back in file order.
pub fn run_all(files: &[ScenarioFile], options: &SuiteOptions, jobs: usize, progress: &indicatif::ProgressBar) -> Vec<ScenarioRun> {
    // No more threads than scenarios: idle threads would only be started and stopped.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs.clamp(1, files.len().max(1))).build().expect("a thread pool");
    pool.install(|| {
        let runs: Vec<Option<ScenarioRun>> = files
            .par_iter()
            .map(|file| {
                let run = run_scenario(file, options);
                progress.inc(1);
                run
            })
            .collect();
        runs.into_iter().flatten().collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_is_read_from_its_line_as_the_loader_reads_it() {
        let folder = tempfile::tempdir().unwrap();
        let title = |line: &str| {
            let path = folder.path().join("s.yaml");
            std::fs::write(&path, format!("{line}\nsteps: [\n")).unwrap();
            title_line(&path)
        };
        assert_eq!(title("scenario: 'It''s single quoted'").as_deref(), Some("It's single quoted"));
        assert_eq!(title("scenario: Plain title # with a comment").as_deref(), Some("Plain title"));
        assert_eq!(title("scenario: \"Quoted\" # comment").as_deref(), Some("Quoted"));
        assert_eq!(title("scenario: >"), None);
    }
}
