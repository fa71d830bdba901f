//! What-if analysis (work in progress in this commit: policy resolution only).

pub mod bench;

use crate::cli::WhatifArgs;
use crate::policy::Policy;

/// A policy by built-in name or file path, or a rendered error.
pub fn resolve_policy(name: &str) -> Result<Policy, String> {
    if let Some(policy) = crate::policy::builtin::find(name) {
        return Ok(policy);
    }
    let path = std::path::Path::new(name);
    if path.exists() {
        return crate::scenario::policy_file::load_policy_file(path).map_err(|d| d.render());
    }
    let suggestion = crate::scenario::suggest::nearest(name, crate::policy::builtin::names()).map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
    Err(format!(
        "error: `{name}` is neither a built-in policy ({}) nor a policy file{suggestion}\n",
        crate::policy::builtin::names().collect::<Vec<_>>().join(", ")
    ))
}

pub fn command(_args: &WhatifArgs, _style: crate::app::Style) -> u8 {
    eprintln!("error: whatif is not implemented yet");
    crate::app::EXIT_INVALID
}
