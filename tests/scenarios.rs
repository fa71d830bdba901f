//! The bundled suite as tests: every scenario under `scenarios/` must load, meet its own
//! expectations, and match its reviewed snapshot under `snapshots/` (same path, `.snap`).
//! Adding a test means adding a scenario file and reviewing its snapshot
//! (`cargo insta review` or `cspsim accept`).

use std::path::Path;

use cspsim::engine::Limits;
use cspsim::scenario::load::{LoadOptions, load_scenario};

#[test]
fn every_bundled_scenario_passes_and_matches_its_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    insta::glob!("../scenarios", "**/*.yaml", |path| {
        let relative = path.strip_prefix(root.join("scenarios")).expect("globbed under scenarios/");
        if relative.starts_with("catalogs") || relative.starts_with("policies") {
            return;
        }
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
}
