//! Snapshots: the reviewed record of each scenario's outcome, in insta's `.snap` format.
//!
//! A scenario at `<root>/scenarios/a/b.yaml` has its snapshot at `<root>/snapshots/a/b.snap`
//! (or under `--snapshots DIR`, mirroring the path the scenario has in its run). The cargo
//! tests (insta) and the CLI read and write the same files: a mismatch writes a pending
//! `.snap.new` next to the snapshot and never touches the accepted one; `cspsim accept` (or
//! `cargo insta review`) accepts it. With `CI` set nothing is written.

use std::path::{Component, Path, PathBuf};

use crate::report::write_atomically;

/// The header insta writes for the scenario snapshots of `tests/scenarios.rs`, so that files
/// written by either tool are the same.
pub const SOURCE: &str = "tests/scenarios.rs";
pub const EXPRESSION: &str = "outcome";

/// Where snapshots live for a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotRoot {
    /// Next to the nearest `scenarios/` folder above each scenario.
    Beside,
    /// Under this folder, mirroring the scenario's path in its run.
    Folder(PathBuf),
}

/// The snapshot file of a scenario, if it has a place for one.
///
/// It depends only on where the scenario file is, never on how the run named it: below the
/// nearest `scenarios/` folder the path is mirrored. A path written without that folder
/// (`cd scenarios; cspsim run billing`, or a symbolic link) is resolved first.
pub fn snapshot_path(root: &SnapshotRoot, scenario: &Path, display: &str) -> Option<PathBuf> {
    let located = split_at_scenarios(scenario).or_else(|| {
        let resolved = std::fs::canonicalize(scenario).ok()?;
        let (base, below) = split_at_scenarios(&resolved)?;
        // Shown relative to the working folder when it is inside it, as a user would type it.
        let here = std::env::current_dir().ok().and_then(|dir| std::fs::canonicalize(dir).ok());
        let base = here.and_then(|here| base.strip_prefix(&here).ok().map(Path::to_path_buf)).unwrap_or(base);
        Some((base, below))
    });
    match (root, located) {
        (SnapshotRoot::Folder(folder), Some((_, below))) => Some(folder.join(below).with_extension("snap")),
        // Outside a `scenarios/` folder the path from the working folder is mirrored, so the
        // snapshot does not depend on which other paths a run was given.
        (SnapshotRoot::Folder(folder), None) => Some(folder.join(from_working_folder(scenario).unwrap_or_else(|| display.into())).with_extension("snap")),
        (SnapshotRoot::Beside, Some((base, below))) => Some(base.join("snapshots").join(below).with_extension("snap")),
        (SnapshotRoot::Beside, None) => None,
    }
}

/// A scenario's name that does not depend on how a run reached it (from which folder, by a
/// relative or absolute path): `scenarios/<path below the nearest scenarios folder>`, or
/// `None` outside one. CI systems track test cases by it across runs.
pub fn stable_name(scenario: &Path) -> Option<String> {
    let below = split_at_scenarios(scenario).or_else(|| split_at_scenarios(&std::fs::canonicalize(scenario).ok()?))?.1;
    Some(Path::new("scenarios").join(below).to_string_lossy().replace('\\', "/"))
}

/// A scenario's path relative to the working folder, without `.` or `..` steps; `None` when
/// it is not inside the working folder.
fn from_working_folder(scenario: &Path) -> Option<PathBuf> {
    let here = std::fs::canonicalize(std::env::current_dir().ok()?).ok()?;
    let resolved = std::fs::canonicalize(scenario).ok()?;
    resolved.strip_prefix(&here).ok().map(Path::to_path_buf)
}

/// The folder holding the nearest `scenarios/` folder above a file, and the file's path below
/// it.
fn split_at_scenarios(path: &Path) -> Option<(PathBuf, PathBuf)> {
    let components: Vec<Component> = path.components().collect();
    let position = components.iter().rposition(|c| c.as_os_str() == "scenarios")?;
    Some((components[..position].iter().collect(), components[position + 1..].iter().collect()))
}

