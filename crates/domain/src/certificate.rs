//! Certificates a service keeps (APIM's `…/certificates/{id}`): a client certificate the
//! gateway presents to backends (`authentication-certificate`), or a certificate whose public
//! key checks JWT signatures (validate-jwt's `<key certificate-id="…"/>`).
//!
//! An upload is parsed once, here, into a [`Certificate`]: the chain (leaf first), the private
//! key when one came with it, and what people look a certificate up by — the SHA-1
//! thumbprint, subject, issuer and validity. Three forms are read:
//!
//! * a **PKCS#12 / PFX** file, base64-encoded, with its password (APIM's `data` and
//!   `password`; legacy 3DES/RC2 files and current AES ones alike);
//! * **PEM** text: one or more `CERTIFICATE` blocks (leaf first) and, optionally, the private
//!   key (`PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`, unencrypted);
//! * a base64 **DER** certificate (a `.cer` file), public key only.
//!
//! A key must belong to the leaf certificate and be one TLS can sign with; an expired
//! certificate is refused. What is stored is the PEM text [`Certificate::to_pem`] writes,
//! from which [`Certificate::from_pem`] gives the same certificate back.

use crate::ValidationError;
use base64::Engine as _;
use portcullis_policy::library::{CertificateInfo, PublicKey};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use sha1::Digest as _;

/// An upload (base64 PFX or DER, or PEM text) has at most this many bytes.
pub const MAX_UPLOAD: usize = 256 * 1024;
/// A chain has at most this many certificates.
pub const MAX_CHAIN: usize = 16;

/// A parsed certificate with its chain and, when uploaded with it, its private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    chain: Vec<Vec<u8>>,
    key: Option<StoredKey>,
    subject: String,
    issuer: String,
    not_before: i64,
    not_after: i64,
    public_key: PublicKey,
    /// Shared: the gateway keys its connections by it.
    thumbprint: std::sync::Arc<str>,
}

/// A private key in the DER form it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StoredKey {
    Pkcs8(Vec<u8>),
    Pkcs1(Vec<u8>),
    Sec1(Vec<u8>),
}

impl StoredKey {
    fn of(key: &PrivateKeyDer<'_>) -> Result<Self, ValidationError> {
        match key {
            PrivateKeyDer::Pkcs8(der) => Ok(Self::Pkcs8(der.secret_pkcs8_der().to_vec())),
            PrivateKeyDer::Pkcs1(der) => Ok(Self::Pkcs1(der.secret_pkcs1_der().to_vec())),
            PrivateKeyDer::Sec1(der) => Ok(Self::Sec1(der.secret_sec1_der().to_vec())),
            _ => Err(bad_data(
                "The private key is of a kind Portcullis does not read.",
            )),
        }
    }

    fn der(&self) -> PrivateKeyDer<'static> {
        match self {
            Self::Pkcs8(der) => PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.clone())),
            Self::Pkcs1(der) => PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der.clone())),
            Self::Sec1(der) => PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der.clone())),
        }
    }

    fn pem_label(&self) -> &'static str {
        match self {
            Self::Pkcs8(_) => "PRIVATE KEY",
            Self::Pkcs1(_) => "RSA PRIVATE KEY",
            Self::Sec1(_) => "EC PRIVATE KEY",
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Self::Pkcs8(der) | Self::Pkcs1(der) | Self::Sec1(der) => der,
        }
    }
}

/// Whether an expired certificate is refused (an upload) or read (the stored form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    Refused,
    Allowed,
}

/// The certificate ids and thumbprints `text` names (`authentication-certificate`,
/// validate-jwt's `<key certificate-id>`), for "in use" checks.
pub fn named_in(text: &str) -> Vec<String> {
    portcullis_policy::catalogue::authentication_certificate::named_certificates(text)
}

fn bad_data(message: impl Into<String>) -> ValidationError {
    ValidationError::new("data", "InvalidCertificate", message)
}

