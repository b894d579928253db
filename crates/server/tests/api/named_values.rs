//! Named values: `…/namedValues/{id}` and `{{displayName}}` in policy documents (issue 15).

use crate::helpers::{TestApp, spawn, status_json};
use reqwest::{Method, StatusCode};
use serde_json::json;

const ECHO_POLICY: &str = "/services/svc/apis/echo/policy";
const NAMED: &str = "/services/svc/namedValues";

/// A document from APIM's named values article: a named value in a header's name, one in its
/// value and one inside an expression.
const DOCUMENT: &str = r#"<policies>
    <inbound>
        <base />
        <set-header name="{{TenantHeader}}" exists-action="override">
            <value>{{TenantId}}</value>
        </set-header>
        <set-header name="x-greeting" exists-action="override">
            <value>@("Hello, " + "{{TenantId}}".ToUpper())</value>
        </set-header>
    </inbound>
</policies>"#;

async fn echo(app: &TestApp) -> serde_json::Value {
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/x")
        .send()
        .await
        .expect("the gateway answers");
    let (status, seen) = status_json(response).await;
    assert_eq!(status, 200, "{seen}");
    seen
}

#[tokio::test]
async fn documents_use_named_values_and_a_change_is_live_on_the_next_request() {
    let app = spawn().await;
    app.echo_api().await;
    app.put(
        &format!("{NAMED}/tenant-header"),
        json!({ "displayName": "TenantHeader", "value": "x-tenant" }),
    )
    .await;
    app.put(
        &format!("{NAMED}/tenant-id"),
        json!({ "displayName": "TenantId", "value": "contoso" }),
    )
    .await;
    app.policy(ECHO_POLICY, DOCUMENT).await;
    let seen = echo(&app).await;
    assert_eq!(seen["headers"]["x-tenant"], "contoso");
    assert_eq!(seen["headers"]["x-greeting"], "Hello, CONTOSO");

    // A new value is used by the next request, without touching the document.
    app.put(
        &format!("{NAMED}/tenant-id"),
        json!({ "displayName": "TenantId", "value": "fabrikam" }),
    )
    .await;
    let seen = echo(&app).await;
    assert_eq!(seen["headers"]["x-tenant"], "fabrikam");
    assert_eq!(seen["headers"]["x-greeting"], "Hello, FABRIKAM");

    // A rename rewrites the documents that use it; they keep working.
    app.put(
        &format!("{NAMED}/tenant-id"),
        json!({ "displayName": "Tenant.Id", "value": "fabrikam" }),
    )
    .await;
    let document = app.get_json(ECHO_POLICY).await;
    assert!(
        document["value"]
            .as_str()
            .unwrap()
            .contains("{{Tenant.Id}}"),
        "{document}"
    );
    assert!(!document["value"].as_str().unwrap().contains("{{TenantId}}"));
    assert_eq!(echo(&app).await["headers"]["x-tenant"], "fabrikam");

    // One in use cannot be deleted; once unused it can.
    let (status, body) = app
        .mgmt(Method::DELETE, &format!("{NAMED}/tenant-id"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("used by a policy"), "{body}");
    app.delete(ECHO_POLICY).await;
    app.delete(&format!("{NAMED}/tenant-id")).await;
}

#[tokio::test]
async fn secrets_are_read_only_through_list_value_and_masked_in_the_audit_log() {
    let app = spawn().await;
    app.echo_api().await;
    app.put(
        &format!("{NAMED}/api-key"),
        json!({ "displayName": "BackendKey", "value": "s3cr3t-value", "secret": true, "tags": ["backend"] }),
    )
    .await;
    let read = app.get_json(&format!("{NAMED}/api-key")).await;
    assert_eq!(read["value"], serde_json::Value::Null, "{read}");
    assert_eq!(read["secret"], true);
    assert_eq!(read["tags"], json!(["backend"]));
    let listed = app.get_json(NAMED).await;
    assert!(!listed.to_string().contains("s3cr3t-value"), "{listed}");
    let value = app.post(&format!("{NAMED}/api-key/listValue")).await;
    assert_eq!(value["value"], "s3cr3t-value");
    let audit = app.get_json("/services/svc/auditLog").await;
    assert!(!audit.to_string().contains("s3cr3t-value"), "{audit}");
    assert!(audit.to_string().contains("listValue"), "{audit}");
}

#[tokio::test]
async fn bad_named_values_are_refused_with_the_field_at_fault() {
    let app = spawn().await;
    app.echo_api().await;
    for (body, field) in [
        (
            json!({ "displayName": "has space", "value": "v" }),
            "displayName",
        ),
        (json!({ "displayName": "ok", "value": "   " }), "value"),
        (
            json!({ "displayName": "ok", "value": "uses {{Other}}" }),
            "value",
        ),
        (json!({ "displayName": "ok" }), "value"),
    ] {
        let (status, answer) = app
            .mgmt(Method::PUT, &format!("{NAMED}/nv"), Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer.to_string().contains(field), "{body}: {answer}");
    }
    app.put(
        &format!("{NAMED}/first"),
        json!({ "displayName": "Same", "value": "1" }),
    )
    .await;
    let (status, answer) = app
        .mgmt(
            Method::PUT,
            &format!("{NAMED}/second"),
            Some(json!({ "displayName": "Same", "value": "2" })),
        )
        .await;
    assert!(status.is_client_error(), "{answer}");
    assert!(answer.to_string().contains("exists already"), "{answer}");
}
