//! Policies that change what the backend and the caller see, and how scopes combine.

use crate::helpers::{TestApp, spawn, status_json};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ECHO_POLICY: &str = "/services/svc/apis/echo/policy";

async fn call(app: &TestApp, method: Method, path: &str) -> (u16, Value) {
    let response = app
        .gateway(method, "svc.localhost", path)
        .header("x-original", "yes")
        .body("hello")
        .send()
        .await
        .expect("the gateway answers");
    status_json(response).await
}

#[tokio::test]
async fn set_header_changes_the_request_inbound_and_the_response_outbound() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies>
            <inbound>
                <set-header name="x-added" exists-action="override"><value>one</value><value>two</value></set-header>
                <set-header name="x-original" exists-action="skip"><value>replaced?</value></set-header>
                <set-header name="x-caller" exists-action="override"><value>@(context.Request.IpAddress + "/" + context.Api.Name)</value></set-header>
                <set-header name="user-agent" exists-action="delete" />
            </inbound>
            <outbound><set-header name="x-served-by" exists-action="override"><value>portcullis</value></set-header></outbound>
        </policies>"#,
    )
    .await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/h")
        .header("x-original", "yes")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-served-by"], "portcullis");
    let (_, seen) = status_json(response).await;
    let headers = &seen["headers"];
    assert_eq!(headers["x-added"], "one,two");
    assert_eq!(
        headers["x-original"], "yes",
        "skip keeps an existing header"
    );
    assert_eq!(headers["x-caller"], "127.0.0.1/echo");
    assert!(headers.get("user-agent").is_none(), "{headers}");
}

#[tokio::test]
async fn set_query_parameter_and_rewrite_uri_shape_the_backend_url() {
    let app = spawn().await;
    app.echo_api().await;
    app.put(
        "/services/svc/apis/echo/operations/get-user",
        json!({ "method": "GET", "urlTemplate": "/users/{id}?view={view}" }),
    )
    .await;
    app.policy(
        "/services/svc/apis/echo/operations/get-user/policy",
        r#"<policies><inbound><base />
            <rewrite-uri template="/v2/people/{id}?format={view}" />
            <set-query-parameter name="api-version" exists-action="override"><value>2024-01-01</value></set-query-parameter>
            <set-query-parameter name="drop" exists-action="delete" />
        </inbound></policies>"#,
    )
    .await;
    let (status, seen) = call(
        &app,
        Method::GET,
        "/echo/users/4%202?view=full&keep=1&drop=x",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(seen["path"], "/base/v2/people/4%202");
    assert_eq!(seen["query"], "format=full&keep=1&api-version=2024-01-01");

    // copy-unmatched-params="false" keeps only the template's query.
    app.policy(
        "/services/svc/apis/echo/operations/get-user/policy",
        r#"<policies><inbound><rewrite-uri template="/people/{id}" copy-unmatched-params="false" /></inbound></policies>"#,
    )
    .await;
    let (_, seen) = call(&app, Method::GET, "/echo/users/7?view=full&keep=1").await;
    assert_eq!(
        (seen["path"].as_str(), seen["query"].as_str()),
        (Some("/base/people/7"), None)
    );
}

#[tokio::test]
async fn set_backend_service_method_and_body() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        &format!(
            r#"<policies><inbound>
                <set-backend-service base-url="{}" />
                <set-method>PUT</set-method>
                <set-body>@("from " + context.Request.IpAddress)</set-body>
            </inbound></policies>"#,
            app.backend_url("/other")
        ),
    )
    .await;
    let (status, seen) = call(&app, Method::POST, "/echo/items?x=1").await;
    assert_eq!(status, 200);
    assert_eq!(seen["path"], "/other/items");
    assert_eq!(seen["query"], "x=1");
    assert_eq!(seen["method"], "PUT");
    assert_eq!(seen["bodyLength"], "from 127.0.0.1".len());
}

#[tokio::test]
async fn outbound_set_status_and_set_body_replace_the_backend_answer() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><outbound>
            <set-status code="201" reason="Created" />
            <set-body>@("backend said " + context.Response.StatusCode)</set-body>
        </outbound></policies>"#,
    )
    .await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/o")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.text().await.unwrap(), "backend said 201");
}

