//! `sabledb [CONFIG.ini] [--option value …]`: starts the server. Command-line options win over the file.

use tracing_subscriber::EnvFilter;

// Commands allocate small buffers at a high rate; mimalloc is markedly cheaper than glibc malloc for that (see
// docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("usage: sabledb [CONFIG.ini] [--option value ...]\nEvery option of sabledb.ini can be given on the command line.");
        return;
    }
    if args.iter().any(|a| a == "--version" || a == "-v") {
        println!("sabledb {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    let config = match libsable::Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sabledb: {e}");
            std::process::exit(1);
        }
    };
    let level = config.str("log_level").to_string();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level)))
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = libsable::run(config) {
        eprintln!("sabledb: {e}");
        std::process::exit(1);
    }
}
