//! Several nodes on one PostgreSQL database: portal-only and gateway-only nodes, changes
//! reaching every gateway, and a gateway catching up after it missed notifications.
//! Skipped without `PORTCULLIS_TEST_POSTGRES_URL` (required in CI).

use crate::helpers::{Relay, RelayMode, spawn_backend, spawn_node, spawn_node_at};
use portcullis_server::RunningApplication;
use portcullis_server::config::Role;
use portcullis_server::control::WRITE_TIMEOUT;
use portcullis_store::testing::{self, TestDatabase};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, TransactionTrait};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long a change may take to reach another node (the bound is 1 s).
const PROPAGATION_BOUND: Duration = Duration::from_secs(1);

/// Where the echo API's policy document is managed.
const ECHO_POLICY: &str = "/services/svc/apis/echo/policy";

/// A policy document that forbids calls from 127.0.0.1 (every call in these tests).
fn forbid_localhost() -> Value {
    json!({ "format": "xml", "value": "<policies><inbound><base /><ip-filter action=\"forbid\"><address>127.0.0.1</address></ip-filter></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>" })
}

struct Deployment {
    portal: RunningApplication,
    gateways: Vec<RunningApplication>,
    token: String,
    http: reqwest::Client,
    backend: SocketAddr,
}

impl Deployment {
    async fn start(db: &TestDatabase, gateways: usize) -> Deployment {
        let token = management_token(db).await;
        let portal = spawn_node(db, Role::Portal).await;
        let mut nodes = Vec::new();
        for _ in 0..gateways {
            nodes.push(spawn_node(db, Role::Gateway).await);
        }
        Deployment {
            portal,
            gateways: nodes,
            token,
            http: reqwest::Client::new(),
            backend: spawn_backend().await,
        }
    }

    /// One node serving everything, which reaches PostgreSQL through a relay the test can
    /// cut.
    async fn one_node_behind_relay(db: &TestDatabase) -> (Relay, Deployment) {
        let token = management_token(db).await;
        let (relay, url) = relayed(db).await;
        let deployment = Deployment {
            portal: spawn_node_at(&url, Role::All, None).await,
            gateways: Vec::new(),
            token,
            http: reqwest::Client::new(),
            backend: spawn_backend().await,
        };
        (relay, deployment)
    }

    /// The management API's URL for `path`, on the portal node.
    fn mgmt_url(&self, path: &str) -> String {
        let portal = self
            .portal
            .portal_addr
            .expect("a portal node serves the portal");
        format!("http://{portal}/mgmt{path}")
    }

