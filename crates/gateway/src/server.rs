//! Serving the gateway on a listener: HTTP/1.1 with keep-alive, timeouts on every wait for
//! the caller and a cap on concurrent connections (both in [`crate::connection`]), and a
//! graceful shutdown that lets requests in flight finish.
//!
//! The gateway runs thread-per-core, the way nginx runs worker processes: [`serve_on_workers`]
//! starts one OS thread per worker, each with its own single-threaded tokio runtime, all
//! accepting from the same listening socket. A connection lives on the worker that accepted
//! it, and so do the backend connections it uses (the pool is per worker, see
//! [`crate::backend_pool`]): a request never crosses threads, wakes another thread or
//! touches a lock another worker holds. The portal, the control plane and analytics stay on
//! the application's main runtime.

use crate::connection::{ConnectionRegistry, GuardedIo, Tracked};
use crate::pipeline::Gateway;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// How long requests in flight may take to finish after shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How many workers to run when the settings leave it to the machine: one per core this
/// process may run on (so `taskset -c 1` means one).
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Serves `listener` on `workers` threads (0: [`default_workers`]) until `shutdown`
/// completes, then lets every worker drain.
pub async fn serve_on_workers(
    listener: TcpListener,
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
    let listener = listener.into_std()?;
    let mut threads = Vec::with_capacity(workers);
    for index in 0..workers {
        let listener = listener.try_clone()?;
        let gateway = gateway.clone();
        let slots = slots.clone();
        let registry = registry.clone();
        let mut stopped = stopped.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name(format!("gateway-{index}"))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(error) => {
                            tracing::error!(%error, "gateway worker cannot use the listener");
                            return;
                        }
                    };
                    let shutdown = async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    };
                    serve(listener, gateway, slots, registry, shutdown).await;
                });
            })?;
        threads.push(thread);
    }
    drop(listener);
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
/// the connections open at once (shared by every worker); at the cap, `registry` takes a slot
/// back from the connection that has waited longest for a request.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    slots: Arc<Semaphore>,
    registry: Arc<ConnectionRegistry>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let timeouts = gateway.snapshots().settings().timeouts;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Typically EMFILE: back off briefly instead of spinning.
                    tracing::warn!(%error, "gateway accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
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
        let gateway = gateway.clone();
        let service = service_fn(move |request| {
            let gateway = gateway.clone();
            let state = state.clone();
            state.enter_request();
            async move {
                let response = gateway.handle(request, peer).await;
                Ok::<_, Infallible>(response.map(|body| Tracked::new(body, state)))
            }
        });
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
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => {
            tracing::warn!("gateway shutdown: requests still in flight after the drain timeout");
        }
    }
}