/// The scenario a snapshot (or pending snapshot) in a `snapshots/` folder belongs to:
/// `snapshots/a/b.snap` is the snapshot of `scenarios/a/b.yaml` (or `.yml`), if that exists.
pub fn scenario_of_snapshot(snapshot: &Path) -> Option<PathBuf> {
    let text = snapshot.to_str()?;
    let stem = text.strip_suffix(".snap.new").or_else(|| text.strip_suffix(".snap"))?;
    let components: Vec<Component> = Path::new(stem).components().collect();
    let position = components.iter().rposition(|c| c.as_os_str() == "snapshots")?;
    let mut scenario: PathBuf = components[..position].iter().collect();
    scenario.push("scenarios");
    scenario.extend(&components[position + 1..]);
    ["yaml", "yml", "YAML", "YML"].into_iter().map(|extension| scenario.with_extension(extension)).find(|candidate| candidate.is_file())
}

/// Snapshots under the snapshot folder of `folder` (a folder of scenarios a run was given)
/// that belong to none of `expected`: left behind when a scenario was removed or renamed.
/// Only scenario snapshots count (their `input_file` is under `scenarios/`); other insta
/// snapshots kept in the same tree (the loader's error messages) are not the suite's.
pub fn unreferenced(root: &SnapshotRoot, folder: &Path, expected: &std::collections::BTreeSet<PathBuf>) -> Vec<PathBuf> {
    let as_given = split_at_scenarios(folder);
    let snapshot_folder = match (root, as_given) {
        (SnapshotRoot::Beside, Some((base, below))) => base.join("snapshots").join(below),
        (SnapshotRoot::Folder(snapshots), as_given) => {
            let Some((_, below)) = as_given.or_else(|| split_at_scenarios(&std::fs::canonicalize(folder).ok()?)) else { return Vec::new() };
            snapshots.join(below)
        }
        (SnapshotRoot::Beside, None) => return Vec::new(),
    };
    let mut found = Vec::new();
    let _ = collect_files(&snapshot_folder, &mut found, &|name| name.ends_with(".snap") || name.ends_with(".snap.new"));
    found.sort();
    // Compared as resolved paths: a file given as `scenarios/x.yaml` and its folder as
    // `./scenarios` or an absolute path name the same snapshot in different spellings.
    let resolved = |path: &Path| {
        let folder = path.parent().and_then(|parent| std::fs::canonicalize(if parent.as_os_str().is_empty() { Path::new(".") } else { parent }).ok());
        match (folder, path.file_name()) {
            (Some(folder), Some(name)) => folder.join(name),
            _ => path.to_path_buf(),
        }
    };
    let expected: std::collections::BTreeSet<PathBuf> = expected.iter().map(|path| resolved(path)).collect();
    found
        .into_iter()
        .filter(|file| {
            let snapshot = if file.to_string_lossy().ends_with(".new") { file.with_extension("") } else { file.clone() };
            !expected.contains(&snapshot) && !expected.contains(&resolved(&snapshot))
        })
        .filter(|file| std::fs::read_to_string(file).is_ok_and(|text| text.lines().take(6).any(|line| line.starts_with("input_file: scenarios/"))))
        .collect()
}

