//! The `stator` binary: parses the command line and runs the server.

fn main() {
    let config = stator_server::config::parse();
    if let Err(message) = stator_server::run(config) {
        eprintln!("stator: {message}");
        std::process::exit(1);
    }
}
