//! The README's walkthrough, end to end: the demo flow behind the gateway.

use crate::helpers::{TestApp, spawn, spawn_with, status_json};
use portcullis_gateway::GatewaySettings;
use portcullis_store::testing;
use reqwest::Method;
use serde_json::json;

const MISSING_KEY: &str = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.";

#[tokio::test]
async fn calculator_walkthrough_on_sqlite() {
    calculator_walkthrough(spawn().await).await;
}

#[tokio::test]
async fn calculator_walkthrough_on_postgres() {
    // Runs where a PostgreSQL server is configured (always in CI).
    if let Some(db) = testing::postgres().await {
        calculator_walkthrough(spawn_with(db, GatewaySettings::default()).await).await;
    }
}

async fn calculator_walkthrough(app: TestApp) {
    app.put("/services/flowdemo", json!({ "displayName": "Flow demo" }))
        .await;
    app.put(
        "/services/flowdemo/apis/calculator",
        json!({ "displayName": "Calculator Flow API", "serviceUrl": app.demo_url(), "path": "calc" }),
    )
    .await;
    app.put(
        "/services/flowdemo/apis/calculator/operations/add2numbers",
        json!({ "displayName": "Add2Numbers", "method": "POST", "urlTemplate": "/" }),
    )
    .await;
    app.put(
        "/services/flowdemo/products/calculator",
        json!({ "displayName": "Calculator", "subscriptionRequired": false, "state": "published" }),
    )
    .await;
    app.put(
        "/services/flowdemo/products/calculator/apis/calculator",
        json!({}),
    )
    .await;

    let call = || {
        app.gateway(Method::POST, "flowdemo.localhost", "/calc")
            .json(&json!({ "a": 1, "b": 2 }))
    };
    let (status, body) = status_json(call().send().await.unwrap()).await;
    assert_eq!(
        (status, body),
        (200, json!({ "sum": 3 })),
        "the open product lets the call through"
    );

    // Require a subscription: the very next call is refused.
    app.put(
        "/services/flowdemo/products/calculator",
        json!({ "displayName": "Calculator", "subscriptionRequired": true, "state": "published" }),
    )
    .await;
    let response = call().send().await.unwrap();
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, body) = status_json(response).await;
    assert_eq!(status, 401);
    assert_eq!(body["statusCode"], 401);
    assert_eq!(body["message"], MISSING_KEY);
    assert_eq!(
        challenge,
        "AzureApiManagementKey realm=\"http://flowdemo.localhost/calc\",name=\"Ocp-Apim-Subscription-Key\",type=\"header\""
    );

    let key = app
        .subscribe("flowdemo", "tester", "/products/calculator")
        .await;
    let response = call()
        .header("Ocp-Apim-Subscription-Key", &key)
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("x-request-id"));
    let (status, body) = status_json(response).await;
    assert_eq!((status, body), (200, json!({ "sum": 3 })));
}

#[tokio::test]
async fn demo_flow_answers_like_a_flow() {
    let app = spawn().await;
    let post = |body: &'static str| {
        app.http
            .post(app.demo_url())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let (status, body) = status_json(post(r#"{"a": 1.5, "b": 2}"#).await.unwrap()).await;
    assert_eq!((status, body), (200, json!({ "sum": 3.5 })));
    let (status, body) = status_json(post(r#"{"a": 1"#).await.unwrap()).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("not valid JSON")
            || body["error"].as_str().unwrap().contains("must be JSON")
    );
    let (status, body) = status_json(post(r#"{"a": 1}"#).await.unwrap()).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("\"b\" is missing"),
        "{body}"
    );
    let (status, body) = status_json(post(r#"{"a": 1, "b": "2"}"#).await.unwrap()).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("must be a number"),
        "{body}"
    );
    let get = app.http.get(app.demo_url()).send().await.unwrap();
    assert_eq!(get.status().as_u16(), 405);
}
