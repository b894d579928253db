//! Kept-alive HTTP/1.1 connections to backends, one free list per gateway worker thread.
//!
//! Each gateway worker is a thread with its own single-threaded runtime (see
//! [`crate::server`]); a backend connection is driven by a task on the worker that opened it
//! and used only by requests on that worker. So the pool needs no lock and no channel: it is
//! a thread-local map from `(scheme, authority)` to the connections open to it.
//!
//! A connection is found in the map by asking hyper whether it is ready for another request
//! ([`SendRequest::is_ready`]): one still streaming its last response body is not, and is
//! left where it is. A request goes out on a ready connection, or on a new one; once the
//! response head arrives the connection goes back into the map, where it becomes ready again
//! when its body has been read. Closed connections, and connections idle longer than
//! [`IDLE_TIMEOUT`], are dropped when a lookup or the periodic sweep comes across them.
//!
//! A connection opened with a client certificate (`authentication-certificate`) is kept
//! under that certificate's thumbprint as well: it is used again only for calls that present
//! the same certificate, and never for calls that present none.
//!
//! This replaces hyper-util's pooled client on the hot path: that client guards its pool
//! with a mutex, checks connections out through a channel and returns them from a spawned
//! task; the bench harness's two reference proxies measure the difference on this machine
//! (see `bench/README.md`).

use crate::backends::TlsChecks;
use crate::body::GatewayBody;
use http::header::{self, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, Uri};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_service::Service;

/// How long an unused connection is kept.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// At most this many connections per backend are kept per worker.
const MAX_KEPT_PER_BACKEND: usize = 256;
/// Every this many requests, the whole map is swept for closed and idle connections.
const SWEEP_EVERY: u32 = 4096;

/// Why a backend could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("cannot connect to the backend: {0}")]
    Connect(String),
    #[error("the backend connection failed: {0}")]
    Exchange(#[from] hyper::Error),
    #[error("the backend URL has no host")]
    NoHost,
}

/// Where a kept connection goes: scheme, authority, the thumbprint of the client
/// certificate it presented (if any), and how the backend's certificate was checked.
type BackendKey = (Scheme, Authority, Option<Arc<str>>, TlsChecks);

/// The backends one worker talks to.
#[derive(Default)]
struct WorkerConnections {
    by_backend: HashMap<BackendKey, Vec<Kept>>,
    requests_since_sweep: u32,
}

/// A connection in the map: its sender and when it last carried a request.
struct Kept {
    sender: SendRequest<GatewayBody>,
    last_used: Instant,
}

impl Kept {
    fn is_usable(&self, now: Instant) -> bool {
        !self.sender.is_closed() && now.duration_since(self.last_used) < IDLE_TIMEOUT
    }
}

impl WorkerConnections {
    /// A connection to `backend` that is ready now, taken out of the map.
    fn take_ready(&mut self, backend: &BackendKey) -> Option<SendRequest<GatewayBody>> {
        self.requests_since_sweep += 1;
        if self.requests_since_sweep >= SWEEP_EVERY {
            self.sweep();
        }
        let kept = self.by_backend.get_mut(backend)?;
        let now = Instant::now();
        let mut index = kept.len();
        while index > 0 {
            index -= 1;
            let Some(candidate) = kept.get(index) else {
                continue;
            };
            if !candidate.is_usable(now) {
                kept.swap_remove(index);
            } else if candidate.sender.is_ready() {
                return Some(kept.swap_remove(index).sender);
            }
        }
        None
    }

    /// Puts a connection (back) into the map once its request is under way.
    fn keep(&mut self, backend: BackendKey, sender: SendRequest<GatewayBody>) {
        let kept = self.by_backend.entry(backend).or_default();
        if kept.len() < MAX_KEPT_PER_BACKEND {
            kept.push(Kept {
                sender,
                last_used: Instant::now(),
            });
        }
    }

    fn sweep(&mut self) {
        self.requests_since_sweep = 0;
        let now = Instant::now();
        self.by_backend.retain(|_, kept| {
            kept.retain(|k| k.is_usable(now));
            !kept.is_empty()
        });
    }
}

thread_local! {
    static CONNECTIONS: RefCell<WorkerConnections> = RefCell::new(WorkerConnections::default());
}

