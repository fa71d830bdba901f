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
    std::process::ExitCode::from(cspsim::app::main_with(cli))
}
