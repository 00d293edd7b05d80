//! The simulator binary. See the crate README for usage.

#![forbid(unsafe_code)]

use cellular_sim::config::{parse_args, usage, Cli};

fn main() {
    let code = match parse_args(std::env::args().skip(1)) {
        Ok(Cli::Help) => {
            println!("{}", usage());
            0
        }
        Ok(Cli::Run(cfg)) => cellular_sim::runtime::run(*cfg),
        Err(e) => {
            eprintln!("cellular_sim: {e}");
            2
        }
    };
    std::process::exit(code);
}
