//! Slow, idle and stalled callers: every wait for the caller is bounded, and a flood of such
//! connections does not lock normal callers out (issue 14, item 2).

use crate::helpers::{TestApp, spawn_with};
use portcullis_gateway::GatewaySettings;
use portcullis_gateway::connection::ConnectionTimeouts;
use portcullis_store::testing;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A gateway whose waits for the caller are all `seconds` long.
async fn spawn_with_timeouts(seconds: u64, max_connections: usize) -> TestApp {
    let wait = Duration::from_secs(seconds);
    let timeouts = ConnectionTimeouts {
        header_read: wait,
        keep_alive: wait,
        body_read: wait,
    };
    spawn_with_clock(timeouts, max_connections).await
}

/// A gateway with these waits for the caller and this connection cap.
async fn spawn_with_clock(timeouts: ConnectionTimeouts, max_connections: usize) -> TestApp {
    spawn_with(
        testing::sqlite(),
        GatewaySettings {
            timeouts,
            max_connections,
            ..GatewaySettings::default()
        },
    )
    .await
}

/// Everything the gateway sends on `stream` until it closes it (or `limit` passes: then the
/// test fails, the connection was kept).
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> String {
    let mut received = Vec::new();
    let outcome = tokio::time::timeout(limit, stream.read_to_end(&mut received)).await;
    assert!(
        outcome.is_ok(),
        "the gateway kept the connection open for {limit:?}; it sent {:?}",
        String::from_utf8_lossy(&received)
    );
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn a_request_head_that_never_ends_gets_408_and_the_connection_is_closed() {
    let app = spawn_with_timeouts(1, 10_000).await;
    let mut stream = TcpStream::connect(app.gateway_addr()).await.unwrap();
    stream
        .write_all(b"GET /echo/x HTTP/1.1\r\nhost: svc.localhost\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let received = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(
        received.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{received:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_without_an_answer() {
    let app = spawn_with_timeouts(1, 10_000).await;
    let mut stream = TcpStream::connect(app.gateway_addr()).await.unwrap();
    let received = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(received, "");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_quietly_after_its_timeout() {
    let app = spawn_with_timeouts(1, 10_000).await;
    let mut stream = TcpStream::connect(app.gateway_addr()).await.unwrap();
    let request = format!(
        "GET {} HTTP/1.1\r\nhost: localhost\r\n\r\n",
        portcullis_gateway::STATUS_PATH
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // The answer arrives on a kept connection…
    let mut head = [0_u8; 15];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200 OK");
    // …which stays usable for a second request…
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received_more = {
        let mut buffer = vec![0_u8; 4096];
        let read = stream.read(&mut buffer).await.unwrap();
        buffer.truncate(read);
        buffer
    };
    assert!(!received_more.is_empty());
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0_u8; 15];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200 OK");
    // …and is then closed, with nothing more said, once it sits idle.
    let rest = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(!rest.contains("408"), "{rest:?}");
}

/// Reads one whole response with a `content-length` from `stream` (head and body).
async fn read_one_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if received.len() >= end + 4 + length {
                return text;
            }
        }
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(read > 0, "closed mid-response: {text:?}");
        received.extend_from_slice(&buffer[..read]);
    }
}

#[tokio::test]
async fn the_keep_alive_clock_starts_when_a_fast_answer_ends() {
    // The status answer is written within the poll that read its head: the connection must
    // still count as idle from the end of that answer (quiet close after the keep-alive
    // timeout), not as a head that never ended (a 408 after the header-read timeout).
    let timeouts = ConnectionTimeouts {
        header_read: Duration::from_secs(1),
        keep_alive: Duration::from_secs(3),
        body_read: Duration::from_secs(1),
    };
    let app = spawn_with_clock(timeouts, GatewaySettings::default().max_connections).await;
    let mut stream = TcpStream::connect(app.gateway_addr()).await.unwrap();
    let request = format!(
        "GET {} HTTP/1.1\r\nhost: localhost\r\n\r\n",
        portcullis_gateway::STATUS_PATH
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let answer = read_one_response(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer:?}");
    let answered = Instant::now();
    let rest = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    let idle = answered.elapsed();
    assert_eq!(rest, "", "an idle connection is closed without a word");
    assert!(
        idle >= Duration::from_millis(2800) && idle < Duration::from_millis(4500),
        "closed after {idle:?} idle; the keep-alive timeout is 3 s"
    );
}

#[tokio::test]
async fn a_connection_idle_after_a_long_request_is_closed_after_its_timeout() {
    // The request outlasts every timeout (its timer fires while the backend works): after
    // the answer the connection is still kept for the keep-alive timeout, then closed.
    let app = spawn_with_timeouts(1, 10_000).await;
    app.echo_api().await;
    let mut stream = TcpStream::connect(app.gateway_addr()).await.unwrap();
    stream
        .write_all(
            b"POST /echo/slow/2500 HTTP/1.1\r\nhost: svc.localhost\r\ncontent-length: 4\r\n\r\nbody",
        )
        .await
        .unwrap();
    let answer = read_one_response(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer:?}");
    let answered = Instant::now();
    let rest = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    let idle = answered.elapsed();
    assert_eq!(rest, "");
    assert!(
        idle >= Duration::from_millis(800) && idle < Duration::from_millis(3000),
        "closed after {idle:?} idle; the keep-alive timeout is 1 s"
    );
}

#[tokio::test]
async fn a_request_body_that_stops_arriving_gets_408() {
    let app = spawn_with_timeouts(1, 10_000).await;
    app.echo_api().await;
    let mut stream = TcpStream::connect(app.gateway_addr()).await.unwrap();
    stream
        .write_all(
            b"POST /echo/upload HTTP/1.1\r\nhost: svc.localhost\r\ncontent-length: 100\r\n\r\n0123456789",
        )
        .await
        .unwrap();
    let received = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(received.starts_with("HTTP/1.1 408 "), "{received:?}");
    assert!(received.contains("did not arrive in time"), "{received:?}");
}

#[tokio::test]
async fn a_slow_backend_is_not_the_callers_fault() {
    // The body-read and keep-alive timeouts run only while the gateway waits for the caller:
    // a backend that takes longer than them to answer still gets its answer through.
    let app = spawn_with_timeouts(1, 10_000).await;
    app.echo_api().await;
    let response = app
        .gateway(reqwest::Method::POST, "svc.localhost", "/echo/slow/2500")
        .body("a body the caller sent at once")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_flood_of_slow_connections_does_not_lock_normal_callers_out() {
    // 16 slots, heads may take a minute: without taking slots back, 100 slow connections
    // would hold every slot for that minute.
    let app = spawn_with_timeouts(60, 16).await;
    let mut slow = Vec::new();
    for _ in 0..100 {
        let mut stream = TcpStream::connect(app.gateway_addr()).await.unwrap();
        stream
            .write_all(b"GET /echo/x HTTP/1.1\r\nhost: svc.localhost\r\nx-slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let status_url = format!(
        "http://{}{}",
        app.gateway_addr(),
        portcullis_gateway::STATUS_PATH
    );
    for call in 0..20 {
        let response = client.get(&status_url).send().await;
        let status = response.map(|r| r.status().as_u16());
        assert_eq!(
            status.as_ref().ok(),
            Some(&200),
            "call {call} was locked out: {status:?}"
        );
    }
    // The slow connections that gave up their slot were told why.
    let (mut told, mut quiet, mut open) = (0, 0, 0);
    for stream in &mut slow {
        let mut buffer = [0_u8; 64];
        match tokio::time::timeout(Duration::from_millis(20), stream.read(&mut buffer)).await {
            Ok(Ok(read)) if buffer[..read].starts_with(b"HTTP/1.1 408") => told += 1,
            Ok(_) => quiet += 1,
            Err(_) => open += 1,
        }
    }
    assert!(
        told >= 84,
        "only {told} slow connections were closed with 408 ({quiet} without a word, {open} still open)"
    );
}
