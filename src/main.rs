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
    // Ctrl-C or SIGTERM: outputs are written beside their places and renamed when complete;
    // an interruption removes the unfinished ones (after any set being renamed is whole).
    let _ = ctrlc::set_handler(|| {
        cspsim::report::remove_unfinished_outputs_then(|| {
            eprintln!("\ninterrupted: outputs already in place are whole, unfinished ones were removed");
            std::process::exit(i32::from(cspsim::app::EXIT_INTERRUPTED))
        });
    });
    std::process::ExitCode::from(cspsim::app::main_with(cli))
}