    /// A management `PUT` on the portal node, whatever it answers.
    async fn try_put(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .put(self.mgmt_url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("the management API answers")
    }

    async fn put(&self, path: &str, body: Value) {
        let response = self.try_put(path, &body).await;
        assert!(
            response.status().is_success(),
            "PUT {path} → {}",
            response.status()
        );
    }

    /// A management `GET` on the portal node: its status and body.
    async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .http
            .get(self.mgmt_url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the management API answers");
        let status = response.status();
        (status, response.text().await.expect("a body"))
    }

    /// The echo API at `svc.localhost/echo`, open to anyone.
    async fn echo_api(&self) {
        self.put("/services/svc", json!({ "displayName": "Svc" }))
            .await;
        self.put(
            "/services/svc/apis/echo",
            json!({ "serviceUrl": format!("http://{}/base", self.backend), "path": "echo", "subscriptionRequired": false }),
        )
        .await;
        self.put(
            "/services/svc/apis/echo/operations/all",
            json!({ "method": "GET", "urlTemplate": "/*" }),
        )
        .await;
    }

    async fn call(&self, gateway: &RunningApplication, path: &str) -> StatusCode {
        let address = gateway
            .gateway_addr
            .expect("a gateway node serves the gateway");
        self.http
            .get(format!("http://{address}{path}"))
            .header("host", "svc.localhost")
            .send()
            .await
            .expect("the gateway answers")
            .status()
    }

    /// Calls `path` on `gateway` until it answers `wanted`; how long that took, or `None`
    /// if it did not within `limit`.
    async fn time_until(
        &self,
        gateway: &RunningApplication,
        path: &str,
        wanted: StatusCode,
        limit: Duration,
    ) -> Option<Duration> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if self.call(gateway, path).await == wanted {
                return Some(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        None
    }

    /// The revision a gateway node reports on its status endpoint.
    async fn served_revision(&self, gateway: &RunningApplication) -> i64 {
        let address = gateway
            .gateway_addr
            .expect("a gateway node serves the gateway");
        let status: Value = self
            .http
            .get(format!("http://{address}/status-0123456789abcdef"))
            .send()
            .await
            .expect("the status endpoint answers")
            .json()
            .await
            .expect("JSON");
        status["revision"].as_i64().expect("a revision")
    }
}

#[tokio::test]
async fn nodes_serve_only_their_role() {
    let db = testing::sqlite();
    let gateway = spawn_node(&db, Role::Gateway).await;
    assert!(gateway.portal_addr.is_none() && gateway.gateway_addr.is_some());
    // Its health and metrics, alone, on the operations listener.
    let operations = gateway.operations_addr.expect("an operations listener");
    let get = |path: &'static str| async move {
        reqwest::get(format!("http://{operations}{path}"))
            .await
            .expect("the operations listener answers")
    };
    assert_eq!(get("/healthz").await.status(), 200);
    let metrics = get("/metrics").await;
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics
            .text()
            .await
            .expect("text")
            .contains("portcullis_gateway_requests")
    );
    assert_eq!(get("/mgmt/services").await.status(), 404);
    let portal = spawn_node(&db, Role::Portal).await;
    assert!(portal.gateway_addr.is_none() && portal.portal_addr.is_some());
    let healthz = reqwest::get(format!(
        "http://{}/healthz",
        portal.portal_addr.expect("a portal")
    ))
    .await
    .expect("the portal answers");
    assert_eq!(healthz.status(), 200);
}

#[tokio::test]
async fn a_change_saved_on_a_portal_reaches_every_gateway() {
    let Some(db) = testing::postgres().await else {
        eprintln!("skipped: PORTCULLIS_TEST_POSTGRES_URL is not set");
        return;
    };
    let deployment = Deployment::start(&db, 2).await;
    deployment.echo_api().await;
    for gateway in &deployment.gateways {
        let took = deployment
            .time_until(gateway, "/echo/x", StatusCode::OK, PROPAGATION_BOUND)
            .await;
        assert!(
            took.is_some(),
            "the new API reached every gateway within 1 s"
        );
    }

    // Tighten the API: the next change is a policy, and it too reaches both.
    deployment.put(ECHO_POLICY, forbid_localhost()).await;
    for gateway in &deployment.gateways {
        let took = deployment
            .time_until(gateway, "/echo/x", StatusCode::FORBIDDEN, PROPAGATION_BOUND)
            .await;
        assert!(
            took.is_some(),
            "the policy reached every gateway within 1 s"
        );
    }
    let stored = db.store().await.revision().await.expect("the revision");
    for gateway in &deployment.gateways {
        assert_eq!(deployment.served_revision(gateway).await, stored);
    }
}

