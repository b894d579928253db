//! Client certificates for backend TLS (`authentication-certificate`, a backend's
//! `credentials.certificateIds`) and a backend's relaxed TLS checks
//! (`tls.validateCertificateChain`/`validateCertificateName` set to false).
//!
//! A policy names a certificate ([`ClientCertificate`]): one of the service's uploads, by
//! thumbprint, or a PFX file an expression produced. Here that becomes the certificate to
//! present ([`resolve`]) and a TLS connector that presents it and checks the backend's
//! certificate as asked ([`connector_for`]).
//!
//! Both are kept per gateway worker thread, like the connection pool (no lock): a connector
//! per thumbprint, a parsed certificate per inline PFX file (keyed by the SHA-256 of file and
//! password). Each map holds at most [`MAX_KEPT`] entries and is emptied when full, so a
//! policy that makes a new PFX per request costs a parse per request but never memory
//! without bound. A thumbprint names one certificate, so a kept connector is never stale.

use crate::backends::TlsChecks;
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

/// A kept connector: the certificate it presents (by thumbprint) and the checks it makes.
type ConnectorKey = (Option<Arc<str>>, TlsChecks);

thread_local! {
    static CONNECTORS: RefCell<HashMap<ConnectorKey, HttpsConnector<HttpConnector>>> =
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

/// A connector that presents `certificate` (if any), trusts `roots` and checks the backend's
/// certificate as `checks` says; built once per worker.
pub fn connector_for(
    certificate: Option<(&Certificate, &Arc<str>)>,
    checks: TlsChecks,
    roots: &Arc<rustls::RootCertStore>,
) -> Result<HttpsConnector<HttpConnector>, String> {
    let key = (
        certificate.map(|(_, thumbprint)| thumbprint.clone()),
        checks,
    );
    if let Some(found) = CONNECTORS.with(|kept| kept.borrow().get(&key).cloned()) {
        return Ok(found);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match checks {
        TlsChecks::Full => builder.with_root_certificates(roots.clone()),
        TlsChecks::ChainOnly | TlsChecks::None => {
            let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                roots.clone(),
                provider.clone(),
            )
            .build()
            .map_err(|e| e.to_string())?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(RelaxedVerifier {
                    webpki,
                    checks,
                    provider,
                }))
        }
    };
    let config = match certificate {
        Some((certificate, _)) => {
            let key = certificate
                .private_key_der()
                .ok_or_else(|| "the certificate has no private key".to_owned())?;
            builder
                .with_client_auth_cert(certificate.chain_der(), key)
                .map_err(|e| format!("the client certificate cannot be used: {e}"))?
        }
        None => builder.with_no_client_auth(),
    };
    let connector = crate::backend_pool::connector(config);
    CONNECTORS.with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.len() >= MAX_KEPT {
            kept.clear();
        }
        kept.insert(key, connector.clone());
    });
    Ok(connector)
}

/// Checks a backend's certificate less than fully, as the backend's `tls` settings ask: the
/// chain but not the name, or nothing. Signatures of the handshake are still verified, so
/// the connection is encrypted to whoever holds the presented certificate's key.
#[derive(Debug)]
struct RelaxedVerifier {
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
    checks: TlsChecks,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for RelaxedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if self.checks == TlsChecks::None {
            return Ok(rustls::client::danger::ServerCertVerified::assertion());
        }
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
