//! Request traces: only with a valid trace token, and with secrets masked.

use crate::helpers::{spawn, status_json};
use portcullis_gateway::trace::{DEBUG_AUTHORIZATION, DEBUG_EXPIRED, TRACE_ID, TraceKeys};
use reqwest::Method;
use std::time::{Duration, SystemTime};

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
    let token =
        app.app
            .gateway
            .trace_keys()
            .issue("svc", Duration::from_secs(300), SystemTime::now());
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/traced")
        .header("Ocp-Apim-Subscription-Key", &key)
        .header(DEBUG_AUTHORIZATION, &token)
        .send()
        .await
        .unwrap();
    let trace_id = response.headers()[TRACE_ID].to_str().unwrap().to_owned();
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
