//! The bundled suite as tests: every scenario under `scenarios/` must load, meet its own
//! expectations, and match its reviewed snapshot under `snapshots/` (same path, `.snap`).
//! Adding a test means adding a scenario file and reviewing its snapshot
//! (`cargo insta review` or `cspsim accept`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cspsim::engine::Limits;
use cspsim::scenario::load::{LoadOptions, load_scenario};
use cspsim::suite::discover;

#[test]
fn every_bundled_scenario_passes_and_matches_its_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The files `cspsim run scenarios/` runs, no more and no fewer.
    let resolve = |path: &Path| std::fs::canonicalize(path).unwrap();
    let discovered: BTreeSet<PathBuf> = discover(&[root.join("scenarios")]).unwrap().iter().map(|file| resolve(&file.path)).collect();
    let visited = Mutex::new(BTreeSet::new());
    insta::glob!("../scenarios", "**/*.*", |path| {
        if !discovered.contains(&resolve(path)) {
            return; // a catalog or policy document
        }
        visited.lock().unwrap().insert(resolve(path));
        let relative = path.strip_prefix(root.join("scenarios")).expect("globbed under scenarios/");
        let display = relative.to_string_lossy().replace('\\', "/");
        let loaded = load_scenario(path, &display, &LoadOptions::default()).unwrap_or_else(|diagnostics| panic!("{display} does not load:\n{diagnostics}"));
        let outcome = cspsim::outcome::record_scenario(&loaded, Limits::default()).unwrap_or_else(|error| panic!("{display}: {error}"));
        let verdict = cspsim::expect::evaluate(&outcome, &loaded.expectations);
        let failures: Vec<String> = verdict.failures.iter().map(|f| f.render(&display)).collect();
        assert!(failures.is_empty(), "{display} fails its own expectations:\n{}", failures.join("\n"));

        let folder = root.join("snapshots").join(relative.parent().unwrap_or(Path::new("")));
        let name = relative.file_stem().expect("a file name").to_string_lossy().into_owned();
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(folder);
        settings.set_prepend_module_to_snapshot(false);
        settings.remove_snapshot_suffix();
        settings.set_omit_expression(false);
        settings.bind(|| {
            insta::allow_duplicates! {
                insta::assert_snapshot!(name, outcome.to_yaml(), "outcome");
            }
        });
    });
    assert_eq!(visited.into_inner().unwrap(), discovered, "the test and `cspsim run` must see the same scenario files");
}