/// Sends requests to backends over kept-alive connections, plain or TLS. Cheap to clone
/// (clones share the connector and the budget of detached requests).
#[derive(Clone)]
pub struct BackendClient {
    connector: HttpsConnector<HttpConnector>,
    /// The certificate authorities backends are checked against (the public web's and
    /// [`crate::settings::GatewaySettings::backend_roots`]), for connectors that present a
    /// client certificate.
    roots: Arc<rustls::RootCertStore>,
    /// Requests sent without waiting (`send-one-way-request`) that are still in flight.
    detached: std::sync::Arc<tokio::sync::Semaphore>,
    /// Where managed-identity tokens come from (see
    /// [`crate::settings::GatewaySettings::identity_endpoint`]).
    pub identity_endpoint: Option<http::Uri>,
    /// Where Entra ID tenants' OpenID configurations are (see
    /// [`crate::settings::GatewaySettings::entra_authority`]).
    pub entra_authority: Option<http::Uri>,
}

/// At most this many requests sent without waiting may be in flight per process; past it a
/// new one is dropped (and logged) rather than piling up tasks without bound.
pub const MAX_DETACHED: usize = 1024;

impl BackendClient {
    /// Fails only if the TLS provider cannot be set up, which a misbuilt binary could cause.
    pub fn new() -> Result<Self, rustls::Error> {
        Self::with_roots(&[])
    }

    /// A client that trusts `extra_roots` for backend TLS besides the public web's roots.
    pub fn with_roots(
        extra_roots: &[rustls::pki_types::CertificateDer<'static>],
    ) -> Result<Self, rustls::Error> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for root in extra_roots {
            roots.add(root.clone())?;
        }
        let roots = Arc::new(roots);
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
        Ok(Self {
            connector: connector(config),
            roots,
            detached: std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_DETACHED)),
            identity_endpoint: None,
            entra_authority: None,
        })
    }

    /// Sends `request` in a task of its own and drops the answer (read to its end, so the
    /// connection can be kept), all within `timeout`. Returns `false` when
    /// [`MAX_DETACHED`] requests are in flight already and this one was not sent.
    pub fn send_detached(
        &self,
        request: Request<GatewayBody>,
        certificate: Option<Arc<portcullis_domain::Certificate>>,
        timeout: Duration,
    ) -> bool {
        let Ok(permit) = self.detached.clone().try_acquire_owned() else {
            return false;
        };
        let client = self.clone();
        tokio::spawn(async move {
            let uri = request.uri().clone();
            let sent = tokio::time::timeout(timeout, async {
                let response = client.send_as(request, certificate.as_deref()).await?;
                let status = response.status();
                http_body_util::BodyExt::collect(response.into_body()).await?;
                Ok::<_, BackendError>(status)
            })
            .await;
            match sent {
                Ok(Ok(status)) => tracing::debug!(%uri, %status, "one-way request answered"),
                Ok(Err(error)) => tracing::info!(%uri, %error, "one-way request failed"),
                Err(_) => tracing::info!(%uri, ?timeout, "one-way request timed out"),
            }
            drop(permit);
        });
        true
    }

    /// Sends `request` (its URI absolute) and waits for the response head. The request goes
    /// out in origin form with `Host` set from the URI, as a client library would send it.
    pub async fn send(
        &self,
        request: Request<GatewayBody>,
    ) -> Result<Response<Incoming>, BackendError> {
        self.send_as(request, None).await
    }

    /// [`BackendClient::send`], presenting `certificate` (with its private key) when the
    /// backend asks for a client certificate.
    pub async fn send_as(
        &self,
        request: Request<GatewayBody>,
        certificate: Option<&portcullis_domain::Certificate>,
    ) -> Result<Response<Incoming>, BackendError> {
        self.send_with(request, certificate, TlsChecks::Full).await
    }

    /// [`BackendClient::send_as`], checking the backend's TLS certificate as `checks` says
    /// (a backend's `tls` settings).
    pub async fn send_with(
        &self,
        mut request: Request<GatewayBody>,
        certificate: Option<&portcullis_domain::Certificate>,
        checks: TlsChecks,
    ) -> Result<Response<Incoming>, BackendError> {
        let uri = request.uri().clone();
        let scheme = uri.scheme().cloned().unwrap_or(Scheme::HTTP);
        let authority = uri.authority().cloned().ok_or(BackendError::NoHost)?;
        if let Ok(host) = HeaderValue::from_str(host_header(&scheme, &authority)) {
            request.headers_mut().insert(header::HOST, host);
        }
        *request.uri_mut() = Uri::from(
            uri.path_and_query()
                .cloned()
                .unwrap_or_else(|| PathAndQuery::from_static("/")),
        );
        let thumbprint = certificate.map(|c| c.thumbprint_shared().clone());
        let backend = (scheme, authority, thumbprint, checks);

        // A kept connection first; one the backend closed just before our request reached it
        // hands the request back untouched, and it goes out on a new connection instead.
        if let Some(mut sender) = CONNECTIONS.with(|c| c.borrow_mut().take_ready(&backend)) {
            match sender.try_send_request(request).await {
                Ok(response) => {
                    CONNECTIONS.with(|c| c.borrow_mut().keep(backend, sender));
                    return Ok(response);
                }
                Err(mut failed) => match failed.take_message() {
                    Some(unsent) => request = unsent,
                    None => return Err(BackendError::Exchange(failed.into_error())),
                },
            }
        }
        let connector = match (certificate, &backend.2, checks) {
            (None, _, TlsChecks::Full) | (Some(_), None, TlsChecks::Full) => self.connector.clone(),
            (certificate, thumbprint, checks) => crate::client_certificates::connector_for(
                certificate.zip(thumbprint.as_ref()),
                checks,
                &self.roots,
            )
            .map_err(BackendError::Connect)?,
        };
        let mut sender = connect(connector, &uri).await?;
        let response = sender.send_request(request).await?;
        CONNECTIONS.with(|c| c.borrow_mut().keep(backend, sender));
        Ok(response)
    }
}

