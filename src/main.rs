//! The `s2s` command: subcommands over the s2s-ensemble library. No science in here.

fn main() -> std::process::ExitCode {
    s2s_ensemble_cli::run()
}

#[path = "cli/mod.rs"]
mod s2s_ensemble_cli;