#[tokio::test]
async fn return_response_and_mock_response_answer_without_the_backend() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><return-response>
            <set-status code="418" reason="Teapot" />
            <set-header name="content-type" exists-action="override"><value>text/plain</value></set-header>
            <set-body>short and stout</set-body>
        </return-response></inbound>
        <outbound><set-header name="x-outbound" exists-action="override"><value>ran</value></set-header></outbound></policies>"#,
    )
    .await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/r")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 418);
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert!(
        !response.headers().contains_key("x-outbound"),
        "nothing runs after return-response"
    );
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(response.text().await.unwrap(), "short and stout");

    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><mock-response status-code="202" content-type="application/json" /></inbound></policies>"#,
    )
    .await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/m")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.unwrap(), "");
}

#[tokio::test]
async fn forward_request_timeout_and_redirects() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><backend><forward-request timeout="1" /></backend></policies>"#,
    )
    .await;
    let (status, body) = call(&app, Method::GET, "/echo/hang").await;
    assert_eq!(
        (status, body["message"].as_str()),
        (504, Some("Backend did not respond within 1 seconds"))
    );
    // Without follow-redirects the backend's redirect goes back to the caller.
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/redirect")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);

    app.policy(
        ECHO_POLICY,
        r#"<policies><backend><forward-request follow-redirects="true" /></backend></policies>"#,
    )
    .await;
    let (status, seen) = call(&app, Method::GET, "/echo/redirect").await;
    assert_eq!((status, seen["path"].as_str()), (200, Some("/base/landed")));
}

#[tokio::test]
async fn a_followed_307_sends_the_same_body_again_and_credentials_stay_with_their_host() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><backend><forward-request follow-redirects="true" /></backend></policies>"#,
    )
    .await;
    // 307 keeps the method and the body: the backend behind it gets what the caller sent.
    let response = app
        .gateway(Method::POST, "svc.localhost", "/echo/redirect307")
        .body("twelve bytes")
        .send()
        .await
        .unwrap();
    let (status, seen) = crate::helpers::status_json(response).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["path"], "/base/landed");
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["bodyLength"], 12, "the body was sent again");

    // A body of unknown length streams once; its 307 goes back to the caller, who still has it.
    let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>("chunked body")]);
    let response = app
        .gateway(Method::POST, "svc.localhost", "/echo/redirect307")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);

    // Same host: the caller's credentials go along. Another host (localhost instead of
    // 127.0.0.1): they are dropped.
    for (path, kept) in [("/echo/redirect", true), ("/echo/redirect-cross", false)] {
        let response = app
            .gateway(Method::GET, "svc.localhost", path)
            .header("authorization", "Bearer secret")
            .header("cookie", "session=1")
            .send()
            .await
            .unwrap();
        let (status, seen) = crate::helpers::status_json(response).await;
        assert_eq!((status, seen["path"].as_str()), (200, Some("/base/landed")));
        let headers = &seen["headers"];
        assert_eq!(
            headers.get("authorization").is_some(),
            kept,
            "{path}: {seen}"
        );
        assert_eq!(headers.get("cookie").is_some(), kept, "{path}: {seen}");
    }

    // A redirect into a cloud's metadata address is not followed: the caller gets it.
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/redirect-metadata")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        response.headers()["location"],
        "http://169.254.169.254/latest/meta-data/"
    );
}

#[tokio::test]
async fn retry_sends_the_buffered_request_again_until_the_backend_recovers() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><backend>
            <retry condition="@(context.Response.StatusCode >= 500)" count="3" interval="0">
                <forward-request />
            </retry>
        </backend></policies>"#,
    )
    .await;
    let id = uuid_like();
    let (status, seen) = call(&app, Method::POST, &format!("/echo/flaky/{id}")).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(
        seen["bodyLength"], 5,
        "the third attempt still carries the body"
    );

    // Without enough attempts the last failure comes back.
    app.policy(
        ECHO_POLICY,
        r#"<policies><backend><retry condition="@(context.Response.StatusCode >= 500)" count="1" interval="0"><forward-request /></retry></backend></policies>"#,
    )
    .await;
    let response = app
        .gateway(
            Method::GET,
            "svc.localhost",
            &format!("/echo/flaky/{}", uuid_like()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.text().await.unwrap(), "attempt 2");
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[tokio::test]
async fn set_variable_and_choose_pick_a_branch() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound>
            <set-variable name="tier" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-tier&quot;, &quot;free&quot;).ToLower())" />
            <choose>
                <when condition="@(context.Variables.GetValueOrDefault&lt;string&gt;(&quot;tier&quot;, &quot;&quot;) == &quot;gold&quot;)">
                    <set-header name="x-branch" exists-action="override"><value>gold</value></set-header>
                </when>
                <otherwise>
                    <return-response><set-status code="402" reason="Payment Required" /></return-response>
                </otherwise>
            </choose>
            <trace source="tests"><message>@("tier " + (string)context.Variables["tier"])</message></trace>
        </inbound></policies>"#,
    )
    .await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/v")
        .header("x-tier", "GOLD")
        .send()
        .await
        .unwrap();
    let (status, seen) = status_json(response).await;
    assert_eq!(
        (status, seen["headers"]["x-branch"].as_str()),
        (200, Some("gold"))
    );
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/v")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 402);
}

