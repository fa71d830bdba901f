//! cspsim: a simulation and conformance harness for the subscription workflows of Microsoft
//! Partner Center's CSP program. See ARCHITECTURE.md for the map.

pub mod engine;
pub mod policy;
pub mod scenario;
