//! Scenario, catalog and policy files in: the file model, loading, validation and
//! diagnostics with locations. Everything here runs before the engine starts; the engine
//! receives a validated [`crate::engine::Script`] and never sees a file.

pub mod builder;
pub mod builtin_policies;
pub mod catalog_file;
pub mod countries;
pub mod currencies;
pub mod diagnostic;
pub mod load;
pub mod model;
pub mod node_de;
pub mod policy_file;
pub mod source;
pub mod write;
pub mod yaml;