impl Certificate {
    /// Reads an upload: PEM text, or base64 of a PFX file (opened with `password`) or of a
    /// DER certificate.
    pub fn parse_upload(data: &str, password: Option<&str>) -> Result<Self, ValidationError> {
        let data = data.trim();
        if data.is_empty() {
            return Err(bad_data(
                "Give the certificate: a PFX file, PEM text or a .cer file.",
            ));
        }
        if data.len() > MAX_UPLOAD {
            return Err(bad_data(format!(
                "A certificate upload has at most {} KiB.",
                MAX_UPLOAD / 1024
            )));
        }
        if data.starts_with("-----BEGIN") {
            if password.is_some_and(|p| !p.is_empty()) {
                return Err(ValidationError::new(
                    "password",
                    "InvalidPassword",
                    "PEM text takes no password (an encrypted PEM key is not read); upload a PFX file with its password instead.",
                ));
            }
            return Self::from_pem(data);
        }
        let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| {
                bad_data("The data is neither PEM text nor base64 of a PFX or .cer file.")
            })?;
        if x509_parser::parse_x509_certificate(&bytes).is_ok() {
            return Self::build(vec![bytes], None, Expiry::Refused);
        }
        Self::from_pfx(&bytes, password.unwrap_or(""))
    }

    /// Reads a PKCS#12 (PFX) file: the first private key with its chain, or else the
    /// certificates alone.
    pub fn from_pfx(bytes: &[u8], password: &str) -> Result<Self, ValidationError> {
        use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};
        let store = KeyStore::from_pkcs12(bytes, password, Pkcs12ImportPolicy::Relaxed).map_err(
            |error| match error {
                p12_keystore::error::Error::MacError(_) => ValidationError::new(
                    "password",
                    "InvalidPassword",
                    "The password does not open this PFX file.",
                ),
                other => bad_data(format!("The PFX file cannot be read: {other}.")),
            },
        )?;
        if let Some((_, chain)) = store.private_key_chain() {
            let certificates: Vec<Vec<u8>> =
                chain.certs().iter().map(|c| c.as_der().to_vec()).collect();
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));
            return Self::build(certificates, Some(StoredKey::of(&key)?), Expiry::Refused);
        }
        let certificates: Vec<Vec<u8>> = store
            .entries()
            .filter_map(|(_, entry)| match entry {
                KeyStoreEntry::Certificate(certificate) => Some(certificate.as_der().to_vec()),
                _ => None,
            })
            .collect();
        Self::build(certificates, None, Expiry::Refused)
    }

    /// Reads PEM text: certificates (leaf first) and at most one unencrypted private key.
    pub fn from_pem(text: &str) -> Result<Self, ValidationError> {
        Self::read_pem(text, Expiry::Refused)
    }

    /// Reads the stored form back ([`Certificate::to_pem`]); a certificate that has expired
    /// since it was uploaded is still read (the portal shows it as expired).
    pub fn from_stored(text: &str) -> Result<Self, ValidationError> {
        Self::read_pem(text, Expiry::Allowed)
    }

    fn read_pem(text: &str, expiry: Expiry) -> Result<Self, ValidationError> {
        let mut certificates = Vec::new();
        for item in CertificateDer::pem_slice_iter(text.as_bytes()) {
            let certificate =
                item.map_err(|e| bad_data(format!("The PEM text cannot be read: {e}.")))?;
            certificates.push(certificate.to_vec());
            if certificates.len() > MAX_CHAIN {
                break;
            }
        }
        if text.contains("ENCRYPTED PRIVATE KEY") {
            return Err(bad_data(
                "The private key is encrypted; upload a PFX file with its password, or the key unencrypted.",
            ));
        }
        let key = match PrivateKeyDer::from_pem_slice(text.as_bytes()) {
            Ok(key) => Some(StoredKey::of(&key)?),
            Err(rustls::pki_types::pem::Error::NoItemsFound) => None,
            Err(error) => {
                return Err(bad_data(format!(
                    "The private key cannot be read: {error}."
                )));
            }
        };
        Self::build(certificates, key, expiry)
    }

    fn build(
        chain: Vec<Vec<u8>>,
        key: Option<StoredKey>,
        expiry: Expiry,
    ) -> Result<Self, ValidationError> {
        let Some(leaf) = chain.first() else {
            return Err(bad_data("The upload holds no certificate."));
        };
        if chain.len() > MAX_CHAIN {
            return Err(bad_data(format!(
                "A chain has at most {MAX_CHAIN} certificates."
            )));
        }
        for (index, der) in chain.iter().enumerate() {
            if let Err(error) = x509_parser::parse_x509_certificate(der) {
                return Err(bad_data(format!(
                    "Certificate {} of the chain is not a valid X.509 certificate: {error}.",
                    index + 1
                )));
            }
        }
        let (_, parsed) = x509_parser::parse_x509_certificate(leaf)
            .map_err(|e| bad_data(format!("The certificate is not valid X.509: {e}.")))?;
        let not_after = parsed.validity().not_after.timestamp();
        let now = chrono::Utc::now().timestamp();
        if expiry == Expiry::Refused && not_after < now {
            return Err(bad_data(format!(
                "The certificate expired on {}; upload a current one.",
                date(not_after)
            )));
        }
        let public_key = public_key_of(parsed.public_key());
        let certificate = Self {
            subject: parsed.subject().to_string(),
            issuer: parsed.issuer().to_string(),
            not_before: parsed.validity().not_before.timestamp(),
            not_after,
            public_key,
            thumbprint: std::sync::Arc::from(hex::encode_upper(sha1::Sha1::digest(leaf))),
            chain,
            key,
        };
        if let Some(key) = &certificate.key {
            let provider = rustls::crypto::ring::default_provider();
            rustls::sign::CertifiedKey::from_der(certificate.chain_der(), key.der(), &provider)
                .map_err(|error| match error {
                    rustls::Error::InconsistentKeys(_) => {
                        bad_data("The private key does not belong to the certificate.")
                    }
                    other => bad_data(format!("The private key cannot be used for TLS: {other}.")),
                })?;
        }
        Ok(certificate)
    }

    /// The form stored: the chain's `CERTIFICATE` blocks, then the key's block.
    pub fn to_pem(&self) -> String {
        let mut out = String::new();
        for der in &self.chain {
            write_pem(&mut out, "CERTIFICATE", der);
        }
        if let Some(key) = &self.key {
            write_pem(&mut out, key.pem_label(), key.bytes());
        }
        out
    }

    /// The SHA-1 of the leaf certificate in upper-case hex, as APIM shows it.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The thumbprint, shared (no copy).
    pub fn thumbprint_shared(&self) -> &std::sync::Arc<str> {
        &self.thumbprint
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// When the certificate becomes valid, in seconds since 1970.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// When the certificate expires, in seconds since 1970.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// The expiry as APIM's `expirationDate` writes it (RFC 3339, UTC).
    pub fn expiration_date(&self) -> String {
        chrono::DateTime::from_timestamp(self.not_after, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    }

    /// Whether it has expired (at `now`, seconds since 1970).
    pub fn expired_at(&self, now: i64) -> bool {
        self.not_after < now
    }

    pub fn has_private_key(&self) -> bool {
        self.key.is_some()
    }

    /// The chain, leaf first, for a TLS client.
    pub fn chain_der(&self) -> Vec<CertificateDer<'static>> {
        self.chain
            .iter()
            .map(|der| CertificateDer::from(der.clone()))
            .collect()
    }

    /// The private key, for a TLS client.
    pub fn private_key_der(&self) -> Option<PrivateKeyDer<'static>> {
        self.key.as_ref().map(StoredKey::der)
    }

    /// What policy documents see of it, under the id `id`.
    pub fn info(&self, id: &str) -> CertificateInfo {
        CertificateInfo {
            id: id.to_owned(),
            thumbprint: self.thumbprint.to_string(),
            public_key: self.public_key.clone(),
            has_private_key: self.key.is_some(),
        }
    }
}

