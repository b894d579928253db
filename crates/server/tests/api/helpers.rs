//! Spawning Portcullis and a backend for a test, and talking to both.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use portcullis_gateway::GatewaySettings;
use portcullis_gateway::redis_counters::RedisSettings;
use portcullis_server::config::Role;
use portcullis_server::{Application, RunningApplication, ServeConfig};
use portcullis_store::testing::{self, TestDatabase};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;

pub struct TestApp {
    pub app: RunningApplication,
    pub token: String,
    pub http: reqwest::Client,
    pub backend: SocketAddr,
    db: TestDatabase,
}

/// Every listener on a free loopback port, analytics on.
fn config(db: &TestDatabase, gateway: GatewaySettings) -> ServeConfig {
    node_config(db, gateway, Role::All)
}

fn node_config(db: &TestDatabase, gateway: GatewaySettings, role: Role) -> ServeConfig {
    let loopback: SocketAddr = "127.0.0.1:0".parse().expect("a socket address");
    ServeConfig {
        role,
        database_url: db.url.clone(),
        portal_addr: loopback,
        gateway_addr: loopback,
        demo_addr: Some(loopback),
        // A gateway-only node has no portal to serve its health and metrics.
        operations_addr: (role == Role::Gateway).then_some(loopback),
        gateway_https: None,
        portal_tls: None,
        gateway,
        redis: None,
        local_copy: None,
        analytics: true,
    }
}

pub async fn spawn() -> TestApp {
    spawn_with(testing::sqlite(), GatewaySettings::default()).await
}

pub async fn spawn_with(db: TestDatabase, gateway: GatewaySettings) -> TestApp {
    let config = config(&db, gateway);
    spawn_configured(db, config).await
}

/// A node serving everything with counters in Redis.
pub async fn spawn_with_redis(db: TestDatabase, redis: RedisSettings) -> TestApp {
    let config = ServeConfig {
        redis: Some(redis),
        ..config(&db, GatewaySettings::default())
    };
    spawn_configured(db, config).await
}

/// A node serving everything, its configuration changed by `change` first.
pub async fn spawn_changed(
    db: TestDatabase,
    change: impl FnOnce(ServeConfig) -> ServeConfig,
) -> TestApp {
    let config = change(config(&db, GatewaySettings::default()));
    spawn_configured(db, config).await
}

async fn spawn_configured(db: TestDatabase, config: ServeConfig) -> TestApp {
    let store = db.store().await;
    let token = store
        .create_token("tests")
        .await
        .expect("a management token");
    let app = Application::build_with_store(config, store)
        .await
        .expect("Portcullis starts")
        .spawn()
        .expect("Portcullis serves");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    TestApp {
        app,
        token,
        http,
        backend: spawn_backend().await,
        db,
    }
}

/// One more node on the database of a test: its own store (connection pool), snapshot and
/// listeners, as another process of a scaled-out deployment would have.
pub async fn spawn_node(db: &TestDatabase, role: Role) -> RunningApplication {
    spawn_node_with(db, role, None).await
}

/// [`spawn_node`] with counters in Redis.
pub async fn spawn_node_with(
    db: &TestDatabase,
    role: Role,
    redis: Option<RedisSettings>,
) -> RunningApplication {
    let config = ServeConfig {
        redis,
        ..node_config(db, GatewaySettings::default(), role)
    };
    Application::build_with_store(config, db.store().await)
        .await
        .expect("the node starts")
        .spawn()
        .expect("the node serves")
}

/// A node that opens its database by URL itself (as `portcullis serve` does), for a URL the
/// test has bent, e.g. through a [`Relay`].
pub async fn spawn_node_at(
    database_url: &str,
    role: Role,
    local_copy: Option<std::path::PathBuf>,
) -> RunningApplication {
    let loopback: SocketAddr = "127.0.0.1:0".parse().expect("a socket address");
    let config = ServeConfig {
        role,
        database_url: database_url.to_owned(),
        portal_addr: loopback,
        gateway_addr: loopback,
        demo_addr: None,
        operations_addr: None,
        gateway_https: None,
        portal_tls: None,
        gateway: GatewaySettings::default(),
        redis: None,
        local_copy,
        analytics: false,
    };
    Application::build(config)
        .await
        .expect("the node starts")
        .spawn()
        .expect("the node serves")
}

