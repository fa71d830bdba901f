//! Scenario, catalog and policy files in: the file model, loading, validation and
//! diagnostics with locations.

pub mod diagnostic;
pub mod node_de;
pub mod suggest;
pub mod yaml;
