//! `<wait>` over real HTTP: its branches' `send-request`s are in flight at the same time,
//! and `for="any"` goes on with the first branch to finish (issue 15).

use crate::helpers::{spawn, status_json};
use reqwest::Method;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A service whose `/meet/{name}` answers only once two calls are in at the same time
/// (`met …`; after 5 s alone, `alone …`), `/quick` at once and `/slow` after 10 s.
async fn meeting_service() -> SocketAddr {
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let app = axum::Router::new()
        .route(
            "/meet/{name}",
            axum::routing::get(
                move |axum::extract::Path(name): axum::extract::Path<String>| {
                    let barrier = barrier.clone();
                    async move {
                        match tokio::time::timeout(Duration::from_secs(5), barrier.wait()).await {
                            Ok(_) => format!("met {name}"),
                            Err(_) => format!("alone {name}"),
                        }
                    }
                },
            ),
        )
        .route("/quick", axum::routing::get(|| async { "quick" }))
        .route(
            "/slow",
            axum::routing::get(|| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                "slow"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

#[tokio::test]
async fn the_branches_of_wait_all_are_in_flight_together() {
    let side = meeting_service().await;
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        "/services/svc/apis/echo/policy",
        &format!(
            r#"<policies><inbound><base />
            <wait for="all">
                <send-request mode="new" response-variable-name="one" timeout="10">
                    <set-url>http://{side}/meet/one</set-url>
                </send-request>
                <choose>
                    <when condition="@(true)">
                        <send-request mode="new" response-variable-name="two" timeout="10">
                            <set-url>http://{side}/meet/two</set-url>
                        </send-request>
                    </when>
                </choose>
            </wait>
            <set-header name="x-one" exists-action="override"><value>@(((IResponse)context.Variables["one"]).Body.As<string>())</value></set-header>
            <set-header name="x-two" exists-action="override"><value>@(((IResponse)context.Variables["two"]).Body.As<string>())</value></set-header>
        </inbound></policies>"#
        ),
    )
    .await;
    let (status, seen) = status_json(
        app.gateway(Method::GET, "svc.localhost", "/echo/x")
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    assert_eq!(status, 200, "{seen}");
    // One after the other, each call would have waited alone.
    assert_eq!(seen["headers"]["x-one"], "met one");
    assert_eq!(seen["headers"]["x-two"], "met two");
}

#[tokio::test]
async fn wait_any_goes_on_with_the_first_branch_to_finish() {
    let side = meeting_service().await;
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        "/services/svc/apis/echo/policy",
        &format!(
            r#"<policies><inbound><base />
            <wait for="any">
                <send-request mode="new" response-variable-name="slow" timeout="30">
                    <set-url>http://{side}/slow</set-url>
                </send-request>
                <send-request mode="new" response-variable-name="quick" timeout="30">
                    <set-url>http://{side}/quick</set-url>
                </send-request>
            </wait>
            <set-header name="x-kept" exists-action="override"><value>@(context.Variables.ContainsKey("slow") ? "both" : ((IResponse)context.Variables["quick"]).Body.As<string>())</value></set-header>
        </inbound></policies>"#
        ),
    )
    .await;
    let response = tokio::time::timeout(
        Duration::from_secs(8),
        app.gateway(Method::GET, "svc.localhost", "/echo/x").send(),
    )
    .await
    .expect("the call does not wait for the slow branch")
    .expect("an answer");
    let (status, seen) = status_json(response).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["headers"]["x-kept"], "quick");
}
