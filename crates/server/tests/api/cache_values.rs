//! `cache-lookup-value`, `cache-store-value` and `cache-remove-value` over real HTTP: values
//! kept between requests, per service, with their time to live — in the gateway's memory,
//! or in Redis and so shared by every gateway (issue 15).

use crate::helpers::{TestApp, spawn, spawn_with_redis, status_json, test_redis_url};
use portcullis_gateway::redis_counters::{CounterFailure, RedisSettings};
use portcullis_store::testing;
use reqwest::Method;
use std::time::Duration;

const ECHO_POLICY: &str = "/services/svc/apis/echo/policy";

/// Looks up `tenant-<x-tenant>` (default `unknown`), stores the caller's `x-set` under it
/// when sent, removes it on `x-forget`, and shows what was found in `x-found`.
fn document(caching_type: &str, duration: u64) -> String {
    format!(
        r#"<policies><inbound>
        <cache-lookup-value key="@("tenant-" + context.Request.Headers.GetValueOrDefault("x-tenant",""))" variable-name="found" default-value="unknown" caching-type="{caching_type}" />
        <set-header name="x-found" exists-action="override"><value>@((string)context.Variables["found"])</value></set-header>
        <choose>
            <when condition="@(context.Request.Headers.ContainsKey("x-set"))">
                <cache-store-value key="@("tenant-" + context.Request.Headers.GetValueOrDefault("x-tenant",""))" value="@(context.Request.Headers.GetValueOrDefault("x-set",""))" duration="{duration}" caching-type="{caching_type}" />
            </when>
            <when condition="@(context.Request.Headers.ContainsKey("x-forget"))">
                <cache-remove-value key="@("tenant-" + context.Request.Headers.GetValueOrDefault("x-tenant",""))" caching-type="{caching_type}" />
            </when>
        </choose>
    </inbound></policies>"#
    )
}

/// Calls `svc`'s echo API as tenant `tenant` with `extra` headers; returns `x-found`.
async fn found(app: &TestApp, service: &str, tenant: &str, extra: &[(&str, &str)]) -> String {
    let mut request = app
        .gateway(Method::GET, &format!("{service}.localhost"), "/echo/x")
        .header("x-tenant", tenant);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let (status, seen) = status_json(request.send().await.expect("an answer")).await;
    assert_eq!(status, 200, "{seen}");
    seen["headers"]["x-found"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_stored_value_is_found_until_it_expires_or_is_removed() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(ECHO_POLICY, &document("internal", 2)).await;

    assert_eq!(found(&app, "svc", "contoso", &[]).await, "unknown");
    assert_eq!(
        found(&app, "svc", "contoso", &[("x-set", "gold")]).await,
        "unknown",
        "the lookup ran before the store"
    );
    assert_eq!(found(&app, "svc", "contoso", &[]).await, "gold");
    assert_eq!(found(&app, "svc", "fabrikam", &[]).await, "unknown");
    found(&app, "svc", "contoso", &[("x-forget", "1")]).await;
    assert_eq!(found(&app, "svc", "contoso", &[]).await, "unknown");

    found(&app, "svc", "contoso", &[("x-set", "silver")]).await;
    assert_eq!(found(&app, "svc", "contoso", &[]).await, "silver");
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_eq!(
        found(&app, "svc", "contoso", &[]).await,
        "unknown",
        "gone after its 2 s"
    );
}

#[tokio::test]
async fn services_never_see_each_others_values() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(ECHO_POLICY, &document("prefer-external", 60))
        .await;
    // A second service with the same API and the same document.
    app.put(
        "/services/other",
        serde_json::json!({ "displayName": "Other" }),
    )
    .await;
    app.put(
        "/services/other/apis/echo",
        serde_json::json!({ "serviceUrl": app.backend_url("/base"), "path": "echo", "subscriptionRequired": false }),
    )
    .await;
    app.put(
        "/services/other/apis/echo/operations/get-all",
        serde_json::json!({ "method": "GET", "urlTemplate": "/*" }),
    )
    .await;
    app.policy(
        "/services/other/apis/echo/policy",
        &document("prefer-external", 60),
    )
    .await;

    found(&app, "svc", "contoso", &[("x-set", "svc's")]).await;
    assert_eq!(found(&app, "svc", "contoso", &[]).await, "svc's");
    assert_eq!(found(&app, "other", "contoso", &[]).await, "unknown");
}

