//! The built-in policy documents, embedded in the binary. They are ordinary policy files
//! (`policies/*.yaml`), read by the same loader as a user's own.

use std::sync::OnceLock;

use crate::policy::Policy;

/// Name and text of every built-in policy, in the order `cspsim policies` lists them.
pub const DOCUMENTS: &[(&str, &str)] = &[
    ("csp-2020", include_str!("../../policies/csp-2020.yaml")),
    ("marketplace-72h", include_str!("../../policies/marketplace-72h.yaml")),
    ("nce-2022", include_str!("../../policies/nce-2022.yaml")),
    ("sovereign-60d", include_str!("../../policies/sovereign-60d.yaml")),
];

pub fn names() -> impl Iterator<Item = &'static str> + Clone {
    DOCUMENTS.iter().map(|(name, _)| *name)
}

/// A built-in policy by name. The documents are part of the program and tested, so a
/// document that does not load is a bug, not an input error. Each is parsed once per
/// process: every scenario load asks for one.
pub fn find(name: &str) -> Option<Policy> {
    static LOADED: [OnceLock<Policy>; DOCUMENTS.len()] = [const { OnceLock::new() }; DOCUMENTS.len()];
    let index = DOCUMENTS.iter().position(|(n, _)| *n == name)?;
    let policy = LOADED[index].get_or_init(|| {
        let (_, text) = DOCUMENTS[index];
        let path = std::path::PathBuf::from(format!("<built-in policy {name}>"));
        match crate::scenario::policy_file::load_policy_text(&path, text) {
            Ok(policy) => policy,
            Err(diagnostics) => panic!("built-in policy {name} does not load:\n{diagnostics}"),
        }
    });
    Some(policy.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_loads_and_csp_2020_states_every_parameter() {
        for name in names() {
            let policy = find(name).unwrap();
            assert_eq!(policy.name, name);
        }
        let (_, text) = DOCUMENTS[0];
        for parameter in crate::policy::PARAMETERS {
            assert!(text.contains(&format!("\n  {}:", parameter.name)), "csp-2020 does not state {}", parameter.name);
        }
        assert_eq!(find("csp-2020").unwrap(), Policy { description: find("csp-2020").unwrap().description, ..Policy::base() });
    }
}
