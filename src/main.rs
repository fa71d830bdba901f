//! The `cspsim` binary: parse the command line, run the command, exit with its code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = match cspsim::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with success; usage mistakes are exit code 2.
            let _ = error.print();
            return std::process::ExitCode::from(if error.use_stderr() { cspsim::app::EXIT_INVALID } else { cspsim::app::EXIT_OK });
        }
    };
    remove_unfinished_outputs_on_interrupt();
    std::process::ExitCode::from(cspsim::app::main_with(cli))
}

/// Ctrl-C, SIGTERM or SIGHUP: outputs are written beside their places and renamed when
/// complete; an interruption waits for a set being renamed to be whole, removes the unfinished
/// ones, and then lets the signal end the process as it would have (a shell loop stops, the
/// exit status says which signal). Nothing is printed: stderr may be a closed or full pipe.
#[cfg(unix)]
fn remove_unfinished_outputs_on_interrupt() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else { return };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            cspsim::report::remove_unfinished_outputs_then(|| {
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                // Only if the default action did not end the process.
                std::process::exit(i32::from(cspsim::app::EXIT_INTERRUPTED))
            });
        }
    });
}

#[cfg(not(unix))]
fn remove_unfinished_outputs_on_interrupt() {}
