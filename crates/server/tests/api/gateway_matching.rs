//! Matching: host → service, longest suffix → API, method + template → operation.

use crate::helpers::{spawn, status_json};
use reqwest::Method;
use serde_json::{Value, json};

async fn backend_path(
    app: &crate::helpers::TestApp,
    method: Method,
    host: &str,
    path: &str,
) -> (u16, Value) {
    status_json(app.gateway(method, host, path).send().await.unwrap()).await
}

#[tokio::test]
async fn hosts_pick_services_and_unknown_hosts_go_to_the_default() {
    let app = spawn().await;
    for (service, base) in [("first", "/one"), ("second", "/two")] {
        app.put(&format!("/services/{service}"), json!({})).await;
        app.put(
            &format!("/services/{service}/apis/api"),
            json!({ "serviceUrl": app.backend_url(base), "path": "", "subscriptionRequired": false }),
        )
        .await;
        app.put(
            &format!("/services/{service}/apis/api/operations/all"),
            json!({ "method": "GET", "urlTemplate": "/*" }),
        )
        .await;
    }
    let (_, body) = backend_path(&app, Method::GET, "second.localhost:8080", "/x").await;
    assert_eq!(body["path"], "/two/x");
    let (_, body) = backend_path(&app, Method::GET, "FIRST.localhost", "/x").await;
    assert_eq!(body["path"], "/one/x");
    let (_, body) = backend_path(&app, Method::GET, "unknown.example.org", "/x").await;
    assert_eq!(body["path"], "/one/x", "the first service is the default");

    app.put("/services/second", json!({ "isDefault": true }))
        .await;
    let (_, body) = backend_path(&app, Method::GET, "127.0.0.1", "/x").await;
    assert_eq!(body["path"], "/two/x", "the default moved");

    app.put("/services/second", json!({ "isDefault": false }))
        .await;
    let (status, body) = backend_path(&app, Method::GET, "127.0.0.1", "/x").await;
    assert_eq!(
        (status, body["message"].clone()),
        (404, json!("Resource not found"))
    );
}

#[tokio::test]
async fn longest_suffix_on_whole_segments_then_most_specific_template() {
    let app = spawn().await;
    app.put("/services/svc", json!({})).await;
    for (api, suffix) in [
        ("root", ""),
        ("billing", "billing"),
        ("billing-v2", "billing/v2"),
    ] {
        app.put(
            &format!("/services/svc/apis/{api}"),
            json!({ "serviceUrl": app.backend_url(&format!("/{api}")), "path": suffix, "subscriptionRequired": false }),
        )
        .await;
        app.put(
            &format!("/services/svc/apis/{api}/operations/all"),
            json!({ "method": "GET", "urlTemplate": "/*" }),
        )
        .await;
    }
    app.put(
        "/services/svc/apis/billing/operations/invoice",
        json!({ "method": "GET", "urlTemplate": "/invoices/{id}" }),
    )
    .await;
    app.put(
        "/services/svc/apis/billing/operations/latest",
        json!({ "method": "GET", "urlTemplate": "/invoices/latest" }),
    )
    .await;
    app.put(
        "/services/svc/apis/billing/operations/create",
        json!({ "method": "POST", "urlTemplate": "/invoices" }),
    )
    .await;

    let cases = [
        ("/billing/v2/invoices/7", "/billing-v2/invoices/7"),
        ("/Billing/V2", "/billing-v2"),
        ("/billing/v20/x", "/billing/v20/x"),
        ("/billingx", "/root/billingx"),
        ("/", "/root/"),
        ("/billing/Invoices/AbC?x=1", "/billing/Invoices/AbC"),
        ("/billing/invoices/latest/", "/billing/invoices/latest/"),
    ];
    for (request, expected) in cases {
        let (status, body) = backend_path(&app, Method::GET, "svc.localhost", request).await;
        assert_eq!(status, 200, "{request}: {body}");
        assert_eq!(body["path"], expected, "{request}");
    }
    let (_, body) = backend_path(
        &app,
        Method::GET,
        "svc.localhost",
        "/billing/Invoices/AbC?x=1",
    )
    .await;
    assert_eq!(body["query"], "x=1");

    // POST matches only the POST operation; a method nobody declared is a 404, not a 405.
    let (status, _) = backend_path(&app, Method::POST, "svc.localhost", "/billing/invoices").await;
    assert_eq!(status, 200);
    let (status, body) =
        backend_path(&app, Method::DELETE, "svc.localhost", "/billing/invoices/1").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({ "statusCode": 404, "message": "Resource not found", "requestId": body["requestId"] })
    );
}

#[tokio::test]
async fn a_blank_api_answers_404_until_it_has_operations() {
    let app = spawn().await;
    app.put("/services/svc", json!({})).await;
    app.put(
        "/services/svc/apis/blank",
        json!({ "serviceUrl": app.backend_url("/"), "path": "blank", "subscriptionRequired": false }),
    )
    .await;
    let (status, _) = backend_path(&app, Method::GET, "svc.localhost", "/blank").await;
    assert_eq!(status, 404);
    app.put(
        "/services/svc/apis/blank/operations/get",
        json!({ "method": "GET", "urlTemplate": "/" }),
    )
    .await;
    let (status, body) = backend_path(&app, Method::GET, "svc.localhost", "/blank").await;
    assert_eq!((status, body["path"].clone()), (200, json!("/")));
    // Deleting the operation takes effect on the next request.
    app.delete("/services/svc/apis/blank/operations/get").await;
    let (status, _) = backend_path(&app, Method::GET, "svc.localhost", "/blank").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn odd_requests_get_answers_not_panics() {
    let app = spawn().await;
    app.echo_api().await;
    for path in [
        "/%ff%fe",
        "/echo/%00",
        "/echo/../../etc/passwd",
        "//echo//x",
        "/echo/%zz",
    ] {
        let response = app
            .gateway(Method::GET, "svc.localhost", path)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().as_u16() < 500,
            "{path}: {}",
            response.status()
        );
    }
    let status = app
        .http
        .get(format!(
            "http://{}/status-0123456789abcdef",
            app.gateway_addr()
        ))
        .send()
        .await
        .unwrap();
    let (code, body) = status_json(status).await;
    assert_eq!(code, 200);
    assert!(body["revision"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn a_path_with_dot_segments_is_refused_not_forwarded() {
    // `/echo/../other/admin` matched to API `echo` would reach the backend as `/other/admin`
    // (backends resolve `..`), past another API's key check. reqwest normalises paths, so
    // the request is written by hand.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = crate::helpers::spawn().await;
    app.echo_api().await;
    for path in ["/echo/../base/admin", "/echo/%2e%2e/admin", "/echo/./x"] {
        let mut stream = tokio::net::TcpStream::connect(app.gateway_addr())
            .await
            .unwrap();
        let request =
            format!("GET {path} HTTP/1.1\r\nhost: svc.localhost\r\nconnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 400 "), "{path}: {answer}");
        assert!(answer.contains("'..' segment"), "{path}: {answer}");
    }
}
