//! Policy documents: the built-ins and a user's own file (`policy: path/to/file.yaml`).

use std::path::Path;

use crate::policy::Policy;
use crate::scenario::builder::Builder;
use crate::scenario::builtin_policies as builtin;
use crate::scenario::diagnostic::Diagnostics;
use crate::scenario::model::PolicyFile;
use crate::scenario::source::{parse_mapping, read_text};

/// Loads a user's policy file from disk.
pub fn load_policy_file(path: &Path) -> Result<Policy, Diagnostics> {
    let text = read_text(path)?;
    load_document(path, &text, true)
}

/// Loads a built-in policy document from its text. `extends` may name a built-in policy.
pub fn load_policy_text(path: &Path, text: &str) -> Result<Policy, Diagnostics> {
    load_document(path, text, false)
}

/// A policy's name heads columns and chart legends; longer is a mistake, not a name.
pub const MAX_POLICY_NAME_CHARS: usize = 64;

fn load_document(path: &Path, text: &str, users_own: bool) -> Result<Policy, Diagnostics> {
    let (root, findings) = parse_mapping(path, text, "a policy", "`policy` and `parameters`")?;
    let mut builder = Builder::new(path, text);
    builder.report_all(findings);
    let Some(file) = builder.decode_recovering::<PolicyFile>(&root) else {
        return builder.finish(None);
    };
    // The name heads the policy's column in every report: a user's policy must not go
    // unnamed, nor pass for a built-in one with other values (a copy of `policies/*.yaml` as
    // shipped is that built-in, and is welcome under its name).
    if users_own && file.policy.value.trim().is_empty() {
        builder.error_at(&file.policy, "a policy needs a name", "a name for the reports' columns, such as `csp-2020-72h`");
    }
    if builder.refuse_control_characters(&file.policy, "the policy's name") && file.policy.value.chars().count() > MAX_POLICY_NAME_CHARS {
        builder.error_at(
            &file.policy,
            format!("the policy's name is {} characters long", file.policy.value.chars().count()),
            format!("a name of at most {MAX_POLICY_NAME_CHARS} characters: it heads a column of every report"),
        );
    }
    let builtin_of_that_name = if users_own { builtin::find(&file.policy.value) } else { None };
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
    if let Some(builtin) = builtin_of_that_name
        && builtin != policy
    {
        builder.error_at(
            &file.policy,
            format!(
                "`{}` is the name of a built-in policy, and this file's values differ from it; a policy of your own needs a name of its own",
                file.policy.value
            ),
            format!("another name, such as `{}-custom`", file.policy.value),
        );
    }
    builder.finish(Some(policy))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users_policy(text: &str) -> Result<Policy, String> {
        load_document(Path::new("mine.yaml"), text, true).map_err(|diagnostics| diagnostics.render())
    }

    #[test]
    fn a_users_policy_needs_a_name_of_its_own() {
        let taken = users_policy("policy: nce-2022\nextends: csp-2020\n").unwrap_err();
        assert!(taken.contains("`nce-2022` is the name of a built-in policy") && taken.contains("mine.yaml:1:9"), "{taken}");
        let shipped = include_str!("../../policies/nce-2022.yaml");
        assert_eq!(users_policy(shipped).unwrap(), builtin::find("nce-2022").unwrap(), "the shipped file is the built-in");
        let empty = users_policy("policy: \"\"\nextends: csp-2020\n").unwrap_err();
        assert!(empty.contains("a policy needs a name"), "{empty}");
        let own = users_policy("policy: nce-14d\nextends: nce-2022\nparameters: {cancel_window_monthly: 14d}\n").unwrap();
        assert_eq!(own.name, "nce-14d");
        let long = users_policy(&format!("policy: {}\nextends: csp-2020\n", "x".repeat(70_000))).unwrap_err();
        assert!(long.contains("the policy's name is 70000 characters long"), "{long}");
        let escape = users_policy("policy: \"a\\e[2Jb\"\nextends: csp-2020\n").unwrap_err();
        assert!(escape.contains("control character U+001B"), "{escape}");
    }
}