/// Each scope appends its name to `x-order`, so the backend sees the order policies ran in.
fn appender(name: &str) -> String {
    format!(
        r#"<set-header name="x-order" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("x-order", "") + "{name};")</value></set-header>"#
    )
}

#[tokio::test]
async fn base_inlines_each_parent_scope_where_it_stands() {
    let app = spawn().await;
    app.echo_api().await;
    app.put(
        "/services/svc/products/gold",
        json!({ "subscriptionRequired": true, "state": "published" }),
    )
    .await;
    app.put("/services/svc/products/gold/apis/echo", json!({}))
        .await;
    let product_key = app.subscribe("svc", "gold-sub", "/products/gold").await;
    let all_key = app.subscribe("svc", "all-sub", "/apis").await;

    let global = format!(
        "<policies><inbound>{}</inbound><backend><forward-request /></backend></policies>",
        appender("global")
    );
    app.policy("/services/svc/policy", &global).await;
    app.policy(
        "/services/svc/products/gold/policy",
        &format!(
            "<policies><inbound>{}<base /></inbound></policies>",
            appender("product")
        ),
    )
    .await;
    app.policy(
        ECHO_POLICY,
        &format!(
            "<policies><inbound>{}<base />{}</inbound></policies>",
            appender("api-before"),
            appender("api-after")
        ),
    )
    .await;
    app.policy(
        "/services/svc/apis/echo/operations/get-all/policy",
        &format!(
            "<policies><inbound><base />{}</inbound></policies>",
            appender("operation")
        ),
    )
    .await;

    let order = |key: String| {
        let request = app
            .gateway(Method::GET, "svc.localhost", "/echo/order")
            .header("Ocp-Apim-Subscription-Key", key);
        async move {
            let (_, seen) = status_json(request.send().await.unwrap()).await;
            seen["headers"]["x-order"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
    };
    assert_eq!(
        order(product_key).await,
        "api-before;product;global;api-after;operation;"
    );
    // Without a product subscription the product's policy does not apply.
    assert_eq!(
        order(all_key.clone()).await,
        "api-before;global;api-after;operation;"
    );

    // An operation section without <base/> drops everything above it.
    app.policy(
        "/services/svc/apis/echo/operations/get-all/policy",
        &format!(
            "<policies><inbound>{}</inbound></policies>",
            appender("operation-only")
        ),
    )
    .await;
    assert_eq!(order(all_key).await, "operation-only;");
}

#[tokio::test]
async fn without_forward_request_the_backend_is_not_called() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><backend /><outbound><set-header name="x-outbound" exists-action="override"><value>ran</value></set-header></outbound></policies>"#,
    )
    .await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/nothing")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-outbound"], "ran");
    assert_eq!(response.text().await.unwrap(), "");
}

