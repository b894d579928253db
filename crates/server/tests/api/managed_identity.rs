//! `authentication-managed-identity` against a stand-in for Azure's instance metadata
//! service (IMDS) on loopback: the gateway is pointed at it as `--identity-endpoint` would.

use crate::helpers::{TestApp, closed_port, spawn_with, status_json};
use portcullis_gateway::GatewaySettings;
use portcullis_store::testing;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const ECHO_POLICY: &str = "/services/svc/apis/echo/policy";

/// An IMDS stand-in: answers `GET …/metadata/identity/oauth2/token?resource=…` with a token
/// naming the resource (and client id), only with `Metadata: true`, as IMDS does; counts
/// the tokens it gave.
async fn spawn_imds() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!(
        "http://{}/metadata/identity/oauth2/token",
        listener.local_addr().unwrap()
    );
    let issued = Arc::new(AtomicUsize::new(0));
    let counted = issued.clone();
    let app = axum::Router::new().route(
        "/metadata/identity/oauth2/token",
        axum::routing::get(
            move |headers: axum::http::HeaderMap,
                  query: axum::extract::Query<std::collections::HashMap<String, String>>| {
                let counted = counted.clone();
                async move {
                    if headers.get("metadata").and_then(|v| v.to_str().ok()) != Some("true")
                        || query.get("api-version").is_none()
                    {
                        return (
                            axum::http::StatusCode::BAD_REQUEST,
                            axum::Json(json!({ "error": "invalid_request" })),
                        );
                    }
                    counted.fetch_add(1, Ordering::SeqCst);
                    let resource = query.get("resource").cloned().unwrap_or_default();
                    let client = query.get("client_id").cloned().unwrap_or_default();
                    (
                        axum::http::StatusCode::OK,
                        axum::Json(json!({
                            "access_token": format!("token-for-{resource}-{client}"),
                            "expires_in": "3599",
                            "token_type": "Bearer",
                            "resource": resource,
                        })),
                    )
                }
            },
        ),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (endpoint, issued)
}

async fn app_with_identity(endpoint: &str) -> TestApp {
    let settings = GatewaySettings {
        identity_endpoint: endpoint.parse().unwrap(),
        ..GatewaySettings::default()
    };
    let app = spawn_with(testing::sqlite(), settings).await;
    app.echo_api().await;
    app
}

async fn echoed_authorization(app: &TestApp) -> (u16, Value) {
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/identity")
        .send()
        .await
        .unwrap();
    status_json(response).await
}

/// APIM's example "Use managed identity to authenticate with a backend service" (Azure Blob
/// Storage): the backend gets the token as a bearer, and the token is asked for once.
#[tokio::test]
async fn the_backend_gets_a_token_for_the_resource() {
    let (endpoint, issued) = spawn_imds().await;
    let app = app_with_identity(&endpoint).await;
    let example = include_str!(
        "../../../policy/tests/apim_docs/authentication-managed-identity-policy__7.xml"
    );
    app.policy(
        ECHO_POLICY,
        &format!("<policies><inbound><base />{example}</inbound></policies>"),
    )
    .await;
    for _ in 0..3 {
        let (status, echo) = echoed_authorization(&app).await;
        assert_eq!(status, 200, "{echo}");
        assert_eq!(
            echo["headers"]["authorization"],
            "Bearer token-for-https://storage.azure.com/-"
        );
    }
    assert_eq!(issued.load(Ordering::SeqCst), 1, "the token is kept");
}

/// APIM's example "Use managed identity and set header manually", with a client id.
#[tokio::test]
async fn the_token_can_go_to_a_variable() {
    let (endpoint, _) = spawn_imds().await;
    let app = app_with_identity(&endpoint).await;
    let example = include_str!(
        "../../../policy/tests/apim_docs/authentication-managed-identity-policy__10.xml"
    );
    app.policy(
        ECHO_POLICY,
        &format!("<policies><inbound><base />{example}</inbound></policies>"),
    )
    .await;
    let (status, echo) = echoed_authorization(&app).await;
    assert_eq!(status, 200, "{echo}");
    assert_eq!(
        echo["headers"]["authorization"],
        "Bearer token-for-AD_application_id-"
    );
}

/// The token goes with a `send-request` of its own (APIM's third example, at our backend).
#[tokio::test]
async fn send_request_sends_the_token() {
    let (endpoint, _) = spawn_imds().await;
    let app = app_with_identity(&endpoint).await;
    let url = app.backend_url("/base/side");
    app.policy(
        ECHO_POLICY,
        &format!(
            r#"<policies><inbound><base />
            <send-request mode="new" response-variable-name="side" timeout="20" ignore-error="false">
                <set-url>{url}</set-url><set-method>GET</set-method>
                <authentication-managed-identity resource="api://orders" client-id="abc" />
            </send-request>
            <return-response response-variable-name="side" />
            </inbound></policies>"#
        ),
    )
    .await;
    let (status, echo) = echoed_authorization(&app).await;
    assert_eq!(status, 200, "{echo}");
    assert_eq!(echo["path"], "/base/side");
    assert_eq!(
        echo["headers"]["authorization"],
        "Bearer token-for-api://orders-abc"
    );
}

/// Without an identity endpoint the call fails (500, on-error runs) — or goes on without a
/// token when `ignore-error` is true.
#[tokio::test]
async fn no_token_fails_the_call_unless_ignored() {
    let closed = closed_port().await;
    let app = app_with_identity(&format!("http://{closed}/metadata/identity/oauth2/token")).await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><authentication-managed-identity resource="https://vault.azure.net" /></inbound>
        <on-error><set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header></on-error></policies>"#,
    )
    .await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/identity")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 500);
    assert_eq!(
        response.headers()["x-reason"],
        "ManagedIdentityTokenUnavailable"
    );
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><authentication-managed-identity resource="https://vault.azure.net" ignore-error="true" /></inbound></policies>"#,
    )
    .await;
    let (status, echo) = echoed_authorization(&app).await;
    assert_eq!(status, 200);
    assert!(echo["headers"].get("authorization").is_none(), "{echo}");
}
