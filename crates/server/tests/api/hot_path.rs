//! The gateway answers from its snapshot alone: with the database closed, keys are checked,
//! policies run (counters included) and calls are forwarded as before.

use crate::helpers::{spawn, status_json};
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn the_gateway_serves_every_phase_with_the_database_closed() {
    let app = spawn().await;
    app.keyed_echo_api().await;
    let key = app.subscribe("svc", "tester", "/apis").await;
    app.policy(
        "/services/svc/apis/echo/policy",
        r#"<policies><inbound><base /><ip-filter action="allow"><address>127.0.0.1</address></ip-filter><rate-limit-by-key calls="1000" renewal-period="60" counter-key="@(context.Subscription.Id)" remaining-calls-header-name="x-remaining" /><set-header name="x-hot-path" exists-action="override"><value>snapshot</value></set-header></inbound></policies>"#,
    )
    .await;

    app.app
        .control
        .store()
        .clone()
        .close()
        .await
        .expect("the database closes");

    for call in 1..=20 {
        let response = app
            .gateway(Method::GET, "svc.localhost", "/echo/items")
            .header("Ocp-Apim-Subscription-Key", &key)
            .send()
            .await
            .expect("the gateway answers");
        assert_eq!(
            response.headers()["x-remaining"],
            (1000 - call).to_string().as_str()
        );
        let (status, seen) = status_json(response).await;
        assert_eq!(status, 200, "call {call}: {seen}");
        assert_eq!(seen["headers"]["x-hot-path"], "snapshot");
    }
    let refused = app
        .gateway(Method::GET, "svc.localhost", "/echo/items")
        .header("Ocp-Apim-Subscription-Key", "0".repeat(32))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}
