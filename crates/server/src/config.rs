//! Where the server listens and which database it uses.

use portcullis_gateway::GatewaySettings;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything `portcullis serve` needs, already parsed.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub database_url: String,
    pub portal_addr: SocketAddr,
    pub gateway_addr: SocketAddr,
    /// `None` turns the demo flow off.
    pub demo_addr: Option<SocketAddr>,
    pub gateway: GatewaySettings,
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
