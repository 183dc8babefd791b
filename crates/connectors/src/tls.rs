//! HTTP clients for outside systems: HTTPS through rustls (the machine's trusted roots, plus
//! a system's own `ca_file`), plain HTTP only where a URL says `http://`.

use std::path::Path;
use std::sync::Once;
use std::time::Duration;

use crossdock_engine::config::SecretError;

/// Why a system's client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The `ca_file` could not be read or holds no certificate.
    #[error("{system}: ca_file {path}: {reason}")]
    CaFile {
        /// The system.
        system: String,
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A credential could not be read.
    #[error("{system}: auth: {source}")]
    Secret {
        /// The system.
        system: String,
        /// Why (names the variable or file, never the value).
        source: SecretError,
    },
    /// A credential does not fit in a header.
    #[error("{system}: auth: {reason}")]
    Header {
        /// The system.
        system: String,
        /// Why.
        reason: String,
    },
    /// The HTTP client itself.
    #[error("{0}")]
    Http(#[from] reqwest::Error),
}

/// A client builder with rustls's ring provider in place. Every HTTP client in crossdock
/// starts here: reqwest needs a provider chosen before its first client.
pub fn builder() -> reqwest::ClientBuilder {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        // Fails only when another provider is already installed, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
}

/// A client for `system` that waits at most `timeout` and trusts `ca_file` besides the
/// machine's roots.
pub fn client(
    system: &str,
    timeout: Duration,
    ca_file: Option<&Path>,
) -> Result<reqwest::Client, ClientError> {
    let mut b = builder().timeout(timeout);
    if let Some(path) = ca_file {
        let ca_error = |reason: String| ClientError::CaFile {
            system: system.to_string(),
            path: path.display().to_string(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| ca_error(e.kind().to_string()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| ca_error(format!("not PEM certificates ({e})")))?;
        if certs.is_empty() {
            return Err(ca_error("holds no certificate".into()));
        }
        for cert in certs {
            b = b.add_root_certificate(cert);
        }
    }
    Ok(b.build()?)
}
