//! Operator settings of the gateway (as opposed to the API configuration in snapshots).

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Domains under which services are addressed: service `flowdemo` answers
    /// `flowdemo.<domain>` for each. `localhost` is always included.
    pub base_domains: Vec<String>,
    /// How long to wait for a backend's response head (APIM's `forward-request` default).
    pub backend_timeout: Duration,
    /// Connections served at once; further ones wait in the accept queue.
    pub max_connections: usize,
    /// Proxies in front of the gateway whose `X-Forwarded-For` is believed: the caller is then
    /// the right-most address in it that is not one of them. Empty: the socket peer.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Threads serving gateway traffic, each with its own runtime; 0: one per core.
    pub workers: usize,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            base_domains: vec!["localhost".to_owned()],
            backend_timeout: Duration::from_secs(300),
            max_connections: 10_000,
            trusted_proxies: Vec::new(),
            workers: 0,
        }
    }
}