#[tokio::test]
async fn a_json_value_comes_back_as_a_json_object() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound>
        <cache-lookup-value key="profile" variable-name="profile" />
        <choose>
            <when condition="@(!context.Variables.ContainsKey("profile"))">
                <set-variable name="profile" value="@(new JObject(new JProperty("name", "Ada"), new JProperty("calls", 1)))" />
                <cache-store-value key="profile" value="@(context.Variables["profile"])" duration="60" />
                <set-header name="x-source" exists-action="override"><value>made</value></set-header>
            </when>
            <otherwise>
                <set-header name="x-source" exists-action="override"><value>cache</value></set-header>
            </otherwise>
        </choose>
        <set-header name="x-name" exists-action="override">
            <value>@(((JObject)context.Variables["profile"])["name"].ToString())</value>
        </set-header>
    </inbound></policies>"#,
    )
    .await;
    for expected in ["made", "cache", "cache"] {
        let (status, seen) = status_json(
            app.gateway(Method::GET, "svc.localhost", "/echo/x")
                .send()
                .await
                .expect("an answer"),
        )
        .await;
        assert_eq!(status, 200, "{seen}");
        assert_eq!(seen["headers"]["x-source"], expected);
        assert_eq!(seen["headers"]["x-name"], "Ada");
    }
}

#[tokio::test]
async fn with_redis_every_gateway_shares_the_values_unless_a_policy_says_internal() {
    let Some(url) = test_redis_url() else {
        eprintln!("skipped: PORTCULLIS_TEST_REDIS_URL is not set");
        return;
    };
    let settings = RedisSettings {
        url,
        key_prefix: format!("test-{}", uuid::Uuid::new_v4().simple()),
        timeout: Duration::from_millis(500),
        failure: CounterFailure::Open,
        slot_lease: Duration::from_secs(30),
    };
    // Two gateways, each with its own database, sharing one Redis.
    let first = spawn_with_redis(testing::sqlite(), settings.clone()).await;
    let second = spawn_with_redis(testing::sqlite(), settings).await;
    for app in [&first, &second] {
        app.echo_api().await;
        app.policy(ECHO_POLICY, &document("prefer-external", 60))
            .await;
    }
    found(&first, "svc", "contoso", &[("x-set", "shared")]).await;
    assert_eq!(found(&second, "svc", "contoso", &[]).await, "shared");
    found(&second, "svc", "contoso", &[("x-forget", "1")]).await;
    assert_eq!(found(&first, "svc", "contoso", &[]).await, "unknown");

    for app in [&first, &second] {
        app.policy(ECHO_POLICY, &document("internal", 60)).await;
    }
    found(&first, "svc", "contoso", &[("x-set", "mine")]).await;
    assert_eq!(found(&first, "svc", "contoso", &[]).await, "mine");
    assert_eq!(found(&second, "svc", "contoso", &[]).await, "unknown");
}

/// APIM's "custom caching" article (api-management-sample-cache-by-key, "Fragment
/// caching"), unchanged but for the profile service's address: the user's profile is fetched
/// once with `send-request`, kept with `cache-store-value`, found by `cache-lookup-value` on
/// the next call, and put into the backend's answer by `find-and-replace`.
#[tokio::test]
async fn the_custom_caching_article_runs_as_written() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let fetched = Arc::new(AtomicUsize::new(0));
    let profiles = {
        let fetched = fetched.clone();
        axum::Router::new().route(
            "/UserProfile/{id}",
            axum::routing::get(
                move |axum::extract::Path(id): axum::extract::Path<String>| {
                    let fetched = fetched.clone();
                    async move {
                        fetched.fetch_add(1, Ordering::SeqCst);
                        axum::Json(serde_json::json!({ "id": id, "name": "Ada Lovelace" }))
                    }
                },
            ),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let side = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, profiles).await;
    });

    let app = spawn().await;
    app.echo_api().await;
    let document =
        include_str!("../../../policy/tests/apim_docs/api-management-sample-cache-by-key__7.xml")
            .replace(
                "https://apimairlineapi.azurewebsites.net",
                &format!("http://{side}"),
            );
    app.policy(ECHO_POLICY, &document).await;
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({ "sub": "ada" }),
        &jsonwebtoken::EncodingKey::from_secret(b"any"),
    )
    .unwrap();
    for _ in 0..3 {
        let (status, seen) = status_json(
            app.gateway(Method::GET, "svc.localhost", "/echo/x")
                .header("Authorization", format!("Bearer {token}"))
                // The backend (the echo service) shows this header in its answer, where the
                // article's find-and-replace puts the profile.
                .header("x-profile", "$userprofile$")
                .send()
                .await
                .expect("an answer"),
        )
        .await;
        assert_eq!(status, 200, "{seen}");
        assert_eq!(
            seen["headers"]["x-profile"]["name"], "Ada Lovelace",
            "{seen}"
        );
        assert_eq!(seen["headers"]["x-profile"]["id"], "ada");
    }
    assert_eq!(
        fetched.load(Ordering::SeqCst),
        1,
        "fetched once, then from the cache"
    );
}