#[tokio::test]
async fn a_gateway_that_missed_notifications_catches_up_when_it_reconnects() {
    let Some(db) = testing::postgres().await else {
        eprintln!("skipped: PORTCULLIS_TEST_POSTGRES_URL is not set");
        return;
    };
    let deployment = Deployment::start(&db, 1).await;
    let gateway = &deployment.gateways[0];
    deployment.echo_api().await;
    assert!(
        deployment
            .time_until(gateway, "/echo/x", StatusCode::OK, PROPAGATION_BOUND)
            .await
            .is_some()
    );

    // A change committed without a notification, as one sent while the gateway was not
    // listening would be: the API moves from /echo to /moved.
    let raw = Database::connect(&db.url).await.expect("a raw connection");
    raw.execute_unprepared(
        "BEGIN; \
         UPDATE apis SET path = 'moved', path_key = 'moved' WHERE name = 'echo'; \
         UPDATE config_revision SET revision = revision + 1; \
         COMMIT;",
    )
    .await
    .expect("the silent change");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        deployment.call(gateway, "/echo/x").await,
        StatusCode::OK,
        "no notification, no reload: the gateway does not poll"
    );

    // Cut the gateway's listening connection; it listens again and compares revisions.
    raw.execute_unprepared(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
    )
    .await
    .expect("the listener is cut");
    let took = deployment
        .time_until(gateway, "/moved/x", StatusCode::OK, Duration::from_secs(5))
        .await;
    assert!(took.is_some(), "the gateway caught up after reconnecting");
    assert_eq!(
        deployment.call(gateway, "/echo/x").await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn while_postgres_is_away_gateways_serve_and_writes_say_why_then_resume() {
    let Some(db) = testing::postgres().await else {
        eprintln!("skipped: PORTCULLIS_TEST_POSTGRES_URL is not set");
        return;
    };
    let (relay, deployment) = Deployment::one_node_behind_relay(&db).await;
    deployment.echo_api().await;
    let node = &deployment.portal;
    assert_eq!(deployment.call(node, "/echo/x").await, StatusCode::OK);

    relay.set(RelayMode::Refuse);
    for _ in 0..10 {
        assert_eq!(
            deployment.call(node, "/echo/x").await,
            StatusCode::OK,
            "the gateway serves the configuration it has"
        );
    }
    let policy = forbid_localhost();
    let started = Instant::now();
    let refused = deployment.try_put(ECHO_POLICY, &policy).await;
    let waited = started.elapsed();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "DatabaseUnavailable");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nothing was saved")),
        "{body}"
    );
    assert!(waited < Duration::from_secs(15), "answered in {waited:?}");
    assert_eq!(deployment.call(node, "/echo/x").await, StatusCode::OK);

    relay.set(RelayMode::Forward);
    let back = Instant::now();
    loop {
        let response = deployment.try_put(ECHO_POLICY, &policy).await;
        if response.status().is_success() {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "writes resume once the database is back ({})",
            response.status()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        deployment.call(node, "/echo/x").await,
        StatusCode::FORBIDDEN,
        "the saved change is live"
    );
}

