//! Backends (`…/backends/{id}`, `set-backend-service backend-id`): credentials, circuit
//! breakers and pools, over real HTTP against backends that fail when the test says so
//! (issue 16).

use crate::helpers::{TestApp, spawn, spawn_node_with, spawn_with_redis, test_redis_url};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use portcullis_gateway::redis_counters::{CounterFailure, RedisSettings};
use portcullis_server::config::Role;
use portcullis_store::testing;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::time::Duration;

const BACKENDS: &str = "/services/svc/backends";
const ECHO_POLICY: &str = "/services/svc/apis/echo/policy";

/// A backend the test steers: it answers `status` (with `Retry-After` when set) and its
/// name, and counts its calls.
#[derive(Clone)]
struct Steered {
    name: &'static str,
    status: Arc<AtomicU16>,
    retry_after: Arc<AtomicU32>,
    calls: Arc<AtomicU32>,
    addr: SocketAddr,
}

impl Steered {
    async fn start(name: &'static str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let steered = Self {
            name,
            status: Arc::new(AtomicU16::new(200)),
            retry_after: Arc::new(AtomicU32::new(0)),
            calls: Arc::new(AtomicU32::new(0)),
            addr: listener.local_addr().expect("an address"),
        };
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(steered.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        steered
    }

    fn fail_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }

    fn url(&self) -> String {
        format!("http://{}/api", self.addr)
    }
}

async fn answer(State(steered): State<Steered>, request: Request) -> Response {
    steered.calls.fetch_add(1, Ordering::SeqCst);
    let status = StatusCode::from_u16(steered.status.load(Ordering::SeqCst)).expect("a status");
    let headers: serde_json::Map<String, serde_json::Value> = request
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), json!(v.to_str().unwrap_or_default())))
        .collect();
    let body = json!({
        "backend": steered.name,
        "path": request.uri().path(),
        "query": request.uri().query().unwrap_or_default(),
        "headers": headers,
    });
    let mut response = (status, axum::Json(body)).into_response();
    let retry_after = steered.retry_after.load(Ordering::SeqCst);
    if retry_after > 0 {
        response.headers_mut().insert(
            "retry-after",
            retry_after.to_string().parse().expect("a value"),
        );
    }
    response
}

async fn route_to(app: &TestApp, backend: &str) {
    app.policy(
        ECHO_POLICY,
        &format!(
            r#"<policies><inbound><base /><set-backend-service backend-id="{backend}" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"#
        ),
    )
    .await;
}

async fn call(app: &TestApp) -> (u16, serde_json::Value, Option<String>) {
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/orders?x=1")
        .send()
        .await
        .expect("the gateway answers");
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().expect("text").to_owned());
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, body, retry_after)
}

fn breaker(count: u32, trip: &str, accept_retry_after: bool) -> serde_json::Value {
    json!({"rules": [{
        "name": "myBreakerRule",
        "failureCondition": {
            "count": count,
            "interval": "PT1M",
            "statusCodeRanges": [{"min": 500, "max": 599}],
            "errorReasons": ["Server errors"]
        },
        "tripDuration": trip,
        "acceptRetryAfter": accept_retry_after
    }]})
}

