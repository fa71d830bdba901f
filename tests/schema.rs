//! The JSON Schemas in `schemas/` are generated from the loader's own types; they must be
//! current, must accept every bundled file, and must reject what the loader rejects for
//! structure (unknown keys, wrong types).

use std::path::{Path, PathBuf};

use cspsim::scenario::model::{SchemaKind, schema_json};
use cspsim::scenario::yaml::{Node, NodeValue, parse};
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn to_json(node: &Node) -> Value {
    match &node.value {
        NodeValue::Null => Value::Null,
        NodeValue::Bool(value) => Value::Bool(*value),
        NodeValue::Integer(value) => serde_json::json!(*value as i64),
        NodeValue::Float => serde_json::json!(node.spelling.parse::<f64>().unwrap_or(0.0)),
        NodeValue::Text(text) => Value::String(text.clone()),
        NodeValue::Sequence(items) => Value::Array(items.iter().map(to_json).collect()),
        NodeValue::Mapping(entries) => Value::Object(entries.iter().map(|(k, v)| (k.scalar_text().unwrap_or_default().to_string(), to_json(v))).collect()),
    }
}

fn yaml_files(folder: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            found.push(path);
        }
    }
}

fn validator(kind: SchemaKind) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&schema_json(kind)).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn the_shipped_schemas_are_current() {
    for (kind, file) in [(SchemaKind::Scenario, "scenario"), (SchemaKind::Catalog, "catalog"), (SchemaKind::Policy, "policy")] {
        let path = root().join(format!("schemas/{file}.schema.json"));
        let shipped = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(shipped == schema_json(kind), "{} is out of date: run `cargo run -- schema {file} > schemas/{file}.schema.json`", path.display());
    }
}

#[test]
fn every_bundled_file_is_valid_against_its_schema() {
    let scenarios = validator(SchemaKind::Scenario);
    let catalogs = validator(SchemaKind::Catalog);
    let policies = validator(SchemaKind::Policy);
    let mut files = Vec::new();
    yaml_files(&root().join("scenarios"), &mut files);
    yaml_files(&root().join("policies"), &mut files);
    files.sort();
    assert!(files.len() > 5);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let json = to_json(&parse(&text).unwrap());
        let validator = if file.starts_with(root().join("policies")) {
            &policies
        } else if file.components().any(|c| c.as_os_str() == "catalogs") {
            &catalogs
        } else {
            &scenarios
        };
        let errors: Vec<String> = validator.iter_errors(&json).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{} does not match its schema:\n{}", file.display(), errors.join("\n"));
    }
}

#[test]
fn the_schema_rejects_unknown_keys_and_wrong_types() {
    let scenarios = validator(SchemaKind::Scenario);
    // bad-policy: a misspelt policy parameter (`cancel_window_montly`).
    for name in ["unknown-keys", "wrong-types", "duplicate-keys", "bad-policy"] {
        let text = std::fs::read_to_string(root().join(format!("tests/inputs/invalid/{name}.yaml"))).unwrap();
        let Ok(node) = parse(&text) else { continue };
        assert!(!scenarios.is_valid(&to_json(&node)), "{name} should not match the schema");
    }
}