#[tokio::test]
async fn a_gateway_restarted_while_postgres_is_away_serves_its_local_copy() {
    let Some(db) = testing::postgres().await else {
        eprintln!("skipped: PORTCULLIS_TEST_POSTGRES_URL is not set");
        return;
    };
    let mut deployment = Deployment::start(&db, 0).await;
    let (relay, relayed_url) = relayed(&db).await;
    let dir = tempfile::tempdir().expect("a data directory");
    let copy = dir.path().join("last-known-good.db");
    deployment
        .gateways
        .push(spawn_node_at(&relayed_url, Role::Gateway, Some(copy.clone())).await);
    deployment.echo_api().await;
    let stored = db.store().await.revision().await.expect("the revision");
    assert!(
        deployment
            .time_until(
                &deployment.gateways[0],
                "/echo/x",
                StatusCode::OK,
                PROPAGATION_BOUND
            )
            .await
            .is_some()
    );
    // The copy follows the served configuration in the background.
    let saved = Instant::now();
    loop {
        // The copy is renamed into place once whole; a reader never races its writer.
        let copied = if copy.is_file() {
            let local = portcullis_server::local_copy::open(&copy)
                .await
                .expect("a saved copy opens");
            let revision = local.revision().await.expect("a saved copy has a revision");
            local.close().await.expect("the copy closes");
            revision
        } else {
            0
        };
        if copied == stored {
            break;
        }
        assert!(
            saved.elapsed() < Duration::from_secs(30),
            "the local copy was saved"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The gateway restarts while PostgreSQL is away: it serves the copy.
    let old = deployment.gateways.pop().expect("the gateway");
    old.stop().await.expect("the gateway stops");
    relay.set(RelayMode::Refuse);
    let restarted = spawn_node_at(&relayed_url, Role::Gateway, Some(copy)).await;
    assert_eq!(deployment.call(&restarted, "/echo/x").await, StatusCode::OK);
    assert_eq!(deployment.served_revision(&restarted).await, stored);

    // A change saved meanwhile reaches it once PostgreSQL is back.
    deployment.put(ECHO_POLICY, forbid_localhost()).await;
    relay.set(RelayMode::Forward);
    let caught_up = deployment
        .time_until(
            &restarted,
            "/echo/x",
            StatusCode::FORBIDDEN,
            Duration::from_secs(10),
        )
        .await;
    assert!(
        caught_up.is_some(),
        "the gateway follows the database again"
    );
}

async fn management_token(db: &TestDatabase) -> String {
    db.store()
        .await
        .create_token("tests")
        .await
        .expect("a management token")
}

/// A relay in front of the test's PostgreSQL and the database URL through it.
async fn relayed(db: &TestDatabase) -> (Relay, String) {
    let mut url = url::Url::parse(&db.url).expect("a database URL");
    let server: SocketAddr = format!(
        "{}:{}",
        url.host_str().expect("a host"),
        url.port().unwrap_or(5432)
    )
    .parse()
    .expect("a numeric address");
    let relay = Relay::start(server).await;
    url.set_port(Some(relay.addr.port())).expect("a port");
    (relay, url.to_string())
}

#[tokio::test]
async fn a_write_to_a_postgres_that_stopped_answering_is_given_up_on_in_bounded_time() {
    let Some(db) = testing::postgres().await else {
        eprintln!("skipped: PORTCULLIS_TEST_POSTGRES_URL is not set");
        return;
    };
    let (relay, deployment) = Deployment::one_node_behind_relay(&db).await;
    deployment.echo_api().await;

    // Packets are dropped, not refused: nothing tells the node the database is gone.
    relay.set(RelayMode::Blackhole);
    let started = Instant::now();
    let response = deployment.try_put(ECHO_POLICY, &forbid_localhost()).await;
    let waited = started.elapsed();
    let status = response.status();
    let body: Value = response.json().await.expect("JSON");
    assert!(
        matches!(
            (status.as_u16(), body["error"]["code"].as_str()),
            (503, Some("DatabaseUnavailable")) | (504, Some("DatabaseTimeout"))
        ),
        "{status} {body}"
    );
    assert!(waited < Duration::from_secs(15), "answered in {waited:?}");
    assert_eq!(
        deployment.call(&deployment.portal, "/echo/x").await,
        StatusCode::OK,
        "the gateway still serves"
    );
}

#[tokio::test]
async fn a_write_stuck_behind_a_lock_is_given_up_on_saves_nothing_and_the_next_one_goes_through() {
    let Some(db) = testing::postgres().await else {
        eprintln!("skipped: PORTCULLIS_TEST_POSTGRES_URL is not set");
        return;
    };
    let deployment = Deployment::start(&db, 0).await;
    deployment.echo_api().await;

    // Someone else holds the revision table (a long migration, a hand-run transaction):
    // reads go on, every write waits for the lock mid-transaction.
    let other = Database::connect(db.url.as_str())
        .await
        .expect("a second connection");
    let holding = other.begin().await.expect("a transaction");
    holding
        .execute_unprepared("LOCK TABLE config_revision IN EXCLUSIVE MODE")
        .await
        .expect("the lock");

    let started = Instant::now();
    let response = tokio::time::timeout(
        WRITE_TIMEOUT + Duration::from_secs(5),
        deployment.try_put(ECHO_POLICY, &forbid_localhost()),
    )
    .await
    .expect("the write is given up on, not left waiting for the lock");
    let waited = started.elapsed();
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "DatabaseTimeout", "{body}");
    assert!(
        waited >= WRITE_TIMEOUT && waited < WRITE_TIMEOUT + Duration::from_secs(5),
        "given up on after the write timeout, not before and not much later: {waited:?}"
    );

    // The lock goes away: the abandoned write was rolled back, and the next one is saved.
    holding.rollback().await.expect("the lock is released");
    let (status, body) = deployment.get(ECHO_POLICY).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the abandoned write saved nothing (the API still has no policy): {body}"
    );
    let started = Instant::now();
    let saved = deployment.try_put(ECHO_POLICY, &forbid_localhost()).await;
    assert!(saved.status().is_success(), "{}", saved.status());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the next write does not wait on the abandoned one: {:?}",
        started.elapsed()
    );
    let (status, body) = deployment.get(ECHO_POLICY).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("ip-filter"), "{body}");
}
