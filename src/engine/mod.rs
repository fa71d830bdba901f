//! The pure simulation: a scenario's script run over simulated time through the rules.
//!
//! The engine never reads the wall clock, files or the environment, and knows nothing of
//! YAML or the command line. Given the same [`Script`] it makes the same decisions in the same
//! order, every time: its state is ordered (`Vec`s indexed by creation order, a
//! `BinaryHeap` with a total order), and it has no randomness.

pub mod addon;
pub mod buy;
pub mod calendar;
pub mod cancel;
pub mod catalog;
pub mod ledger;
pub mod money;
pub mod observe;
pub mod quantity;
pub mod renew;
pub mod rules;
pub mod script;
pub mod state;
pub mod suspend;
pub mod time;
pub mod trial;
pub mod world;

pub use script::Script;
pub use world::{FinalState, Limits, ScriptSteps, StepSource, run, run_steps};

/// A run that cannot finish. Both are consequences of the input (an absurd horizon or
/// absurd numbers), reported with the step they happened in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("arithmetic overflow computing {what}{} (at {at}): the numbers are too large", step.map(|s| format!(" in step {}", s + 1)).unwrap_or_default())]
    Overflow { step: Option<usize>, what: String, at: time::Instant },
    #[error("the run produced more than {limit} events (reached at {at}); shorten the scenario's horizon or raise --max-events")]
    TooManyEvents { limit: u64, at: time::Instant, step: Option<usize> },
    #[error(
        "the run's record outgrew {} MiB after {events} events (at {at}); shorten the scenario's horizon (its `until`, or the steps' dates)",
        bytes / (1024 * 1024)
    )]
    RecordTooLarge { bytes: u64, events: u64, at: time::Instant, step: Option<usize> },
}

impl EngineError {
    /// The step whose action stopped the run, or, when the clock stopped it between steps,
    /// the first step at or after that instant (the one the clock was moving to).
    pub fn step_index(&self, step_instants: &[time::Instant]) -> Option<usize> {
        let (step, at) = match self {
            EngineError::Overflow { step, at, .. } | EngineError::TooManyEvents { step, at, .. } | EngineError::RecordTooLarge { step, at, .. } => (*step, *at),
        };
        step.or_else(|| step_instants.iter().position(|instant| *instant >= at))
    }
}
