//! `cache-lookup` / `cache-store`: responses kept and answered from the cache, through the
//! real gateway against the echo backend's `…/counted/{id}` (which says how many times it
//! was called).

use crate::helpers::{TestApp, spawn};
use reqwest::{Method, StatusCode};
use serde_json::Value;

const ECHO_POLICY: &str = "/services/svc/apis/echo/policy";

/// APIM's cache-lookup page, "Example using policy expressions": the inbound snippet, the
/// outbound snippet (duration from the backend's `max-age`), and a header outbound sets.
async fn cached_echo(app: &TestApp) {
    app.echo_api().await;
    let lookup = include_str!("../../../policy/tests/apim_docs/cache-lookup-policy__2.xml");
    let store = include_str!("../../../policy/tests/apim_docs/cache-lookup-policy__3.xml");
    app.policy(
        ECHO_POLICY,
        &format!(
            r#"<policies><inbound><base />{lookup}</inbound><backend><base /></backend>
            <outbound>{store}<base /><set-header name="x-outbound" exists-action="override"><value>ran</value></set-header></outbound></policies>"#
        ),
    )
    .await;
}

async fn calls(response: reqwest::Response) -> (StatusCode, reqwest::header::HeaderMap, u64) {
    let status = response.status();
    let headers = response.headers().clone();
    let body: Value = response.json().await.expect("JSON");
    (status, headers, body["calls"].as_u64().unwrap_or(0))
}

fn get(app: &TestApp, path: &str) -> reqwest::RequestBuilder {
    app.gateway(Method::GET, "svc.localhost", path)
}

#[tokio::test]
async fn a_kept_response_answers_the_next_get_and_outbound_still_runs() {
    let app = spawn().await;
    cached_echo(&app).await;
    let (status, headers, first) = calls(get(&app, "/echo/counted/a").send().await.unwrap()).await;
    assert_eq!((status, first), (StatusCode::OK, 1));
    assert_eq!(headers["x-outbound"], "ran");
    let (status, headers, again) = calls(get(&app, "/echo/counted/a").send().await.unwrap()).await;
    assert_eq!(
        (status, again),
        (StatusCode::OK, 1),
        "answered from the cache"
    );
    assert_eq!(
        headers["x-outbound"], "ran",
        "outbound runs on a cached answer"
    );
    assert_eq!(headers["x-backend"], "yes", "the kept headers come back");
    assert_eq!(headers["cache-control"], "public, must-revalidate");
    // Another value of a vary-by-header is another entry.
    let (_, _, other_accept) = calls(
        get(&app, "/echo/counted/a")
            .header("Accept", "application/xml")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(other_accept, 2);
    // A query parameter that is not listed is not part of the key (as in APIM).
    let (_, _, with_query) = calls(
        get(&app, "/echo/counted/a?unlisted=1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(with_query, 1);
    // Another path is another entry.
    let (_, _, b) = calls(get(&app, "/echo/counted/b").send().await.unwrap()).await;
    assert_eq!(b, 1);
}

#[tokio::test]
async fn posts_private_requests_and_errors_are_not_cached() {
    let app = spawn().await;
    cached_echo(&app).await;
    for expected in 1..=2 {
        let response = app
            .gateway(Method::POST, "svc.localhost", "/echo/counted/p")
            .send()
            .await
            .unwrap();
        assert_eq!(
            calls(response).await.2,
            expected,
            "a POST goes to the backend"
        );
    }
    for expected in 1..=2 {
        let response = get(&app, "/echo/counted/private")
            .header("Authorization", "Bearer x")
            .send()
            .await
            .unwrap();
        assert_eq!(
            calls(response).await.2,
            expected,
            "Authorization: not cached"
        );
    }
    for expected in 1..=2 {
        let response = get(&app, "/echo/counted/missing").send().await.unwrap();
        let (status, _, count) = calls(response).await;
        assert_eq!(
            (status, count),
            (StatusCode::NOT_FOUND, expected),
            "a 404 is not kept"
        );
    }
}

#[tokio::test]
async fn vary_by_query_parameter_and_zero_duration() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><cache-lookup vary-by-developer="false" vary-by-developer-groups="false">
            <vary-by-query-parameter>version;lang</vary-by-query-parameter>
        </cache-lookup></inbound>
        <outbound><cache-store duration="@(context.Request.Url.Query.GetValueOrDefault("ttl", "60"))" /></outbound></policies>"#,
    )
    .await;
    let count = |path: &'static str| {
        let request = get(&app, path);
        async move { calls(request.send().await.unwrap()).await.2 }
    };
    assert_eq!(count("/echo/counted/q?version=1").await, 1);
    assert_eq!(count("/echo/counted/q?version=1").await, 1);
    assert_eq!(count("/echo/counted/q?version=2").await, 2);
    assert_eq!(count("/echo/counted/q?version=2&lang=de").await, 3);
    assert_eq!(count("/echo/counted/q?lang=de&version=2").await, 3);
    // duration 0: not kept.
    assert_eq!(count("/echo/counted/z?ttl=0").await, 1);
    assert_eq!(count("/echo/counted/z?ttl=0").await, 2);
}

#[tokio::test]
async fn cache_store_without_a_number_is_refused_at_save_time() {
    let app = spawn().await;
    app.echo_api().await;
    let (status, body) = app
        .mgmt(
            Method::PUT,
            ECHO_POLICY,
            Some(serde_json::json!({ "format": "xml", "value": include_str!("../../../policy/tests/apim_docs/cache-lookup-policy__1.xml") })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("duration is a number of seconds"),
        "{body}"
    );
}
