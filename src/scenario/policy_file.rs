//! Policy documents: the built-ins and a user's own file (`policy: path/to/file.yaml`).

use std::path::Path;

use crate::policy::Policy;
use crate::scenario::builder::Builder;
use crate::scenario::builtin_policies as builtin;
use crate::scenario::diagnostic::Diagnostics;
use crate::scenario::model::PolicyFile;
use crate::scenario::source::{parse_mapping, read_text};

/// Loads a policy file from disk.
pub fn load_policy_file(path: &Path) -> Result<Policy, Diagnostics> {
    let text = read_text(path)?;
    load_policy_text(path, &text)
}

/// Loads a policy document from its text. `extends` may name a built-in policy.
pub fn load_policy_text(path: &Path, text: &str) -> Result<Policy, Diagnostics> {
    let root = parse_mapping(path, text, "a policy", "`policy` and `parameters`")?;
    let mut builder = Builder::new(path, text);
    let Some(file) = builder.decode_recovering::<PolicyFile>(&root) else {
        return builder.finish(None);
    };
    let mut policy = match &file.extends {
        None => Policy::base(),
        Some(name) => {
            // A document cannot extend itself; checked before the lookup, so that a built-in
            // naming itself is refused rather than loaded again from inside its own loading.
            let extended = if name.value == file.policy.value { None } else { builtin::find(&name.value) };
            extended.unwrap_or_else(|| {
                builder.unknown_name(name, "built-in policy", builtin::names());
                Policy::base()
            })
        }
    };
    policy.name = file.policy.value.clone();
    policy.description = file.description.clone().unwrap_or_default().trim().to_string();
    if let Some(parameters) = &file.parameters {
        builder.apply_parameters(&mut policy, parameters.iter());
    }
    builder.finish(Some(policy))
}
