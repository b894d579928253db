//! Configuration as code (issue 16): extract → publish into an empty instance → extract
//! gives the same files byte for byte; diff finds a change and publish applies it; a folder
//! in APIOps' documented layout (hand-made, `crates/apiops/tests/sample/`) is applied with
//! the kinds Portcullis lacks named and skipped.

use crate::helpers::{TestApp, spawn};
use portcullis_apiops::overrides::Overrides;
use portcullis_apiops::remote::Mgmt;
use portcullis_apiops::{Artifacts, diff, extract, publish};
use serde_json::json;

fn remote(app: &TestApp) -> Mgmt {
    Mgmt::new(&format!("http://{}", app.portal_addr()), &app.token, "svc").unwrap()
}

fn corpus(file: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../openapi/tests/corpus/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

const POLICY: &str = "<policies>\n  <inbound>\n    <base />\n    <set-backend-service backend-id=\"museum-pool\" />\n    <set-header name=\"x-tenant\" exists-action=\"override\">\n      <value>{{tenant}}</value>\n    </set-header>\n  </inbound>\n  <backend>\n    <base />\n  </backend>\n  <outbound>\n    <base />\n  </outbound>\n  <on-error>\n    <base />\n  </on-error>\n</policies>";

/// The literal credential of `museum-east`, as a pipeline hands it in: extract writes it as
/// `{#BACKEND_MUSEUM_EAST_QUERY_CODE#}`.
fn backend_secret_in_environment() {
    // SAFETY of the test: the tests that read it set the same value.
    unsafe { std::env::set_var("BACKEND_MUSEUM_EAST_QUERY_CODE", "literal-s3cret") };
}

/// A service with one of everything extract writes.
async fn furnished(app: &TestApp) {
    app.put("/services/svc", json!({ "displayName": "Service" }))
        .await;
    app.put(
        "/services/svc/namedValues/tenant",
        json!({ "displayName": "tenant", "value": "contoso", "tags": ["t"] }),
    )
    .await;
    app.put(
        "/services/svc/namedValues/api-key",
        json!({ "displayName": "api-key", "value": "s3cret", "secret": true }),
    )
    .await;
    app.put(
        "/services/svc/backends/museum-east",
        json!({
            "title": "East",
            "url": app.backend_url("/base"),
            "protocol": "http",
            "credentials": {
                "header": {"x-tenant": ["{{tenant}}"]},
                "query": {"code": ["literal-s3cret"]}
            },
            "circuitBreaker": {"rules": [{"name": "r", "failureCondition": {"count": 3, "interval": "PT1M", "statusCodeRanges": [{"min": 500, "max": 599}]}, "tripDuration": "PT30S", "acceptRetryAfter": true}]}
        }),
    )
    .await;
    app.put(
        "/services/svc/backends/museum-pool",
        json!({"type": "Pool", "pool": {"services": [{"id": "/backends/museum-east", "priority": 1, "weight": 2}]}}),
    )
    .await;
    app.put(
        "/services/svc/policyFragments/stamp",
        json!({ "format": "xml", "description": "a stamp", "value": "<fragment><set-header name=\"x-stamp\" exists-action=\"override\"><value>{{api-key}}</value></set-header></fragment>" }),
    )
    .await;
    app.put(
        "/services/svc/apis/museum",
        json!({ "format": "openapi", "value": corpus("redoc__museum.yaml"), "path": "museum", "serviceUrl": app.backend_url("/base") }),
    )
    .await;
    app.policy("/services/svc/apis/museum/policy", POLICY).await;
    app.policy(
        "/services/svc/apis/museum/operations/getmuseumhours/policy",
        "<policies><inbound><base /><include-fragment fragment-id=\"stamp\" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>",
    )
    .await;
    app.put(
        "/services/svc/products/starter",
        json!({ "displayName": "Starter", "description": "five a minute", "subscriptionRequired": true, "state": "published" }),
    )
    .await;
    app.put("/services/svc/products/starter/apis/museum", json!({}))
        .await;
    app.policy(
        "/services/svc/products/starter/policy",
        "<policies><inbound><base /><rate-limit calls=\"5\" renewal-period=\"60\" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>",
    )
    .await;
    app.put(
        "/services/svc/subscriptions/partner",
        json!({ "displayName": "Partner", "scope": "/products/starter" }),
    )
    .await;
    app.policy("/services/svc/policy", "<policies><inbound /><backend><forward-request /></backend><outbound /><on-error /></policies>").await;
}

#[tokio::test]
async fn extract_publish_extract_gives_the_same_files_and_diff_sees_changes() {
    let source = spawn().await;
    furnished(&source).await;
    let extracted = extract(&remote(&source)).await.unwrap();
    for expected in [
        "policy.xml",
        "apis/museum/apiInformation.json",
        "apis/museum/specification.yaml",
        "apis/museum/policy.xml",
        "apis/museum/operations/getmuseumhours/policy.xml",
        "products/starter/productInformation.json",
        "products/starter/policy.xml",
        "products/starter/apis/museum/productApiInformation.json",
        "named values/tenant/namedValueInformation.json",
        "backends/museum-east/backendInformation.json",
        "backends/museum-pool/backendInformation.json",
        "policy fragments/stamp/policyFragmentInformation.json",
        "policy fragments/stamp/policy.xml",
        "subscriptions/partner/subscriptionInformation.json",
    ] {
        assert!(
            extracted.get(expected).is_some(),
            "{expected} missing: {:?}",
            extracted.0.keys()
        );
    }
    let secret = extracted
        .text("named values/api-key/namedValueInformation.json")
        .unwrap();
    assert!(
        !secret.contains("s3cret"),
        "a secret is never written: {secret}"
    );
    // Nor a backend's literal credential: a token to fill in from the environment instead.
    let backend = extracted
        .text("backends/museum-east/backendInformation.json")
        .unwrap();
    assert!(
        !backend.contains("literal-s3cret")
            && backend.contains("{#BACKEND_MUSEUM_EAST_QUERY_CODE#}"),
        "{backend}"
    );
    assert!(backend.contains("{{tenant}}"), "{backend}");

    // Through a folder on disk, as a repository holds it.
    let dir = tempfile::tempdir().unwrap();
    extracted.write(dir.path()).unwrap();
    let folder = Artifacts::read(dir.path()).unwrap();
    assert_eq!(folder, extracted);

    let target = spawn().await;
    target
        .put("/services/svc", json!({ "displayName": "Service" }))
        .await;
    backend_secret_in_environment();
    // Without the secret's value, publish says so and applies the rest it can.
    let report = publish(&remote(&target), &folder, &Overrides::default(), false).await;
    let report = match report {
        Ok(report) => report,
        // The fragment needs the secret named value: the first publish fails there.
        Err(error) => panic!("{error}"),
    };
    assert!(
        report
            .skipped
            .iter()
            .any(|(item, _)| item == "named values/api-key"),
        "{report:?}"
    );
    // With the value from an override file (the environment's), everything goes in.
    // SAFETY of the test: no other test reads this variable.
    unsafe { std::env::set_var("PORTCULLIS_TEST_API_KEY", "s3cret") };
    let overrides = Overrides::parse(
        "namedValues:\n  - name: api-key\n    properties:\n      value: '{#PORTCULLIS_TEST_API_KEY#}'\n",
    )
    .unwrap();
    let report = publish(&remote(&target), &folder, &overrides, false)
        .await
        .unwrap();
    assert!(report.skipped.is_empty(), "{report:?}");
    let again = extract(&remote(&target)).await.unwrap();
    for (path, content) in &extracted.0 {
        assert_eq!(
            again.text(path).as_deref(),
            Some(String::from_utf8_lossy(content).as_ref()),
            "{path} differs after the round trip"
        );
    }
    assert_eq!(again.0.len(), extracted.0.len(), "{:?}", again.0.keys());

    // Diff: nothing, then the change made in the folder, which publish applies.
    let (changes, _) = diff(&remote(&target), &folder, &overrides).await.unwrap();
    assert!(changes.is_empty(), "{changes:?}");
    let mut changed = folder.clone();
    changed.insert(
        "apis/museum/policy.xml",
        POLICY
            .replace("contoso", "x")
            .replace("{{tenant}}", "fabrikam"),
    );
    changed
        .0
        .remove("subscriptions/partner/subscriptionInformation.json");
    let (changes, _) = diff(&remote(&target), &changed, &overrides).await.unwrap();
    assert_eq!(
        changes,
        [
            "~ apis/museum/policy.xml",
            "- subscriptions/partner/subscriptionInformation.json"
        ],
    );
    // Publish without --delete keeps the subscription; with it, it goes.
    publish(&remote(&target), &changed, &overrides, false)
        .await
        .unwrap();
    let (changes, _) = diff(&remote(&target), &changed, &overrides).await.unwrap();
    assert_eq!(
        changes,
        ["- subscriptions/partner/subscriptionInformation.json"]
    );
    let report = publish(&remote(&target), &changed, &overrides, true)
        .await
        .unwrap();
    assert_eq!(report.deleted, ["subscriptions/partner"]);
    let (changes, _) = diff(&remote(&target), &changed, &overrides).await.unwrap();
    assert!(changes.is_empty(), "{changes:?}");
}

#[tokio::test]
async fn a_folder_in_apiops_layout_is_applied_and_what_portcullis_lacks_is_named() {
    let app = spawn().await;
    app.put("/services/svc", json!({ "displayName": "Service" }))
        .await;
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../apiops/tests/sample");
    let folder = Artifacts::read(&sample).unwrap();
    // SAFETY of the test: no other test reads this variable.
    unsafe { std::env::set_var("PORTCULLIS_TEST_BACKEND_KEY", "k3y") };
    let overrides = Overrides::parse(
        "namedValues:\n  - name: backend-key\n    properties: { value: '{#PORTCULLIS_TEST_BACKEND_KEY#}' }\napis:\n  - name: echo-api\n    properties: { serviceUrl: 'http://127.0.0.1:9/prod' }\n",
    )
    .unwrap();
    let report = publish(&remote(&app), &folder, &overrides, false)
        .await
        .unwrap();
    let skipped: Vec<&str> = report
        .skipped
        .iter()
        .map(|(item, _)| item.as_str())
        .collect();
    assert!(
        report
            .skipped
            .iter()
            .any(|(item, why)| item == "backends/partner" && why.contains("PARTNER_FUNCTION_CODE")),
        "a credential token left unfilled is named: {report:?}"
    );
    for kind in ["loggers/appinsights", "version sets/echo", "apis/graph-api"] {
        assert!(skipped.contains(&kind), "{kind} not reported: {report:?}");
    }
    assert!(
        report
            .skipped
            .iter()
            .any(|(item, why)| item == "products/starter" && why.contains("subscriptionsLimit")),
        "{report:?}"
    );
    for applied in [
        "apis/echo-api",
        "products/starter",
        "subscriptions/partner",
        "named values/backend-key",
        "backends/legacy",
        "backends/legacy-pool",
        "policy fragments/cors-all",
        "policy.xml",
    ] {
        assert!(
            report.applied.iter().any(|a| a == applied),
            "{applied}: {report:?}"
        );
    }
    let api = app.get_json("/services/svc/apis/echo-api").await;
    assert_eq!(
        api["serviceUrl"], "http://127.0.0.1:9/prod",
        "the override won"
    );
    let operation = app
        .get_json("/services/svc/apis/echo-api/operations/get-echo")
        .await;
    assert_eq!(operation["urlTemplate"], "/resource?param1={param1}");
    let policy = app
        .get_json("/services/svc/apis/echo-api/operations/get-echo/policy")
        .await;
    assert!(
        policy["value"]
            .as_str()
            .unwrap()
            .contains("rate-limit-by-key")
    );
    let listed = app
        .mgmt(
            reqwest::Method::POST,
            "/services/svc/namedValues/backend-key/listValue",
            None,
        )
        .await
        .1;
    assert_eq!(listed["value"], "k3y");
}

/// Runs git in `dir` (test identity, no global configuration needed).
fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=tests",
            "-c",
            "user.email=tests@example.com",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test]
