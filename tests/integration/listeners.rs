//! CONFIG SET port, bind and tls-port: the listeners change while running, as in Redis 7.0 (networking.tcl
//! "CONFIG SET port number", "CONFIG SET bind address"; introspection.tcl "CONFIG SET rollback on apply error").

use std::net::TcpStream;
use std::process::Command;

use crate::common::{free_port, Raw, Server};

fn failed(name: &str, why: &str) -> String {
    format!("-ERR CONFIG SET failed (possibly related to argument '{name}') - {why}\r\n")
}

const PORT_FAILED: &str = "Unable to listen on this port. Check server logs.";

fn refused(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_err()
}

#[test]
fn config_set_port_moves_the_listener() {
    let s = Server::start();
    let old = s.port;
    let mut r = Raw::connect(old);
    let new = free_port();
    assert_eq!(r.cmd(&["CONFIG", "SET", "port", &new.to_string()]), "+OK\r\n");
    // The new port answers at once; the old one refuses new connections while the one already open still works.
    let mut moved = Raw::connect(new);
    assert_eq!(moved.cmd(&["PING"]), "+PONG\r\n");
    assert!(refused(old), "the old port still accepts");
    assert_eq!(r.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(r.cmd(&["CONFIG", "GET", "port"]), format!("*2\r\n$4\r\nport\r\n$5\r\n{new}\r\n"));
    let info = moved.cmd(&["INFO", "server"]);
    assert!(info.contains(&format!("\r\ntcp_port:{new}\r\n")), "{info}");

    // A port in use: the error is Redis', every parameter of the command is rolled back, and the server still
    // listens where it did.
    let taken = std::net::TcpListener::bind(("127.0.0.1", free_port())).unwrap();
    let busy = taken.local_addr().unwrap().port().to_string();
    assert_eq!(r.cmd(&["CONFIG", "SET", "maxmemory", "12345", "port", &busy]), failed("port", PORT_FAILED));
    assert_eq!(r.cmd(&["CONFIG", "GET", "maxmemory"]), "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
    assert_eq!(r.cmd(&["CONFIG", "GET", "port"]), format!("*2\r\n$4\r\nport\r\n$5\r\n{new}\r\n"));
    assert_eq!(Raw::connect(new).cmd(&["PING"]), "+PONG\r\n");
    drop(taken);

    // Back to the first port, together with another parameter: both apply.
    assert_eq!(r.cmd(&["CONFIG", "SET", "maxmemory", "1mb", "port", &old.to_string()]), "+OK\r\n");
    assert_eq!(r.cmd(&["CONFIG", "GET", "maxmemory"]), "*2\r\n$9\r\nmaxmemory\r\n$7\r\n1048576\r\n");
    assert_eq!(Raw::connect(old).cmd(&["PING"]), "+PONG\r\n");
    assert!(refused(new));
    assert_eq!(moved.cmd(&["PING"]), "+PONG\r\n");

    // Port 0: no TCP listener at all (as Redis); connections already open keep working and can listen again.
    assert_eq!(r.cmd(&["CONFIG", "SET", "port", "0"]), "+OK\r\n");
    assert!(refused(old));
    assert_eq!(r.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(r.cmd(&["CONFIG", "SET", "port", &old.to_string()]), "+OK\r\n");
    assert_eq!(Raw::connect(old).cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(
        r.cmd(&["CONFIG", "SET", "port", "65536"]),
        failed("port", "argument must be between 0 and 65535 inclusive")
    );
}

#[test]
fn config_set_bind() {
    let s = Server::start();
    let mut r = Raw::connect(s.port);
    let bind = |r: &mut Raw| crate::common::bulks(&r.cmd(&["CONFIG", "GET", "bind"]))[1].clone();
    let before = bind(&mut r);
    // Redis' text; the old addresses are listened on again and the other parameters roll back.
    assert_eq!(
        r.cmd(&["CONFIG", "SET", "bind", "999.999.999.999", "maxmemory", "777"]),
        failed("bind", "Failed to bind to specified addresses.")
    );
    assert_eq!(bind(&mut r), before);
    assert_eq!(r.cmd(&["CONFIG", "GET", "maxmemory"]), "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
    assert_eq!(r.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(Raw::connect(s.port).cmd(&["PING"]), "+PONG\r\n");

    // The same port on addresses that overlap the current one (the old listener closes first); an optional
    // address ('-') that is not available here is skipped.
    assert_eq!(r.cmd(&["CONFIG", "SET", "bind", "-192.0.2.1 0.0.0.0"]), "+OK\r\n");
    assert_eq!(bind(&mut r), "-192.0.2.1 0.0.0.0");
    assert_eq!(Raw::connect(s.port).cmd(&["PING"]), "+PONG\r\n");
    // Not optional: refused.
    assert_eq!(
        r.cmd(&["CONFIG", "SET", "bind", "192.0.2.1"]),
        failed("bind", "Failed to bind to specified addresses.")
    );
    assert_eq!(Raw::connect(s.port).cmd(&["PING"]), "+PONG\r\n");
    // Bind and port together: a failure is reported against the first of them given.
    let taken = std::net::TcpListener::bind(("127.0.0.1", free_port())).unwrap();
    let busy = taken.local_addr().unwrap().port().to_string();
    assert_eq!(r.cmd(&["CONFIG", "SET", "port", &busy, "bind", "127.0.0.1"]), failed("port", PORT_FAILED));
    assert_eq!(bind(&mut r), "-192.0.2.1 0.0.0.0");
    let other = free_port();
    assert_eq!(r.cmd(&["CONFIG", "SET", "bind", "127.0.0.1", "port", &other.to_string()]), "+OK\r\n");
    assert_eq!(Raw::connect(other).cmd(&["PING"]), "+PONG\r\n");
    assert!(refused(s.port));
    assert_eq!(r.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn config_set_tls_port() {
    // No TLS files configured: refused with Redis' text.
    let s = Server::start();
    let mut r = Raw::connect(s.port);
    assert_eq!(
        r.cmd(&["CONFIG", "SET", "tls-port", &free_port().to_string()]),
        failed("tls-port", "Unable to update TLS configuration. Check server logs.")
    );
    assert_eq!(r.cmd(&["CONFIG", "GET", "tls-port"]), "*2\r\n$8\r\ntls-port\r\n$1\r\n0\r\n");
    drop(s);

    // With certificate files, TLS starts listening when the port is set, and moves with it.
    let certs = crate::common::gen_certs();
    let p = |f: &str| certs.path().join(f).display().to_string();
    let s = Server::start_with(&["--tls_cert_file", &p("server.crt"), "--tls_key_file", &p("server.key")]);
    let mut r = Raw::connect(s.port);
    let cli = |port: &str| {
        let out = Command::new("redis-cli")
            .args(["--tls", "-h", "127.0.0.1", "-p", port, "--cacert", &p("ca.crt"), "PING"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string() + String::from_utf8_lossy(&out.stderr).trim()
    };
    let first = free_port().to_string();
    assert_eq!(r.cmd(&["CONFIG", "SET", "tls-port", &first]), "+OK\r\n");
    assert_eq!(cli(&first), "PONG");
    let second = free_port().to_string();
    assert_eq!(r.cmd(&["CONFIG", "SET", "tls-port", &second]), "+OK\r\n");
    assert_eq!(cli(&second), "PONG");
    assert!(refused(first.parse().unwrap()));
    // The plain port in use by ourselves: refused, TLS stays where it was.
    assert_eq!(r.cmd(&["CONFIG", "SET", "tls-port", &s.port.to_string()]), failed("tls-port", PORT_FAILED));
    assert_eq!(cli(&second), "PONG");
    assert_eq!(r.cmd(&["CONFIG", "SET", "tls-port", "0"]), "+OK\r\n");
    assert!(refused(second.parse().unwrap()));
    assert_eq!(r.cmd(&["PING"]), "+PONG\r\n");
}