/// The Redis server for tests (`PORTCULLIS_TEST_REDIS_URL`), or `None` when none is
/// configured; with `PORTCULLIS_REQUIRE_REDIS=1` (as in CI) a missing one fails the test.
pub fn test_redis_url() -> Option<String> {
    match std::env::var("PORTCULLIS_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("PORTCULLIS_REQUIRE_REDIS").as_deref() != Ok("1"),
                "PORTCULLIS_REQUIRE_REDIS=1 but PORTCULLIS_TEST_REDIS_URL is not set"
            );
            None
        }
    }
}

/// A TCP relay in front of a server, to take the server away from a node and give it back
/// without touching the server itself (other tests use it too).
pub struct Relay {
    pub addr: SocketAddr,
    mode: tokio::sync::watch::Sender<RelayMode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayMode {
    /// Bytes flow both ways.
    Forward,
    /// Connections are accepted and read, and never answered: a server that hangs. Open
    /// connections stop being relayed too.
    Blackhole,
    /// Open connections are closed and new ones closed at once: a server that is down.
    Refuse,
}

impl Relay {
    pub async fn start(target: SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a relay port");
        let addr = listener.local_addr().expect("the relay address");
        let (mode, watching) = tokio::sync::watch::channel(RelayMode::Forward);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut watching = watching.clone();
                tokio::spawn(async move {
                    let mode = *watching.borrow();
                    if mode == RelayMode::Refuse {
                        return;
                    }
                    if mode == RelayMode::Blackhole {
                        let mut sink = tokio::io::sink();
                        let _ = tokio::io::copy(&mut client, &mut sink).await;
                        return;
                    }
                    let Ok(mut server) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        mode = async {
                            match watching.wait_for(|mode| *mode != RelayMode::Forward).await {
                                Ok(mode) => *mode,
                                Err(_) => RelayMode::Refuse,
                            }
                        } => {
                            drop(server);
                            if mode == RelayMode::Blackhole {
                                // Hang: keep the client's socket open, relay nothing more.
                                let mut sink = tokio::io::sink();
                                let _ = tokio::io::copy(&mut client, &mut sink).await;
                            }
                        }
                    }
                });
            }
        });
        Relay { addr, mode }
    }

    pub fn set(&self, mode: RelayMode) {
        let _ = self.mode.send(mode);
    }
}

impl TestApp {
    /// Stops Portcullis and starts it again on the same database, as after a restart.
    pub async fn restart(self) -> TestApp {
        let TestApp {
            app,
            token,
            http,
            backend,
            db,
        } = self;
        app.stop().await.expect("Portcullis stops");
        let app = Application::build_with_store(
            config(&db, GatewaySettings::default()),
            db.store().await,
        )
        .await
        .expect("Portcullis starts again")
        .spawn()
        .expect("Portcullis serves again");
        TestApp {
            app,
            token,
            http,
            backend,
            db,
        }
    }

    /// The test's database, for more nodes on it.
    pub fn database(&self) -> &TestDatabase {
        &self.db
    }

    /// Where this test's portal listens.
    pub fn portal_addr(&self) -> SocketAddr {
        self.app
            .portal_addr
            .expect("the test app serves the portal")
    }

    /// Where this test's gateway listens.
    pub fn gateway_addr(&self) -> SocketAddr {
        self.app
            .gateway_addr
            .expect("the test app serves the gateway")
    }

    pub fn mgmt_url(&self, path: &str) -> String {
        format!("http://{}/mgmt{path}", self.portal_addr())
    }

