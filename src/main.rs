//! The `eidp` binary: parse the command line and hand over to [`eidp::cli`].

/// mimalloc instead of glibc malloc: the token paths allocate many small short-lived buffers
/// (JSON, JWTs, rows), and glibc's malloc and its fastbin consolidation were ~10 % of a
/// refresh's CPU in the profile.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    eidp::cli::main()
}
