//! TLS for the `tls_port` listener: server certificate and key, and optional client-certificate authentication
//! against `tls_ca_cert_file` (`tls_auth_clients yes | optional | no`).

use std::sync::Arc;

use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

use crate::config::Config;

fn read_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut data.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("bad certificate in {path}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("no certificate found in {path}"));
    }
    Ok(certs)
}

fn read_key(path: &str) -> Result<PrivateKeyDer<'static>, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    rustls_pemfile::private_key(&mut data.as_slice())
        .map_err(|e| format!("bad private key in {path}: {e}"))?
        .ok_or_else(|| format!("no private key found in {path}"))
}

/// Builds the acceptor from the config; errors name the file at fault.
pub fn acceptor(cfg: &Config) -> Result<TlsAcceptor, String> {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let certs = read_certs(cfg.str("tls-cert-file"))?;
    let key = read_key(cfg.str("tls-key-file"))?;
    let builder = ServerConfig::builder();
    let ca = cfg.str("tls-ca-cert-file");
    let auth = cfg.str("tls-auth-clients");
    let config = if ca.is_empty() || auth == "no" {
        builder.with_no_client_auth().with_single_cert(certs, key)
    } else {
        let mut roots = RootCertStore::empty();
        for c in read_certs(ca)? {
            roots.add(c).map_err(|e| format!("bad CA certificate in {ca}: {e}"))?;
        }
        let verifier = WebPkiClientVerifier::builder(Arc::new(roots));
        let verifier = if auth == "optional" { verifier.allow_unauthenticated() } else { verifier };
        let verifier = verifier.build().map_err(|e| format!("client verifier: {e}"))?;
        builder.with_client_cert_verifier(verifier).with_single_cert(certs, key)
    }
    .map_err(|e| format!("TLS certificate/key mismatch: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
