//! The benchmark command (work in progress).

pub fn command(_args: &crate::cli::BenchArgs) -> u8 {
    eprintln!("error: bench is not implemented yet");
    crate::app::EXIT_INVALID
}
