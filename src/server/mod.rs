//! The portal's server side (compiled with `ssr` only): the state server functions reach
//! through Leptos context, sessions, the sign-in throttle, the setup code, and the guard
//! against cross-site requests.

mod guard;
mod session;
mod setup_code;
mod throttle;

pub use guard::reject_cross_site;
pub use session::{ADMIN_KEY as ADMIN_SESSION_KEY, end_session, signed_in, start_session};
pub use setup_code::SetupCode;
pub use throttle::SignInThrottle;

use leptos::prelude::*;
use portcullis_server::Control;
use portcullis_store::{Actor, StoreError};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// Everything server functions need, provided as Leptos context on every portal request.
#[derive(Clone)]
pub struct PortalState {
    pub control: Arc<Control>,
    /// The gateway: its trace keys and traces serve the test console.
    pub gateway: Arc<portcullis_gateway::Gateway>,
    /// Where the gateway listens (the console calls it there).
    pub gateway_addr: SocketAddr,
    /// The gateway's port, for the URLs the portal shows.
    pub gateway_port: u16,
    /// For the console's calls through the gateway.
    pub http: reqwest::Client,
    pub setup_code: Arc<SetupCode>,
    pub sign_in_throttle: Arc<SignInThrottle>,
}

impl PortalState {
    /// Where callers reach a service: `http://<name>.localhost:<gateway port>`.
    pub fn gateway_url(&self, service: &portcullis_domain::ServiceName) -> String {
        format!("http://{service}.localhost:{}", self.gateway_port)
    }
}

pub fn state() -> Result<PortalState, ServerFnError> {
    use_context::<PortalState>()
        .ok_or_else(|| ServerFnError::new("The portal state is missing from the request context."))
}

/// The state and the signed-in administrator, or an error (with status 401) for everyone else.
pub async fn require_admin() -> Result<(PortalState, Actor), ServerFnError> {
    let state = state()?;
    match signed_in().await? {
        Some(username) => Ok((state, Actor::Admin(username))),
        None => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(axum::http::StatusCode::UNAUTHORIZED);
            }
            Err(ServerFnError::new(crate::protocol::SESSION_ENDED))
        }
    }
}

pub fn parse_service(name: String) -> Result<portcullis_domain::ServiceName, ServerFnError> {
    portcullis_domain::ServiceName::parse(name).map_err(|e| ServerFnError::new(e.message))
}

/// The caller's address (the socket peer).
pub async fn peer_ip() -> IpAddr {
    leptos_axum::extract::<axum::extract::ConnectInfo<SocketAddr>>()
        .await
        .map(|info| info.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// An unexpected failure: logged in full, reported briefly.
pub fn internal(error: StoreError) -> ServerFnError {
    match error {
        StoreError::NotFound(message) => ServerFnError::new(message),
        error @ StoreError::Unanswered(_) => {
            tracing::warn!(%error, "portal request: the database did not answer");
            ServerFnError::new(portcullis_server::mgmt::unanswered_message(&error))
        }
        StoreError::Unavailable(detail) => {
            tracing::warn!(detail, "portal request: the database cannot be reached");
            ServerFnError::new(portcullis_server::mgmt::UNAVAILABLE_MESSAGE)
        }
        other => {
            tracing::error!(error = %other, "portal request failed");
            ServerFnError::new("Something went wrong on the server; see its log.")
        }
    }
}

/// `next` if it is a path on this site, else the services list (no open redirects).
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/services".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(super::local_path(Some("/services/x")), "/services/x");
        for bad in [
            None,
            Some("https://evil.example"),
            Some("//evil.example"),
            Some("/\\evil"),
        ] {
            assert_eq!(super::local_path(bad), "/services");
        }
    }
}