/// APIM's `forward-request` page, "fail-on-error-status-code": a backend's 4xx/5xx runs
/// on-error, which works on the backend's own response.
#[tokio::test]
async fn fail_on_error_status_code_runs_on_error_on_the_backends_answer() {
    let app = spawn().await;
    app.echo_api().await;
    let document = |fail: bool| {
        format!(
            r#"<policies><inbound><base /></inbound>
            <backend><forward-request timeout="120" fail-on-error-status-code="{fail}" /></backend>
            <outbound><set-header name="x-section" exists-action="override"><value>outbound</value></set-header></outbound>
            <on-error><set-header name="x-section" exists-action="override"><value>@("on-error " + context.LastError.Reason + " " + context.Response.StatusCode)</value></set-header></on-error>
            </policies>"#
        )
    };
    app.policy("/services/svc/apis/echo/policy", &document(true))
        .await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/flaky/fail-on-error")
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 503, "the backend's status");
    assert_eq!(
        response.headers()["x-section"],
        "on-error BackendErrorStatusCode 503"
    );
    assert_eq!(
        response.text().await.expect("a body"),
        "attempt 1",
        "the backend's body"
    );

    app.policy("/services/svc/apis/echo/policy", &document(false))
        .await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/flaky/fail-on-error")
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["x-section"], "outbound");
}

/// APIM's `choose` page, "Modify request and response based on the user agent": an
/// iPhone's call gets the XML backend's answer as JSON (`xml-to-json kind="direct"`), and
/// `?mobile=true` reaches the backend; other callers get the XML.
#[tokio::test]
async fn the_user_agent_example_converts_xml_to_json_for_mobiles() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        include_str!("../../../policy/tests/apim_docs/choose-policy__1.xml"),
    )
    .await;
    let call = |agent: &'static str| {
        app.gateway(Method::GET, "svc.localhost", "/echo/order.xml")
            .header("User-Agent", agent)
            .send()
    };
    let mobile = call("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)")
        .await
        .unwrap();
    assert_eq!(mobile.status(), StatusCode::OK);
    assert!(
        mobile.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{:?}",
        mobile.headers()
    );
    let json: Value = mobile.json().await.expect("JSON");
    assert_eq!(json["order"]["@id"], "7");
    assert_eq!(json["order"]["item"][1]["@sku"], "b");
    assert_eq!(json["order"]["note"], "gift & card");

    let desktop = call("curl/8.0").await.unwrap();
    assert_eq!(desktop.headers()["content-type"], "application/xml");
    assert!(desktop.text().await.unwrap().starts_with("<?xml"));
}

/// APIM's `json-to-xml` page's example: the backend's JSON answer goes back as XML.
#[tokio::test]
async fn the_json_to_xml_example_answers_in_xml() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        include_str!("../../../policy/tests/apim_docs/json-to-xml-policy__1.xml"),
    )
    .await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/x?a=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let xml = response.text().await.unwrap();
    assert!(xml.starts_with("<Document>"), "{xml}");
    assert!(xml.contains("<method>GET</method>"), "{xml}");
    assert!(xml.contains("<query>a=1</query>"), "{xml}");
}

/// APIM's `set-body` page, "Access the body as URL-encoded form data": the caller's form
/// becomes JSON (`AsFormUrlEncodedContent`, `JsonConvert.SerializeObject`); the backend
/// (`…/mirror`) sends back what it received.
#[tokio::test]
async fn the_form_data_example_turns_a_form_into_json() {
    let app = spawn().await;
    app.echo_api().await;
    let example = include_str!("../../../policy/tests/apim_docs/set-body-policy__7.xml");
    app.policy(
        ECHO_POLICY,
        &format!("<policies><inbound><base />{example}</inbound></policies>"),
    )
    .await;
    let response = app
        .gateway(Method::POST, "svc.localhost", "/echo/mirror")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Ada+Lovelace&tag=math&tag=poetry")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let json: Value = serde_json::from_str(&response.text().await.unwrap()).expect("JSON");
    assert_eq!(
        json,
        json!({ "name": ["Ada Lovelace"], "tag": ["math", "poetry"] })
    );
}

/// A form changed as a dictionary and written back as a form (`ToFormUrlEncodedContent`).
#[tokio::test]
async fn a_form_can_be_changed_and_written_back() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><base />
        <set-body>@{
            var body = context.Request.Body.AsFormUrlEncodedContent();
            body["tag"].Add("history");
            body.Remove("secret");
            return body.ToFormUrlEncodedContent();
        }</set-body>
    </inbound></policies>"#,
    )
    .await;
    let response = app
        .gateway(Method::POST, "svc.localhost", "/echo/mirror")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Ada+Lovelace&tag=math&secret=x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.text().await.unwrap(),
        "name=Ada%20Lovelace&tag=math&tag=history"
    );
}

