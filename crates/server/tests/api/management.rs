//! The management REST API: authentication, resources, errors, audit.

use crate::helpers::spawn;
use portcullis_domain::{ApiName, OperationName, ServiceName};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

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
            "displayName": "Calculator Flow API", "description": "", "serviceUrl": "http://127.0.0.1:7071", "path": "calc",
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

#[tokio::test]
async fn reading_a_subscriptions_keys_is_audited_without_the_keys_or_a_new_revision() {
    let app = spawn().await;
    app.echo_api().await;
    app.put(
        "/services/svc/subscriptions/reader",
        json!({ "scope": "/apis/echo" }),
    )
    .await;
    let revision = app.app.control.snapshots().current().revision;
    let secrets = app
        .post("/services/svc/subscriptions/reader/listSecrets")
        .await;
    let key = secrets["primaryKey"].as_str().unwrap().to_owned();
    let (_, log) = app
        .mgmt(
            Method::GET,
            "/services/svc/auditLog?resource=/services/svc/subscriptions/reader",
            None,
        )
        .await;
    let entries = log["value"].as_array().unwrap();
    assert_eq!(entries[0]["action"], "listSecrets", "{log}");
    assert_eq!(entries[0]["actor"], "token:tests");
    assert!(!log.to_string().contains(&key), "the audit log shows a key");
    assert_eq!(
        app.app.control.snapshots().current().revision,
        revision,
        "a read is not a configuration change"
    );
}

#[tokio::test]
async fn a_commit_this_node_did_not_publish_is_served_within_seconds() {
    // A write given up on after its timeout may commit after all; another process (a CLI
    // command, a second node on the same SQLite file) may write too. The node must converge
    // on the stored revision without waiting for its own next write.
    let app = spawn().await;
    app.echo_api().await;
    let get = || app.gateway(reqwest::Method::GET, "svc.localhost", "/echo/x");
    assert_eq!(get().send().await.unwrap().status(), 200);

    let other_writer = app.database().store().await;
    other_writer
        .delete_operation(
            &portcullis_store::Actor::System,
            &ServiceName::parse("svc").unwrap(),
            &ApiName::parse("echo").unwrap(),
            &OperationName::parse("get-all").unwrap(),
        )
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let status = get().send().await.unwrap().status();
        if status == 404 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the gateway still serves the old revision"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn deeply_nested_input_is_refused_with_its_limit_and_the_node_keeps_serving() {
    let app = spawn().await;
    app.echo_api().await;
    // A policy document of 5,000 nested <choose><when> (about 250 KB, under the size limit):
    // it once overflowed a worker's stack and took the whole process down.
    let mut xml = String::from("<policies><inbound>");
    xml.push_str(&r#"<choose><when condition="@(true)">"#.repeat(5_000));
    xml.push_str(&"</when></choose>".repeat(5_000));
    xml.push_str("</inbound></policies>");
    let (status, body) = app
        .mgmt(
            Method::PUT,
            "/services/svc/apis/echo/policy",
            Some(json!({ "format": "xml", "value": xml })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("at most 64"), "{message}");

    // JSON nested 100,000 deep: refused by the parser's depth limit, not a crash.
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let response = app
        .http
        .put(app.mgmt_url("/services/svc"))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body(deep_json)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("recursion limit"),
        "{body}"
    );

    // Everything still answers.
    let (status, _) = app.mgmt(Method::GET, "/services/svc", None).await;
    assert_eq!(status, StatusCode::OK);
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn lists_are_paged_and_filtered_the_apim_way() {
    let app = spawn().await;
    app.echo_api().await;
    for i in 0..120 {
        let display = if i % 10 == 0 {
            format!("Partner {i}")
        } else {
            format!("Tester {i}")
        };
        app.put(
            &format!("/services/svc/subscriptions/sub-{i:03}"),
            json!({ "scope": "/apis", "displayName": display }),
        )
        .await;
    }
    // Page by page, following nextLink until there is none.
    let mut url = app.mgmt_url("/services/svc/subscriptions");
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let page: serde_json::Value = app
            .http
            .get(&url)
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pages += 1;
        assert_eq!(page["count"], 120, "count is of the whole list");
        for item in page["value"].as_array().unwrap() {
            names.push(item["name"].as_str().unwrap().to_owned());
        }
        match page["nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 2, "the default page holds 100");
    assert_eq!(names.len(), 120);
    assert_eq!(names[0], "sub-000");
    assert_eq!(names[119], "sub-119");

    let (status, page) = app
        .mgmt(
            Method::GET,
            "/services/svc/subscriptions?$top=5&$skip=2&$filter=contains(properties/displayName,'partner')",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["count"], 12);
    let shown: Vec<&str> = page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        shown,
        ["sub-020", "sub-030", "sub-040", "sub-050", "sub-060"]
    );
    let next = page["nextLink"].as_str().unwrap();
    assert!(next.contains("%24skip=7"), "{next}");
    assert!(next.contains("%24filter="), "{next}");

    // The small lists take the same parameters, filtered on their own fields.
    let (_, apis) = app
        .mgmt(
            Method::GET,
            "/services/svc/apis/echo/operations?$filter=method eq 'post'",
            None,
        )
        .await;
    assert_eq!(apis["count"], 1);
    assert_eq!(apis["value"][0]["name"], "post-all");

    // What cannot be read is refused, naming the parameter.
    for bad in [
        "$top=0",
        "$top=5000",
        "$skip=x",
        "$filter=owner eq 'x'",
        "$filter=name eq",
    ] {
        let (status, body) = app
            .mgmt(
                Method::GET,
                &format!("/services/svc/subscriptions?{bad}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            body["error"]["field"]
                .as_str()
                .unwrap_or_default()
                .starts_with('$'),
            "{body}"
        );
    }
}
