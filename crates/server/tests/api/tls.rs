//! HTTPS: the gateway's TLS listener (HTTP/2 and HTTP/1.1 by ALPN, certificates by SNI,
//! reloaded without a restart) and the portal over TLS, with certificates generated here
//! (issue 14, "HTTPS").

use crate::helpers::{DRIP_RELEASE, TestApp, spawn_changed};
use portcullis_gateway::tls::{RELOAD_CHECK_INTERVAL, TlsFiles};
use portcullis_server::config::HttpsListener;
use portcullis_store::testing;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// A test certificate authority that signs certificates for host names.
struct TestCa {
    certificate: rcgen::Certificate,
    key: KeyPair,
}

impl TestCa {
    fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let certificate = params.self_signed(&key).unwrap();
        Self { certificate, key }
    }

    fn pem(&self) -> String {
        self.certificate.pem()
    }

    /// A certificate for `hosts` written to `<dir>/<stem>.pem` and `.key`; returns its DER.
    fn issue(&self, dir: &Path, stem: &str, hosts: &[&str]) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let names = hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>();
        let certificate = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &self.certificate, &self.key)
            .unwrap();
        std::fs::write(dir.join(format!("{stem}.pem")), certificate.pem()).unwrap();
        std::fs::write(dir.join(format!("{stem}.key")), key.serialize_pem()).unwrap();
        certificate.der().to_vec()
    }
}

struct TlsSetup {
    ca: TestCa,
    dir: tempfile::TempDir,
    /// The default certificate (for `svc.localhost` and `localhost`), as first issued.
    default_der: Vec<u8>,
    /// `other.localhost`'s certificate in the per-host directory.
    other_der: Vec<u8>,
}

impl TlsSetup {
    fn new() -> Self {
        let ca = TestCa::new();
        let dir = tempfile::tempdir().unwrap();
        let default_der = ca.issue(dir.path(), "default", &["svc.localhost", "localhost"]);
        std::fs::create_dir(dir.path().join("hosts")).unwrap();
        let other_der = ca.issue(
            &dir.path().join("hosts"),
            "other.localhost",
            &["other.localhost"],
        );
        Self {
            ca,
            dir,
            default_der,
            other_der,
        }
    }

