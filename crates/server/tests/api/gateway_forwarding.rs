//! Forwarding: the backend URL, headers, streaming, and backend failures.

use crate::helpers::{TestApp, closed_port, spawn, spawn_with, status_json};
use futures_util::StreamExt;
use portcullis_gateway::GatewaySettings;
use portcullis_store::testing;
use reqwest::Method;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn the_backend_sees_the_rewritten_url_and_forwarding_headers() {
    let app = spawn().await;
    app.put("/services/svc", json!({})).await;
    app.put(
        "/services/svc/apis/flow",
        json!({ "serviceUrl": app.backend_url("/workflows/run/?api-version=2016-10-01&sig=abc"), "path": "flow" }),
    )
    .await;
    app.put(
        "/services/svc/apis/flow/operations/all",
        json!({ "method": "POST", "urlTemplate": "/*" }),
    )
    .await;
    let key = app.subscribe("svc", "s", "/apis").await;

    let response = app
        .gateway(
            Method::POST,
            "svc.localhost:8080",
            "/flow/orders/7?x=1&subscription-key=ignored",
        )
        .header("Ocp-Apim-Subscription-Key", &key)
        .header("X-Forwarded-For", "203.0.113.9")
        .header("Connection", "keep-alive, X-Hop")
        .header("X-Hop", "dropped")
        .header("X-Custom", "kept")
        .body("hello")
        .send()
        .await
        .unwrap();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(request_id.len(), 32);
    let (status, seen) = status_json(response).await;
    assert_eq!(status, 200);
    assert_eq!(seen["path"], "/workflows/run/orders/7");
    assert_eq!(
        seen["query"], "api-version=2016-10-01&sig=abc&x=1",
        "the flow's signature first"
    );
    assert_eq!(seen["bodyLength"], 5);
    let headers = &seen["headers"];
    assert!(
        headers.get("ocp-apim-subscription-key").is_none(),
        "the key is stripped"
    );
    assert!(
        headers.get("x-hop").is_none(),
        "headers named by Connection are dropped"
    );
    assert_eq!(headers["x-custom"], "kept");
    assert_eq!(headers["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
    assert_eq!(headers["x-forwarded-proto"], "http");
    assert_eq!(headers["x-forwarded-host"], "svc.localhost:8080");
    assert_eq!(headers["x-request-id"], request_id.as_str());
    assert_eq!(headers["host"], app.backend.to_string());
}

#[tokio::test]
async fn forward_subscription_key_keeps_it() {
    let app = spawn().await;
    app.put("/services/svc", json!({})).await;
    app.put(
        "/services/svc/apis/a",
        json!({ "serviceUrl": app.backend_url("/"), "path": "a", "forwardSubscriptionKey": true }),
    )
    .await;
    app.put(
        "/services/svc/apis/a/operations/all",
        json!({ "method": "GET", "urlTemplate": "/*" }),
    )
    .await;
    let key = app.subscribe("svc", "s", "/apis/a").await;
    let response = app
        .gateway(
            Method::GET,
            "svc.localhost",
            &format!("/a/x?subscription-key={key}"),
        )
        .header("Ocp-Apim-Subscription-Key", &key)
        .send()
        .await
        .unwrap();
    let (_, seen) = status_json(response).await;
    assert_eq!(seen["headers"]["ocp-apim-subscription-key"], key.as_str());
    assert_eq!(seen["query"], format!("subscription-key={key}"));
}

#[tokio::test]
async fn large_bodies_stream_both_ways() {
    let app = spawn().await;
    app.echo_api().await;
    // 32 MiB up and back, sent as a stream of chunks.
    let chunk = vec![7u8; 1 << 20];
    let chunks = 32;
    let upload = futures_util::stream::iter(
        (0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
    );
    let response = app
        .gateway(Method::POST, "svc.localhost", "/echo/mirror")
        .body(reqwest::Body::wrap_stream(upload))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut received = 0usize;
    let mut stream = response.bytes_stream();
    while let Some(piece) = stream.next().await {
        let piece = piece.unwrap();
        assert!(piece.iter().all(|b| *b == 7));
        received += piece.len();
    }
    assert_eq!(received, chunks << 20);

    let download = app
        .gateway(Method::GET, "svc.localhost", "/echo/large/50000000")
        .send()
        .await
        .unwrap();
    assert_eq!(download.bytes().await.unwrap().len(), 50_000_000);
}

/// Streaming, not buffering: each side sees the other's first bytes while the rest is still
/// held back. A gateway that buffered whole bodies would deadlock here (and time out).
#[tokio::test]
async fn bodies_flow_through_before_they_are_complete() {
    let app = spawn().await;
    app.echo_api().await;
    let guard = Duration::from_secs(10);

    // Response direction: the backend sends "first;" and waits for the test.
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/drip")
        .send()
        .await
        .unwrap();
    let mut stream = response.bytes_stream();
    let first = tokio::time::timeout(guard, stream.next())
        .await
        .expect("the first part arrives early");
    assert_eq!(&first.unwrap().unwrap()[..], b"first;");
    crate::helpers::DRIP_RELEASE.add_permits(1);
    let second = tokio::time::timeout(guard, stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(&second[..], b"second");

    // Request direction: the caller sends one part, waits for its echo, then sends the next.
    let (more, mut wait) = tokio::sync::mpsc::channel::<()>(1);
    let upload = futures_util::stream::once(async { Ok::<_, std::io::Error>(b"ping;".to_vec()) })
        .chain(futures_util::stream::once(async move {
            wait.recv().await;
            Ok(b"pong".to_vec())
        }));
    let response = app
        .gateway(Method::POST, "svc.localhost", "/echo/mirror")
        .body(reqwest::Body::wrap_stream(upload))
        .send();
    let response = tokio::time::timeout(guard, response)
        .await
        .expect("headers come back early")
        .unwrap();
    let mut stream = response.bytes_stream();
    let echoed = tokio::time::timeout(guard, stream.next())
        .await
        .expect("the echo of the first part");
    assert_eq!(&echoed.unwrap().unwrap()[..], b"ping;");
    more.send(()).await.unwrap();
    let mut rest = Vec::new();
    while let Some(piece) = tokio::time::timeout(guard, stream.next()).await.unwrap() {
        rest.extend_from_slice(&piece.unwrap());
    }
    assert_eq!(rest, b"pong");
}

#[tokio::test]
async fn refused_backends_get_502_and_hanging_ones_504() {
    let settings = GatewaySettings {
        backend_timeout: Duration::from_secs(1),
        ..GatewaySettings::default()
    };
    let app = spawn_with(testing::sqlite(), settings).await;
    app.echo_api().await;
    let hang = app
        .gateway(Method::GET, "svc.localhost", "/echo/hang")
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(hang).await;
    assert_eq!(status, 504);
    assert_eq!(body["message"], "Backend did not respond within 1 seconds");

    let closed = closed_port().await;
    app.put(
        "/services/svc/apis/echo",
        json!({ "serviceUrl": format!("http://{closed}/"), "path": "echo", "subscriptionRequired": false }),
    )
    .await;
    let refused = app
        .gateway(Method::GET, "svc.localhost", "/echo/x")
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(refused).await;
    assert_eq!(status, 502);
    assert_eq!(body["statusCode"], 502);
    assert_eq!(body["message"], "Backend connection failure");
    assert_eq!(body["requestId"].as_str().unwrap().len(), 32);
}

/// A raw HTTP/1.1 backend that answers every request with 200 and counts the connections
/// it accepted; with `close_after_answer` it closes each connection after one answer without
/// saying so (no `Connection: close`), as a backend with a short keep-alive timeout does.
async fn counting_backend(close_after_answer: bool) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 8192];
                let mut seen = Vec::new();
                loop {
                    let Ok(read) = stream.read(&mut buffer).await else {
                        return;
                    };
                    if read == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buffer[..read]);
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if stream.write_all(answer).await.is_err() || close_after_answer {
                            return;
                        }
                    }
                }
            });
        }
    });
    (address, accepted)
}

