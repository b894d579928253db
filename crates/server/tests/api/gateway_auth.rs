//! The subscription key check: where keys come from, what they open, when they stop working.

use crate::helpers::{TestApp, spawn, status_json};
use reqwest::Method;
use serde_json::json;

const INVALID_KEY: &str = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.";

/// Service `svc` with APIs `a` (suffix `a`) and `b` (suffix `b`), both requiring keys, and
/// product `pa` containing `a` only.
async fn two_apis(app: &TestApp) {
    app.put("/services/svc", json!({})).await;
    for api in ["a", "b"] {
        app.put(
            &format!("/services/svc/apis/{api}"),
            json!({ "serviceUrl": app.backend_url("/"), "path": api }),
        )
        .await;
        app.put(
            &format!("/services/svc/apis/{api}/operations/all"),
            json!({ "method": "GET", "urlTemplate": "/*" }),
        )
        .await;
    }
    product_pa_with_a(app).await;
}

/// Product `pa`, requiring keys, containing API `a`.
async fn product_pa_with_a(app: &TestApp) {
    app.put(
        "/services/svc/products/pa",
        json!({ "subscriptionRequired": true }),
    )
    .await;
    app.put("/services/svc/products/pa/apis/a", json!({})).await;
}

async fn status_with_key(app: &TestApp, path: &str, key: &str) -> u16 {
    app.gateway(Method::GET, "svc.localhost", path)
        .header("Ocp-Apim-Subscription-Key", key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn each_scope_opens_what_it_names() {
    let app = spawn().await;
    two_apis(&app).await;
    let all = app.subscribe("svc", "all", "/apis").await;
    let only_b = app.subscribe("svc", "only-b", "/apis/b").await;
    let product = app.subscribe("svc", "product", "/products/pa").await;

    assert_eq!(status_with_key(&app, "/a/x", &all).await, 200);
    assert_eq!(status_with_key(&app, "/b/x", &all).await, 200);
    assert_eq!(status_with_key(&app, "/b/x", &only_b).await, 200);
    assert_eq!(status_with_key(&app, "/a/x", &only_b).await, 401);
    assert_eq!(status_with_key(&app, "/a/x", &product).await, 200);
    assert_eq!(status_with_key(&app, "/b/x", &product).await, 401);

    // Adding b to the product opens it for the product's key at once.
    app.put("/services/svc/products/pa/apis/b", json!({})).await;
    assert_eq!(status_with_key(&app, "/b/x", &product).await, 200);
    app.delete("/services/svc/products/pa/apis/b").await;
    assert_eq!(status_with_key(&app, "/b/x", &product).await, 401);
}

/// Reloads after other changes hand the gateway's key table on instead of re-reading every
/// subscription; this pins that keys follow their own changes and only theirs.
#[tokio::test]
async fn keys_outlive_other_changes_but_not_their_subscription() {
    let app = spawn().await;
    two_apis(&app).await;
    let product = app.subscribe("svc", "product", "/products/pa").await;
    let only_b = app.subscribe("svc", "only-b", "/apis/b").await;

    app.policy(
        "/services/svc/policy",
        "<policies><inbound><set-header name=\"x-any\" exists-action=\"override\"><value>1</value></set-header></inbound></policies>",
    )
    .await;
    app.put(
        "/services/svc/apis/c",
        json!({ "serviceUrl": app.backend_url("/"), "path": "c" }),
    )
    .await;
    app.put("/services/svc/products/pb", json!({})).await;
    assert_eq!(status_with_key(&app, "/a/x", &product).await, 200);
    assert_eq!(status_with_key(&app, "/b/x", &only_b).await, 200);

    // Deleting the product deletes its subscriptions; a new product of the same name does
    // not bring the old key back.
    app.delete("/services/svc/products/pa?deleteSubscriptions=true")
        .await;
    product_pa_with_a(&app).await;
    assert_eq!(status_with_key(&app, "/a/x", &product).await, 401);
    assert_eq!(status_with_key(&app, "/b/x", &only_b).await, 200);
}

#[tokio::test]
async fn keys_come_from_the_header_or_else_the_query() {
    let app = spawn().await;
    two_apis(&app).await;
    let key = app.subscribe("svc", "s", "/apis").await;
    let query = app
        .gateway(
            Method::GET,
            "svc.localhost",
            &format!("/a/x?subscription-key={key}&keep=1"),
        )
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(query).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["query"], "keep=1",
        "the query key is stripped before forwarding"
    );

    // The header wins: a wrong header key is not rescued by a right query key.
    let both = app
        .gateway(
            Method::GET,
            "svc.localhost",
            &format!("/a/x?subscription-key={key}"),
        )
        .header("Ocp-Apim-Subscription-Key", "0".repeat(32))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(both).await;
    assert_eq!((status, body["message"].as_str()), (401, Some(INVALID_KEY)));
}

#[tokio::test]
async fn custom_key_names_replace_the_defaults() {
    let app = spawn().await;
    two_apis(&app).await;
    app.put(
        "/services/svc/apis/a",
        json!({
            "serviceUrl": app.backend_url("/"), "path": "a",
            "subscriptionKeyHeaderName": "X-Api-Key", "subscriptionKeyQueryParamName": "apikey"
        }),
    )
    .await;
    let key = app.subscribe("svc", "s", "/apis").await;
    let with = |header: &str| {
        app.gateway(Method::GET, "svc.localhost", "/a/x")
            .header(header, &key)
    };
    assert_eq!(with("X-Api-Key").send().await.unwrap().status(), 200);
    let response = with("Ocp-Apim-Subscription-Key").send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("name=\"X-Api-Key\"")
    );
    let query = app
        .gateway(Method::GET, "svc.localhost", &format!("/a/x?apikey={key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 200);
    let backend = query.json::<serde_json::Value>().await.unwrap();
    assert!(backend["headers"].get("x-api-key").is_none());
}

#[tokio::test]
async fn only_active_subscriptions_pass_and_regenerated_keys_die_at_once() {
    let app = spawn().await;
    two_apis(&app).await;
    let key = app.subscribe("svc", "s", "/apis").await;
    let secrets = app.post("/services/svc/subscriptions/s/listSecrets").await;
    let secondary = secrets["secondaryKey"].as_str().unwrap().to_owned();
    assert_eq!(
        status_with_key(&app, "/a/x", &secondary).await,
        200,
        "both keys are valid"
    );

    for state in ["suspended", "cancelled", "expired", "submitted"] {
        app.put(
            "/services/svc/subscriptions/s",
            json!({ "scope": "/apis", "state": state }),
        )
        .await;
        let response = app
            .gateway(Method::GET, "svc.localhost", "/a/x")
            .header("Ocp-Apim-Subscription-Key", &key)
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(response).await;
        assert_eq!(
            (status, body["message"].as_str()),
            (401, Some(INVALID_KEY)),
            "{state}"
        );
    }
    app.put(
        "/services/svc/subscriptions/s",
        json!({ "scope": "/apis", "state": "active" }),
    )
    .await;
    assert_eq!(
        status_with_key(&app, "/a/x", &key).await,
        200,
        "reactivated"
    );

    app.post("/services/svc/subscriptions/s/regeneratePrimaryKey")
        .await;
    assert_eq!(
        status_with_key(&app, "/a/x", &key).await,
        401,
        "the old primary key is dead"
    );
    assert_eq!(
        status_with_key(&app, "/a/x", &secondary).await,
        200,
        "the secondary key still works"
    );
    let fresh = app.post("/services/svc/subscriptions/s/listSecrets").await;
    let new_primary = fresh["primaryKey"].as_str().unwrap();
    assert_ne!(new_primary, key);
    assert_eq!(status_with_key(&app, "/a/x", new_primary).await, 200);

    app.post("/services/svc/subscriptions/s/regenerateSecondaryKey")
        .await;
    assert_eq!(status_with_key(&app, "/a/x", &secondary).await, 401);

    app.delete("/services/svc/subscriptions/s").await;
    assert_eq!(status_with_key(&app, "/a/x", new_primary).await, 401);
}

#[tokio::test]
async fn open_apis_pass_without_a_key_but_never_with_a_bad_one() {
    let app = spawn().await;
    two_apis(&app).await;
    let missing = app
        .gateway(Method::GET, "svc.localhost", "/a/x")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);

    app.put(
        "/services/svc/apis/a",
        json!({ "serviceUrl": app.backend_url("/"), "path": "a", "subscriptionRequired": false }),
    )
    .await;
    let keyless = app
        .gateway(Method::GET, "svc.localhost", "/a/x")
        .send()
        .await
        .unwrap();
    assert_eq!(keyless.status(), 200, "the API needs no subscription");
    assert_eq!(
        status_with_key(&app, "/a/x", "not-a-key").await,
        401,
        "a bad key is refused even here"
    );

    // An open product opens its APIs too.
    app.put(
        "/services/svc/products/open",
        json!({ "subscriptionRequired": false }),
    )
    .await;
    app.put("/services/svc/products/open/apis/b", json!({}))
        .await;
    let keyless = app
        .gateway(Method::GET, "svc.localhost", "/b/x")
        .send()
        .await
        .unwrap();
    assert_eq!(keyless.status(), 200);
    // A key scoped to another API is still refused on the open one.
    let only_a = app.subscribe("svc", "only-a", "/apis/a").await;
    assert_eq!(status_with_key(&app, "/b/x", &only_a).await, 401);
}

#[tokio::test]
async fn non_ascii_key_headers_are_invalid_keys() {
    let app = spawn().await;
    two_apis(&app).await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/a/x")
        .header(
            "Ocp-Apim-Subscription-Key",
            reqwest::header::HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}
