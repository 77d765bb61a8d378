//! The `eidp` binary: parse the command line and hand over to [`eidp::cli`].

fn main() -> std::process::ExitCode {
    eidp::cli::main()
}
