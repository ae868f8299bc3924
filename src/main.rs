//! The `mlgate` binary: parse the arguments, call the library, map the outcome to an exit code.
//! 0 pass, 1 a gate failed, 2 could not run; a panic (101) is always a bug.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = mlgate::cli::Cli::parse();
    match mlgate::commands::run(cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            ExitCode::from(mlgate::Exit::CouldNotRun.code())
        }
    }
}
