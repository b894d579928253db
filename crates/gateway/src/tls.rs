//! Certificates for the listeners that speak TLS (the gateway's HTTPS listener, and the
//! portal's when it is given a certificate).
//!
//! A [`CertificateStore`] holds a default certificate (`--tls-cert`/`--tls-key`) and,
//! optionally, one per host name from a directory (`<host>.pem` beside `<host>.key`; a file
//! named `_.example.com.pem` serves every `*.example.com`). The TLS handshake picks one by
//! the name the caller asked for (SNI), else the default.
//!
//! **Reload without a restart.** [`CertificateStore::watch`] looks at the files' sizes and
//! modification times every few seconds and loads them again when one changed. A new set
//! replaces the old one at once for new handshakes; a set that does not load (a half-written
//! file, a key that does not match its certificate) is refused with a log line and the old
//! set stays in service.
//!
//! ALPN offers `h2` and `http/1.1`: the server then speaks whichever the caller chose.

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How often [`CertificateStore::watch`] looks at the certificate files.
pub const RELOAD_CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// Where a listener's certificates are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain (PEM) served when no per-host certificate matches.
    pub cert: PathBuf,
    /// Its private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// A directory of `<host>.pem` + `<host>.key` pairs chosen by SNI.
    pub by_host_dir: Option<PathBuf>,
}

/// Why certificates could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
    #[error("{path} holds no PEM private key")]
    NoKey { path: PathBuf },
    #[error("the key in {key} does not belong to the certificate in {cert}: {reason}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("TLS cannot be set up: {0}")]
    Config(#[from] rustls::Error),
}

/// One loaded set: the default certificate and those chosen by host name.
struct Certificates {
    default: Arc<CertifiedKey>,
    /// Lower-case host name (or `*.suffix`) → certificate.
    by_host: HashMap<String, Arc<CertifiedKey>>,
    /// What the files looked like when loaded, to notice a change.
    fingerprint: Vec<FileStamp>,
}

/// A file's identity for change detection.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

/// The certificates of one listener, reloadable; rustls asks it for a certificate on every
/// handshake.
pub struct CertificateStore {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: ArcSwap<Certificates>,
}

impl fmt::Debug for CertificateStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateStore")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl CertificateStore {
    /// Loads every certificate named by `files`; fails (naming the file) if one cannot be.
    pub fn load(files: TlsFiles) -> Result<Arc<Self>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certificates = load_all(&files, &provider)?;
        Ok(Arc::new(Self {
            files,
            provider,
            current: ArcSwap::from_pointee(certificates),
        }))
    }

    /// A rustls server configuration that takes its certificates from this store and offers
    /// HTTP/2 and HTTP/1.1.
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// Loads the files again if any of them changed since the last load. Returns whether a
    /// new set is in service; a set that fails to load leaves the old one and is the error.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        if stamps(&self.files) == self.current.load().fingerprint {
            return Ok(false);
        }
        let certificates = load_all(&self.files, &self.provider)?;
        self.current.store(Arc::new(certificates));
        Ok(true)
    }

    /// Reloads changed certificates every [`RELOAD_CHECK_INTERVAL`] until `stop` completes.
    pub async fn watch(self: Arc<Self>, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut every = tokio::time::interval(RELOAD_CHECK_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                () = &mut stop => return,
            }
            match self.reload_if_changed() {
                Ok(true) => {
                    tracing::info!(cert = %self.files.cert.display(), "TLS certificates reloaded")
                }
                Ok(false) => {}
                Err(error) => tracing::warn!(
                    %error,
                    "changed TLS certificates could not be loaded; the previous ones stay in service"
                ),
            }
        }
    }

    /// The certificate for `server_name` (as the caller sent it in SNI).
    fn choose(&self, server_name: Option<&str>) -> Arc<CertifiedKey> {
        let certificates = self.current.load();
        let Some(name) = server_name.map(str::to_ascii_lowercase) else {
            return certificates.default.clone();
        };
        if let Some(exact) = certificates.by_host.get(&name) {
            return exact.clone();
        }
        name.split_once('.')
            .and_then(|(_, parent)| certificates.by_host.get(&format!("*.{parent}")))
            .unwrap_or(&certificates.default)
            .clone()
    }
}

impl ResolvesServerCert for CertificateStore {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.choose(client_hello.server_name()))
    }
}

fn load_all(files: &TlsFiles, provider: &CryptoProvider) -> Result<Certificates, TlsError> {
    // Stamps first: a file replaced while loading is then seen as changed next time.
    let fingerprint = stamps(files);
    let default = load_pair(&files.cert, &files.key, provider)?;
    let mut by_host = HashMap::new();
    for (host, cert, key) in host_pairs(files.by_host_dir.as_deref())? {
        by_host.insert(host, load_pair(&cert, &key, provider)?);
    }
    Ok(Certificates {
        default,
        by_host,
        fingerprint,
    })
}

/// `(host, cert, key)` for every `<host>.pem` with a `<host>.key` beside it, sorted.
fn host_pairs(dir: Option<&Path>) -> Result<Vec<(String, PathBuf, PathBuf)>, TlsError> {
    let Some(dir) = dir else {
        return Ok(Vec::new());
    };
    let entries = std::fs::read_dir(dir).map_err(|error| TlsError::Read {
        path: dir.to_path_buf(),
        reason: error.to_string(),
    })?;
    let mut pairs = Vec::new();
    for entry in entries.flatten() {
        let cert = entry.path();
        if cert.extension().is_none_or(|ext| ext != "pem") {
            continue;
        }
        let Some(stem) = cert.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let key = cert.with_extension("key");
        if !key.is_file() {
            continue;
        }
        let host = match stem.strip_prefix("_.") {
            Some(parent) => format!("*.{parent}"),
            None => stem.to_string(),
        };
        pairs.push((host.to_ascii_lowercase(), cert, key));
    }
    pairs.sort();
    Ok(pairs)
}

fn load_pair(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, TlsError> {
    let read_error = |path: &Path, error: &dyn fmt::Display| TlsError::Read {
        path: path.to_path_buf(),
        reason: error.to_string(),
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|error| read_error(cert, &error))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| read_error(cert, &error))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: cert.to_path_buf(),
        });
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|error| match error {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::NoKey {
            path: key.to_path_buf(),
        },
        other => read_error(key, &other),
    })?;
    let signing_key = provider
        .key_provider
        .load_private_key(private_key)
        .map_err(|error| read_error(key, &error))?;
    let certified = CertifiedKey::new(chain, signing_key);
    certified.keys_match().map_err(|error| TlsError::Mismatch {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
        reason: error.to_string(),
    })?;
    Ok(Arc::new(certified))
}

/// Size and modification time of every file a set is loaded from (and of the directory).
fn stamps(files: &TlsFiles) -> Vec<FileStamp> {
    let stamp = |path: &Path| {
        let metadata = std::fs::metadata(path).ok();
        FileStamp {
            path: path.to_path_buf(),
            len: metadata.as_ref().map_or(0, |m| m.len()),
            modified: metadata.and_then(|m| m.modified().ok()),
        }
    };
    let mut all = vec![stamp(&files.cert), stamp(&files.key)];
    if let Some(dir) = &files.by_host_dir {
        all.push(stamp(dir));
        for (_, cert, key) in host_pairs(Some(dir)).unwrap_or_default() {
            all.push(stamp(&cert));
            all.push(stamp(&key));
        }
    }
    all
}
