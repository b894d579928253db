//! Rate limits counted in Redis: exact across gateway nodes, and what a node does when Redis
//! goes away (fail-open, fail-closed) and comes back. Skipped without
//! `PORTCULLIS_TEST_REDIS_URL` (required in CI).

use crate::helpers::{
    Relay, RelayMode, TestApp, spawn_node_with, spawn_with_redis, test_redis_url,
};
use futures_util::future::join_all;
use portcullis_gateway::redis_counters::{CounterFailure, RedisSettings};
use portcullis_server::RunningApplication;
use portcullis_server::config::Role;
use portcullis_store::testing;
use reqwest::StatusCode;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Settings for one test: its own key prefix, so tests sharing the Redis never share counts.
fn settings(url: &str, failure: CounterFailure) -> RedisSettings {
    RedisSettings {
        url: url.to_owned(),
        key_prefix: format!("test-{}", uuid::Uuid::new_v4().simple()),
        timeout: Duration::from_millis(250),
        failure,
        // Short, so that a call outlives its slot's lease many times over unless the slot
        // is renewed.
        slot_lease: Duration::from_millis(300),
    }
}

/// A node whose Redis is reached through a relay the test can cut.
async fn behind_relay(url: &str, failure: CounterFailure) -> (Relay, TestApp) {
    let relay = Relay::start(redis_addr(url)).await;
    let redis = RedisSettings {
        url: format!("redis://{}/", relay.addr),
        ..settings(url, failure)
    };
    (relay, spawn_with_redis(testing::sqlite(), redis).await)
}

/// The Redis server's address, from its URL.
fn redis_addr(url: &str) -> SocketAddr {
    let url = url::Url::parse(url).expect("a Redis URL");
    let host = url.host_str().expect("a host");
    let port = url.port().unwrap_or(6379);
    format!("{host}:{port}").parse().expect("a numeric address")
}

/// The echo API behind a key, `calls` per minute for each subscription; returns the key.
async fn limited_api(app: &TestApp, calls: u64) -> String {
    app.keyed_echo_api().await;
    let key = app.subscribe("svc", "alice", "/apis/echo").await;
    app.policy(
        "/services/svc/apis/echo/policy",
        &format!(
            r#"<policies><inbound><base /><rate-limit calls="{calls}" renewal-period="60" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"#
        ),
    )
    .await;
    key
}

async fn call(http: &reqwest::Client, gateway: SocketAddr, key: &str) -> StatusCode {
    http.get(format!("http://{gateway}/echo/x"))
        .header("host", "svc.localhost")
        .header("ocp-apim-subscription-key", key)
        .send()
        .await
        .expect("the gateway answers")
        .status()
}

fn gateway_of(node: &RunningApplication) -> SocketAddr {
    node.gateway_addr.expect("the node serves the gateway")
}

#[tokio::test]
async fn two_gateways_let_exactly_the_limit_through() {
    let Some(url) = test_redis_url() else {
        eprintln!("skipped: PORTCULLIS_TEST_REDIS_URL is not set");
        return;
    };
    let db = match testing::postgres().await {
        Some(db) => db,
        None => testing::sqlite(),
    };
    let redis = settings(&url, CounterFailure::Closed);
    let first = spawn_with_redis(db, redis.clone()).await;
    let key = limited_api(&first, 100).await;
    // The second node starts after the configuration is saved, so it reads it at start
    // (on SQLite, too, where nodes do not hear each other's changes).
    let second = spawn_node_with(first.database(), Role::Gateway, Some(redis)).await;
    let gateways = [first.gateway_addr(), gateway_of(&second)];
    let http = reqwest::Client::new();
    let calls = (0..1000).map(|i| call(&http, gateways[i % 2], &key));
    let statuses = join_all(calls).await;
    let allowed = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((allowed, refused), (100, 900));
}

