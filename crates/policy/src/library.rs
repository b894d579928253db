//! What a service's documents may name besides named values: its policy fragments
//! (`<include-fragment fragment-id="…"/>`), its certificates (`authentication-certificate`,
//! validate-jwt's `<key certificate-id="…"/>`) and its backends (`set-backend-service
//! backend-id="…"`).
//!
//! The policy engine never sees a certificate's private key: a document is compiled against
//! [`CertificateInfo`] (the id, the thumbprint and the public key), and at run time
//! `authentication-certificate` only names the thumbprint the gateway presents to the backend
//! (see [`crate::exchange::ClientCertificate`]).

use std::collections::BTreeMap;

/// A certificate as documents see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The certificate's id in the service (`certificate-id="…"`).
    pub id: String,
    /// The SHA-1 of the certificate, in upper-case hex (APIM's thumbprint).
    pub thumbprint: String,
    /// The key the certificate certifies, for validate-jwt.
    pub public_key: PublicKey,
    /// Whether the private key was uploaded with it, so it can authenticate the gateway.
    pub has_private_key: bool,
}

/// A certificate's public key, in the forms a JWT signature check takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// An RSA key: the PKCS#1 `RSAPublicKey` DER.
    Rsa(Vec<u8>),
    /// An elliptic-curve key: the uncompressed point.
    Ec(Vec<u8>),
    /// Another kind of key (named), which cannot check JWT signatures here.
    Other(String),
}

/// The fragments and certificates of one service.
pub trait Library {
    /// The text of the `<fragment>` with this id.
    fn fragment(&self, id: &str) -> Option<&str>;

    /// The certificate with this id.
    fn certificate(&self, _id: &str) -> Option<&CertificateInfo> {
        None
    }

    /// The certificate with this thumbprint (compared without regard to case).
    fn certificate_with_thumbprint(&self, _thumbprint: &str) -> Option<&CertificateInfo> {
        None
    }

    /// Whether the service has a backend with this id (`set-backend-service backend-id`).
    fn has_backend(&self, _id: &str) -> bool {
        false
    }
}

/// Nothing: every `include-fragment` and every certificate names one that does not exist.
impl Library for () {
    fn fragment(&self, _: &str) -> Option<&str> {
        None
    }
}

/// Fragments only, by id.
impl Library for BTreeMap<String, String> {
    fn fragment(&self, id: &str) -> Option<&str> {
        self.get(id).map(String::as_str)
    }
}

/// A service's fragments and certificates, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceLibrary {
    pub fragments: BTreeMap<String, String>,
    pub certificates: BTreeMap<String, CertificateInfo>,
    pub backends: std::collections::BTreeSet<String>,
}

impl Library for ServiceLibrary {
    fn fragment(&self, id: &str) -> Option<&str> {
        self.fragments.get(id).map(String::as_str)
    }

    fn certificate(&self, id: &str) -> Option<&CertificateInfo> {
        self.certificates.get(id)
    }

    fn certificate_with_thumbprint(&self, thumbprint: &str) -> Option<&CertificateInfo> {
        self.certificates
            .values()
            .find(|c| c.thumbprint.eq_ignore_ascii_case(thumbprint))
    }

    fn has_backend(&self, id: &str) -> bool {
        self.backends.contains(id)
    }
}
