//! Request traces: only with a valid trace token, and with secrets masked.

use crate::helpers::{TestApp, spawn, spawn_node, status_json};
use portcullis_gateway::trace::{
    DEBUG_AUTHORIZATION, DEBUG_EXPIRED, SharedTrace, TRACE_ID, TraceKeys,
};
use portcullis_server::config::Role;
use reqwest::Method;
use std::time::{Duration, SystemTime};

/// A GET of `path` on service `svc` with a fresh trace token (and a subscription key, when
/// given): the response and the id of its trace.
async fn traced_get(app: &TestApp, path: &str, key: Option<&str>) -> (reqwest::Response, String) {
    let token =
        app.app
            .gateway
            .trace_keys()
            .issue("svc", Duration::from_secs(300), SystemTime::now());
    let mut request = app
        .gateway(Method::GET, "svc.localhost", path)
        .header(DEBUG_AUTHORIZATION, &token);
    if let Some(key) = key {
        request = request.header("Ocp-Apim-Subscription-Key", key);
    }
    let response = request.send().await.unwrap();
    let trace_id = response.headers()[TRACE_ID].to_str().unwrap().to_owned();
    (response, trace_id)
}

#[tokio::test]
async fn a_valid_token_traces_every_policy_and_the_backend_call() {
    let app = spawn().await;
    app.keyed_echo_api().await;
    let key = app.subscribe("svc", "tester", "/apis").await;
    app.policy(
        "/services/svc/apis/echo/policy",
        r#"<policies><inbound><base /><ip-filter action="allow"><address>127.0.0.1</address></ip-filter><rate-limit-by-key calls="3" renewal-period="60" counter-key="@(context.Request.IpAddress)" /></inbound></policies>"#,
    )
    .await;
    let (response, trace_id) = traced_get(&app, "/echo/traced", Some(&key)).await;
    let (status, seen) = status_json(response).await;
    assert_eq!(status, 200);
    assert!(
        seen["headers"].get(DEBUG_AUTHORIZATION).is_none(),
        "the token never reaches the backend"
    );

    let trace = app
        .app
        .gateway
        .traces()
        .get(&trace_id)
        .expect("the trace is kept");
    let lines: Vec<String> = trace
        .events
        .iter()
        .map(|e| format!("{} {} ({}): {}", e.section, e.policy, e.scope, e.message))
        .collect();
    let text = lines.join("\n");
    assert!(
        text.contains("inbound authenticate (gateway): subscription tester"),
        "{text}"
    );
    assert!(
        text.contains("inbound ip-filter (API echo): 127.0.0.1 allowed"),
        "{text}"
    );
    assert!(
        text.contains("inbound rate-limit-by-key (API echo): 1 of 3 calls in 60 s"),
        "{text}"
    );
    assert!(
        text.contains("backend forward-request (All APIs): GET http://"),
        "{text}"
    );
    let backend = trace.backend_request.as_ref().expect("the backend request");
    assert!(
        backend.line.starts_with("GET http://127.0.0.1:"),
        "{}",
        backend.line
    );
    assert_eq!(
        trace.backend_response.as_ref().unwrap().line,
        "HTTP/1.1 200 OK"
    );
    // The key is masked wherever the trace shows it.
    let shown_key = trace
        .request
        .headers
        .iter()
        .find(|(name, _)| name == "ocp-apim-subscription-key")
        .map(|(_, value)| value.clone())
        .unwrap();
    assert!(
        !shown_key.contains(&key) && shown_key.ends_with("(hidden)"),
        "{shown_key}"
    );
    assert!(!format!("{trace:?}").contains(&key));
}

#[tokio::test]
async fn forged_expired_or_foreign_tokens_trace_nothing() {
    let app = spawn().await;
    app.echo_api().await;
    let keys = app.app.gateway.trace_keys();
    let now = SystemTime::now();
    let cases = [
        (
            "forged",
            TraceKeys::random().issue("svc", Duration::from_secs(300), now),
        ),
        (
            "expired",
            keys.issue(
                "svc",
                Duration::from_secs(60),
                now - Duration::from_secs(120),
            ),
        ),
        (
            "other service",
            keys.issue("elsewhere", Duration::from_secs(300), now),
        ),
        ("garbage", "let me in".to_owned()),
    ];
    for (case, token) in cases {
        let response = app
            .gateway(Method::GET, "svc.localhost", "/echo/x")
            .header(DEBUG_AUTHORIZATION, &token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "{case}: the call itself still works"
        );
        assert!(
            response.headers().get(TRACE_ID).is_none(),
            "{case}: no trace"
        );
        assert_eq!(
            response.headers().get(DEBUG_EXPIRED).is_some(),
            case == "expired",
            "{case}"
        );
    }
}

