//! The `stator` binary: parses the command line and runs the server.

/// mimalloc instead of the system allocator: see crates/server/Cargo.toml and
/// docs/benchmarks.md ("What the profiles showed").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let config = stator_server::config::parse();
    if let Err(message) =
        stator_server::init_logging(config.log_level).and_then(|()| stator_server::run(config))
    {
        eprintln!("stator: {message}");
        std::process::exit(1);
    }
}