    /// A management call with the test token; returns status and JSON body (Null if none).
    pub async fn mgmt(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, self.mgmt_url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the management API answers");
        let status = StatusCode::from_u16(response.status().as_u16()).expect("a status");
        let text = response.text().await.expect("a body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON")
        };
        (status, json)
    }

    pub async fn put(&self, path: &str, body: Value) -> Value {
        let (status, json) = self.mgmt(reqwest::Method::PUT, path, Some(body)).await;
        assert!(status.is_success(), "PUT {path} → {status}: {json}");
        json
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let (status, json) = self.mgmt(reqwest::Method::GET, path, None).await;
        assert!(status.is_success(), "GET {path} → {status}: {json}");
        json
    }

    pub async fn post(&self, path: &str) -> Value {
        let (status, json) = self.mgmt(reqwest::Method::POST, path, None).await;
        assert!(status.is_success(), "POST {path} → {status}: {json}");
        json
    }

    pub async fn delete(&self, path: &str) {
        let (status, json) = self.mgmt(reqwest::Method::DELETE, path, None).await;
        assert!(status.is_success(), "DELETE {path} → {status}: {json}");
    }

    /// A request to the gateway for `host` (sent as the Host header).
    pub fn gateway(
        &self,
        method: reqwest::Method,
        host: &str,
        path_and_query: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(
                method,
                format!("http://{}{path_and_query}", self.gateway_addr()),
            )
            .header("host", host)
    }

    pub fn backend_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.backend)
    }

    pub fn demo_url(&self) -> String {
        format!("http://{}", self.app.demo_addr.expect("the demo flow runs"))
    }

    /// Service `svc` with API `echo` (suffix `echo`) over the echo backend's `/base`, one
    /// `GET /*` and one `POST /*` operation, no subscription required.
    pub async fn echo_api(&self) {
        self.put("/services/svc", json!({ "displayName": "Service" }))
            .await;
        self.put(
            "/services/svc/apis/echo",
            json!({ "serviceUrl": self.backend_url("/base"), "path": "echo", "subscriptionRequired": false }),
        )
        .await;
        for method in ["GET", "POST"] {
            self.put(
                &format!(
                    "/services/svc/apis/echo/operations/{}-all",
                    method.to_lowercase()
                ),
                json!({ "method": method, "urlTemplate": "/*" }),
            )
            .await;
        }
    }

    /// [`Self::echo_api`] with a subscription key required.
    pub async fn keyed_echo_api(&self) {
        self.echo_api().await;
        self.put(
            "/services/svc/apis/echo",
            json!({ "serviceUrl": self.backend_url("/base"), "path": "echo", "subscriptionRequired": true }),
        )
        .await;
    }

    /// Sets the policy document at `path` (e.g. `/services/svc/apis/echo/policy`).
    pub async fn policy(&self, path: &str, xml: &str) {
        self.put(path, json!({ "format": "xml", "value": xml }))
            .await;
    }

    /// Creates subscription `sid` with `scope` and returns its primary key.
    pub async fn subscribe(&self, service: &str, sid: &str, scope: &str) -> String {
        self.put(
            &format!("/services/{service}/subscriptions/{sid}"),
            json!({ "scope": scope }),
        )
        .await;
        let secrets = self
            .post(&format!(
                "/services/{service}/subscriptions/{sid}/listSecrets"
            ))
            .await;
        secrets["primaryKey"]
            .as_str()
            .expect("a primary key")
            .to_owned()
    }
}

/// Status and JSON body of a gateway response.
pub async fn status_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Lets a test hold back the rest of the backend's `…/drip` response until it has seen the
/// first part arrive through the gateway.
pub static DRIP_RELEASE: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(0));

/// A backend that echoes what it received as JSON, with a few special paths:
/// `…/order.xml` answers an XML order, `…/forged-trace` answers with the gateway's trace headers, `…/redirect` answers 302 to `/base/landed` (`…/redirect307` with 307, `…/redirect-cross` on another host name, `…/redirect-metadata` to a cloud's metadata address), `…/vary` answers with `Vary: Accept-Encoding`, `…/flaky/{id}` answers 503 twice and then
/// echoes, `…/counted/{id}` answers how many times that path was called (`…/missing` as a 404) with `Cache-Control: max-age=120`, `…/hang` never answers, `…/slow/{ms}` echoes after that many milliseconds, `…/large/{bytes}` streams that many bytes, `…/mirror` streams the
/// request body back as it arrives, `…/drip` sends `first;` and waits for [`DRIP_RELEASE`]
/// before it sends `second`.
pub async fn spawn_backend() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a backend port");
    let addr = listener.local_addr().expect("the backend address");
    let app = Router::new().fallback(echo);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// Calls per `…/flaky/{id}` path so far: the first two answer 503, then 200.
static FLAKY: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, u32>>> =
    std::sync::LazyLock::new(Default::default);