/// Service `svc` with an open API at `svc.localhost/<name>` over `backend`, any GET.
async fn open_api_over(app: &TestApp, name: &str, backend: SocketAddr) {
    app.put("/services/svc", json!({ "displayName": "Svc" }))
        .await;
    app.put(
        &format!("/services/svc/apis/{name}"),
        json!({ "serviceUrl": format!("http://{backend}/"), "path": name, "subscriptionRequired": false }),
    )
    .await;
    app.put(
        &format!("/services/svc/apis/{name}/operations/all"),
        json!({ "method": "GET", "urlTemplate": "/*" }),
    )
    .await;
}

#[tokio::test]
async fn backend_connections_are_kept_and_reused() {
    let app = spawn().await;
    let (backend, accepted) = counting_backend(false).await;
    open_api_over(&app, "kept", backend).await;
    for _ in 0..20 {
        let response = app
            .gateway(Method::GET, "svc.localhost", "/kept/x")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "ok");
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "one backend connection for 20 calls"
    );
}

#[tokio::test]
async fn a_backend_closing_kept_connections_costs_callers_nothing() {
    let app = spawn().await;
    let (backend, accepted) = counting_backend(true).await;
    open_api_over(&app, "short", backend).await;
    for call in 0..20 {
        let response = app
            .gateway(Method::GET, "svc.localhost", "/short/x")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "call {call}");
        assert_eq!(response.text().await.unwrap(), "ok");
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        20,
        "a new connection for every call"
    );
}

#[tokio::test]
async fn a_backend_cannot_forge_the_gateways_trace_headers() {
    let app = spawn().await;
    app.echo_api().await;
    let response = app
        .gateway(reqwest::Method::GET, "svc.localhost", "/echo/forged-trace")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("apim-trace-id").is_none());
    assert!(
        response
            .headers()
            .get("apim-debug-authorization-expired")
            .is_none()
    );
    assert_eq!(response.text().await.unwrap(), "forged");
}
