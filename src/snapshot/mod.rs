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
        (SnapshotRoot::Folder(folder), None) => Some(folder.join(display).with_extension("snap")),
        (SnapshotRoot::Beside, Some((base, below))) => Some(base.join("snapshots").join(below).with_extension("snap")),
        (SnapshotRoot::Beside, None) => None,
    }
}

/// The folder holding the nearest `scenarios/` folder above a file, and the file's path below
/// it.
fn split_at_scenarios(path: &Path) -> Option<(PathBuf, PathBuf)> {
    let components: Vec<Component> = path.components().collect();
    let position = components.iter().rposition(|c| c.as_os_str() == "scenarios")?;
    Some((components[..position].iter().collect(), components[position + 1..].iter().collect()))
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
pub fn contents(file_text: &str) -> String {
    let text = file_text.replace("\r\n", "\n");
    let body = match text.strip_prefix("---\n") {
        Some(rest) => match rest.find("\n---\n") {
            Some(end) => rest[end + 5..].to_string(),
            None => text.clone(),
        },
        None => text.clone(),
    };
    body.trim_end().to_string()
}

/// How a scenario's outcome compares with its snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    Matches,
    /// No accepted snapshot.
    Missing {
        path: PathBuf,
        pending: Option<PathBuf>,
    },
    /// The snapshot differs: a unified diff from snapshot to outcome.
    Changed {
        path: PathBuf,
        diff: String,
        pending: Option<PathBuf>,
    },
    /// The scenario has no place for a snapshot (not under a `scenarios/` folder).
    NoPlace,
}

/// Compares an outcome with the scenario's snapshot, and writes a pending `.snap.new` on a
/// difference unless `write_pending` is false (CI).
pub fn compare(root: &SnapshotRoot, scenario: &Path, display: &str, outcome: impl FnOnce() -> String, write_pending: bool) -> std::io::Result<Comparison> {
    let Some(path) = snapshot_path(root, scenario, display) else {
        return Ok(Comparison::NoPlace);
    };
    // The outcome's text is built only once there is a snapshot to hold it.
    let outcome = outcome();
    let outcome = outcome.trim_end();
    let pending = pending_path(&path);
    let write = |pending: &Path| -> std::io::Result<Option<PathBuf>> {
        if !write_pending {
            return Ok(None);
        }
        if let Some(folder) = pending.parent() {
            std::fs::create_dir_all(folder)?;
        }
        write_atomically(pending, render(scenario, outcome).as_bytes())?;
        Ok(Some(pending.to_path_buf()))
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let accepted = contents(&text);
            if accepted == outcome {
                // A stale pending file from an earlier run would mislead `accept`.
                if write_pending && pending.exists() {
                    std::fs::remove_file(&pending)?;
                }
                return Ok(Comparison::Matches);
            }
            let diff = similar::TextDiff::from_lines(&accepted, outcome)
                .unified_diff()
                .context_radius(3)
                .header(&format!("{} (accepted)", path.display()), "outcome of this run")
                .to_string();
            let pending = write(&pending)?;
            Ok(Comparison::Changed { path, diff, pending })
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let pending = write(&pending)?;
            Ok(Comparison::Missing { path, pending })
        }
        Err(error) => Err(error),
    }
}

/// Accepts every pending snapshot under `folder` (recursively): `x.snap.new` replaces
/// `x.snap`. Returns the accepted snapshot paths, sorted.
pub fn accept_pending(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut accepted = Vec::new();
    if !folder.exists() {
        return Ok(accepted);
    }
    let mut pending = Vec::new();
    collect_pending(folder, &mut pending)?;
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

fn collect_pending(folder: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_pending(&path, found)?;
        } else if path.to_string_lossy().ends_with(".snap.new") {
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