/// An HTTP/1.1 connector (plain or TLS by the URL's scheme) with `config` for TLS.
pub(crate) fn connector(config: rustls::ClientConfig) -> HttpsConnector<HttpConnector> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}

/// Opens a connection to `uri` with `connector`.
async fn connect(
    mut connector: HttpsConnector<HttpConnector>,
    uri: &Uri,
) -> Result<SendRequest<GatewayBody>, BackendError> {
    std::future::poll_fn(|context| connector.poll_ready(context))
        .await
        .map_err(|error| BackendError::Connect(error_chain(error.as_ref())))?;
    let stream = connector
        .call(uri.clone())
        .await
        .map_err(|error| BackendError::Connect(error_chain(error.as_ref())))?;
    let (sender, connection) = hyper::client::conn::http1::handshake(stream).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "backend connection ended with an error");
        }
    });
    Ok(sender)
}

/// `Host` for a backend: the authority without its user info, and without the port when it
/// is the scheme's default.
fn host_header<'a>(scheme: &Scheme, authority: &'a Authority) -> &'a str {
    let text = authority.as_str();
    let text = text.rsplit_once('@').map_or(text, |(_, host)| host);
    let default_port = if *scheme == Scheme::HTTPS { 443 } else { 80 };
    match authority.port_u16() {
        Some(port) if port == default_port => text.rsplit_once(':').map_or(text, |(host, _)| host),
        _ => text,
    }
}

/// An error and its causes on one line.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(scheme: Scheme, authority: &str) -> String {
        let authority: Authority = authority.parse().expect("authority");
        host_header(&scheme, &authority).to_owned()
    }

    #[test]
    fn host_leaves_out_default_ports_and_user_info() {
        assert_eq!(host(Scheme::HTTP, "example.com:80"), "example.com");
        assert_eq!(host(Scheme::HTTPS, "example.com:443"), "example.com");
        assert_eq!(host(Scheme::HTTP, "example.com:8080"), "example.com:8080");
        assert_eq!(host(Scheme::HTTPS, "example.com:80"), "example.com:80");
        assert_eq!(host(Scheme::HTTP, "user:pw@example.com"), "example.com");
        assert_eq!(host(Scheme::HTTP, "[::1]:80"), "[::1]");
        assert_eq!(host(Scheme::HTTP, "[::1]:9000"), "[::1]:9000");
    }
}