/// The outbound policy of APIM's set-body examples with a Liquid template: the response's
/// `Content-Type` is set first, as the page says a template needs to read a JSON body.
fn liquid_outbound(example: &str) -> String {
    format!(
        r#"<policies><inbound><base /></inbound><backend><base /></backend><outbound><base />
        <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
        {example}
        </outbound></policies>"#
    )
}

/// APIM's set-body page, "Transform JSON using a Liquid template", on the backend's answer.
#[tokio::test]
async fn the_liquid_json_example_reshapes_the_answer() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        &liquid_outbound(include_str!(
            "../../../policy/tests/apim_docs/set-body-policy__6.xml"
        )),
    )
    .await;
    let response = app
        .gateway(Method::POST, "svc.localhost", "/echo/mirror")
        .body(
            r#"{"customer": {"purchase": {"identifier": "4711", "orderShortDesc": "Nails, 200"}}}"#,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let json: Value = response.json().await.expect("the template writes JSON");
    assert_eq!(
        json,
        json!({"order": {"id": "4711", "summary": "Nails, 200"}})
    );
}

/// APIM's set-body page, "Convert JSON to SOAP using a Liquid template", on the request:
/// the backend receives the SOAP envelope with the caller's value in it.
#[tokio::test]
async fn the_liquid_soap_example_converts_the_request() {
    let app = spawn().await;
    app.echo_api().await;
    let example = include_str!("../../../policy/tests/apim_docs/set-body-policy__5.xml");
    app.policy(
        ECHO_POLICY,
        &format!("<policies><inbound><base />{example}</inbound><backend><base /></backend><outbound><base /></outbound></policies>"),
    )
    .await;
    let response = app
        .gateway(Method::POST, "svc.localhost", "/echo/mirror")
        .header("Content-Type", "application/json")
        .body(r#"{"getOpenOrders": {"cust": "C-1024"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let soap = response.text().await.unwrap();
    assert!(
        soap.contains("<soap:Envelope xmlns=\"http://tempuri.org/\""),
        "{soap}"
    );
    assert!(soap.contains("<cust>C-1024</cust>"), "{soap}");
    assert!(soap.contains("</soap:Envelope>"), "{soap}");
}

/// A template reads `context` (headers by any case, the URL and its parts), loops over the
/// body with filters, and reads an XML body as JSON's shape.
#[tokio::test]
async fn a_liquid_template_reads_context_loops_and_xml() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r##"<policies><inbound><base />
        <set-body template="liquid">{{ context.Request.Method }} {{ context.Request.Headers["x-tag"] | Upcase }} {{ context.Request.Url.Path }} {{ context.Request.Url.Query.q }}|{% for item in body.order.item %}{{ item["@sku"] }}={{ item["#text"] | Times: 10 }}{% unless forloop.last %},{% endunless %}{% endfor %}|{{ body.order.note | Default: "none" }}</set-body>
        </inbound><backend><base /></backend><outbound><base /></outbound></policies>"##,
    )
    .await;
    let response = app
        .gateway(Method::POST, "svc.localhost", "/echo/mirror?q=7")
        .header("Content-Type", "text/xml")
        .header("X-Tag", "blue")
        .body(r#"<order><item sku="a">2</item><item sku="b">1</item><note xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></order>"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.text().await.unwrap(),
        "POST BLUE /echo/mirror 7|a=20,b=10|none"
    );
}

