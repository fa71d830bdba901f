//! Invalid input, one file per class of mistake under `tests/inputs/invalid/`: each must be
//! refused with every error of the file, each naming file, line and column, what was expected
//! and (for names) the nearest valid one. The rendered messages are snapshotted under
//! `snapshots/errors/`, so a change in wording is reviewed like any other output.

use std::path::Path;

use cspsim::scenario::load::{LoadOptions, load_scenario};

#[test]
fn every_invalid_input_is_refused_with_located_messages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    insta::glob!("inputs/invalid", "*.yaml", |path| {
        let relative = path.strip_prefix(root).expect("inside the crate");
        let name = path.file_stem().expect("a file name").to_string_lossy().into_owned();
        let diagnostics = match load_scenario(relative, &name, &LoadOptions::default()) {
            Ok(_) => panic!("{} should not load", relative.display()),
            Err(diagnostics) => diagnostics,
        };
        for diagnostic in &diagnostics.0 {
            assert_eq!(diagnostic.file, relative, "every message names the file");
            assert!(!diagnostic.message.is_empty());
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(root.join("snapshots/errors"));
        settings.set_prepend_module_to_snapshot(false);
        settings.remove_snapshot_suffix();
        settings.bind(|| insta::assert_snapshot!(name, diagnostics.render(), "diagnostics"));
    });
}
