//! The `stator` binary: parses the command line and runs the server (or `stator dump`).

/// mimalloc instead of the system allocator: see crates/server/Cargo.toml and
/// docs/benchmarks.md ("What the profiles showed").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let outcome = match stator_server::config::parse() {
        stator_server::config::Command::Serve(config) => {
            stator_server::init_logging(config.log_level).and_then(|()| stator_server::run(config))
        }
        stator_server::config::Command::Dump(config) => stator_server::dump(&config),
    };
    if let Err(message) = outcome {
        eprintln!("stator: {message}");
        std::process::exit(1);
    }
}
