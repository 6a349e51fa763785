//! HTTPS for the dashboard, API and webhooks: users' tokens and webhook payloads never cross
//! the network in clear.
//!
//! The certificate and key are PEM files, usually a Secret that cert-manager (or an
//! operator) renews in place: they are read again when their modification time changes,
//! looked at no more than once a second, so a renewed certificate is served without a
//! restart. A renewal that cannot be read keeps the last good pair (and says so in the log).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{self, ServerConfig};

use crate::error::Error;

/// How often the files' modification times are looked at, at most.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// Where the server's certificate chain and private key are.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The certificate chain, leaf first (PEM).
    pub certificate: PathBuf,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub private_key: PathBuf,
}

impl TlsFiles {
    /// What accepts TLS connections with these files; fails when they cannot be read now.
    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let resolver = Reloading::new(self.clone(), &provider)?;
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| self.invalid(err.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(resolver));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    fn invalid(&self, reason: String) -> Error {
        Error::Tls {
            certificate: self.certificate.display().to_string(),
            private_key: self.private_key.display().to_string(),
            reason,
        }
    }

    /// The pair as the files hold it now.
    fn load(&self, provider: &rustls::crypto::CryptoProvider) -> Result<CertifiedKey, Error> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.certificate)
            .and_then(Iterator::collect)
            .map_err(|err| self.invalid(format!("reading the certificate: {err}")))?;
        if chain.is_empty() {
            return Err(self.invalid("the certificate file holds no certificate".into()));
        }
        let key = PrivateKeyDer::from_pem_file(&self.private_key)
            .map_err(|err| self.invalid(format!("reading the private key: {err}")))?;
        let certified = CertifiedKey::from_der(chain, key, provider)
            .map_err(|err| self.invalid(err.to_string()))?;
        Ok(certified)
    }

    fn modified(&self) -> Option<(SystemTime, SystemTime)> {
        let time = |path: &PathBuf| std::fs::metadata(path).and_then(|m| m.modified()).ok();
        Some((time(&self.certificate)?, time(&self.private_key)?))
    }
}

/// The current pair, read again when the files change.
#[derive(Debug)]
struct Reloading {
    files: TlsFiles,
    provider: Arc<rustls::crypto::CryptoProvider>,
    current: Mutex<Current>,
}

#[derive(Debug)]
struct Current {
    key: Arc<CertifiedKey>,
    modified: Option<(SystemTime, SystemTime)>,
    looked: Instant,
}

impl Reloading {
    fn new(files: TlsFiles, provider: &Arc<rustls::crypto::CryptoProvider>) -> Result<Self, Error> {
        let modified = files.modified();
        let key = Arc::new(files.load(provider)?);
        Ok(Reloading {
            files,
            provider: Arc::clone(provider),
            current: Mutex::new(Current {
                key,
                modified,
                looked: Instant::now(),
            }),
        })
    }

    fn key(&self) -> Arc<CertifiedKey> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if current.looked.elapsed() >= LOOK_EVERY {
            current.looked = Instant::now();
            let modified = self.files.modified();
            if modified != current.modified {
                match self.files.load(&self.provider) {
                    Ok(key) => {
                        tracing::info!("serving the renewed TLS certificate");
                        current.key = Arc::new(key);
                        current.modified = modified;
                    }
                    // A renewal caught half-written is read again at the next look.
                    Err(err) => tracing::warn!("{err}; serving the previous certificate"),
                }
            }
        }
        Arc::clone(&current.key)
    }
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.key())
    }
}
