//! Client certificates for backend TLS (`authentication-certificate`).
//!
//! A policy names a certificate ([`ClientCertificate`]): one of the service's uploads, by
//! thumbprint, or a PFX file an expression produced. Here that becomes the certificate to
//! present ([`resolve`]) and a TLS connector that presents it ([`connector_for`]).
//!
//! Both are kept per gateway worker thread, like the connection pool (no lock): a connector
//! per thumbprint, a parsed certificate per inline PFX file (keyed by the SHA-256 of file and
//! password). Each map holds at most [`MAX_KEPT`] entries and is emptied when full, so a
//! policy that makes a new PFX per request costs a parse per request but never memory
//! without bound. A thumbprint names one certificate, so a kept connector is never stale.

use crate::snapshot::CompiledService;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use portcullis_domain::Certificate;
use portcullis_policy::Rejection;
use portcullis_policy::exchange::ClientCertificate;
use sha2::Digest as _;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// At most this many connectors (and, apart, inline certificates) are kept per worker.
pub const MAX_KEPT: usize = 64;

thread_local! {
    static CONNECTORS: RefCell<HashMap<Arc<str>, HttpsConnector<HttpConnector>>> =
        RefCell::new(HashMap::new());
    static INLINE: RefCell<HashMap<[u8; 32], Arc<Certificate>>> = RefCell::new(HashMap::new());
}

/// The certificate `named` stands for in `service`.
pub fn resolve(
    service: &CompiledService,
    named: &ClientCertificate,
) -> Result<Arc<Certificate>, Rejection> {
    match named {
        ClientCertificate::Id(id) => service.certificate_ids.get(id).cloned().ok_or_else(|| {
            Rejection::Expression(format!(
                "authentication-certificate: the service has no certificate '{id}' with a private key"
            ))
        }),
        // Upper case already: the policy writes thumbprints as certificates carry them.
        ClientCertificate::Stored(thumbprint) => {
            service.certificates.get(thumbprint).cloned().ok_or_else(|| {
                Rejection::Expression(format!(
                    "authentication-certificate: the service has no certificate with the thumbprint {thumbprint}"
                ))
            })
        }
        ClientCertificate::Inline { pfx, password } => inline(pfx, password),
    }
}

fn inline(pfx: &[u8], password: &str) -> Result<Arc<Certificate>, Rejection> {
    let mut hasher = sha2::Sha256::new();
    hasher.update((pfx.len() as u64).to_le_bytes());
    hasher.update(pfx);
    hasher.update(password.as_bytes());
    let key: [u8; 32] = hasher.finalize().into();
    if let Some(found) = INLINE.with(|kept| kept.borrow().get(&key).cloned()) {
        return Ok(found);
    }
    let certificate = Certificate::from_pfx(pfx, password)
        .map_err(|e| Rejection::Expression(format!("authentication-certificate: {}", e.message)))?;
    if !certificate.has_private_key() {
        return Err(Rejection::Expression(
            "authentication-certificate: the PFX file holds no private key".to_owned(),
        ));
    }
    let certificate = Arc::new(certificate);
    INLINE.with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.len() >= MAX_KEPT {
            kept.clear();
        }
        kept.insert(key, certificate.clone());
    });
    Ok(certificate)
}

/// A connector that presents `certificate` and trusts `roots`; built once per worker.
pub fn connector_for(
    certificate: &Certificate,
    thumbprint: &Arc<str>,
    roots: &Arc<rustls::RootCertStore>,
) -> Result<HttpsConnector<HttpConnector>, String> {
    if let Some(found) = CONNECTORS.with(|kept| kept.borrow().get(thumbprint).cloned()) {
        return Ok(found);
    }
    let key = certificate
        .private_key_der()
        .ok_or_else(|| "the certificate has no private key".to_owned())?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots.clone())
    .with_client_auth_cert(certificate.chain_der(), key)
    .map_err(|e| format!("the client certificate cannot be used: {e}"))?;
    let connector = crate::backend_pool::connector(config);
    CONNECTORS.with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.len() >= MAX_KEPT {
            kept.clear();
        }
        kept.insert(thumbprint.clone(), connector.clone());
    });
    Ok(connector)
}
