//! cspsim: a simulation and conformance harness for the subscription workflows of Microsoft
//! Partner Center's CSP program. See ARCHITECTURE.md for the map.

pub mod app;
pub mod cli;
pub mod engine;
pub mod expect;
pub mod explain;
pub mod outcome;
pub mod policy;
pub mod population;
pub mod report;
pub mod scenario;
pub mod snapshot;
pub mod suite;
pub mod whatif;
