//! [`PolicyLibrary`]: what a service's policy documents are compiled with besides named
//! values — its policy fragments, its certificates and its backends (the policy engine's
//! [`Library`](portcullis_policy::library::Library)).

use crate::backend::BackendSettings;
use crate::certificate::Certificate;
pub use portcullis_policy::library::{CertificateInfo, Library};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A service's policy fragments (id → text) and certificates (id → certificate).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyLibrary {
    pub fragments: crate::FragmentMap,
    certificates: BTreeMap<String, LibraryCertificate>,
    backends: BTreeMap<String, Arc<BackendSettings>>,
}

/// A certificate with what documents see of it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LibraryCertificate {
    certificate: Arc<Certificate>,
    info: CertificateInfo,
}

impl PolicyLibrary {
    pub fn new(fragments: crate::FragmentMap) -> Self {
        Self {
            fragments,
            certificates: BTreeMap::new(),
            backends: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) the backend `id`.
    pub fn add_backend(&mut self, id: &str, backend: Arc<BackendSettings>) {
        self.backends.insert(id.to_owned(), backend);
    }

    /// The backends, by id.
    pub fn backends(&self) -> impl Iterator<Item = (&str, &Arc<BackendSettings>)> {
        self.backends.iter().map(|(id, b)| (id.as_str(), b))
    }

    /// Adds (or replaces) the certificate `id`.
    pub fn add_certificate(&mut self, id: &str, certificate: Arc<Certificate>) {
        let info = certificate.info(id);
        self.certificates
            .insert(id.to_owned(), LibraryCertificate { certificate, info });
    }

    /// The certificates, by id.
    pub fn certificates(&self) -> impl Iterator<Item = (&str, &Arc<Certificate>)> {
        self.certificates
            .iter()
            .map(|(id, entry)| (id.as_str(), &entry.certificate))
    }
}

impl Library for PolicyLibrary {
    fn fragment(&self, id: &str) -> Option<&str> {
        self.fragments.get(id).map(String::as_str)
    }

    fn certificate(&self, id: &str) -> Option<&CertificateInfo> {
        self.certificates.get(id).map(|entry| &entry.info)
    }

    fn has_backend(&self, id: &str) -> bool {
        self.backends.contains_key(id)
    }

    /// The certificate with this thumbprint; of two uploads of one certificate, the one
    /// with its private key.
    fn certificate_with_thumbprint(&self, thumbprint: &str) -> Option<&CertificateInfo> {
        let mut matching = self
            .certificates
            .values()
            .map(|entry| &entry.info)
            .filter(|info| info.thumbprint.eq_ignore_ascii_case(thumbprint));
        let first = matching.next()?;
        if first.has_private_key {
            return Some(first);
        }
        Some(matching.find(|info| info.has_private_key).unwrap_or(first))
    }
}