pub fn pending_path(snapshot: &Path) -> PathBuf {
    let mut name = snapshot.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// The `input_file` insta records: the scenario's path from the repository root, if it
/// sits in a `scenarios/` folder.
fn input_file(scenario: &Path) -> String {
    let resolved = if split_at_scenarios(scenario).is_none() {
        std::fs::canonicalize(scenario).unwrap_or_else(|_| scenario.to_path_buf())
    } else {
        scenario.to_path_buf()
    };
    let text = resolved.to_string_lossy().replace('\\', "/");
    match text.rfind("scenarios/") {
        Some(index) => text[index..].to_string(),
        None => text,
    }
}

/// The file text for a snapshot.
pub fn render(scenario: &Path, contents: &str) -> String {
    format!("---\nsource: {SOURCE}\nexpression: {EXPRESSION}\ninput_file: {}\n---\n{}\n", input_file(scenario), contents.trim_end())
}

/// The contents of a snapshot file (after its metadata header), normalized as insta does.
/// A snapshot file's text as written by us: an editor may have saved it with a byte-order mark
/// or Windows line ends.
fn normalized(file_text: &str) -> String {
    file_text.strip_prefix('\u{feff}').unwrap_or(file_text).replace("\r\n", "\n")
}

pub fn contents(file_text: &str) -> String {
    let text = normalized(file_text);
    let body = match text.strip_prefix("---\n") {
        Some(rest) => match rest.find("\n---\n") {
            Some(end) => rest[end + 5..].to_string(),
            None => text.clone(),
        },
        None => text.clone(),
    };
    body.trim_end().to_string()
}

/// What became of the new version of a snapshot that is missing or changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pending {
    /// Written as `x.snap.new`, for review.
    Written(PathBuf),
    /// Not written: `CI` is set.
    NotWritten,
    /// Writing it failed.
    Failed(String),
}

/// How a scenario's outcome compares with its snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    Matches,
    /// No accepted snapshot; `new_snapshot` is the file text it would have.
    Missing {
        path: PathBuf,
        pending: Pending,
        new_snapshot: String,
    },
    /// The snapshot differs: a unified diff from the snapshot file to the new version of it,
    /// with the file's own line numbers.
    Changed {
        path: PathBuf,
        diff: String,
        pending: Pending,
    },
    /// A snapshot file is there but cannot be read (not text, a folder, no permission): a
    /// failure, never a pass.
    Unreadable {
        path: PathBuf,
        error: String,
        pending: Pending,
    },
    /// The scenario has no place for a snapshot (not under a `scenarios/` folder).
    NoPlace,
}

impl Comparison {
    /// Whether the scenario fails by its snapshot (`require` for `check`: a missing one too).
    pub fn fails(&self, require: bool) -> bool {
        match self {
            Comparison::Matches => false,
            Comparison::Changed { .. } | Comparison::Unreadable { .. } => true,
            Comparison::Missing { .. } | Comparison::NoPlace => require,
        }
    }

    pub fn pending(&self) -> Option<&Pending> {
        match self {
            Comparison::Missing { pending, .. } | Comparison::Changed { pending, .. } | Comparison::Unreadable { pending, .. } => Some(pending),
            _ => None,
        }
    }
}

/// Compares an outcome with the scenario's snapshot, and writes a pending `.snap.new` on a
/// difference unless `write_pending` is false (CI).
pub fn compare(root: &SnapshotRoot, scenario: &Path, display: &str, outcome: impl FnOnce() -> String, write_pending: bool) -> Comparison {
    let Some(path) = snapshot_path(root, scenario, display) else {
        return Comparison::NoPlace;
    };
    // The outcome's text is built only once there is a snapshot to hold it.
    let outcome = outcome();
    let outcome = outcome.trim_end();
    let pending = pending_path(&path);
    let new_snapshot = render(scenario, outcome);
    let write = |pending: &Path| -> Pending {
        if !write_pending {
            return Pending::NotWritten;
        }
        let written = pending.parent().map_or(Ok(()), crate::report::create_folder).and_then(|()| write_atomically(pending, new_snapshot.as_bytes()));
        match written {
            Ok(()) => Pending::Written(pending.to_path_buf()),
            Err(error) => Pending::Failed(format!("cannot write {}: {error}", pending.display())),
        }
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            // Another test's snapshot in the place this scenario's would take (a scenario
            // folder named like `snapshots/errors/`, the invalid-input tests'): neither
            // overwritten nor compared.
            if let Some(owner) = header_source(&text).filter(|source| *source != SOURCE) {
                let error =
                    format!("it is the snapshot of {owner}, not of a scenario: rename the scenario's folder so that its snapshots do not take that place");
                return Comparison::Unreadable { path, error, pending: Pending::NotWritten };
            }
            if contents(&text) == outcome {
                // A stale pending file from an earlier run would mislead `accept`.
                if write_pending && pending.exists() {
                    let _ = std::fs::remove_file(&pending);
                }
                return Comparison::Matches;
            }
            // The whole files are compared, so the hunks' line numbers are the file's.
            let accepted = format!("{}\n", normalized(&text).trim_end());
            let diff = similar::TextDiff::from_lines(&accepted, &new_snapshot)
                .unified_diff()
                .context_radius(3)
                .header(&format!("{} (accepted)", path.display()), "outcome of this run")
                .to_string();
            let pending = write(&pending);
            Comparison::Changed { path, diff, pending }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let pending = write(&pending);
            Comparison::Missing { path, pending, new_snapshot }
        }
        Err(error) => Comparison::Unreadable { path, error: error.to_string(), pending: write(&pending) },
    }
}

