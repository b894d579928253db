//! The management REST API: authentication, resources, errors, audit.

use crate::helpers::spawn;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn every_call_needs_a_valid_token() {
    let app = spawn().await;
    for token in [None, Some("pcm_wrong"), Some("")] {
        let mut request = app.http.get(app.mgmt_url("/services"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "Unauthorized");
    }
    let unknown = app
        .http
        .get(app.mgmt_url("/nothing/here"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        unknown.status(),
        StatusCode::UNAUTHORIZED,
        "no probing without a token"
    );
    let (status, _) = app.mgmt(Method::GET, "/nothing/here", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn resources_are_created_replaced_listed_and_deleted() {
    let app = spawn().await;
    let (status, body) = app
        .mgmt(
            Method::PUT,
            "/services/flowdemo",
            Some(json!({ "displayName": "Flow demo" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        body,
        json!({ "id": "/services/flowdemo", "name": "flowdemo", "displayName": "Flow demo", "isDefault": true })
    );
    let (status, _) = app
        .mgmt(
            Method::PUT,
            "/services/flowdemo",
            Some(json!({ "displayName": "Renamed" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // APIM's {"properties": {...}} envelope is accepted too.
    let (status, api) = app
        .mgmt(
            Method::PUT,
            "/services/flowdemo/apis/calculator",
            Some(json!({ "properties": { "displayName": "Calculator Flow API", "serviceUrl": "http://127.0.0.1:7071", "path": "calc" } })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        api,
        json!({
            "id": "/services/flowdemo/apis/calculator", "name": "calculator",
            "displayName": "Calculator Flow API", "serviceUrl": "http://127.0.0.1:7071", "path": "calc",
            "subscriptionRequired": true, "subscriptionKeyHeaderName": "Ocp-Apim-Subscription-Key",
            "subscriptionKeyQueryParamName": "subscription-key", "forwardSubscriptionKey": false
        })
    );
    let (_, operation) = app
        .mgmt(
            Method::PUT,
            "/services/flowdemo/apis/calculator/operations/add",
            Some(json!({ "method": "post", "urlTemplate": "/" })),
        )
        .await;
    assert_eq!(operation["method"], "POST");
    assert_eq!(operation["displayName"], "add");

    let (_, list) = app.mgmt(Method::GET, "/services/flowdemo/apis", None).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let (_, list) = app
        .mgmt(
            Method::GET,
            "/services/flowdemo/apis/calculator/operations",
            None,
        )
        .await;
    assert_eq!(list["value"][0]["name"], "add");

    let (_, product) = app
        .mgmt(
            Method::PUT,
            "/services/flowdemo/products/calc",
            Some(json!({})),
        )
        .await;
    assert_eq!(product["state"], "notPublished");
    assert_eq!(product["subscriptionRequired"], true);
    let (status, product) = app
        .mgmt(
            Method::PUT,
            "/services/flowdemo/products/calc/apis/calculator",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(product["apis"], json!(["calculator"]));
    let (_, apis) = app
        .mgmt(Method::GET, "/services/flowdemo/products/calc/apis", None)
        .await;
    assert_eq!(apis["value"][0]["name"], "calculator");

    let (status, subscription) = app
        .mgmt(
            Method::PUT,
            "/services/flowdemo/subscriptions/ada",
            Some(json!({ "scope": "/products/calc", "displayName": "Ada" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(subscription["state"], "active");
    assert!(
        subscription.get("primaryKey").is_none(),
        "keys only through listSecrets"
    );
    let (status, secrets) = app
        .mgmt(
            Method::POST,
            "/services/flowdemo/subscriptions/ada/listSecrets",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(secrets["primaryKey"].as_str().unwrap().len(), 32);

    app.delete("/services/flowdemo/apis/calculator/operations/add")
        .await;
    let (status, _) = app
        .mgmt(
            Method::GET,
            "/services/flowdemo/apis/calculator/operations/add",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.delete("/services/flowdemo").await;
    let (status, body) = app.mgmt(Method::GET, "/services/flowdemo", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "NotFound");
}

#[tokio::test]
async fn bad_input_is_a_400_with_the_field_and_saves_nothing() {
    let app = spawn().await;
    app.put("/services/svc", json!({})).await;
    let cases = [
        (
            "/services/svc/apis/a",
            json!({ "serviceUrl": "backend/api", "path": "a" }),
            "serviceUrl",
            "InvalidUrl",
        ),
        (
            "/services/svc/apis/a",
            json!({ "serviceUrl": "http://h", "path": "a b" }),
            "path",
            "InvalidPath",
        ),
        (
            "/services/svc/apis/a",
            json!({ "serviceUrl": "http://h", "path": "a", "displayname": "typo" }),
            "displayname",
            "InvalidBody",
        ),
        (
            "/services/svc/apis/a",
            json!({ "serviceUrl": "http://h", "path": "a", "subscriptionRequired": "yes" }),
            "body",
            "InvalidBody",
        ),
        (
            "/services/svc/apis/Bad_Name",
            json!({ "serviceUrl": "http://h", "path": "a" }),
            "name",
            "InvalidName",
        ),
        (
            "/services/svc/subscriptions/s",
            json!({ "scope": "/products/none" }),
            "scope",
            "InvalidScope",
        ),
        (
            "/services/svc/subscriptions/s",
            json!({ "scope": "/apis", "state": "paused" }),
            "state",
            "InvalidState",
        ),
        (
            "/services/svc/products/p",
            json!({ "state": "draft" }),
            "state",
            "InvalidState",
        ),
    ];
    for (path, body, field, code) in cases {
        let (status, error) = app.mgmt(Method::PUT, path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {error}");
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
        assert_eq!(error["error"]["code"], code, "{body}: {error}");
        assert!(!error["error"]["message"].as_str().unwrap().is_empty());
    }
    let invalid_json = app
        .http
        .put(app.mgmt_url("/services/svc/apis/a"))
        .bearer_auth(&app.token)
        .body("{\"serviceUrl\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(invalid_json.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = invalid_json.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidJson");

    // Operations: template and method errors name their field.
    app.put(
        "/services/svc/apis/ok",
        json!({ "serviceUrl": "http://h", "path": "ok" }),
    )
    .await;
    let (status, error) = app
        .mgmt(
            Method::PUT,
            "/services/svc/apis/ok/operations/o",
            Some(json!({ "method": "GET", "urlTemplate": "/a/{id}/{id}" })),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("urlTemplate"))
    );

    let (_, apis) = app.mgmt(Method::GET, "/services/svc/apis", None).await;
    assert_eq!(
        apis["value"].as_array().unwrap().len(),
        1,
        "only the valid API was saved"
    );
    let (_, subscriptions) = app
        .mgmt(Method::GET, "/services/svc/subscriptions", None)
        .await;
    assert_eq!(subscriptions["value"], json!([]));

    // Suffix collisions are caught, case-insensitively.
    let (status, error) = app
        .mgmt(
            Method::PUT,
            "/services/svc/apis/other",
            Some(json!({ "serviceUrl": "http://h", "path": "OK" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["code"], "PathInUse");
    assert_eq!(error["error"]["field"], "path");

    let (status, _) = app
        .mgmt(
            Method::PUT,
            "/services/nope/apis/x",
            Some(json!({ "serviceUrl": "http://h", "path": "x" })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn products_with_subscriptions_need_an_explicit_delete() {
    let app = spawn().await;
    app.put("/services/svc", json!({})).await;
    app.put("/services/svc/products/p", json!({})).await;
    app.subscribe("svc", "s", "/products/p").await;
    let (status, error) = app
        .mgmt(Method::DELETE, "/services/svc/products/p", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["error"]["code"], "ProductHasSubscriptions");
    let (status, _) = app
        .mgmt(
            Method::DELETE,
            "/services/svc/products/p?deleteSubscriptions=true",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, subscriptions) = app
        .mgmt(Method::GET, "/services/svc/subscriptions", None)
        .await;
    assert_eq!(subscriptions["value"], json!([]));
}

#[tokio::test]
async fn policies_are_stored_and_malformed_ones_refused_with_a_position() {
    let app = spawn().await;
    app.put("/services/svc", json!({})).await;
    app.put(
        "/services/svc/apis/a",
        json!({ "serviceUrl": "http://h", "path": "a" }),
    )
    .await;
    app.put(
        "/services/svc/apis/a/operations/o",
        json!({ "method": "GET", "urlTemplate": "/" }),
    )
    .await;
    app.put("/services/svc/products/p", json!({})).await;

    let (status, global) = app.mgmt(Method::GET, "/services/svc/policy", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        global["value"]
            .as_str()
            .unwrap()
            .contains("<forward-request />")
    );
    let (status, _) = app
        .mgmt(Method::GET, "/services/svc/apis/a/policy", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let document = "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>";
    for path in [
        "/services/svc/policy",
        "/services/svc/products/p/policy",
        "/services/svc/apis/a/policy",
        "/services/svc/apis/a/operations/o/policy",
    ] {
        let (status, saved) = app
            .mgmt(
                Method::PUT,
                path,
                Some(json!({ "format": "xml", "value": document })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {saved}");
        let (_, read) = app.mgmt(Method::GET, path, None).await;
        assert_eq!(read["value"], document);
    }
    let (status, error) = app
        .mgmt(
            Method::PUT,
            "/services/svc/apis/a/policy",
            Some(json!({ "format": "xml", "value": "<policies>\n  <inbound>\n  </outbound>\n</policies>" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Line 3, column"),
        "{error}"
    );
    let (_, read) = app
        .mgmt(Method::GET, "/services/svc/apis/a/policy", None)
        .await;
    assert_eq!(read["value"], document, "the old document stays");

    app.delete("/services/svc/apis/a/policy").await;
    let (status, _) = app
        .mgmt(Method::GET, "/services/svc/apis/a/policy", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_audit_log_says_who_changed_what() {
    let app = spawn().await;
    app.put("/services/svc", json!({})).await;
    app.put(
        "/services/svc/apis/a",
        json!({ "serviceUrl": "http://h", "path": "a" }),
    )
    .await;
    app.put(
        "/services/svc/apis/a",
        json!({ "serviceUrl": "http://h", "path": "a2" }),
    )
    .await;
    let (status, log) = app
        .mgmt(
            Method::GET,
            "/services/svc/auditLog?resource=/services/svc/apis",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let entries = log["value"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "update");
    assert_eq!(entries[0]["actor"], "token:tests");
    assert_eq!(entries[0]["before"]["path"], "a");
    assert_eq!(entries[0]["after"]["path"], "a2");
    assert_eq!(entries[1]["action"], "create");
    let (_, all) = app
        .mgmt(Method::GET, "/services/svc/auditLog?top=1", None)
        .await;
    assert_eq!(all["value"].as_array().unwrap().len(), 1);
}
