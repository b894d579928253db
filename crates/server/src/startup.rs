//! Start-up: connect the store, publish the first snapshot, bind every listener, serve until
//! told to stop. Listeners are bound in [`Application::build`] (port 0 allowed), so callers —
//! the binary and the tests alike — know the real addresses before anything runs.

use crate::analytics::Analytics;
use crate::local_copy::{self, LocalCopy};
use crate::shared_traces::SharedTraces;
use crate::{Control, ServeConfig, demo, follow, listen, mgmt};
use anyhow::Context;
use axum::Router;
use axum::routing::get;
use portcullis_gateway::redis_counters::RedisCounters;
use portcullis_gateway::server::GatewayListener;
use portcullis_gateway::tls::{CertificateStore, TlsFiles};
use portcullis_gateway::trace::TraceKeys;
use portcullis_gateway::{Gateway, SnapshotHandle, server};
use portcullis_store::{Store, StoreError};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A configured, bound, not yet serving Portcullis.
pub struct Application {
    control: Arc<Control>,
    gateway: Arc<Gateway>,
    analytics: Option<Analytics>,
    /// `None` when the role serves no portal.
    portal_listener: Option<TcpListener>,
    /// `None` when the role serves no gateway.
    gateway_listener: Option<TcpListener>,
    /// The gateway's HTTPS listener and its certificates, when asked for.
    gateway_https: Option<(TcpListener, Arc<CertificateStore>)>,
    /// The portal's certificates: the portal listener then speaks HTTPS.
    portal_certificates: Option<Arc<CertificateStore>>,
    /// `/healthz` and `/metrics` alone, for nodes without a portal (`--ops-addr`).
    operations_listener: Option<TcpListener>,
    demo_listener: Option<TcpListener>,
    portal_routes: Router,
}

impl Application {
    /// Opens the database and builds. A node with a local copy (PostgreSQL deployments)
    /// whose database cannot be reached starts from that copy instead of failing.
    pub async fn build(config: ServeConfig) -> anyhow::Result<Self> {
        let cannot_open = || {
            format!(
                "cannot open the config database at {}",
                redact(&config.database_url)
            )
        };
        match Store::connect(&config.database_url).await {
            Ok(store) => Self::build_with_store(config, store).await,
            Err(StoreError::Unavailable(reason)) => {
                let Some(path) = config.local_copy.clone().filter(|path| path.exists()) else {
                    return Err(StoreError::Unavailable(reason)).with_context(cannot_open);
                };
                let store = Store::connect_lazy(&config.database_url)
                    .await
                    .with_context(cannot_open)?;
                let saved = local_copy::open(&path)
                    .await
                    .with_context(|| format!("cannot open the local copy at {}", path.display()))?;
                let control = Self::control_plane(&config, store);
                let revision = control
                    .publish_from(&saved)
                    .await
                    .context("cannot load the local copy of the configuration")?;
                saved.close().await?;
                tracing::warn!(
                    revision,
                    reason,
                    path = %path.display(),
                    "the config database cannot be reached: serving the last known good \
                     configuration until it is back"
                );
                Self::assemble(config, control).await
            }
            Err(other) => Err(other).with_context(cannot_open),
        }
    }

    pub async fn build_with_store(config: ServeConfig, store: Store) -> anyhow::Result<Self> {
        let control = Self::control_plane(&config, store);
        control
            .try_publish()
            .await
            .context("cannot load the configuration for the gateway")?;
        Self::assemble(config, control).await
    }

    /// The control plane over `store`, keeping a local copy when the config asks for one.
    fn control_plane(config: &ServeConfig, store: Store) -> Arc<Control> {
        let snapshots = Arc::new(SnapshotHandle::new(config.gateway.clone()));
        let mut control = Control::new(store.clone(), snapshots);
        if let Some(path) = &config.local_copy {
            control = control.keep_local_copy(LocalCopy::start(store, path.clone()));
        }
        Arc::new(control)
    }

