//! Operator settings of the gateway (as opposed to the API configuration in snapshots).

use crate::connection::ConnectionTimeouts;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Domains under which services are addressed: service `flowdemo` answers
    /// `flowdemo.<domain>` for each. `localhost` is always included.
    pub base_domains: Vec<String>,
    /// How long to wait for a backend's response head (APIM's `forward-request` default).
    pub backend_timeout: Duration,
    /// Caller connections open at once. At the cap a new connection takes the slot of the one
    /// that has waited longest for a request head (see [`crate::connection`]); only when all
    /// are in a request does it wait.
    pub max_connections: usize,
    /// How long a caller connection may wait for a head, between requests, and for its body.
    pub timeouts: ConnectionTimeouts,
    /// Proxies in front of the gateway whose `X-Forwarded-For` is believed: the caller is then
    /// the right-most address in it that is not one of them. Empty: the socket peer.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Threads serving gateway traffic, each with its own runtime; 0: one per core.
    pub workers: usize,
    /// Bytes the in-memory rate-limit and quota counters may hold (see
    /// [`portcullis_policy::counters`]); with Redis, Redis' own `maxmemory` bounds them.
    pub counter_memory: usize,
    /// Bytes the internal cache of `cache-store-value` may hold (see
    /// [`portcullis_policy::value_cache`]); the least used entries go when it is full.
    pub cache_memory: usize,
    /// Where `authentication-managed-identity` asks for tokens: Azure's instance metadata
    /// service (IMDS) unless told otherwise.
    pub identity_endpoint: http::Uri,
    /// Where `validate-azure-ad-token` finds a tenant's OpenID configuration
    /// (`{authority}/{tenant}/v2.0/.well-known/openid-configuration`).
    pub entra_authority: http::Uri,
    /// Certificate authorities trusted for backend TLS besides the public web's (an
    /// internal CA; `--backend-ca-file`).
    pub backend_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
}

/// Microsoft Entra ID's public-cloud authority.
pub const ENTRA_AUTHORITY: &str = "https://login.microsoftonline.com";

/// Azure's instance metadata token endpoint, the same on every Azure VM and container host.
pub const AZURE_IMDS_TOKEN_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            base_domains: vec!["localhost".to_owned()],
            backend_timeout: Duration::from_secs(300),
            max_connections: 10_000,
            timeouts: ConnectionTimeouts::default(),
            trusted_proxies: Vec::new(),
            workers: 0,
            counter_memory: portcullis_policy::counters::DEFAULT_MEMORY_BUDGET,
            cache_memory: portcullis_policy::value_cache::DEFAULT_MEMORY_BUDGET,
            identity_endpoint: http::Uri::from_static(AZURE_IMDS_TOKEN_ENDPOINT),
            entra_authority: http::Uri::from_static(ENTRA_AUTHORITY),
            backend_roots: Vec::new(),
        }
    }
}

/// The certificates of a PEM file of certificate authorities (`--backend-ca-file`).
pub fn read_roots(
    file: &std::path::Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let text = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let roots = rustls::pki_types::CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", file.display()))?;
    if roots.is_empty() {
        return Err(format!("{} holds no certificate", file.display()));
    }
    Ok(roots)
}