/// A template that a request's body could make loop for ever stops at its budget: the call
/// fails as an expression fails (on-error runs), at once.
#[tokio::test]
async fn a_liquid_template_cannot_be_made_to_hang_by_the_body() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><base />
        <set-body template="liquid">{% for i in (1..body.n) %}{% endfor %}done</set-body>
        </inbound><backend><base /></backend><outbound><base /></outbound>
        <on-error><set-header name="x-error" exists-action="override"><value>@(context.LastError.Reason)</value></set-header></on-error></policies>"#,
    )
    .await;
    let call = |n: u64| {
        app.gateway(Method::POST, "svc.localhost", "/echo/mirror")
            .header("Content-Type", "application/json")
            .body(format!(r#"{{"n": {n}}}"#))
            .send()
    };
    let small = call(3).await.unwrap();
    assert_eq!(small.text().await.unwrap(), "done");
    let started = std::time::Instant::now();
    let huge = call(1_000_000_000_000).await.unwrap();
    assert_eq!(huge.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        huge.headers()["x-error"],
        "ExpressionValueEvaluationFailure"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// Faults in a template are refused when the document is saved, with line and column.
#[tokio::test]
async fn a_broken_liquid_template_is_refused_at_save_time() {
    let app = spawn().await;
    app.echo_api().await;
    for (template, says) in [
        ("{% if body.x %}open", "never closed"),
        ("{{ body.x | upcase }}", "Upcase"),
        ("{{ body.x | Frobnicate }}", "not a Liquid filter"),
    ] {
        let document = format!(
            "<policies><inbound><base />\n<set-body template=\"liquid\">{template}</set-body></inbound><backend><base /></backend><outbound><base /></outbound></policies>"
        );
        let (status, body) = app
            .mgmt(
                Method::PUT,
                ECHO_POLICY,
                Some(json!({ "format": "xml", "value": document })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{template}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{template}: {body}");
        assert!(message.starts_with("Line 2, column "), "{template}: {body}");
    }
}

/// `mock-response` answers with the example the operation documents (APIM's `responses`
/// on the operation, as an OpenAPI import writes them): by status and content type, the
/// first example unless `index` says otherwise; text examples as they are.
#[tokio::test]
async fn mock_response_answers_with_the_operations_examples() {
    let app = spawn().await;
    app.echo_api().await;
    let operation = app
        .put(
            "/services/svc/apis/echo/operations/get-all",
            json!({
                "method": "GET",
                "urlTemplate": "/*",
                "responses": [
                    { "statusCode": 200, "description": "OK", "representations": [
                        { "contentType": "application/json", "examples": {
                            "default": { "value": { "id": 7, "name": "Nails" } },
                            "second": { "value": [1, 2] } } },
                        { "contentType": "text/plain", "examples": { "plain": { "value": "seven" } } }
                    ] },
                    { "statusCode": 404, "representations": [
                        { "contentType": "application/problem+json", "examples": {
                            "missing": { "value": { "title": "Not Found" } } } }
                    ] }
                ]
            }),
        )
        .await;
    assert_eq!(operation["responses"][1]["statusCode"], 404, "{operation}");
    let mocked = |policy: &'static str| {
        let app = &app;
        async move {
            app.policy(
                "/services/svc/apis/echo/operations/get-all/policy",
                &format!("<policies><inbound>{policy}</inbound></policies>"),
            )
            .await;
            let response = app
                .gateway(Method::GET, "svc.localhost", "/echo/anything")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let content_type = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            (status, content_type, response.text().await.unwrap())
        }
    };
    let (status, content_type, body) =
        mocked(r#"<mock-response status-code="200" content-type="application/json" />"#).await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "id": 7, "name": "Nails" })
    );
    let (_, _, body) =
        mocked(r#"<mock-response status-code="200" content-type="application/json" index="1" />"#)
            .await;
    assert_eq!(body, "[1,2]");
    let (_, content_type, body) =
        mocked(r#"<mock-response status-code="200" content-type="text/plain" />"#).await;
    assert_eq!(
        (content_type.as_str(), body.as_str()),
        ("text/plain", "seven")
    );
    // Without content-type: the status's first representation, with its content type.
    let (status, content_type, body) = mocked(r#"<mock-response status-code="404" />"#).await;
    assert_eq!(
        (status, content_type.as_str()),
        (404, "application/problem+json")
    );
    assert_eq!(body, r#"{"title":"Not Found"}"#);
    // Nothing documented for 500: an empty body.
    let (status, _, body) = mocked(r#"<mock-response status-code="500" />"#).await;
    assert_eq!((status, body.as_str()), (500, ""));

    // Bad responses are refused with what is wrong, and nothing is saved.
    let (status, body) = app
        .mgmt(
            Method::PUT,
            "/services/svc/apis/echo/operations/get-all",
            Some(json!({ "method": "GET", "urlTemplate": "/*", "responses": [{ "statusCode": 999 }] })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("100–599"), "{body}");
    let kept = app
        .get_json("/services/svc/apis/echo/operations/get-all")
        .await;
    assert_eq!(kept["responses"][0]["statusCode"], 200, "{kept}");
}
