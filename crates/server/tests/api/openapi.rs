//! OpenAPI through the management API (issue 16): import (inline and by link), re-import
//! that keeps operations and their policies, export in every format, and the gateway
//! answering an imported API — forwarded, and mocked from its examples or its schemas. The
//! documents are public ones (`crates/openapi/tests/corpus/SOURCES.md`).

use crate::helpers::{TestApp, spawn, status_json};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn corpus(file: &str) -> String {
    let path = format!(
        "{}/../openapi/tests/corpus/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn service(app: &TestApp) {
    app.put("/services/svc", json!({ "displayName": "Service" }))
        .await;
}

/// Imports `file` as API `api` at suffix `api`, over the echo backend; returns the answer.
async fn import(
    app: &TestApp,
    api: &str,
    format: &str,
    file: &str,
    extra: Value,
) -> (StatusCode, Value) {
    let mut body = json!({
        "format": format,
        "value": corpus(file),
        "path": api,
        "serviceUrl": app.backend_url("/base"),
        "subscriptionRequired": false,
    });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    app.mgmt(
        Method::PUT,
        &format!("/services/svc/apis/{api}"),
        Some(json!({ "properties": body })),
    )
    .await
}

async fn operation_names(app: &TestApp, api: &str) -> Vec<String> {
    let listed = app
        .get_json(&format!("/services/svc/apis/{api}/operations"))
        .await;
    let mut names: Vec<String> = listed["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn documents_of_every_version_import_and_the_gateway_answers_them() {
    let app = spawn().await;
    service(&app).await;
    for (api, format, file, count) in [
        (
            "petstore2",
            "swagger-json",
            "oai__petstore-expanded.json",
            4,
        ),
        ("museum", "openapi", "redoc__museum.yaml", 8),
        ("examples", "openapi", "oai__api-with-examples.yaml", 2),
        ("store", "openapi", "swagger-petstore__openapi.yaml", 19),
        ("scopes", "openapi+json", "oai__non-oauth-scopes.json", 1),
    ] {
        let (status, answer) = import(&app, api, format, file, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{file}: {answer}");
        assert_eq!(
            answer["import"]["created"].as_array().unwrap().len(),
            count,
            "{file}: {answer}"
        );
        assert_eq!(operation_names(&app, api).await.len(), count, "{file}");
    }
    // What the document said is on the API and its operations.
    let museum = app.get_json("/services/svc/apis/museum").await;
    assert_eq!(museum["displayName"], "Redocly Museum API");
    let operation = app
        .get_json("/services/svc/apis/store/operations/getpetbyid")
        .await;
    assert_eq!(operation["urlTemplate"], "/pet/{petId}");
    assert_eq!(operation["templateParameters"][0]["type"], "integer");
    assert_eq!(operation["responses"][0]["statusCode"], 200);

    // Forwarded to the backend under the operation's path.
    let response = app
        .gateway(Method::GET, "svc.localhost", "/store/pet/7")
        .send()
        .await
        .unwrap();
    let (status, seen) = status_json(response).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["path"], "/base/pet/7");
    // An unknown path is not an operation.
    let response = app
        .gateway(Method::GET, "svc.localhost", "/store/nothing-here")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    // Mocked from the documented example, and from the schema when there is none.
    for (api, path) in [("examples", "/examples/"), ("store", "/store/pet/7")] {
        app.policy(
            &format!("/services/svc/apis/{api}/policy"),
            r#"<policies><inbound><base /><mock-response status-code="200" content-type="application/json" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"#,
        )
        .await;
        let response = app
            .gateway(Method::GET, "svc.localhost", path)
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(response).await;
        assert_eq!(status, 200, "{api}: {body}");
        if api == "examples" {
            assert_eq!(
                body["versions"][0]["id"], "v2.0",
                "the document's example: {body}"
            );
        } else {
            assert!(
                body.get("id").is_some() && body.get("name").is_some(),
                "made from the Pet schema: {body}"
            );
            assert!(body.get("path").is_none(), "not forwarded: {body}");
        }
    }
}

#[tokio::test]
async fn a_reimport_keeps_operations_and_their_policies_unless_asked_to_remove() {
    let app = spawn().await;
    service(&app).await;
    let (status, _) = import(&app, "pets", "openapi", "oai__petstore.yaml", json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    app.put(
        "/services/svc/apis/pets/operations/extra",
        json!({ "method": "GET", "urlTemplate": "/extra" }),
    )
    .await;
    app.policy(
        "/services/svc/apis/pets/operations/listpets/policy",
        r#"<policies><inbound><base /><set-header name="x-kept" exists-action="override"><value>yes</value></set-header></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"#,
    )
    .await;

    let (status, answer) = import(&app, "pets", "openapi", "oai__petstore.yaml", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["import"]["updated"].as_array().unwrap().len(),
        3,
        "{answer}"
    );
    assert_eq!(answer["import"]["kept"], json!(["extra"]), "{answer}");
    let response = app
        .gateway(Method::GET, "svc.localhost", "/pets/pets")
        .send()
        .await
        .unwrap();
    let (_, seen) = status_json(response).await;
    assert_eq!(
        seen["headers"]["x-kept"], "yes",
        "the policy stayed: {seen}"
    );

    let (status, answer) = import(
        &app,
        "pets",
        "openapi",
        "oai__petstore.yaml",
        json!({ "removeMissingOperations": true }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["import"]["removed"], json!(["extra"]), "{answer}");
    assert!(
        !operation_names(&app, "pets")
            .await
            .contains(&"extra".to_owned())
    );
}

#[tokio::test]
async fn what_cannot_be_imported_is_refused_or_reported() {
    let app = spawn().await;
    service(&app).await;
    let (status, answer) = import(
        &app,
        "separate",
        "swagger-json",
        "oai__swagger.json",
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.to_string().contains("Pet.json"), "{answer}");
    let (status, _) = app
        .mgmt(Method::GET, "/services/svc/apis/separate", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was half-imported");

    let (status, answer) = import(&app, "redoc", "openapi", "redoc__openapi.yaml", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let skipped = answer["import"]["skipped"].to_string();
    assert!(skipped.contains("cookie parameter"), "{skipped}");

    // No backend URL in the document and none given.
    let (status, answer) = app
        .mgmt(
            Method::PUT,
            "/services/svc/apis/nourl",
            Some(json!({ "format": "openapi", "value": corpus("oai__link-example.yaml"), "path": "nourl" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.to_string().contains("serviceUrl"), "{answer}");
    let (status, answer) = app
        .mgmt(
            Method::PUT,
            "/services/svc/apis/bad",
            Some(json!({ "format": "openapi", "value": "openapi: 4.0.0", "path": "bad", "serviceUrl": "http://x.example" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.to_string().contains("4.0.0"), "{answer}");
}

#[tokio::test]
async fn exports_point_at_the_gateway_and_import_again_as_the_same_api() {
    let app = spawn().await;
    service(&app).await;
    let (status, _) = import(
        &app,
        "museum",
        "openapi",
        "redoc__museum.yaml",
        json!({ "subscriptionRequired": true }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let port = app.gateway_addr().port();
    let export = |format: &'static str| {
        let url = app.mgmt_url(&format!(
            "/services/svc/apis/museum?export=true&format={format}"
        ));
        let request = app.http.get(url).bearer_auth(&app.token);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{format}");
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            (kind, response.text().await.unwrap())
        }
    };
    let (kind, json_text) = export("openapi+json").await;
    assert_eq!(kind, "application/json");
    let document: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(document["openapi"], "3.0.1");
    assert_eq!(
        document["servers"][0]["url"],
        format!("http://svc.localhost:{port}/museum")
    );
    assert_eq!(
        document["components"]["securitySchemes"]["apiKeyHeader"]["name"],
        "Ocp-Apim-Subscription-Key"
    );
    let (kind, yaml) = export("openapi").await;
    assert_eq!(kind, "application/yaml");
    assert!(yaml.starts_with("openapi: 3.0.1"), "{yaml}");
    let (_, swagger) = export("swagger").await;
    let swagger: Value = serde_json::from_str(&swagger).unwrap();
    assert_eq!(swagger["basePath"], "/museum");
    let (_, connector) = export("powerplatform").await;
    let connector: Value = serde_json::from_str(&connector).unwrap();
    assert_eq!(connector["swagger"], "2.0");
    assert_eq!(
        connector["securityDefinitions"]["apiKeyHeader"]["in"],
        "header"
    );

    // The export imported as another API: the same operations, parameters and responses.
    let (status, answer) = app
        .mgmt(
            Method::PUT,
            "/services/svc/apis/again",
            Some(json!({ "format": "openapi+json", "value": json_text, "path": "again", "serviceUrl": app.backend_url("/base") })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    for name in operation_names(&app, "museum").await {
        let a = app
            .get_json(&format!("/services/svc/apis/museum/operations/{name}"))
            .await;
        let b = app
            .get_json(&format!("/services/svc/apis/again/operations/{name}"))
            .await;
        for field in [
            "displayName",
            "method",
            "urlTemplate",
            "templateParameters",
            "request",
            "responses",
            "description",
        ] {
            assert_eq!(a[field], b[field], "{name}.{field}");
        }
    }
}

#[tokio::test]
async fn a_linked_document_is_fetched_with_a_size_limit() {
    let app = spawn().await;
    service(&app).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = axum::Router::new()
        .route(
            "/openapi.yaml",
            axum::routing::get(|| async { corpus("oai__petstore.yaml") }),
        )
        .route(
            "/huge.yaml",
            axum::routing::get(|| async { "x".repeat(5 * 1024 * 1024) }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, served).await;
    });
    let (status, answer) = app
        .mgmt(
            Method::PUT,
            "/services/svc/apis/linked",
            Some(json!({ "format": "openapi-link", "value": format!("http://{addr}/openapi.yaml"), "path": "linked" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    // The document's server is http://petstore.swagger.io/v1.
    assert_eq!(
        answer["serviceUrl"], "http://petstore.swagger.io/v1",
        "{answer}"
    );
    let (status, answer) = app
        .mgmt(
            Method::PUT,
            "/services/svc/apis/huge",
            Some(json!({ "format": "openapi-link", "value": format!("http://{addr}/huge.yaml"), "path": "huge", "serviceUrl": "http://x.example" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.to_string().contains("larger than"), "{answer}");
}