    fn files(&self) -> TlsFiles {
        TlsFiles {
            cert: self.path("default.pem"),
            key: self.path("default.key"),
            by_host_dir: Some(self.path("hosts")),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A client that trusts the test CA and reaches every host name at `addr`.
    fn client(&self, addr: SocketAddr, http1_only: bool) -> reqwest::Client {
        let root = reqwest::Certificate::from_pem(self.pem().as_bytes()).unwrap();
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(root)
            .resolve("svc.localhost", addr)
            .resolve("other.localhost", addr)
            .resolve("localhost", addr);
        if http1_only {
            builder = builder.http1_only();
        }
        builder.build().unwrap()
    }

    fn pem(&self) -> String {
        self.ca.pem()
    }

    /// A TLS connection to `addr` for `server_name` that trusts the test CA and offers
    /// `alpn` (none when empty).
    async fn connect(
        &self,
        addr: SocketAddr,
        server_name: &str,
        alpn: &[&[u8]],
    ) -> tokio_rustls::client::TlsStream<TcpStream> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from(
                self.ca.certificate.der().to_vec(),
            ))
            .unwrap();
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let stream = TcpStream::connect(addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from(server_name.to_owned()).unwrap();
        connector.connect(name, stream).await.unwrap()
    }

    /// The certificate the server at `addr` presents for `server_name`.
    async fn presented(&self, addr: SocketAddr, server_name: &str) -> Vec<u8> {
        let tls = self.connect(addr, server_name, &[]).await;
        let (_, connection) = tls.get_ref();
        connection.peer_certificates().unwrap()[0].to_vec()
    }
}

async fn spawn_https(setup: &TlsSetup) -> (TestApp, SocketAddr) {
    let files = setup.files();
    let app = spawn_changed(testing::sqlite(), move |config| {
        let mut config = config;
        config.gateway_https = Some(HttpsListener {
            addr: "127.0.0.1:0".parse().unwrap(),
            certificates: files,
        });
        config.gateway.timeouts.header_read = Duration::from_secs(1);
        config
    })
    .await;
    app.echo_api().await;
    let https = app.app.gateway_https_addr.expect("an HTTPS listener");
    (app, https)
}

#[tokio::test]
async fn the_gateway_answers_over_https_with_http2_and_http1() {
    let setup = TlsSetup::new();
    let (_app, https) = spawn_https(&setup).await;
    let url = format!("https://svc.localhost:{}/echo/hello?q=1", https.port());

    let response = setup.client(https, false).get(&url).send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    let echoed: serde_json::Value = response.json().await.unwrap();
    assert_eq!(echoed["path"], "/base/hello", "{echoed}");
    assert_eq!(echoed["headers"]["x-forwarded-proto"], "https", "{echoed}");

    let response = setup.client(https, true).get(&url).send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    assert_eq!(response.status(), 200);
    let echoed: serde_json::Value = response.json().await.unwrap();
    assert_eq!(echoed["headers"]["x-forwarded-proto"], "https", "{echoed}");
}

#[tokio::test]
async fn http2_streams_a_response_body_as_it_arrives_and_a_large_one_whole() {
    let setup = TlsSetup::new();
    let (_app, https) = spawn_https(&setup).await;
    let client = setup.client(https, false);
    let mut response = client
        .get(format!("https://svc.localhost:{}/echo/drip", https.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    // The first part arrives while the backend still holds the second back.
    let first = tokio::time::timeout(Duration::from_secs(10), response.chunk())
        .await
        .expect("the first part is streamed before the rest exists")
        .unwrap()
        .unwrap();
    assert_eq!(&first[..], b"first;");
    DRIP_RELEASE.add_permits(1);
    let mut rest = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    assert_eq!(rest, b"second");

    // Several streams at once on the one connection, each a few MiB.
    let calls = (0..4).map(|_| {
        let client = client.clone();
        let url = format!("https://svc.localhost:{}/echo/large/3000000", https.port());
        async move {
            let response = client.get(url).send().await.unwrap();
            assert_eq!(response.version(), reqwest::Version::HTTP_2);
            response.bytes().await.unwrap().len()
        }
    });
    let lengths = futures_util::future::join_all(calls).await;
    assert_eq!(lengths, vec![3_000_000; 4]);
}

#[tokio::test]
async fn each_host_name_gets_its_certificate_and_a_changed_one_is_served_without_a_restart() {
    let setup = TlsSetup::new();
    let (app, https) = spawn_https(&setup).await;
    assert_eq!(
        setup.presented(https, "svc.localhost").await,
        setup.default_der
    );
    assert_eq!(
        setup.presented(https, "other.localhost").await,
        setup.other_der
    );
    // A name without its own certificate gets the default one.
    assert_eq!(setup.presented(https, "localhost").await, setup.default_der);

    // Half-written files are refused and the certificate in service stays.
    std::fs::write(
        setup.path("default.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA",
    )
    .unwrap();
    tokio::time::sleep(RELOAD_CHECK_INTERVAL * 2).await;
    assert_eq!(
        setup.presented(https, "svc.localhost").await,
        setup.default_der
    );

    // A renewed certificate is served to new connections within a few seconds.
    let renewed = setup
        .ca
        .issue(setup.dir.path(), "default", &["svc.localhost", "localhost"]);
    let deadline = Instant::now() + RELOAD_CHECK_INTERVAL * 5;
    loop {
        if setup.presented(https, "svc.localhost").await == renewed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was not served"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // And calls go on working with it.
    let response = setup
        .client(https, false)
        .get(format!("https://svc.localhost:{}/echo/again", https.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    drop(app);
}

#[tokio::test]
async fn an_idle_http2_connection_that_pings_lasts_until_the_keep_alive_timeout() {
    use http_body_util::{BodyExt, Empty};
    let setup = TlsSetup::new();
    // Header-read 1 s (spawn_https), keep-alive 3 s.
    let files = setup.files();
    let app = spawn_changed(testing::sqlite(), move |mut config| {
        config.gateway_https = Some(HttpsListener {
            addr: "127.0.0.1:0".parse().unwrap(),
            certificates: files,
        });
        config.gateway.timeouts.header_read = Duration::from_secs(1);
        config.gateway.timeouts.keep_alive = Duration::from_secs(3);
        config
    })
    .await;
    app.echo_api().await;
    let https = app.app.gateway_https_addr.expect("an HTTPS listener");

    // A client that pings every 300 ms, also while no stream is open: control frames that
    // arrive after the response.
    let tls = setup.connect(https, "svc.localhost", &[b"h2"]).await;
    let mut builder =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .keep_alive_interval(Duration::from_millis(300))
        .keep_alive_while_idle(true);
    let (mut sender, connection) = builder
        .handshake::<_, Empty<bytes::Bytes>>(hyper_util::rt::TokioIo::new(tls))
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    let request = http::Request::get(format!("https://svc.localhost:{}/echo/x", https.port()))
        .body(Empty::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    response.into_body().collect().await.unwrap();
    let answered = Instant::now();

    // The pings neither count as a request head (closed after the 1 s header-read timeout)
    // nor keep the connection for ever: it is closed at the keep-alive timeout.
    let closed = tokio::time::timeout(Duration::from_secs(10), connection)
        .await
        .expect("the idle connection was closed");
    let idle = answered.elapsed();
    assert!(closed.is_ok());
    assert!(
        (Duration::from_millis(2_700)..Duration::from_millis(4_500)).contains(&idle),
        "closed after {idle:?} idle"
    );
}

#[tokio::test]
async fn a_tls_handshake_that_never_comes_is_closed_after_the_header_read_timeout() {
    let setup = TlsSetup::new();
    let (_app, https) = spawn_https(&setup).await;
    let mut stream = TcpStream::connect(https).await.unwrap();
    let started = Instant::now();
    let mut received = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received))
        .await
        .expect("the silent connection was closed");
    assert!(closed.is_ok() || received.is_empty());
    assert!(
        received.is_empty(),
        "nothing is said on a TLS port in plain text"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn the_portal_and_management_api_serve_https_when_given_a_certificate() {
    let setup = TlsSetup::new();
    let files = setup.files();
    let app = spawn_changed(testing::sqlite(), move |mut config| {
        config.portal_tls = Some(files);
        config
    })
    .await;
    let portal = app.portal_addr();
    let client_for_localhost = setup.client(portal, false);
    let response = client_for_localhost
        .get(format!("https://localhost:{}/healthz", portal.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    let response = client_for_localhost
        .get(format!("https://localhost:{}/mgmt/services", portal.port()))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // A list's next page is linked with the scheme and host the caller used.
    for name in ["first", "second"] {
        let created = client_for_localhost
            .put(format!(
                "https://localhost:{}/mgmt/services/{name}",
                portal.port()
            ))
            .bearer_auth(&app.token)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success());
    }
    let page: serde_json::Value = client_for_localhost
        .get(format!(
            "https://localhost:{}/mgmt/services?$top=1",
            portal.port()
        ))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let next = page["nextLink"].as_str().unwrap_or_default();
    assert!(
        next.starts_with(&format!(
            "https://localhost:{}/mgmt/services?",
            portal.port()
        )),
        "{page}"
    );
    // Plain HTTP on the TLS port gets nowhere.
    let plain = reqwest::get(format!("http://{portal}/healthz")).await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}
