//! Serving the gateway on its listeners: HTTP/1.1 with keep-alive on the plain one; on the
//! TLS one, HTTP/2 or HTTP/1.1 as the caller's ALPN chose. Timeouts bound every wait for
//! the caller and a cap bounds concurrent connections (both in [`crate::connection`]); a
//! graceful shutdown lets requests in flight finish.
//!
//! The gateway runs thread-per-core, the way nginx runs worker processes: [`serve_on_workers`]
//! starts one OS thread per worker, each with its own single-threaded tokio runtime, all
//! accepting from the same listening sockets. A connection lives on the worker that accepted
//! it, and so do the backend connections it uses (the pool is per worker, see
//! [`crate::backend_pool`]): a request never crosses threads, wakes another thread or
//! touches a lock another worker holds. The portal, the control plane and analytics stay on
//! the application's main runtime.
//!
//! A TLS connection's life: accepted → slot → handshake (bounded by the header-read timeout,
//! as its bytes pass through [`GuardedIo`]) → HTTP/2 if ALPN said `h2`, else HTTP/1.1 — the
//! same service and phases as a plain connection.

use crate::body::GatewayBody;
use crate::connection::{ConnectionRegistry, ConnectionState, GuardedIo, Tracked};
use crate::pipeline::Gateway;
use crate::pipeline::context::CallerTls;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::{Service, service_fn};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

/// One listening socket of the gateway: plain HTTP, or HTTPS with this TLS configuration.
pub struct GatewayListener {
    pub listener: TcpListener,
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// Streams one HTTP/2 caller connection may have open at once (nginx's default is 128,
/// hyper's 200): enough for a browser or an SDK, not a lever for one caller to take the
/// gateway's memory.
pub const MAX_CONCURRENT_STREAMS: u32 = 128;

/// The most header bytes one HTTP/2 request may send (HTTP/1.1's head is bounded by hyper's
/// buffer in the same way).
pub const MAX_HEADER_LIST_SIZE: u32 = 64 * 1024;

/// How often an HTTP/2 caller is pinged, and how long its answer may take: a caller that
/// vanished without closing is found within a minute, and its streams' backend calls end.
pub const H2_PING_INTERVAL: Duration = Duration::from_secs(30);
pub const H2_PING_TIMEOUT: Duration = Duration::from_secs(20);

/// How long requests in flight may take to finish after shutdown starts.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How many workers to run when the settings leave it to the machine: one per core this
/// process may run on (so `taskset -c 1` means one).
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Serves `listener` on `workers` threads (0: [`default_workers`]) until `shutdown`
/// completes, then lets every worker drain.
pub async fn serve_on_workers(
    listeners: Vec<GatewayListener>,
    gateway: Arc<Gateway>,
    workers: usize,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let workers = if workers == 0 {
        default_workers()
    } else {
        workers
    };
    let max_connections = gateway.snapshots().settings().max_connections.max(1);
    let slots = Arc::new(Semaphore::new(max_connections));
    let registry = Arc::new(ConnectionRegistry::default());
    let (stop, stopped) = watch::channel(false);
    let listeners = listeners
        .into_iter()
        .map(|GatewayListener { listener, tls }| Ok((listener.into_std()?, tls)))
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut threads = Vec::with_capacity(workers);
    for index in 0..workers {
        let listeners = listeners
            .iter()
            .map(|(listener, tls)| Ok((listener.try_clone()?, tls.clone())))
            .collect::<std::io::Result<Vec<_>>>()?;
        let gateway = gateway.clone();
        let slots = slots.clone();
        let registry = registry.clone();
        let stopped = stopped.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name(format!("gateway-{index}"))
            .spawn(move || {
                runtime.block_on(async move {
                    let mut serving = Vec::new();
                    for (listener, tls) in listeners {
                        let listener = match TcpListener::from_std(listener) {
                            Ok(listener) => GatewayListener { listener, tls },
                            Err(error) => {
                                tracing::error!(%error, "gateway worker cannot use a listener");
                                continue;
                            }
                        };
                        let mut stopped = stopped.clone();
                        let shutdown = async move {
                            let _ = stopped.wait_for(|stop| *stop).await;
                        };
                        serving.push(tokio::spawn(serve(
                            listener,
                            gateway.clone(),
                            slots.clone(),
                            registry.clone(),
                            shutdown,
                        )));
                    }
                    for listener in serving {
                        let _ = listener.await;
                    }
                });
            })?;
        threads.push(thread);
    }
    drop(listeners);
    shutdown.await;
    let _ = stop.send(true);
    let joined = tokio::task::spawn_blocking(move || {
        for thread in threads {
            if thread.join().is_err() {
                tracing::error!("a gateway worker panicked");
            }
        }
    });
    let _ = joined.await;
    Ok(())
}

/// Accepts connections on `listener` until `shutdown` completes, then drains. `slots` caps
/// the connections open at once (shared by every worker and listener); at the cap,
/// `registry` takes a slot back from the connection that has waited longest for a request.
pub async fn serve(
    listener: GatewayListener,
    gateway: Arc<Gateway>,
    slots: Arc<Semaphore>,
    registry: Arc<ConnectionRegistry>,
    shutdown: impl Future<Output = ()>,
) {
    let GatewayListener { listener, tls } = listener;
    let tls = tls.map(TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    let timeouts = gateway.snapshots().settings().timeouts;
    tokio::pin!(shutdown);
    while let Some((stream, peer)) = next_connection(&listener, shutdown.as_mut()).await {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                registry.reclaim_one();
                tokio::select! {
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break, // the semaphore is never closed
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let io = GuardedIo::new(stream, registry.register(), timeouts);
        let state = io.state().clone();
        let service = gateway_service(gateway.clone(), state.clone(), peer, tls.is_some());
        match &tls {
            None => {
                let connection = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(io), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, %peer, "gateway connection ended with an error");
                    }
                    drop(slot);
                });
            }
            Some(acceptor) => {
                let handshake = acceptor.accept(io.without_408());
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    // The handshake's reads pass through `GuardedIo`: a stalled one ends at
                    // the header-read timeout like a stalled head.
                    let stream = match handshake.await {
                        Ok(stream) => stream,
                        Err(error) => {
                            tracing::debug!(%error, %peer, "TLS handshake failed");
                            return;
                        }
                    };
                    let wants_h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                    let outcome = if wants_h2 {
                        state.serve_multiplexed();
                        let mut builder = http2::Builder::new(TokioExecutor::new());
                        builder
                            .timer(TokioTimer::new())
                            .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
                            .max_header_list_size(MAX_HEADER_LIST_SIZE)
                            .keep_alive_interval(Some(H2_PING_INTERVAL))
                            .keep_alive_timeout(H2_PING_TIMEOUT);
                        let connection = builder.serve_connection(TokioIo::new(stream), service);
                        watcher.watch(connection).await
                    } else {
                        let connection = http1::Builder::new()
                            .keep_alive(true)
                            .serve_connection(TokioIo::new(stream), service);
                        watcher.watch(connection).await
                    };
                    if let Err(error) = outcome {
                        tracing::debug!(%error, %peer, "gateway connection ended with an error");
                    }
                    drop(slot);
                });
            }
        }
    }
    drain(graceful, "gateway").await;
}