#[tokio::test]
async fn a_token_from_one_node_traces_on_another_and_the_trace_is_shared() {
    let app = spawn().await;
    app.echo_api().await;
    // A gateway node on the same database, started after the API was saved.
    let other = spawn_node(app.database(), Role::Gateway).await;
    let token =
        app.app
            .gateway
            .trace_keys()
            .issue("svc", Duration::from_secs(300), SystemTime::now());
    let response = reqwest::Client::new()
        .get(format!(
            "http://{}/echo/elsewhere",
            other.gateway_addr.expect("a gateway")
        ))
        .header("host", "svc.localhost")
        .header(DEBUG_AUTHORIZATION, &token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let trace_id = response
        .headers()
        .get(TRACE_ID)
        .expect("the other node accepts the token")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        app.app.gateway.traces().get(&trace_id).is_none(),
        "the trace was recorded by the other node"
    );

    // The portal's node reads it from the shared database.
    let store = app.database().store().await;
    let mut shared = None;
    for _ in 0..100 {
        shared = store.trace("svc", &trace_id).await.unwrap();
        if shared.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let trace: SharedTrace = serde_json::from_str(&shared.expect("the trace is shared")).unwrap();
    assert_eq!(trace.id, trace_id);
    assert!(trace.request.line.contains("/echo/elsewhere"));
    assert!(trace.lines.iter().any(|line| line.policy == "authenticate"));
    assert!(
        store.trace("other", &trace_id).await.unwrap().is_none(),
        "a trace is read only for its own service"
    );
}

/// A secret named value never shows in a trace: wherever its value would, the trace says
/// `{{DisplayName}}` (issue 15). A plain named value shows as it is.
#[tokio::test]
async fn secret_named_values_are_masked_in_traces() {
    let app = spawn().await;
    app.echo_api().await;
    app.put(
        "/services/svc/namedValues/backend-key",
        serde_json::json!({ "displayName": "BackendKey", "value": "k3y-0f-the-backend", "secret": true }),
    )
    .await;
    app.put(
        "/services/svc/namedValues/tenant",
        serde_json::json!({ "displayName": "Tenant", "value": "contoso" }),
    )
    .await;
    app.policy(
        "/services/svc/apis/echo/policy",
        r#"<policies><inbound><base />
            <set-header name="x-backend-key" exists-action="override"><value>{{BackendKey}}</value></set-header>
            <set-header name="x-tenant" exists-action="override"><value>{{Tenant}}</value></set-header>
            <set-variable name="derived" value="@("prefix-" + "{{BackendKey}}")" />
        </inbound></policies>"#,
    )
    .await;
    let (response, trace_id) = traced_get(&app, "/echo/x", None).await;
    let (status, seen) = status_json(response).await;
    assert_eq!(status, 200);
    assert_eq!(
        seen["headers"]["x-backend-key"], "k3y-0f-the-backend",
        "the backend gets the value"
    );

    let trace = app.app.gateway.traces().get(&trace_id).unwrap();
    let shared = serde_json::to_string(&SharedTrace::from(trace.as_ref())).unwrap();
    assert!(!shared.contains("k3y-0f-the-backend"), "{shared}");
    assert!(shared.contains("{{BackendKey}}"), "{shared}");
    assert!(shared.contains("prefix-{{BackendKey}}"), "{shared}");
    assert!(shared.contains("contoso"), "plain values show: {shared}");
}

/// `trace` in both of APIM's forms: the message in `<message>` (with `<metadata>`), and the
/// older one with the message as the element's text.
#[tokio::test]
async fn both_forms_of_the_trace_policy_write_to_the_trace() {
    let app = spawn().await;
    app.echo_api().await;
    let example = include_str!("../../../policy/tests/apim_docs/trace-policy__1.xml");
    app.policy(
        "/services/svc/apis/echo/policy",
        &format!(
            r#"<policies><inbound><base />
            <set-variable name="clientConnectionID" value="connection-42" />
            {example}
            <trace source="legacy">@("older form: " + context.Request.Method)</trace>
        </inbound></policies>"#
        ),
    )
    .await;
    let (response, trace_id) = traced_get(&app, "/echo/x", None).await;
    assert_eq!(response.status().as_u16(), 200);
    let trace = app.app.gateway.traces().get(&trace_id).unwrap();
    let lines: Vec<String> = trace
        .events
        .iter()
        // The trace policy's own lines (the engine adds one per step, "done", too).
        .filter(|e| e.policy == "trace" && &*e.scope != "API echo")
        .map(|e| format!("{}: {}", e.scope, e.message))
        .collect();
    assert_eq!(
        lines,
        ["PetStore API: connection-42", "legacy: older form: GET"]
    );
}
