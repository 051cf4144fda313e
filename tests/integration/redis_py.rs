//! End-to-end tests with redis-py, the most used Python client (Debian's `python3-redis`, installed by
//! `scripts/deps.sh --test`): the scripts in `tests/integration/py/` drive a real server and assert what redis-py
//! reports.

use crate::common::Server;

/// Runs one script against a fresh server; its assertion message is the failure.
fn run_script(name: &str, s: &Server) {
    let script = format!("{}/../tests/integration/py/{name}", env!("CARGO_MANIFEST_DIR"));
    // Debian's interpreter: the one python3-redis is installed for, whatever `python3` is first on PATH.
    let out = std::process::Command::new("/usr/bin/python3")
        .arg(&script)
        .arg(s.port.to_string())
        .output()
        .expect("run /usr/bin/python3 (scripts/deps.sh --test installs python3-redis)");
    assert!(
        out.status.success(),
        "{name} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn redis_py_transactions_pubsub_and_notifications() {
    let s = Server::start_with(&["--workers", "2"]);
    run_script("transactions_pubsub.py", &s);
}

#[test]
fn redis_py_streams() {
    let s = Server::start_with(&["--workers", "2"]);
    run_script("streams.py", &s);
}