async fn publishing_a_commit_applies_what_it_changed_and_deletes_what_it_deleted() {
    let source = spawn().await;
    furnished(&source).await;
    let repo = tempfile::tempdir().unwrap();
    let folder = repo.path().join("apim");
    extract(&remote(&source))
        .await
        .unwrap()
        .write(&folder)
        .unwrap();
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "first"]);
    let first = git(repo.path(), &["rev-parse", "HEAD"]);

    let target = spawn().await;
    target
        .put("/services/svc", json!({ "displayName": "Service" }))
        .await;
    // SAFETY of the test: no other test reads this variable.
    unsafe { std::env::set_var("PORTCULLIS_TEST_COMMIT_KEY", "s3cret") };
    let overrides = Overrides::parse(
        "namedValues:\n  - name: api-key\n    properties: { value: '{#PORTCULLIS_TEST_COMMIT_KEY#}' }\n",
    )
    .unwrap();
    backend_secret_in_environment();
    let changes = portcullis_apiops::commit_changes(&folder, &first).unwrap();
    assert!(
        changes.changed.contains("apis/museum/specification.yaml"),
        "{changes:?}"
    );
    let files = Artifacts::read(&folder).unwrap();
    let report = portcullis_apiops::publish_commit(&remote(&target), &files, &overrides, &changes)
        .await
        .unwrap();
    assert!(
        report.applied.iter().any(|a| a == "apis/museum"),
        "{report:?}"
    );

    // Someone changes the product on the node; the next commit does not touch products.
    target
        .put(
            "/services/svc/products/starter",
            json!({ "displayName": "Starter", "description": "changed on the node", "subscriptionRequired": true, "state": "published" }),
        )
        .await;
    std::fs::write(
        folder.join("apis/museum/policy.xml"),
        POLICY.replace("{{tenant}}", "fabrikam"),
    )
    .unwrap();
    std::fs::remove_dir_all(folder.join("subscriptions/partner")).unwrap();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "second"]);
    let second = git(repo.path(), &["rev-parse", "HEAD"]);
    let changes = portcullis_apiops::commit_changes(&folder, &second).unwrap();
    assert_eq!(
        changes.changed.iter().collect::<Vec<_>>(),
        ["apis/museum/policy.xml"]
    );
    let files = Artifacts::read(&folder).unwrap();
    let report = portcullis_apiops::publish_commit(&remote(&target), &files, &overrides, &changes)
        .await
        .unwrap();
    assert_eq!(report.applied, ["apis/museum"], "{report:?}");
    assert_eq!(report.deleted, ["subscriptions/partner"], "{report:?}");
    let policy = target.get_json("/services/svc/apis/museum/policy").await;
    assert!(policy["value"].as_str().unwrap().contains("fabrikam"));
    let product = target.get_json("/services/svc/products/starter").await;
    assert_eq!(
        product["description"], "changed on the node",
        "untouched by the commit"
    );
    let (status, _) = target
        .mgmt(
            reqwest::Method::GET,
            "/services/svc/subscriptions/partner",
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
}