    /// Everything around a control plane that serves a configuration.
    async fn assemble(config: ServeConfig, control: Arc<Control>) -> anyhow::Result<Self> {
        let snapshots = control.snapshots().clone();
        let redis = match &config.redis {
            Some(settings) => Some(Arc::new(
                RedisCounters::new(settings.clone()).context("REDIS_URL is not a Redis URL")?,
            )),
            None => None,
        };
        let mut gateway = match &redis {
            Some(redis) => Gateway::with_counters(snapshots, redis.clone()),
            None => Gateway::new(snapshots),
        }
        .context("cannot set up TLS for backends")?;
        if let Some(redis) = &redis {
            gateway.use_external_cache(redis.clone());
            // Circuit-breaker trips open the breaker on every node (APIM: per instance).
            control.snapshots().breakers().share_through(redis.clone());
        }
        // Trace tokens open traces on every node of the deployment, and the traces are
        // written where every portal can read them.
        match control.store().trace_key().await {
            Ok(key) => gateway.use_trace_keys(TraceKeys::from_secret(key)),
            Err(error) => tracing::warn!(
                %error,
                "the shared trace key cannot be read; this node signs trace tokens with its own"
            ),
        }
        gateway.share_traces_with(Arc::new(SharedTraces::start(control.store().clone())));
        let analytics = config
            .analytics
            .then(|| Analytics::start(control.store().clone()));
        if let (Some(analytics), Some(redis)) = (&analytics, redis) {
            analytics
                .metrics()
                .follow_counter_failures(move || redis.failures());
        }
        if let Some(analytics) = &analytics {
            gateway.record_calls_to(analytics.sink());
        }
        let gateway = Arc::new(gateway);
        let bind = |addr: SocketAddr, what: &'static str| async move {
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} for the {what}"))
        };
        let portal_listener = match config.role.serves_portal() {
            true => Some(bind(config.portal_addr, "portal").await?),
            false => None,
        };
        let gateway_listener = match config.role.serves_gateway() {
            true => Some(bind(config.gateway_addr, "gateway").await?),
            false => None,
        };
        let load = |files: &TlsFiles, what: &'static str| {
            CertificateStore::load(files.clone())
                .with_context(|| format!("cannot load the {what}'s TLS certificate"))
        };
        let gateway_https = match (&config.gateway_https, config.role.serves_gateway()) {
            (Some(https), true) => Some((
                bind(https.addr, "gateway (HTTPS)").await?,
                load(&https.certificates, "gateway")?,
            )),
            _ => None,
        };
        let portal_certificates = match (&config.portal_tls, config.role.serves_portal()) {
            (Some(files), true) => Some(load(files, "portal")?),
            _ => None,
        };
        let operations_listener = match config.operations_addr {
            Some(addr) => Some(bind(addr, "operations endpoints").await?),
            None => None,
        };
        let demo_listener = match config.demo_addr {
            Some(addr) => Some(bind(addr, "demo flow").await?),
            None => None,
        };
        Ok(Self {
            control,
            gateway,
            analytics,
            portal_listener,
            gateway_listener,
            gateway_https,
            portal_certificates,
            operations_listener,
            demo_listener,
            portal_routes: Router::new(),
        })
    }

    pub fn control(&self) -> &Arc<Control> {
        &self.control
    }

    /// The analytics aggregator, when calls are recorded.
    pub fn analytics(&self) -> Option<&Analytics> {
        self.analytics.as_ref()
    }

    /// The gateway itself: its trace keys and recorded traces are the portal's too.
    pub fn gateway(&self) -> &Arc<Gateway> {
        &self.gateway
    }

    /// Where the portal listens; `None` when this node serves no portal.
    pub fn portal_addr(&self) -> Option<SocketAddr> {
        self.portal_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// Where the gateway listens; `None` when this node serves no gateway.
    pub fn gateway_addr(&self) -> Option<SocketAddr> {
        self.gateway_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// Where the gateway's HTTPS listener listens, if it has one.
    pub fn gateway_https_addr(&self) -> Option<SocketAddr> {
        self.gateway_https
            .as_ref()
            .and_then(|(l, _)| l.local_addr().ok())
    }

    /// Whether the portal listener speaks HTTPS.
    pub fn portal_is_https(&self) -> bool {
        self.portal_certificates.is_some()
    }

    /// Where `/healthz` and `/metrics` are served alone, if asked for.
    pub fn operations_addr(&self) -> Option<SocketAddr> {
        self.operations_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn demo_addr(&self) -> Option<SocketAddr> {
        self.demo_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// Adds routes (the portal's pages and server functions) to the portal listener.
    pub fn with_portal_routes(mut self, routes: Router) -> Self {
        self.portal_routes = self.portal_routes.merge(routes);
        self
    }

    /// `/healthz` (the revision served) and `/metrics` (when calls are recorded): on the
    /// portal listener, and on the operations listener of any node that has one.
    fn operations_routes(&self) -> Router {
        let control = self.control.clone();
        let routes = Router::new().route(
            "/healthz",
            get(move || {
                let control = control.clone();
                async move {
                    axum::Json(serde_json::json!({
                        "status": "ok",
                        "revision": control.snapshots().current().revision,
                    }))
                }
            }),
        );
        let Some(analytics) = &self.analytics else {
            return routes;
        };
        let metrics = analytics.metrics().clone();
        routes.route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        metrics.render(),
                    )
                }
            }),
        )
    }

    /// Serves everything until `shutdown` completes, then stops accepting and drains.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop, stopped) = watch::channel(false);
        let waiter = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let operations = self.operations_routes();
        let gateway_urls = mgmt::GatewayUrls::of(
            &self.control.snapshots().settings().base_domains,
            self.gateway_https_addr(),
            self.gateway_addr(),
        );
        let portal = operations
            .clone()
            .merge(mgmt::router(self.control.clone()).layer(axum::Extension(gateway_urls)))
            .merge(self.portal_routes);
        let operations_task = self.operations_listener.map(|listener| {
            tokio::spawn(listen::serve_router(
                listener,
                operations,
                None,
                waiter(stopped.clone()),
            ))
        });
        let analytics = self.analytics.clone();
        let mut certificates = Vec::new();
        let portal_tls = match &self.portal_certificates {
            Some(store) => {
                certificates.push(store.clone());
                Some(store.server_config()?)
            }
            None => None,
        };
        let portal_task = self.portal_listener.map(|listener| {
            tokio::spawn(listen::serve_router(
                listener,
                portal,
                portal_tls,
                waiter(stopped.clone()),
            ))
        });
        let workers = self.gateway.snapshots().settings().workers;
        let gateway = self.gateway;
        let mut gateway_listeners = Vec::new();
        if let Some(listener) = self.gateway_listener {
            gateway_listeners.push(GatewayListener {
                listener,
                tls: None,
            });
        }
        if let Some((listener, store)) = self.gateway_https {
            gateway_listeners.push(GatewayListener {
                listener,
                tls: Some(store.server_config()?),
            });
            certificates.push(store);
        }
        let gateway_task = (!gateway_listeners.is_empty()).then(|| {
            tokio::spawn(server::serve_on_workers(
                gateway_listeners,
                gateway,
                workers,
                waiter(stopped.clone()),
            ))
        });
        for store in certificates {
            tokio::spawn(store.watch(waiter(stopped.clone())));
        }
        let demo_task = self.demo_listener.map(|listener| {
            tokio::spawn(listen::serve_router(
                listener,
                demo::router(),
                None,
                waiter(stopped.clone()),
            ))
        });
        tokio::spawn(follow::follow_other_nodes(
            self.control.clone(),
            waiter(stopped.clone()),
        ));
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
        if let Some(task) = portal_task {
            task.await?.context("portal listener failed")?;
        }
        if let Some(task) = operations_task {
            task.await?.context("operations listener failed")?;
        }
        if let Some(task) = gateway_task {
            task.await?.context("gateway listener failed")?;
        }
        if let Some(task) = demo_task {
            task.await?.context("demo flow listener failed")?;
        }
        if let Some(analytics) = analytics {
            analytics.flush().await;
        }
        Ok(())
    }

    /// Starts serving in the background; for tests and embedding.
    pub fn spawn(self) -> anyhow::Result<RunningApplication> {
        let portal_addr = self.portal_addr();
        let gateway_addr = self.gateway_addr();
        let gateway_https_addr = self.gateway_https_addr();
        let demo_addr = self.demo_addr();
        let operations_addr = self.operations_addr();
        let control = self.control.clone();
        let gateway = self.gateway.clone();
        let analytics = self.analytics.clone();
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(self.run_until(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }));
        Ok(RunningApplication {
            portal_addr,
            gateway_addr,
            gateway_https_addr,
            demo_addr,
            operations_addr,
            control,
            gateway,
            analytics,
            stop,
            task,
        })
    }
}

/// A Portcullis serving in the background.
pub struct RunningApplication {
    /// `None` when the role serves no portal.
    pub portal_addr: Option<SocketAddr>,
    /// `None` when the role serves no gateway.
    pub gateway_addr: Option<SocketAddr>,
    /// The gateway's HTTPS listener, if it has one.
    pub gateway_https_addr: Option<SocketAddr>,
    pub demo_addr: Option<SocketAddr>,
    pub operations_addr: Option<SocketAddr>,
    pub control: Arc<Control>,
    pub gateway: Arc<Gateway>,
    pub analytics: Option<Analytics>,
    stop: watch::Sender<bool>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningApplication {
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.task.await?
    }
}

/// A database URL without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(super::redact("sqlite://data/p.db"), "sqlite://data/p.db");
    }
}
