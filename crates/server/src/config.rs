//! Where the server listens and which database it uses.

use portcullis_gateway::GatewaySettings;
use portcullis_gateway::redis_counters::RedisSettings;
use portcullis_gateway::tls::TlsFiles;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// What one node of a deployment serves.
///
/// A single machine runs [`Role::All`]. Scaled out, several [`Role::Gateway`] nodes behind a
/// load balancer serve API traffic and one or more [`Role::Portal`] nodes serve the portal
/// and the management API, all on one PostgreSQL database (see the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// The portal, the management API and the gateway.
    #[default]
    All,
    /// Only the gateway: no portal listener.
    Gateway,
    /// Only the portal and the management API: no gateway listener. The test console calls
    /// the gateway at the configured gateway address.
    Portal,
}

impl Role {
    pub fn serves_portal(self) -> bool {
        matches!(self, Role::All | Role::Portal)
    }

    pub fn serves_gateway(self) -> bool {
        matches!(self, Role::All | Role::Gateway)
    }
}

/// A role name that is not one of `all`, `gateway`, `portal`.
#[derive(Debug, thiserror::Error)]
#[error("unknown role '{0}': expected all, gateway or portal")]
pub struct UnknownRole(String);

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(Role::All),
            "gateway" => Ok(Role::Gateway),
            "portal" => Ok(Role::Portal),
            _ => Err(UnknownRole(text.to_owned())),
        }
    }
}

/// Where an HTTPS listener listens and the certificates it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsListener {
    pub addr: SocketAddr,
    pub certificates: TlsFiles,
}

/// Everything `portcullis serve` needs, already parsed.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub role: Role,
    pub database_url: String,
    /// Where the portal listens (unless the role serves no portal).
    pub portal_addr: SocketAddr,
    /// Where the gateway listens; for [`Role::Portal`], where the console finds a gateway.
    pub gateway_addr: SocketAddr,
    /// The gateway's HTTPS listener, beside the plain one; `None`: none.
    pub gateway_https: Option<HttpsListener>,
    /// The portal's certificates: with them the portal listener speaks HTTPS only.
    pub portal_tls: Option<TlsFiles>,
    /// A listener for `/healthz` and `/metrics` alone (for gateway-only nodes, whose
    /// portal listener is off); `None`: none.
    pub operations_addr: Option<SocketAddr>,
    /// `None` turns the demo flow off.
    pub demo_addr: Option<SocketAddr>,
    pub gateway: GatewaySettings,
    /// Counters shared through Redis; `None` counts in this process' memory.
    pub redis: Option<RedisSettings>,
    /// Where to keep the last known good configuration (nodes on PostgreSQL): copied after
    /// every change, served if the node starts while the database is away.
    pub local_copy: Option<PathBuf>,
    /// Record every call for analytics and `/metrics` (on unless turned off).
    pub analytics: bool,
}

/// The database to use: `database_url` when given, else `portcullis.db` in `data_dir`
/// (created if missing).
pub fn database_url(data_dir: &Path, database_url: Option<&str>) -> std::io::Result<String> {
    if let Some(url) = database_url.filter(|u| !u.trim().is_empty()) {
        return Ok(url.to_owned());
    }
    std::fs::create_dir_all(data_dir)?;
    let file: PathBuf = data_dir.join("portcullis.db");
    Ok(format!("sqlite://{}?mode=rwc", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_by_name() {
        assert_eq!("gateway".parse::<Role>().unwrap(), Role::Gateway);
        assert_eq!("Portal".parse::<Role>().unwrap(), Role::Portal);
        assert_eq!("all".parse::<Role>().unwrap(), Role::All);
        assert!("both".parse::<Role>().is_err());
        assert!(Role::Gateway.serves_gateway() && !Role::Gateway.serves_portal());
        assert!(Role::Portal.serves_portal() && !Role::Portal.serves_gateway());
    }

    #[test]
    fn explicit_urls_win_and_data_dirs_get_a_sqlite_file() {
        let dir = std::env::temp_dir().join(format!("portcullis-config-{}", std::process::id()));
        assert_eq!(
            database_url(&dir, Some("postgres://u@h/db")).unwrap(),
            "postgres://u@h/db"
        );
        let url = database_url(&dir, None).unwrap();
        assert!(url.starts_with("sqlite://") && url.ends_with("portcullis.db?mode=rwc"));
        assert!(dir.is_dir());
        let _ = std::fs::remove_dir_all(dir);
    }
}
