//! cspsim: a simulation and conformance harness for the subscription workflows of Microsoft
//! Partner Center's CSP program. See ARCHITECTURE.md for the map.

/// `print!` to standard output, except that a reader that went away (`cspsim explain X | head`)
/// ends the program quietly, as it does any Unix filter, instead of panicking.
macro_rules! say {
    ($($argument:tt)*) => { $crate::app::write_stdout(format_args!($($argument)*)) };
}

/// `println!` with the same care as [`say!`].
macro_rules! sayln {
    () => { $crate::app::write_stdout(format_args!("\n")) };
    ($($argument:tt)*) => { $crate::app::write_stdout(format_args!("{}\n", format_args!($($argument)*))) };
}

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
pub mod suggest;
pub mod suite;
pub mod whatif;