#[tokio::test]
async fn a_backend_sends_its_credentials_with_named_values_in_them() {
    let app = spawn().await;
    app.echo_api().await;
    let orders = Steered::start("orders").await;
    app.put(
        "/services/svc/namedValues/orders-key",
        json!({"displayName": "orders-key", "value": "s3cret", "secret": true}),
    )
    .await;
    // Naming a named value that does not exist is refused, and nothing is saved.
    let (status, error) = app
        .mgmt(
            Method::PUT,
            &format!("{BACKENDS}/orders"),
            Some(json!({"url": orders.url(), "protocol": "http",
                "credentials": {"header": {"x-key": ["{{no-such-value}}"]}}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let (status, _) = app
        .mgmt(Method::GET, &format!("{BACKENDS}/orders"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let saved = app
        .put(
            &format!("{BACKENDS}/orders"),
            json!({"properties": {
                "url": orders.url(),
                "protocol": "http",
                "credentials": {
                    "header": {"x-functions-key": ["{{orders-key}}"]},
                    "query": {"code": ["{{orders-key}}", "plain value"]},
                    "authorization": {"scheme": "Basic", "parameter": "dXNlcjpwdw=="}
                }
            }}),
        )
        .await;
    assert_eq!(
        saved["credentials"]["header"]["x-functions-key"][0],
        "{{orders-key}}"
    );
    route_to(&app, "orders").await;
    let (status, body, _) = call(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["backend"], "orders");
    assert_eq!(body["path"], "/api/orders");
    assert_eq!(body["query"], "x=1&code=s3cret&code=plain+value");
    assert_eq!(body["headers"]["x-functions-key"], "s3cret");
    assert_eq!(body["headers"]["authorization"], "Basic dXNlcjpwdw==");

    // The audit log shows the reference, never a literal credential.
    let audit = app.get_json("/services/svc/auditLog?$top=50").await;
    let text = audit.to_string();
    assert!(
        text.contains("{{orders-key}}") && text.contains("(hidden)"),
        "{text}"
    );
    assert!(!text.contains("dXNlcjpwdw=="), "{text}");

    // A backend a policy names cannot be deleted; nor the named value its credentials use.
    let (status, error) = app
        .mgmt(Method::DELETE, &format!("{BACKENDS}/orders"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert!(error.to_string().contains("API echo"), "{error}");
    let (status, error) = app
        .mgmt(Method::DELETE, "/services/svc/namedValues/orders-key", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");

    // Renaming the named value renames it in the credentials, which keep working.
    app.put(
        "/services/svc/namedValues/orders-key",
        json!({"displayName": "orders-key-2", "value": "s3cret", "secret": true}),
    )
    .await;
    let renamed = app.get_json(&format!("{BACKENDS}/orders")).await;
    assert_eq!(
        renamed["credentials"]["header"]["x-functions-key"][0],
        "{{orders-key-2}}"
    );
    assert_eq!(call(&app).await.1["headers"]["x-functions-key"], "s3cret");

    // A policy naming a backend that does not exist is refused at save time.
    let (status, error) = app
        .mgmt(
            Method::PUT,
            ECHO_POLICY,
            Some(json!({"format": "xml", "value": r#"<policies><inbound><set-backend-service backend-id="nowhere" /></inbound></policies>"#})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(
        error.to_string().contains("no backend 'nowhere'"),
        "{error}"
    );
}

#[tokio::test]
async fn the_breaker_trips_answers_503_and_closes_after_the_trip_duration() {
    let app = spawn().await;
    app.echo_api().await;
    let orders = Steered::start("orders").await;
    app.put(
        &format!("{BACKENDS}/orders"),
        json!({"url": orders.url(), "protocol": "http", "circuitBreaker": breaker(3, "PT2S", false)}),
    )
    .await;
    route_to(&app, "orders").await;
    assert_eq!(call(&app).await.0, 200);

    orders.fail_with(500);
    for _ in 0..3 {
        assert_eq!(
            call(&app).await.0,
            500,
            "failures pass through until the trip"
        );
    }
    assert_eq!(orders.calls(), 4);
    let (status, body, retry_after) = call(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["statusCode"], 503);
    assert!(
        body["message"]
            .as_str()
            .expect("a message")
            .contains("circuit breaker is open"),
        "{body}"
    );
    assert_eq!(retry_after.as_deref(), Some("2"));
    assert_eq!(orders.calls(), 4, "an open breaker sends nothing");
    let state = app.get_json(&format!("{BACKENDS}/orders")).await;
    assert_eq!(state["circuitBreakerState"]["state"], "open", "{state}");
    assert_eq!(state["circuitBreakerState"]["trips"], 1);

    // Saving an unrelated change keeps the breaker open (its state outlives the snapshot).
    app.put(
        "/services/svc/namedValues/unrelated",
        json!({"displayName": "unrelated", "value": "x"}),
    )
    .await;
    assert_eq!(call(&app).await.0, 503);

    orders.fail_with(200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(call(&app).await.0, 200, "closed after the trip duration");
    assert_eq!(orders.calls(), 5);
    let state = app.get_json(&format!("{BACKENDS}/orders")).await;
    assert_eq!(state["circuitBreakerState"]["state"], "closed", "{state}");

    // A backend that does not answer at all fails too.
    app.put(
        &format!("{BACKENDS}/orders"),
        json!({"url": format!("http://{}/api", crate::helpers::closed_port().await),
            "circuitBreaker": breaker(2, "PT1M", false)}),
    )
    .await;
    assert_eq!(call(&app).await.0, 502);
    assert_eq!(call(&app).await.0, 502);
    assert_eq!(call(&app).await.0, 503);
    // An operator can close it by hand.
    app.post(&format!("{BACKENDS}/orders/reset")).await;
    assert_eq!(call(&app).await.0, 502);
}

#[tokio::test]
async fn retry_after_from_the_backend_sets_the_trip_when_the_rule_accepts_it() {
    let app = spawn().await;
    app.echo_api().await;
    let orders = Steered::start("orders").await;
    app.put(
        &format!("{BACKENDS}/orders"),
        json!({"url": orders.url(), "circuitBreaker": breaker(1, "PT1S", true)}),
    )
    .await;
    route_to(&app, "orders").await;
    orders.fail_with(503);
    orders.retry_after.store(120, Ordering::SeqCst);
    assert_eq!(call(&app).await.0, 503);
    let (status, _, retry_after) = call(&app).await;
    assert_eq!(status, 503);
    let seconds: u64 = retry_after.expect("Retry-After").parse().expect("seconds");
    assert!((100..=120).contains(&seconds), "{seconds}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        call(&app).await.0,
        503,
        "still open: the backend's Retry-After, not the 1 s trip"
    );
    assert_eq!(orders.calls(), 1);
}

#[tokio::test]
async fn a_pool_balances_by_weight_and_fails_over_by_priority() {
    let app = spawn().await;
    app.echo_api().await;
    let [a, b, standby] = [
        Steered::start("a").await,
        Steered::start("b").await,
        Steered::start("standby").await,
    ];
    for member in [&a, &b, &standby] {
        app.put(
            &format!("{BACKENDS}/{}", member.name),
            json!({"url": member.url(), "circuitBreaker": breaker(1, "PT1M", false)}),
        )
        .await;
    }
    // A pool in a pool, or a member that does not exist, is refused.
    let (status, error) = app
        .mgmt(
            Method::PUT,
            &format!("{BACKENDS}/pool"),
            Some(json!({"type": "Pool", "pool": {"services": [{"id": "/backends/ghost"}]}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    app.put(
        &format!("{BACKENDS}/pool"),
        json!({"type": "Pool", "pool": {"services": [
            {"id": "/backends/a", "priority": 1, "weight": 1},
            {"id": "/backends/b", "priority": 1, "weight": 3},
            {"id": "/backends/standby", "priority": 2}
        ]}}),
    )
    .await;
    route_to(&app, "pool").await;
    for _ in 0..40 {
        assert_eq!(call(&app).await.0, 200);
    }
    assert_eq!((a.calls(), b.calls(), standby.calls()), (10, 30, 0));

    // b's breaker opens: a takes everything in priority 1.
    b.fail_with(500);
    let mut failed = 0;
    for _ in 0..8 {
        if call(&app).await.0 == 500 {
            failed += 1;
        }
    }
    assert_eq!(failed, 1, "b fails once, trips, and is left out");
    let before = a.calls();
    for _ in 0..5 {
        assert_eq!(call(&app).await.1["backend"], "a");
    }
    assert_eq!(a.calls(), before + 5);

    // a trips as well: priority 2 takes over.
    a.fail_with(500);
    call(&app).await;
    for _ in 0..3 {
        assert_eq!(call(&app).await.1["backend"], "standby");
    }
    // And when every member is open, the pool answers 503.
    standby.fail_with(500);
    call(&app).await;
    let (status, body, retry_after) = call(&app).await;
    assert_eq!(status, 503, "{body}");
    assert!(retry_after.is_some());
    assert!(
        body["message"]
            .as_str()
            .expect("a message")
            .contains("'pool'")
    );

    // A member cannot be deleted while the pool names it.
    let (status, error) = app
        .mgmt(Method::DELETE, &format!("{BACKENDS}/a"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert!(error.to_string().contains("pool pool"), "{error}");
}

#[tokio::test]
async fn with_redis_a_trip_on_one_node_opens_the_breaker_on_every_node() {
    let Some(url) = test_redis_url() else {
        eprintln!("skipped: PORTCULLIS_TEST_REDIS_URL is not set");
        return;
    };
    let redis = RedisSettings {
        url,
        key_prefix: format!("test-{}", uuid::Uuid::new_v4().simple()),
        timeout: Duration::from_millis(500),
        failure: CounterFailure::Open,
        slot_lease: Duration::from_secs(30),
    };
    let first = spawn_with_redis(testing::sqlite(), redis.clone()).await;
    first.echo_api().await;
    let orders = Steered::start("orders").await;
    first
        .put(
            &format!("{BACKENDS}/orders"),
            json!({"url": orders.url(), "circuitBreaker": breaker(2, "PT1M", false)}),
        )
        .await;
    route_to(&first, "orders").await;
    let second = spawn_node_with(first.database(), Role::Gateway, Some(redis)).await;
    let second_gateway = second.gateway_addr.expect("a gateway");
    let http = reqwest::Client::new();
    let call_second = || {
        http.get(format!("http://{second_gateway}/echo/orders"))
            .header("host", "svc.localhost")
            .send()
    };
    assert_eq!(call_second().await.expect("answers").status(), 200);

    orders.fail_with(500);
    assert_eq!(call(&first).await.0, 500);
    assert_eq!(call(&first).await.0, 500);
    assert_eq!(call(&first).await.0, 503, "tripped on the first node");
    let calls = orders.calls();
    // The second node never saw a failure; it learns of the trip from Redis (it asks at most
    // every half second, in the background).
    let mut learned = false;
    for _ in 0..40 {
        if call_second().await.expect("answers").status() == 503 {
            learned = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(learned, "the second node opened its breaker");
    assert!(
        orders.calls() <= calls + 2,
        "at most a call or two before it learned"
    );
}
