//! Serving an axum router (the portal and management API, `/healthz`, the demo flow) on a
//! listener: plain HTTP, or HTTPS when given a TLS configuration — HTTP/1.1 or HTTP/2 as the
//! caller chooses — with every wait for the caller bounded and a graceful shutdown.
//!
//! `axum::serve` would do for plain HTTP but has no header-read timeout (a caller that never
//! finishes its head keeps its connection for ever) and no TLS, so these listeners are
//! served here, on hyper-util's automatic HTTP/1.1-or-HTTP/2 connection, the way the
//! gateway's listeners are.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use portcullis_gateway::pipeline::context::CallerTls;
use portcullis_gateway::server;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::Service;

/// From a connection's accept (or the end of its last request) to the end of the next
/// request head — the TLS handshake included on HTTPS. nginx's `client_header_timeout` is
/// 60 s; a browser or a script sends its head in milliseconds.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in flight
/// finish (for at most [`server::DRAIN_TIMEOUT`]). Handlers see the caller's address as
/// [`ConnectInfo<SocketAddr>`].
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let acceptor = tls.map(TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(server::MAX_CONCURRENT_STREAMS)
        .max_header_list_size(server::MAX_HEADER_LIST_SIZE);
    let name = listener
        .local_addr()
        .map_or_else(|_| "a listener".to_owned(), |addr| addr.to_string());
    tokio::pin!(shutdown);
    while let Some((stream, peer)) = server::next_connection(&listener, shutdown.as_mut()).await {
        let router = router.clone();
        let tls = acceptor.is_some();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            if tls {
                // Links the answer makes (a list's `nextLink`) say https.
                request.extensions_mut().insert(CallerTls);
            }
            router.clone().call(request)
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        match &acceptor {
            None => {
                tokio::spawn(async move {
                    let connection =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    if let Err(error) = watcher.watch(connection.into_owned()).await {
                        tracing::debug!(%error, %peer, "connection ended with an error");
                    }
                });
            }
            Some(acceptor) => {
                let handshake = acceptor.accept(stream);
                tokio::spawn(async move {
                    let stream = match tokio::time::timeout(HEADER_READ_TIMEOUT, handshake).await {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(error)) => {
                            tracing::debug!(%error, %peer, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    };
                    let connection =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    if let Err(error) = watcher.watch(connection.into_owned()).await {
                        tracing::debug!(%error, %peer, "connection ended with an error");
                    }
                });
            }
        }
    }
    server::drain(graceful, &name).await;
    Ok(())
}
