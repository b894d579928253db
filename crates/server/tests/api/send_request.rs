//! `send-request`, `send-one-way-request` and `return-response response-variable-name`
//! over real HTTP: the gateway calls a second, real service in the middle of the pipeline
//! (issue 15).

use crate::helpers::{TestApp, closed_port, spawn, status_json};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use reqwest::Method;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify};

const ECHO_POLICY: &str = "/services/svc/apis/echo/policy";

/// What the side service saw.
#[derive(Default)]
struct Seen {
    /// Each call: method, path, `Content-Type`, `Authorization`, body.
    calls: Mutex<Vec<[String; 5]>>,
    /// `…/held` answers only after the test notifies this.
    release: Notify,
}

/// A second service for policies to call: `POST /introspection` answers RFC 7662's
/// `{"active": …}` (active for the token `good`), `GET /profile/{id}` a JSON profile with a
/// header of its own, `POST /held` records the call and answers once released.
async fn side_service() -> (SocketAddr, Arc<Seen>) {
    async fn record(seen: &Seen, method: &str, path: &str, headers: &HeaderMap, body: &str) {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        seen.calls.lock().await.push([
            method.to_owned(),
            path.to_owned(),
            header("content-type"),
            header("authorization"),
            body.to_owned(),
        ]);
    }
    let seen = Arc::new(Seen::default());
    let app = Router::new()
        .route(
            "/introspection",
            post(
                |State(seen): State<Arc<Seen>>, headers: HeaderMap, body: String| async move {
                    record(&seen, "POST", "/introspection", &headers, &body).await;
                    let active = body == "token=good";
                    axum::Json(serde_json::json!({ "active": active, "sub": "ada" }))
                },
            ),
        )
        .route(
            "/profile/{id}",
            get(
                |State(seen): State<Arc<Seen>>,
                 axum::extract::Path(id): axum::extract::Path<String>,
                 headers: HeaderMap| async move {
                    record(&seen, "GET", &format!("/profile/{id}"), &headers, "").await;
                    (
                        AxumStatus::CREATED,
                        [("x-profile-version", "7")],
                        axum::Json(serde_json::json!({ "id": id, "name": "Ada Lovelace" })),
                    )
                        .into_response()
                },
            ),
        )
        .route(
            "/held",
            post(
                |State(seen): State<Arc<Seen>>, headers: HeaderMap, body: String| async move {
                    record(&seen, "POST", "/held", &headers, &body).await;
                    seen.release.notified().await;
                    "released"
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, seen)
}

async fn call(app: &TestApp, authorization: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/x")
        .header("Authorization", authorization)
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("a body"))
}

/// APIM's `send-request` policy page, "Example: send-request" (learn.microsoft.com/azure/
/// api-management/send-request-policy): validate the caller's token at a token server
/// (RFC 7662) and answer 401 when it is not active. Unchanged but for the token server's
/// address.
fn introspection_document(side: SocketAddr) -> String {
    include_str!("../../../policy/tests/apim_docs/send-request-policy__1.xml")
        .replace(
            "https://microsoft-apiappec990ad4c76641c6aea22f566efc5a4e.azurewebsites.net",
            &format!("http://{side}"),
        )
        .replace("<inbound>", "<policies><inbound>")
        .replace("</inbound>", "</inbound></policies>")
}

#[tokio::test]
async fn the_token_introspection_example_runs_as_the_docs_describe() {
    let (side, seen) = side_service().await;
    let app = spawn().await;
    app.echo_api().await;
    app.policy(ECHO_POLICY, &introspection_document(side)).await;

    let (status, _, body) = call(&app, "Bearer good").await;
    assert_eq!(status, 200, "an active token passes: {body}");
    let (status, headers, _) = call(&app, "Bearer stale").await;
    assert_eq!(status, 401, "an inactive token is refused");
    assert_eq!(
        headers["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );

    let calls = seen.calls.lock().await;
    assert_eq!(calls.len(), 2);
    let [method, path, content_type, authorization, body] = &calls[1];
    assert_eq!((method.as_str(), path.as_str()), ("POST", "/introspection"));
    assert_eq!(content_type, "application/x-www-form-urlencoded");
    assert_eq!(authorization, "basic dXNlcm5hbWU6cGFzc3dvcmQ=");
    assert_eq!(body, "token=stale");
}

#[tokio::test]
async fn a_kept_response_is_read_by_scripts_and_can_be_returned_as_it_came() {
    let (side, _) = side_service().await;
    let app = spawn().await;
    app.echo_api().await;
    let document = format!(
        r#"<policies><inbound>
        <send-request mode="new" response-variable-name="profileResponse" timeout="10">
            <set-url>@("http://{side}/profile/" + context.Request.Headers.GetValueOrDefault("x-user","nobody"))</set-url>
            <set-method>GET</set-method>
        </send-request>
        <set-variable name="profile" value="@(((IResponse)context.Variables["profileResponse"]).Body.As<JObject>())" />
        <choose>
            <when condition="@(context.Request.Headers.ContainsKey("x-as-is"))">
                <return-response response-variable-name="profileResponse">
                    <set-header name="x-from" exists-action="override"><value>profile service</value></set-header>
                </return-response>
            </when>
        </choose>
        <set-header name="x-name" exists-action="override">
            <value>@(((JObject)context.Variables["profile"])["name"].ToString())</value>
        </set-header>
        <set-header name="x-profile" exists-action="override">
            <value>@{{
                var answer = context.Variables.GetValueOrDefault<IResponse>("profileResponse");
                return answer.StatusCode + " " + answer.Headers.GetValueOrDefault("x-profile-version", "?");
            }}</value>
        </set-header>
    </inbound></policies>"#
    );
    app.policy(ECHO_POLICY, &document).await;

    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/x")
        .header("x-user", "ada")
        .send()
        .await
        .expect("an answer");
    let (status, seen) = status_json(response).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["headers"]["x-name"], "Ada Lovelace");
    assert_eq!(seen["headers"]["x-profile"], "201 7");

    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/x")
        .header("x-user", "grace")
        .header("x-as-is", "1")
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 201, "the kept status");
    assert_eq!(response.headers()["x-profile-version"], "7");
    assert_eq!(response.headers()["x-from"], "profile service");
    let body: serde_json::Value = response.json().await.expect("the kept JSON body");
    assert_eq!(body["id"], "grace");
}

#[tokio::test]
async fn a_failed_call_runs_on_error_unless_the_error_is_ignored() {
    let nowhere = closed_port().await;
    let app = spawn().await;
    app.echo_api().await;
    let document = format!(
        r#"<policies><inbound>
        <send-request mode="new" response-variable-name="r" ignore-error="@IGNORE@">
            <set-url>http://{nowhere}/x</set-url>
        </send-request>
        <set-header name="x-answer" exists-action="override">
            <value>@(context.Variables["r"] == null ? "none" : "some")</value>
        </set-header>
    </inbound>
    <on-error>
        <set-header name="x-reason" exists-action="override">
            <value>@(context.LastError.Source + " " + context.LastError.Reason)</value>
        </set-header>
    </on-error></policies>"#
    );
    app.policy(ECHO_POLICY, &document.replace("@IGNORE@", "true"))
        .await;
    let (status, seen) = status_json(
        app.gateway(Method::GET, "svc.localhost", "/echo/x")
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["headers"]["x-answer"], "none");

    app.policy(ECHO_POLICY, &document.replace("@IGNORE@", "false"))
        .await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/x")
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 502);
    assert_eq!(
        response.headers()["x-reason"],
        "send-request BackendConnectionFailure"
    );
}