async fn echo(request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if path.ends_with("/order.xml") {
        return (
            [("content-type", "application/xml")],
            r#"<?xml version="1.0" encoding="utf-8"?><order id="7"><item sku="a">2</item><item sku="b">1</item><note>gift &amp; card</note></order>"#,
        )
            .into_response();
    }
    if path.ends_with("/vary") {
        return ([("vary", "Accept-Encoding")], "varies").into_response();
    }
    if path.ends_with("/forged-trace") {
        return (
            [
                ("apim-trace-id", "forged"),
                ("apim-debug-authorization-expired", "true"),
            ],
            "forged",
        )
            .into_response();
    }
    if path.ends_with("/redirect307") {
        return (
            StatusCode::TEMPORARY_REDIRECT,
            [("location", "/base/landed")],
            "again",
        )
            .into_response();
    }
    if path.ends_with("/redirect-cross") {
        // The same backend under another host name: another origin.
        let port = request
            .headers()
            .get("host")
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.rsplit(':').next())
            .unwrap_or("80")
            .to_owned();
        let location = format!("http://localhost:{port}/base/landed");
        return (StatusCode::FOUND, [("location", location)], "elsewhere").into_response();
    }
    if path.ends_with("/redirect-metadata") {
        // Where clouds serve instance credentials.
        let location = "http://169.254.169.254/latest/meta-data/";
        return (StatusCode::FOUND, [("location", location)], "metadata").into_response();
    }
    if path.ends_with("/redirect") {
        return (StatusCode::FOUND, [("location", "/base/landed")], "moved").into_response();
    }
    if path.contains("/flaky/") {
        let calls = {
            let mut seen = FLAKY
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let count = seen.entry(path.clone()).or_insert(0);
            *count += 1;
            *count
        };
        if calls <= 2 {
            return (StatusCode::SERVICE_UNAVAILABLE, format!("attempt {calls}")).into_response();
        }
    }
    if path.contains("/counted/") {
        // How many times this path was called, with a cache lifetime of 120 s.
        let calls = {
            let mut seen = FLAKY
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let count = seen.entry(path.clone()).or_insert(0);
            *count += 1;
            *count
        };
        let status = if path.ends_with("/missing") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        return (
            status,
            [("cache-control", "max-age=120"), ("x-backend", "yes")],
            axum::Json(json!({ "calls": calls, "path": path })),
        )
            .into_response();
    }
    if path.ends_with("/drip") {
        let first = futures_util::stream::once(async {
            Ok::<_, std::io::Error>(Bytes::from_static(b"first;"))
        });
        let second = futures_util::stream::once(async {
            if let Ok(permit) = DRIP_RELEASE.acquire().await {
                permit.forget();
            }
            Ok::<_, std::io::Error>(Bytes::from_static(b"second"))
        });
        return Response::new(Body::from_stream(first.chain(second)));
    }
    if path.ends_with("/hang") {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if let Some(millis) = path
        .split("/slow/")
        .nth(1)
        .and_then(|n| n.parse::<u64>().ok())
    {
        tokio::time::sleep(Duration::from_millis(millis)).await;
    }
    if let Some(size) = path
        .split("/large/")
        .nth(1)
        .and_then(|n| n.parse::<usize>().ok())
    {
        let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
        let chunks = size.div_ceil(chunk.len());
        let last = size - (chunks.saturating_sub(1)) * chunk.len();
        let stream = futures_util::stream::iter((0..chunks).map(move |i| {
            let piece = if i + 1 == chunks {
                chunk.slice(..last)
            } else {
                chunk.clone()
            };
            Ok::<_, std::io::Error>(piece)
        }));
        return Response::new(Body::from_stream(stream));
    }
    if path.ends_with("/mirror") {
        let body = request
            .into_body()
            .into_data_stream()
            .map(|chunk| chunk.map_err(std::io::Error::other));
        return Response::new(Body::from_stream(body));
    }
    let method = request.method().to_string();
    let query = request.uri().query().map(str::to_owned);
    let headers = headers_json(request.headers());
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    axum::Json(json!({
        "method": method,
        "path": path,
        "query": query,
        "headers": headers,
        "bodyLength": body.len(),
    }))
    .into_response()
}

fn headers_json(headers: &HeaderMap) -> Value {
    let mut map = serde_json::Map::new();
    for (name, value) in headers {
        map.insert(
            name.as_str().to_owned(),
            json!(value.to_str().unwrap_or("<binary>")),
        );
    }
    Value::Object(map)
}

/// An address nothing listens on.
pub async fn closed_port() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("an address");
    drop(listener);
    addr
}
