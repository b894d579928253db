//! Certificates (`…/certificates/{id}`) and the policies that use them: the gateway presents
//! an uploaded client certificate to a backend that asks for one (`authentication-certificate`,
//! also inside `send-request`), and validate-jwt checks signatures with a certificate's key
//! (issue 15). The certificate files are OpenSSL's (`crates/domain/tests/certificates/`).

use crate::helpers::{TestApp, spawn_changed, status_json};
use base64::Engine as _;
use portcullis_store::testing;
use reqwest::{Method, StatusCode};
use rustls::pki_types::CertificateDer;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;

const CERTIFICATES: &str = "/services/svc/certificates";
const ECHO_POLICY: &str = "/services/svc/apis/echo/policy";
const PASSWORD: &str = "Portcullis-1";
const THUMBPRINT: &str = "37274B61590E0F5C7578D9423CDB6439DDADD670";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../domain/tests/certificates/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A TLS backend on loopback that asks for (but does not require) a client certificate,
/// checks that the client holds its key (the handshake's signature), and answers with the
/// certificate it was shown: `{"clientCertificate": base64 DER or null, "path": …}`.
struct MutualTlsBackend {
    addr: SocketAddr,
    /// The backend's certificate authority, which the gateway is told to trust.
    ca_der: CertificateDer<'static>,
}