#[tokio::test]
async fn a_one_way_request_does_not_hold_up_the_call() {
    let (side, seen) = side_service().await;
    let app = spawn().await;
    app.echo_api().await;
    let document = format!(
        r#"<policies><inbound>
        <send-one-way-request mode="new" timeout="30">
            <set-url>http://{side}/held</set-url>
            <set-method>POST</set-method>
            <set-header name="Content-Type" exists-action="override"><value>text/plain</value></set-header>
            <set-body>@("called " + context.Request.Url.Path)</set-body>
        </send-one-way-request>
    </inbound></policies>"#
    );
    app.policy(ECHO_POLICY, &document).await;

    // The side service holds its answer until released: the caller's answer comes first.
    let response = tokio::time::timeout(
        Duration::from_secs(10),
        app.gateway(Method::GET, "svc.localhost", "/echo/x").send(),
    )
    .await
    .expect("the call is not held up by the one-way request")
    .expect("an answer");
    assert_eq!(response.status().as_u16(), 200);
    let arrived = async {
        loop {
            if let Some(call) = seen.calls.lock().await.first().cloned() {
                return call;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let call = tokio::time::timeout(Duration::from_secs(10), arrived)
        .await
        .expect("the one-way request arrives");
    seen.release.notify_waiters();
    assert_eq!(call[0], "POST");
    assert_eq!(call[2], "text/plain");
    assert_eq!(call[4], "called /echo/x");
}

#[tokio::test]
async fn send_request_faults_are_refused_at_save_time_with_their_place() {
    let app = spawn().await;
    app.echo_api().await;
    for (document, expected) in [
        (
            r#"<policies><inbound><send-request mode="new" response-variable-name="r"><set-method>GET</set-method></send-request></inbound></policies>"#,
            "needs <set-url>",
        ),
        (
            r#"<policies><inbound><send-request mode="fresh"><set-url>http://a.example/</set-url></send-request></inbound></policies>"#,
            "mode must be new or copy",
        ),
        (
            r#"<policies><inbound><send-request><set-url>not a url</set-url></send-request></inbound></policies>"#,
            "is not",
        ),
        (
            r#"<policies><inbound><send-request timeout="900"><set-url>http://a.example/</set-url></send-request></inbound></policies>"#,
            "timeout",
        ),
    ] {
        let (status, body) = app
            .mgmt(
                reqwest::Method::PUT,
                ECHO_POLICY,
                Some(serde_json::json!({ "format": "xml", "value": document })),
            )
            .await;
        assert_eq!(status.as_u16(), 400, "{document}");
        let body = body.to_string();
        assert!(body.contains(expected), "{document}: {body}");
        assert!(body.contains("Line 1, column"), "{body}");
    }
}
