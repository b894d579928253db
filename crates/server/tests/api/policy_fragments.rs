//! Policy fragments over real HTTP: the management API, `<include-fragment>` in a running
//! pipeline, changes that are live on the next call, and APIM's rules (issue 15).

use crate::helpers::{TestApp, spawn, status_json};
use reqwest::{Method, StatusCode};
use serde_json::json;

const FRAGMENT: &str = "/services/svc/policyFragments/tenant-header";
const ECHO_POLICY: &str = "/services/svc/apis/echo/policy";

fn fragment(value: &str) -> String {
    format!(
        "<fragment>\n  <set-header name=\"x-tenant\" exists-action=\"override\">\n    <value>{value}</value>\n  </set-header>\n</fragment>"
    )
}

async fn seen_tenant(app: &TestApp) -> serde_json::Value {
    let (status, seen) = status_json(
        app.gateway(Method::GET, "svc.localhost", "/echo/x")
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    assert_eq!(status, 200, "{seen}");
    seen["headers"]["x-tenant"].clone()
}

#[tokio::test]
async fn an_included_fragment_runs_and_its_changes_are_live_on_the_next_call() {
    let app = spawn().await;
    app.echo_api().await;
    app.put(
        "/services/svc/namedValues/tenant",
        json!({ "displayName": "Tenant", "value": "contoso" }),
    )
    .await;
    let created = app
        .put(
            FRAGMENT,
            json!({ "format": "rawxml", "value": fragment("{{Tenant}}"), "description": "Tells the backend the tenant" }),
        )
        .await;
    assert_eq!(created["format"], "rawxml");
    // APIM's include-fragment page's example, with this fragment's id.
    app.policy(
        ECHO_POLICY,
        "<policies><inbound><base /><include-fragment fragment-id=\"tenant-header\" /></inbound></policies>",
    )
    .await;
    assert_eq!(seen_tenant(&app).await, "contoso");

    app.put(
        FRAGMENT,
        json!({ "value": fragment("@(\"fabrikam\".ToUpper())") }),
    )
    .await;
    assert_eq!(seen_tenant(&app).await, "FABRIKAM", "the change is live");

    let read = app.get_json(FRAGMENT).await;
    assert_eq!(read["usedBy"], json!(["API echo"]));
    assert_eq!(read["format"], "xml");
    let listed = app.get_json("/services/svc/policyFragments").await;
    assert_eq!(listed["count"], 1, "{listed}");
}

#[tokio::test]
async fn apims_rules_for_fragments_hold() {
    let app = spawn().await;
    app.echo_api().await;

    // A document that includes a fragment that does not exist is refused where it says so.
    let (status, body) = app
        .mgmt(
            Method::PUT,
            ECHO_POLICY,
            Some(json!({ "format": "xml", "value": "<policies>\n<inbound>\n<include-fragment fragment-id=\"tenant-header\" />\n</inbound>\n</policies>" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.to_string()
            .contains("Line 3, column 32: there is no policy fragment 'tenant-header'"),
        "{body}"
    );

    // A fragment that is not one is refused with its line and column.
    let (status, body) = app
        .mgmt(
            Method::PUT,
            FRAGMENT,
            Some(json!({ "value": "<fragment>\n  <set-header name=\"x\">\n</fragment>" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("Line 3"), "{body}");

    app.put(FRAGMENT, json!({ "value": fragment("one") })).await;
    app.policy(
        ECHO_POLICY,
        "<policies><inbound><base /><include-fragment fragment-id=\"tenant-header\" /></inbound></policies>",
    )
    .await;

    // A change that would break the policy that includes it is refused, and changes nothing.
    let (status, body) = app
        .mgmt(
            Method::PUT,
            FRAGMENT,
            Some(json!({ "value": "<fragment><forward-request /></fragment>" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.to_string()
            .contains("The policy at API echo would no longer compile")
            && body.to_string().contains("cannot stand in <inbound>"),
        "{body}"
    );
    assert_eq!(seen_tenant(&app).await, "one");

    // One that is included cannot be deleted; once nothing includes it, it can.
    let (status, body) = app.mgmt(Method::DELETE, FRAGMENT, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "PolicyFragmentInUse");
    app.policy(
        ECHO_POLICY,
        "<policies><inbound><base /></inbound></policies>",
    )
    .await;
    let (status, _) = app.mgmt(Method::DELETE, FRAGMENT, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.mgmt(Method::GET, FRAGMENT, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_named_value_used_by_a_fragment_is_renamed_with_it_and_cannot_be_deleted() {
    let app = spawn().await;
    app.echo_api().await;
    app.put(
        "/services/svc/namedValues/tenant",
        json!({ "displayName": "Tenant", "value": "contoso" }),
    )
    .await;
    app.put(FRAGMENT, json!({ "value": fragment("{{Tenant}}") }))
        .await;
    let (status, body) = app
        .mgmt(Method::DELETE, "/services/svc/namedValues/tenant", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    app.put(
        "/services/svc/namedValues/tenant",
        json!({ "displayName": "TenantName", "value": "contoso" }),
    )
    .await;
    let read = app.get_json(FRAGMENT).await;
    assert!(
        read["value"]
            .as_str()
            .unwrap_or_default()
            .contains("{{TenantName}}"),
        "{read}"
    );
}