/// What a missing snapshot would hold, as a unified diff from nothing (for logs and JUnit,
/// where there is no `.snap.new` to open).
pub fn diff_from_nothing(path: &Path, new_snapshot: &str) -> String {
    similar::TextDiff::from_lines("", new_snapshot)
        .unified_diff()
        .header(&format!("{} (none accepted)", crate::scenario::diagnostic::display_path(path)), "outcome of this run")
        .to_string()
}

/// The `source:` of a snapshot's header (the test that owns it), if it has one.
fn header_source(text: &str) -> Option<&str> {
    let header = text.strip_prefix("---\n")?.split("\n---").next()?;
    header.lines().find_map(|line| line.strip_prefix("source: ")).map(str::trim)
}

/// Accepts every pending snapshot under `folder` (recursively): `x.snap.new` replaces
/// `x.snap`. Returns the accepted snapshot paths, sorted.
pub fn accept_pending(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut accepted = Vec::new();
    if !folder.exists() {
        return Ok(accepted);
    }
    let mut pending = Vec::new();
    collect_files(folder, &mut pending, &|name| name.ends_with(".snap.new"))?;
    pending.sort();
    for file in pending {
        accepted.push(accept_one(&file)?);
    }
    Ok(accepted)
}

/// Accepts one pending snapshot: `x.snap.new` becomes `x.snap`, in one rename (the pending
/// file was itself written whole). Returns the snapshot's path.
pub fn accept_one(pending: &Path) -> std::io::Result<PathBuf> {
    let target = pending.with_extension(""); // x.snap.new -> x.snap
    std::fs::rename(pending, &target)?;
    Ok(target)
}

fn collect_files(folder: &Path, found: &mut Vec<PathBuf>, wanted: &dyn Fn(&str) -> bool) -> std::io::Result<()> {
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_files(&path, found, wanted)?;
        } else if wanted(&path.to_string_lossy()) {
            found.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_mirror_the_scenarios_folder() {
        let path = snapshot_path(&SnapshotRoot::Beside, Path::new("repo/scenarios/billing/x.yaml"), "billing/x.yaml");
        assert_eq!(path, Some(PathBuf::from("repo/snapshots/billing/x.snap")));
        assert_eq!(snapshot_path(&SnapshotRoot::Beside, Path::new("elsewhere/x.yaml"), "x.yaml"), None);
        let folder = SnapshotRoot::Folder(PathBuf::from("snaps"));
        assert_eq!(snapshot_path(&folder, Path::new("a/x.yaml"), "a/x.yaml"), Some(PathBuf::from("snaps/a/x.snap")));
    }

    #[test]
    fn contents_skip_the_header() {
        let text = render(Path::new("scenarios/a.yaml"), "x: 1\n");
        assert_eq!(contents(&text), "x: 1");
        assert!(text.contains("input_file: scenarios/a.yaml"));
    }
}
