//! Policy documents: the built-ins and a user's own file (`policy: path/to/file.yaml`).

use std::path::Path;

use crate::policy::{Policy, builtin};
use crate::scenario::builder::Builder;
use crate::scenario::diagnostic::Diagnostics;
use crate::scenario::model::PolicyFile;
use crate::scenario::source::{parse_mapping, read_text};

/// Loads a policy file from disk.
pub fn load_policy_file(path: &Path) -> Result<Policy, Diagnostics> {
    let text = read_text(path)?;
    load_policy_text(path, &text, 0)
}

/// Loads a policy document from its text. `extends` may name a built-in policy.
pub fn load_policy_text(path: &Path, text: &str, _depth: u32) -> Result<Policy, Diagnostics> {
    let root = parse_mapping(path, text, "a policy", "`policy` and `parameters`")?;
    let mut builder = Builder::new(path, text);
    let Some(file) = builder.decode::<PolicyFile>(&root) else {
        return builder.finish(None);
    };
    let mut policy = match &file.extends {
        None => Policy::base(),
        Some(name) => match builtin::find(&name.value).filter(|_| name.value != file.policy.value) {
            Some(policy) => policy,
            None => {
                builder.unknown_name(name, "built-in policy", builtin::names());
                Policy::base()
            }
        },
    };
    policy.name = file.policy.value.clone();
    policy.description = file.description.clone().unwrap_or_default().trim().to_string();
    if let Some(parameters) = &file.parameters {
        builder.apply_parameters(&mut policy, parameters.iter());
    }
    builder.finish(Some(policy))
}
