//! Analytics: every call counted per minute in the database, kept across restarts; the
//! recent-calls log; the Prometheus endpoint.

use crate::helpers::{TestApp, spawn};
use portcullis_domain::usage::UsageCounts;
use portcullis_store::RecentFilter;
use reqwest::Method;

async fn flush(app: &TestApp) {
    app.app
        .analytics
        .as_ref()
        .expect("analytics runs")
        .flush()
        .await;
}

async fn totals(app: &TestApp) -> UsageCounts {
    let mut sum = UsageCounts::default();
    for (_, counts) in app
        .app
        .control
        .store()
        .usage("svc", 0, i64::MAX)
        .await
        .unwrap()
    {
        sum.merge(&counts);
    }
    sum
}

async fn calls(app: &TestApp, key: &str, ok: usize, refused: usize, missing: usize) {
    for _ in 0..ok {
        let response = app
            .gateway(Method::GET, "svc.localhost", "/echo/ok")
            .header("Ocp-Apim-Subscription-Key", key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    for _ in 0..refused {
        let response = app
            .gateway(Method::GET, "svc.localhost", "/echo/no-key")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
    for _ in 0..missing {
        let response = app
            .gateway(Method::DELETE, "svc.localhost", "/echo/x")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
    }
}

async fn setup(app: &TestApp) -> String {
    app.keyed_echo_api().await;
    app.subscribe("svc", "tester", "/apis").await
}

#[tokio::test]
async fn calls_are_counted_by_class_and_survive_a_restart() {
    let app = spawn().await;
    let key = setup(&app).await;
    calls(&app, &key, 5, 2, 1).await;
    flush(&app).await;
    let counted = totals(&app).await;
    assert_eq!(
        (
            counted.calls,
            counted.success,
            counted.blocked,
            counted.other,
            counted.failed
        ),
        (8, 5, 2, 1, 0)
    );
    assert_eq!(
        counted.backend_calls, 5,
        "only calls that reached the backend"
    );
    assert_eq!(counted.total.count(), 8);
    let rows = app
        .app
        .control
        .store()
        .usage("svc", 0, i64::MAX)
        .await
        .unwrap();
    assert!(rows.iter().any(|(key, counts)| key.subscription == "tester"
        && key.operation == "get-all"
        && counts.success == 5));

    // Recent calls, newest first, filtered by class and subscription.
    let store = app.app.control.store();
    let recent = store
        .recent_calls(
            "svc",
            &RecentFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(recent.len(), 8);
    assert_eq!(
        (recent[0].method.as_str(), recent[0].status),
        ("DELETE", 404)
    );
    assert_eq!(recent[7].path, "/echo/ok");
    let blocked = store
        .recent_calls(
            "svc",
            &RecentFilter {
                class: Some(portcullis_domain::usage::StatusClass::Blocked),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(blocked.len(), 2);
    let mine = store
        .recent_calls(
            "svc",
            &RecentFilter {
                subscription: Some("tester".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(mine.len(), 5);

    // What was written survives a restart, and new calls add to it.
    let app = app.restart().await;
    assert_eq!(totals(&app).await.calls, 8);
    calls(&app, &key, 3, 0, 0).await;
    flush(&app).await;
    let counted = totals(&app).await;
    assert_eq!((counted.calls, counted.success), (11, 8));
}

#[tokio::test]
async fn metrics_are_exposed_for_prometheus() {
    let app = spawn().await;
    let key = setup(&app).await;
    calls(&app, &key, 3, 1, 0).await;
    flush(&app).await;
    let text = app
        .http
        .get(format!("http://{}/metrics", app.portal_addr()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("portcullis_gateway_requests_total{")
                && l.contains("status_class=\"success\"")
        })
        .unwrap_or_else(|| panic!("no success counter in\n{text}"));
    assert!(
        line.contains("service=\"svc\"")
            && line.contains("api=\"echo\"")
            && line.contains("operation=\"get-all\""),
        "{line}"
    );
    assert!(line.ends_with(" 3"), "{line}");
    assert!(
        text.contains("portcullis_gateway_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(text.contains("status_class=\"blocked\""), "{text}");
}

#[tokio::test]
async fn the_recent_log_keeps_the_newest_calls_only() {
    let app = spawn().await;
    let store = app.app.control.store();
    let call = |i: i64| portcullis_domain::usage::RecentCall {
        service: "svc".into(),
        at_ms: i,
        method: "GET".into(),
        path: format!("/{i}"),
        api: String::new(),
        operation: String::new(),
        product: String::new(),
        subscription: String::new(),
        status: 200,
        total_ms: 1.0,
        backend_ms: None,
        bytes: 0,
        ip: "127.0.0.1".into(),
        request_id: i.to_string(),
    };
    let kept = portcullis_store::RECENT_CALLS_KEPT;
    store
        .record_calls((0..kept * 3).map(call).collect())
        .await
        .unwrap();
    store.record_calls(vec![call(kept * 3)]).await.unwrap();
    let recent = store
        .recent_calls(
            "svc",
            &RecentFilter {
                limit: 10_000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(recent.len() as i64, kept);
    assert_eq!(recent[0].path, format!("/{}", kept * 3));
}

#[tokio::test]
async fn counts_a_failed_write_could_not_save_are_written_by_the_next_one() {
    use sea_orm::{ConnectionTrait, Database};
    let app = spawn().await;
    let key = setup(&app).await;
    let raw = Database::connect(&app.database().url)
        .await
        .expect("a raw connection");
    // The analytics tables are away: every write of them fails.
    raw.execute_unprepared(
        "ALTER TABLE usage_minute RENAME TO usage_minute_away; \
         ALTER TABLE recent_call RENAME TO recent_call_away;",
    )
    .await
    .unwrap();
    calls(&app, &key, 3, 1, 0).await;
    flush(&app).await;
    raw.execute_unprepared(
        "ALTER TABLE usage_minute_away RENAME TO usage_minute; \
         ALTER TABLE recent_call_away RENAME TO recent_call;",
    )
    .await
    .unwrap();
    calls(&app, &key, 2, 0, 0).await;
    flush(&app).await;
    let counted = totals(&app).await;
    assert_eq!((counted.calls, counted.success, counted.blocked), (6, 5, 1));
    let recent = app
        .app
        .control
        .store()
        .recent_calls(
            "svc",
            &RecentFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(recent.len(), 6);
}