/// The next connection on `listener`, or `None` once `shutdown` completes. A failed accept
/// (typically EMFILE: out of file descriptors) is logged and tried again after a pause
/// instead of spinning.
pub async fn next_connection(
    listener: &TcpListener,
    mut shutdown: Pin<&mut impl Future<Output = ()>>,
) -> Option<(TcpStream, SocketAddr)> {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => return Some(accepted),
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown => return None,
        }
    }
}

/// Lets the connections `graceful` watches finish their requests, for at most
/// [`DRAIN_TIMEOUT`]; `listener` names them in the log.
pub async fn drain(graceful: GracefulShutdown, listener: &str) {
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => {
            tracing::warn!(listener, "shutdown: requests still in flight after the drain timeout");
        }
    }
}

/// The service hyper calls for every request of one caller connection: the gateway's
/// pipeline, with the connection told when each request starts and ends.
fn gateway_service(
    gateway: Arc<Gateway>,
    state: Arc<ConnectionState>,
    peer: SocketAddr,
    https: bool,
) -> impl Service<
    Request<Incoming>,
    Response = Response<Tracked<GatewayBody>>,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static {
    service_fn(move |mut request: Request<Incoming>| {
        if https {
            request.extensions_mut().insert(CallerTls);
        }
        let gateway = gateway.clone();
        let state = state.clone();
        state.enter_request();
        async move {
            let response = gateway.handle(request, peer).await;
            Ok::<_, Infallible>(response.map(|body| Tracked::new(body, state)))
        }
    })
}
