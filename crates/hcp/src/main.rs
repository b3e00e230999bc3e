//! `hcp`: the 好差评 program. Everything is in the library; this only runs it.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    hcp::cli::main()
}