#[tokio::test]
async fn fail_closed_refuses_within_the_timeout_and_recovers_without_a_restart() {
    let Some(url) = test_redis_url() else {
        eprintln!("skipped: PORTCULLIS_TEST_REDIS_URL is not set");
        return;
    };
    let (relay, app) = behind_relay(&url, CounterFailure::Closed).await;
    let key = limited_api(&app, 1000).await;
    let http = reqwest::Client::new();
    assert_eq!(call(&http, app.gateway_addr(), &key).await, StatusCode::OK);

    relay.set(RelayMode::Blackhole);
    let started = Instant::now();
    let response = http
        .get(format!("http://{}/echo/x", app.gateway_addr()))
        .header("host", "svc.localhost")
        .header("ocp-apim-subscription-key", &key)
        .send()
        .await
        .expect("the gateway answers");
    let waited = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        waited < Duration::from_secs(2),
        "answered in {waited:?}, bounded by the Redis timeout"
    );

    relay.set(RelayMode::Forward);
    let recovered = Instant::now();
    loop {
        if call(&http, app.gateway_addr(), &key).await == StatusCode::OK {
            break;
        }
        assert!(
            recovered.elapsed() < Duration::from_secs(10),
            "counting resumed once Redis answered again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn fail_open_lets_calls_through_counts_the_failures_and_resumes_counting() {
    let Some(url) = test_redis_url() else {
        eprintln!("skipped: PORTCULLIS_TEST_REDIS_URL is not set");
        return;
    };
    let (relay, app) = behind_relay(&url, CounterFailure::Open).await;
    let key = limited_api(&app, 3).await;
    let http = reqwest::Client::new();

    relay.set(RelayMode::Blackhole);
    for _ in 0..5 {
        assert_eq!(
            call(&http, app.gateway_addr(), &key).await,
            StatusCode::OK,
            "fail-open: through, uncounted"
        );
    }
    let metrics = http
        .get(format!("http://{}/metrics", app.portal_addr()))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let failures: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("portcullis_counter_store_failures_total "))
        .and_then(|value| value.trim().parse().ok())
        .expect("the failure counter is exported");
    assert!(failures >= 5, "{failures} failures counted");

    relay.set(RelayMode::Forward);
    // Counting resumes: the limit of 3 holds again (the uncounted calls are not counted).
    let recovered = Instant::now();
    let mut statuses = Vec::new();
    while recovered.elapsed() < Duration::from_secs(10) {
        statuses.push(call(&http, app.gateway_addr(), &key).await);
        if statuses.last() == Some(&StatusCode::TOO_MANY_REQUESTS) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn quotas_and_concurrency_slots_are_shared_by_the_gateways() {
    let Some(url) = test_redis_url() else {
        eprintln!("skipped: PORTCULLIS_TEST_REDIS_URL is not set");
        return;
    };
    let redis = settings(&url, CounterFailure::Closed);
    let first = spawn_with_redis(testing::sqlite(), redis.clone()).await;
    first.keyed_echo_api().await;
    let key = first.subscribe("svc", "alice", "/apis/echo").await;
    first
        .policy(
            "/services/svc/apis/echo/policy",
            r#"<policies><inbound><base /><quota-by-key calls="7" renewal-period="3600" counter-key="@(context.Subscription.Id)" /></inbound><backend><limit-concurrency key="@(context.Api.Name)" max-count="1"><forward-request timeout="2" /></limit-concurrency></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"#,
        )
        .await;
    let second = spawn_node_with(first.database(), Role::Gateway, Some(redis)).await;
    let gateways = [first.gateway_addr(), gateway_of(&second)];
    let http = reqwest::Client::new();
    let get = |gateway: SocketAddr, path: &'static str| {
        let request = http
            .get(format!("http://{gateway}{path}"))
            .header("host", "svc.localhost")
            .header("ocp-apim-subscription-key", &key)
            .send();
        async move { request.await.expect("the gateway answers").status() }
    };

    // One slot for both nodes: a call on the first waits for the backend (which hangs: 504
    // after 2 s); a second call, on the other node a second later, is refused. The slot's
    // lease is 300 ms: only renewal keeps it taken that long.
    let (on_first, on_second) = tokio::join!(get(gateways[0], "/echo/hang"), async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        get(gateways[1], "/echo/hang").await
    });
    assert_eq!(
        (on_first.as_u16(), on_second.as_u16()),
        (504, 429),
        "the first call holds the only slot until it is answered"
    );

    // Those two calls took two of the quota's 7; of 20 more, alternating between the nodes
    // (one at a time: the single slot would refuse overlapping calls; each call gives its
    // slot back before it is answered, so the next finds it free), 5 pass.
    let mut statuses = Vec::new();
    for i in 0..20 {
        statuses.push(get(gateways[i % 2], "/echo/fine").await);
    }
    let passed = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let over_quota = statuses
        .iter()
        .filter(|s| **s == StatusCode::FORBIDDEN)
        .count();
    assert_eq!((passed, over_quota), (5, 15));
}