/// A certificate's key as JWT checks take it.
fn public_key_of(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> PublicKey {
    use x509_parser::oid_registry::{
        OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION, OID_SIG_ED25519,
    };
    let algorithm = &spki.algorithm.algorithm;
    let bits = spki.subject_public_key.data.to_vec();
    if *algorithm == OID_PKCS1_RSAENCRYPTION {
        PublicKey::Rsa(bits)
    } else if *algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        PublicKey::Ec(bits)
    } else if *algorithm == OID_SIG_ED25519 {
        PublicKey::Other("an Ed25519".to_owned())
    } else {
        PublicKey::Other(format!("a {algorithm}"))
    }
}

fn date(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| seconds.to_string())
}

/// Appends one PEM block (base64 in lines of 64 characters).
fn write_pem(out: &mut String, label: &str, der: &[u8]) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    let mut rest = encoded.as_str();
    while !rest.is_empty() {
        let (line, after) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = after;
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, KeyPair};

    fn generated() -> (rcgen::Certificate, KeyPair) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["client.example".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Portcullis test client");
        (params.self_signed(&key).unwrap(), key)
    }

    fn pfx(certificate: &rcgen::Certificate, key: &KeyPair, password: &str) -> Vec<u8> {
        use p12_keystore::{KeyStore, KeyStoreEntry, PrivateKeyChain};
        let mut store = KeyStore::new();
        let chain = PrivateKeyChain::new(
            vec![1u8, 2, 3],
            p12_keystore::PrivateKey::from_der(&key.serialize_der()).unwrap(),
            [p12_keystore::Certificate::from_der(certificate.der()).unwrap()],
        );
        store.add_entry("client", KeyStoreEntry::PrivateKeyChain(chain));
        store.writer(password).write().unwrap()
    }

    #[test]
    fn pem_with_key_round_trips_through_the_stored_form() {
        let (certificate, key) = generated();
        let text = format!("{}{}", certificate.pem(), key.serialize_pem());
        let parsed = Certificate::parse_upload(&text, None).unwrap();
        assert!(parsed.has_private_key());
        assert!(
            parsed.subject().contains("Portcullis test client"),
            "{}",
            parsed.subject()
        );
        let expected = hex::encode_upper(sha1::Sha1::digest(certificate.der()));
        assert_eq!(parsed.thumbprint(), expected);
        assert_eq!(parsed.thumbprint().len(), 40);
        let again = Certificate::from_pem(&parsed.to_pem()).unwrap();
        assert_eq!(again, parsed);
        assert!(matches!(parsed.info("c").public_key, PublicKey::Ec(_)));
    }

    #[test]
    fn pfx_opens_with_its_password_only() {
        let (certificate, key) = generated();
        let file =
            base64::engine::general_purpose::STANDARD.encode(pfx(&certificate, &key, "s3cret"));
        let parsed = Certificate::parse_upload(&file, Some("s3cret")).unwrap();
        assert!(parsed.has_private_key());
        assert_eq!(
            parsed.thumbprint(),
            hex::encode_upper(sha1::Sha1::digest(certificate.der()))
        );
        let wrong = Certificate::parse_upload(&file, Some("guess")).unwrap_err();
        assert_eq!(wrong.field, "password", "{wrong:?}");
    }

    #[test]
    fn der_certificate_has_no_key_and_a_public_key() {
        let key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256);
        // ring cannot generate RSA keys; an EC key serves when RSA generation is missing.
        let key = key.unwrap_or_else(|_| KeyPair::generate().unwrap());
        let certificate = CertificateParams::new(vec!["a.example".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let file = base64::engine::general_purpose::STANDARD.encode(certificate.der());
        let parsed = Certificate::parse_upload(&file, None).unwrap();
        assert!(!parsed.has_private_key());
        assert!(!parsed.info("a").has_private_key);
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let (certificate, _) = generated();
        let (_, other_key) = generated();
        let text = format!("{}{}", certificate.pem(), other_key.serialize_pem());
        let error = Certificate::parse_upload(&text, None).unwrap_err();
        assert!(error.message.contains("does not belong"), "{error:?}");
    }

    #[test]
    fn expired_certificates_and_garbage_are_refused_with_a_reason() {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["old.example".to_owned()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        let old = params.self_signed(&key).unwrap();
        let error = Certificate::parse_upload(&old.pem(), None).unwrap_err();
        assert!(error.message.contains("expired on 2001-01-01"), "{error:?}");

        for garbage in [
            "",
            "not base64 at all!",
            "AAAA",
            "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
        ] {
            let error = Certificate::parse_upload(garbage, None).unwrap_err();
            assert_eq!(error.code, "InvalidCertificate", "{garbage}: {error:?}");
        }
        let huge = "A".repeat(MAX_UPLOAD + 1);
        assert!(
            Certificate::parse_upload(&huge, None)
                .unwrap_err()
                .message
                .contains("at most")
        );
    }
}