impl MutualTlsBackend {
    async fn start() -> Self {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let server_key = rcgen::KeyPair::generate().unwrap();
        let server = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&server_key, &ca, &ca_key)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(Arc::new(AnyClientCertificate(provider)))
            .with_single_cert(
                vec![server.der().clone()],
                rustls::pki_types::PrivateKeyDer::try_from(server_key.serialize_der()).unwrap(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let shown = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .map(|der| base64(der));
                    let service = hyper::service::service_fn(move |request| {
                        let body = json!({
                            "clientCertificate": shown,
                            "path": request.uri().path(),
                        })
                        .to_string();
                        async move {
                            Ok::<_, std::convert::Infallible>(hyper::Response::new(
                                http_body_util::Full::new(bytes::Bytes::from(body)),
                            ))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            ca_der: ca.der().clone(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }
}

/// Accepts any client certificate whose holder proves it has the key, so the test sees
/// exactly what the gateway presented.
#[derive(Debug)]
struct AnyClientCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::server::danger::ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        Ok(rustls::server::danger::ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A node that trusts the backend's CA, service `svc` with API `echo` over the TLS backend.
async fn app_over(backend: &MutualTlsBackend) -> TestApp {
    let ca = backend.ca_der.clone();
    let app = spawn_changed(testing::sqlite(), move |mut config| {
        config.gateway.backend_roots = vec![ca];
        config
    })
    .await;
    app.put("/services/svc", json!({ "displayName": "Service" }))
        .await;
    app.put(
        "/services/svc/apis/echo",
        json!({ "serviceUrl": backend.url("/base"), "path": "echo", "subscriptionRequired": false }),
    )
    .await;
    app.put(
        "/services/svc/apis/echo/operations/get-all",
        json!({ "method": "GET", "urlTemplate": "/*" }),
    )
    .await;
    app
}

async fn upload_pfx(app: &TestApp, id: &str) -> Value {
    app.put(
        &format!("{CERTIFICATES}/{id}"),
        json!({ "properties": { "data": base64(&fixture("openssl-aes.pfx")), "password": PASSWORD } }),
    )
    .await
}

/// What the backend saw of a call through the gateway.
async fn call(app: &TestApp, path: &str) -> Value {
    let response = app
        .gateway(Method::GET, "svc.localhost", path)
        .send()
        .await
        .expect("the gateway answers");
    let (status, seen) = status_json(response).await;
    assert_eq!(status, 200, "{seen}");
    seen
}

/// An example of APIM's documentation, from the policy crate's collection.
fn docs_example(file: &str) -> String {
    let path = format!(
        "{}/../policy/tests/apim_docs/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn policy(inbound: &str) -> String {
    format!(
        "<policies><inbound><base />{inbound}</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"
    )
}

#[tokio::test]
async fn an_uploaded_pfx_authenticates_the_gateway_and_only_the_calls_that_ask_for_it() {
    let backend = MutualTlsBackend::start().await;
    let app = app_over(&backend).await;
    let shown = upload_pfx(&app, "client").await;
    assert_eq!(shown["thumbprint"], THUMBPRINT, "{shown}");
    assert_eq!(shown["hasPrivateKey"], true);
    assert!(
        shown["subject"]
            .as_str()
            .is_some_and(|s| s.contains("openssl-client.example")),
        "{shown}"
    );
    let leaf = base64(&fixture("rsa.cer"));

    // Without the policy, the backend sees no certificate.
    assert_eq!(
        call(&app, "/echo/plain").await["clientCertificate"],
        Value::Null
    );

    // APIM's example, as written, with the certificate uploaded under its id.
    upload_pfx(&app, "544fe9ddf3b8f30fb490d90f").await;
    app.policy(
        ECHO_POLICY,
        &policy(&docs_example("authentication-certificate-policy__1.xml")),
    )
    .await;
    for _ in 0..3 {
        let seen = call(&app, "/echo/a").await;
        assert_eq!(seen["clientCertificate"], leaf.as_str(), "{seen}");
    }
    // By thumbprint (in lower case) too.
    app.policy(
        ECHO_POLICY,
        &policy(&format!(
            r#"<authentication-certificate thumbprint="{}" />"#,
            THUMBPRINT.to_lowercase()
        )),
    )
    .await;
    assert_eq!(
        call(&app, "/echo/b").await["clientCertificate"],
        leaf.as_str()
    );

    // Both may be expressions, looked up when the call goes out.
    app.policy(
        ECHO_POLICY,
        &policy(r#"<authentication-certificate certificate-id="@("cli" + "ent")" />"#),
    )
    .await;
    assert_eq!(
        call(&app, "/echo/computed").await["clientCertificate"],
        leaf.as_str()
    );
    app.policy(
        ECHO_POLICY,
        &policy(r#"<authentication-certificate certificate-id="@("no-" + "such")" />"#),
    )
    .await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/none")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        500,
        "an unknown certificate fails the call"
    );

    // A kept connection that presented the certificate is not used for a call without it.
    app.policy(ECHO_POLICY, &policy("")).await;
    for _ in 0..3 {
        assert_eq!(
            call(&app, "/echo/c").await["clientCertificate"],
            Value::Null
        );
    }
}

#[tokio::test]
async fn uploads_are_checked_reads_never_show_the_key_and_one_in_use_stays() {
    let backend = MutualTlsBackend::start().await;
    let app = app_over(&backend).await;

    let (status, body) = app
        .mgmt(
            Method::PUT,
            &format!("{CERTIFICATES}/client"),
            Some(json!({ "data": base64(&fixture("openssl-legacy.pfx")), "password": "wrong" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("password"), "{body}");
    let (status, body) = app
        .mgmt(
            Method::PUT,
            &format!("{CERTIFICATES}/client"),
            Some(json!({ "data": "bm90IGEgY2VydGlmaWNhdGU=" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = app
        .mgmt(Method::GET, &format!("{CERTIFICATES}/client"), None)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a refused upload saves nothing"
    );

    // The legacy (3DES) PFX that Windows writes is read as well.
    app.put(
        &format!("{CERTIFICATES}/client"),
        json!({ "data": base64(&fixture("openssl-legacy.pfx")), "password": PASSWORD }),
    )
    .await;
    // A certificate without its key is kept for JWT checks but cannot authenticate.
    app.put(
        &format!("{CERTIFICATES}/public-only"),
        json!({ "data": base64(&fixture("rsa.cer")) }),
    )
    .await;
    let listed = app.get_json(CERTIFICATES).await;
    let text = listed.to_string();
    assert_eq!(listed["count"], 2, "{listed}");
    for secret in [
        "PRIVATE KEY",
        "BEGIN",
        &base64(&fixture("openssl-legacy.pfx"))[..40],
    ] {
        assert!(!text.contains(secret), "a read shows {secret}: {listed}");
    }

    let (status, body) = app
        .mgmt(
            Method::PUT,
            ECHO_POLICY,
            Some(json!({ "value": policy(r#"<authentication-certificate certificate-id="public-only" />"#) })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("no private key"), "{body}");
    let (status, body) = app
        .mgmt(
            Method::PUT,
            ECHO_POLICY,
            Some(json!({ "value": policy(r#"<authentication-certificate certificate-id="nowhere" />"#) })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.to_string().contains("no certificate 'nowhere'"),
        "{body}"
    );

    app.policy(
        ECHO_POLICY,
        &policy(r#"<authentication-certificate certificate-id="client" />"#),
    )
    .await;
    let (status, body) = app
        .mgmt(Method::DELETE, &format!("{CERTIFICATES}/client"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("API echo"), "{body}");
    // Nor may a replacement without a key take its place.
    let (status, body) = app
        .mgmt(
            Method::PUT,
            &format!("{CERTIFICATES}/client"),
            Some(json!({ "data": base64(&fixture("rsa.cer")) })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        call(&app, "/echo/x").await["clientCertificate"],
        base64(&fixture("rsa.cer")).as_str()
    );

    app.policy(ECHO_POLICY, &policy("")).await;
    app.delete(&format!("{CERTIFICATES}/client")).await;
    let audit = app.get_json("/services/svc/auditLog").await.to_string();
    assert!(
        audit.contains(THUMBPRINT),
        "the audit log names the certificate"
    );
    assert!(!audit.contains("PRIVATE KEY"), "the audit log holds no key");
}

#[tokio::test]
async fn a_pfx_from_an_expression_and_inside_send_request_authenticates_too() {
    let backend = MutualTlsBackend::start().await;
    let app = app_over(&backend).await;
    let leaf = base64(&fixture("rsa.cer"));
    app.put(
        "/services/svc/namedValues/client-pfx",
        json!({ "displayName": "client-pfx", "value": base64(&fixture("openssl-aes.pfx")), "secret": true }),
    )
    .await;
    // APIM's third form, its example as written: the bytes from a variable, with the
    // password the example writes.
    app.put(
        "/services/svc/namedValues/docs-pfx",
        json!({ "displayName": "docs-pfx", "value": base64(&fixture("docs-password.pfx")), "secret": true }),
    )
    .await;
    app.policy(
        ECHO_POLICY,
        &policy(&format!(
            r#"<set-variable name="byteCertificate" value="@(Convert.FromBase64String("{{{{docs-pfx}}}}"))" />{}"#,
            docs_example("authentication-certificate-policy__3.xml")
        )),
    )
    .await;
    assert_eq!(
        call(&app, "/echo/docs").await["clientCertificate"],
        leaf.as_str()
    );
    // The PFX as base64 text, straight from the named value.
    app.policy(
        ECHO_POLICY,
        &policy(&format!(
            r#"<authentication-certificate body="{{{{client-pfx}}}}" password="{PASSWORD}" />"#
        )),
    )
    .await;
    assert_eq!(
        call(&app, "/echo/inline").await["clientCertificate"],
        leaf.as_str()
    );

    // A wrong password fails the call as an expression failure, and on-error runs.
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><base /><authentication-certificate body="{{client-pfx}}" password="wrong" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><return-response><set-status code="502" reason="certificate" /><set-body>@(context.LastError.Message)</set-body></return-response></on-error></policies>"#,
    )
    .await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/bad")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let message = response.text().await.unwrap();
    assert!(message.contains("password"), "{message}");

    // Inside send-request, the certificate goes with that request only.
    upload_pfx(&app, "client").await;
    app.policy(
        ECHO_POLICY,
        &format!(
            r#"<policies><inbound><base />
                <send-request mode="new" response-variable-name="side" timeout="10">
                    <set-url>{}</set-url>
                    <set-method>GET</set-method>
                    <authentication-certificate certificate-id="client" />
                </send-request>
                <set-header name="x-side" exists-action="override">
                    <value>@(((IResponse)context.Variables["side"]).Body.As<JObject>()["clientCertificate"].ToString())</value>
                </set-header>
            </inbound><backend><base /></backend><outbound><base />
                <set-header name="x-side" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("x-side", "none"))</value></set-header>
            </outbound><on-error><base /></on-error></policies>"#,
            backend.url("/side")
        ),
    )
    .await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/main")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let side = response
        .headers()
        .get("x-side")
        .map(|v| v.to_str().unwrap().to_owned());
    let (_, seen) = status_json(response).await;
    assert_eq!(
        side.as_deref(),
        Some(leaf.as_str()),
        "send-request presented it"
    );
    assert_eq!(
        seen["clientCertificate"],
        Value::Null,
        "the backend call did not"
    );
}

#[tokio::test]
async fn validate_jwt_checks_signatures_with_an_uploaded_certificate() {
    let backend = MutualTlsBackend::start().await;
    let app = app_over(&backend).await;
    app.put(
        &format!("{CERTIFICATES}/my-rsa-cert"),
        json!({ "data": base64(&fixture("rsa.cer")) }),
    )
    .await;
    // The document of APIM's validate-jwt page, unchanged.
    let example = docs_example("validate-jwt-policy__2.xml");
    app.policy(ECHO_POLICY, &policy(&example)).await;

    let claims =
        json!({ "iss": "http://contoso.com/", "aud": "svc.localhost", "exp": 4_000_000_000u64 });
    let signed = |key: &jsonwebtoken::EncodingKey| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &claims,
            key,
        )
        .unwrap()
    };
    let good = signed(&jsonwebtoken::EncodingKey::from_rsa_pem(&fixture("rsa.key")).unwrap());
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/jwt")
        .bearer_auth(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    // A token signed by another key is refused.
    let mut forged = good.rsplit_once('.').unwrap().0.to_owned();
    forged.push_str(".AAAA");
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/jwt")
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let (status, body) = app
        .mgmt(Method::DELETE, &format!("{CERTIFICATES}/my-rsa-cert"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

/// Backends (issue 16): `credentials.certificateIds` presents an uploaded certificate, and
/// the `tls` flags relax the checks of the backend's certificate — each only for calls to
/// that backend.
#[tokio::test]
async fn a_backend_presents_its_certificate_and_relaxes_tls_checks_only_for_itself() {
    let backend = MutualTlsBackend::start().await;
    let app = app_over(&backend).await;
    upload_pfx(&app, "client").await;
    let leaf = base64(&fixture("rsa.cer"));
    let with_policy = |id: &str| policy(&format!(r#"<set-backend-service backend-id="{id}" />"#));

    // A client certificate by id.
    app.put(
        "/services/svc/backends/mutual",
        json!({ "url": backend.url("/base"), "credentials": { "certificateIds": ["/certificates/client"] } }),
    )
    .await;
    app.policy(ECHO_POLICY, &with_policy("mutual")).await;
    assert_eq!(
        call(&app, "/echo/a").await["clientCertificate"],
        leaf.as_str()
    );

    // The backend's certificate names `localhost`, not 127.0.0.1: refused unless the name
    // check is off.
    let by_address = format!("https://127.0.0.1:{}/base", backend.addr.port());
    app.put(
        "/services/svc/backends/by-address",
        json!({ "url": by_address }),
    )
    .await;
    app.policy(ECHO_POLICY, &with_policy("by-address")).await;
    let refused = app
        .gateway(Method::GET, "svc.localhost", "/echo/a")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_GATEWAY);
    app.put(
        "/services/svc/backends/by-address",
        json!({ "url": by_address, "tls": { "validateCertificateName": false } }),
    )
    .await;
    assert_eq!(call(&app, "/echo/a").await["path"], "/base/a");

    // A gateway that does not trust the backend's CA: refused unless the chain check is off.
    let untrusting = crate::helpers::spawn().await;
    untrusting
        .put("/services/svc", json!({ "displayName": "Service" }))
        .await;
    untrusting
        .put(
            "/services/svc/apis/echo",
            json!({ "serviceUrl": backend.url("/base"), "path": "echo", "subscriptionRequired": false }),
        )
        .await;
    untrusting
        .put(
            "/services/svc/apis/echo/operations/get-all",
            json!({ "method": "GET", "urlTemplate": "/*" }),
        )
        .await;
    let direct = untrusting
        .gateway(Method::GET, "svc.localhost", "/echo/a")
        .send()
        .await
        .unwrap();
    assert_eq!(
        direct.status(),
        StatusCode::BAD_GATEWAY,
        "the API's own URL is checked in full"
    );
    untrusting
        .put(
            "/services/svc/backends/internal",
            json!({ "url": backend.url("/base"), "tls": { "validateCertificateChain": false } }),
        )
        .await;
    untrusting
        .policy(ECHO_POLICY, &with_policy("internal"))
        .await;
    assert_eq!(call(&untrusting, "/echo/b").await["path"], "/base/b");
}
