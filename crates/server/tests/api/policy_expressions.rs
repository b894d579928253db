//! Policy documents as APIM's documentation writes them — raw C# inside attribute values,
//! statement blocks `@{ … }` — accepted as they are and run over real HTTP (issue 15).

use crate::helpers::{TestApp, spawn, status_json};
use reqwest::{Method, StatusCode};

const ECHO_POLICY: &str = "/services/svc/apis/echo/policy";

/// From APIM's documentation, unchanged but for the header names the echo backend shows:
/// the `choose` policy page ("Example: modify request and response based on the user
/// agent", learn.microsoft.com/azure/api-management/choose-policy) sets `isMobile` and reads it
/// with `GetValueOrDefault<bool>` — raw quotes and angle brackets inside attributes; the
/// "policy expressions" article's statement block decodes the Authorization header
/// (learn.microsoft.com/azure/api-management/api-management-policy-expressions).
const DOCS_DOCUMENT: &str = r#"<policies>
    <inbound>
        <base />
        <set-variable name="isMobile" value="@(context.Request.Headers.GetValueOrDefault("User-Agent","").Contains("iPad") || context.Request.Headers.GetValueOrDefault("User-Agent","").Contains("iPhone"))" />
        <choose>
            <when condition="@(context.Variables.GetValueOrDefault<bool>("isMobile"))">
                <set-header name="x-device" exists-action="override"><value>mobile</value></set-header>
            </when>
            <otherwise>
                <set-header name="x-device" exists-action="override"><value>other</value></set-header>
            </otherwise>
        </choose>
        <set-header name="x-basic-credentials" exists-action="override">
            <value>@{
                string[] value;
                if (context.Request.Headers.TryGetValue("Authorization", out value))
                {
                    if(value != null && value.Length > 0)
                    {
                        return Encoding.UTF8.GetString(Convert.FromBase64String(value[0]));
                    }
                }
                return null;
            }</value>
        </set-header>
        <set-header name="x-header-names" exists-action="override">
            <value>@(string.Join(",", context.Request.Headers.Where(h => h.Key.StartsWith("x-t")).Select(h => h.Key.ToUpper())))</value>
        </set-header>
    </inbound>
</policies>"#;

async fn call(app: &TestApp, user_agent: &str) -> (u16, serde_json::Value) {
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/x")
        .header("User-Agent", user_agent)
        .header("Authorization", "dXNlcjpwYXNz")
        .header("x-tenant", "contoso")
        .header("x-trace", "1")
        .send()
        .await
        .expect("the gateway answers");
    status_json(response).await
}

#[tokio::test]
async fn the_documentations_examples_are_accepted_as_written_and_run() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(ECHO_POLICY, DOCS_DOCUMENT).await;

    let (status, seen) = call(&app, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)").await;
    assert_eq!(status, 200, "{seen}");
    let headers = &seen["headers"];
    assert_eq!(headers["x-device"], "mobile");
    assert_eq!(headers["x-basic-credentials"], "user:pass");
    assert_eq!(headers["x-header-names"], "X-TENANT,X-TRACE");

    let (_, seen) = call(&app, "curl/8.0").await;
    assert_eq!(seen["headers"]["x-device"], "other");
}

#[tokio::test]
async fn a_script_that_fails_at_run_time_answers_as_apim_does() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><set-header name="x-n" exists-action="override"><value>@{ var n = int.Parse(context.Request.Headers.GetValueOrDefault("x-n", "")); return (100 / n).ToString(); }</value></set-header></inbound></policies>"#,
    )
    .await;
    let send = |n: &'static str| {
        app.gateway(Method::GET, "svc.localhost", "/echo/x")
            .header("x-n", n)
            .send()
    };
    let (status, seen) = status_json(send("4").await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(seen["headers"]["x-n"], "25");
    // Division by zero: the expression fails, on-error runs, the caller gets a 500.
    let response = send("0").await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_script_that_never_ends_is_stopped_and_the_gateway_keeps_serving() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><set-header name="x-loop" exists-action="override"><value>@{ var i = 0; while (true) { i++; } return i.ToString(); }</value></set-header></inbound></policies>"#,
    )
    .await;
    let started = std::time::Instant::now();
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn unknown_context_members_and_bad_csharp_are_refused_when_saved() {
    let app = spawn().await;
    app.echo_api().await;
    for (document, fault) in [
        (
            r#"<policies><inbound><set-header name="x" exists-action="override"><value>@{ return context.Nonsense.Value; }</value></set-header></inbound></policies>"#,
            "context.Nonsense",
        ),
        (
            r#"<policies><inbound><set-header name="x" exists-action="override"><value>@{ var x = ; }</value></set-header></inbound></policies>"#,
            "expected a value",
        ),
    ] {
        let (status, body) = app
            .mgmt(
                Method::PUT,
                ECHO_POLICY,
                Some(serde_json::json!({ "format": "xml", "value": document })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.to_string().contains(fault), "{body}");
    }
}

/// Scripts read the request body (it still goes to the backend) and the response body (the
/// outbound script's result replaces it). The outbound script is the set-body page's
/// "Filter response based on product" example (learn.microsoft.com/azure/api-management/
/// set-body-policy), its product condition left out.
#[tokio::test]
async fn scripts_read_the_request_and_response_bodies() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies>
    <inbound>
        <base />
        <set-header name="x-name" exists-action="override">
            <value>@(context.Request.Body.As<JObject>(preserveContent: true)["name"].ToString())</value>
        </set-header>
    </inbound>
    <outbound>
        <base />
        <choose>
            <when condition="@(context.Response.StatusCode == 200)">
                <set-body>@{
                    var response = context.Response.Body.As<JObject>();
                    foreach (var key in new [] {"current", "minutely", "hourly", "daily", "alerts"}) {
                      response.Property (key).Remove ();
                    }
                    return response.ToString();
                  }
                </set-body>
            </when>
        </choose>
    </outbound>
</policies>"#,
    )
    .await;
    let response = app
        .gateway(Method::POST, "svc.localhost", "/echo/mirror")
        .header("content-type", "application/json")
        .body(r#"{"name":"Ada","current":1,"minutely":[],"hourly":[1,2],"daily":{},"alerts":null,"keep":true}"#)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The backend got the body whole (mirror sends it back); outbound removed five keys.
    assert_eq!(body, serde_json::json!({ "name": "Ada", "keep": true }));

    // A body that is not JSON: the script fails as APIM's would, with a 500.
    let response = app
        .gateway(Method::POST, "svc.localhost", "/echo/mirror")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

/// `authentication-basic` and `find-and-replace`, as their reference pages show them
/// (learn.microsoft.com/azure/api-management/authentication-basic-policy and
/// find-and-replace-policy), the password from a secret named value.
#[tokio::test]
async fn authentication_basic_and_find_and_replace_as_the_pages_show_them() {
    let app = spawn().await;
    app.echo_api().await;
    app.put(
        "/services/svc/namedValues/backend-password",
        serde_json::json!({ "displayName": "BackendPassword", "value": "testpassword", "secret": true }),
    )
    .await;
    app.policy(
        ECHO_POLICY,
        r#"<policies>
    <inbound>
        <base />
        <authentication-basic username="testuser" password="{{BackendPassword}}" />
        <find-and-replace from="notebook" to="laptop" />
    </inbound>
    <outbound>
        <base />
        <find-and-replace from="laptop" to="@(context.Request.Method.ToLower())" />
    </outbound>
</policies>"#,
    )
    .await;
    let (status, seen) = status_json(
        app.gateway(Method::GET, "svc.localhost", "/echo/x")
            .header("Authorization", "Bearer from-the-caller")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    // base64("testuser:testpassword"), replacing the caller's.
    assert_eq!(
        seen["headers"]["authorization"],
        "Basic dGVzdHVzZXI6dGVzdHBhc3N3b3Jk"
    );

    // The request body is changed on its way in, the response's on its way out.
    let response = app
        .gateway(Method::POST, "svc.localhost", "/echo/mirror")
        .body("a notebook, another notebook")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "a post, another post");
}

/// The error-handling page's on-error example, verbatim from the corpus: `context.LastError`
/// says which policy stopped the request, where and why.
#[tokio::test]
async fn on_error_reads_context_last_error() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        include_str!(
            "../../../policy/tests/apim_docs/api-management-error-handling-policies__2.xml"
        ),
    )
    .await;
    app.policy(
        "/services/svc/policy",
        r#"<policies><inbound><ip-filter action="forbid"><address>127.0.0.1</address></ip-filter></inbound><backend><forward-request /></backend></policies>"#,
    )
    .await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("<missing>")
            .to_owned()
    };
    assert_eq!(header("errorsource"), "ip-filter");
    assert_eq!(header("errorreason"), "CallerIpNotAllowed");
    assert_eq!(header("errorscope"), "global");
    assert_eq!(header("errorsection"), "inbound");
    assert_eq!(header("errorstatuscode"), "403");
    assert!(!header("errormessage").is_empty());
}

/// APIM's `set-header` page, "Forward context information to the backend service": the
/// user (none in Portcullis: no developer accounts, so null) and the gateway's region
/// (`PORTCULLIS_REGION`, `local` when unset).
#[tokio::test]
async fn the_context_forwarding_example_runs() {
    let app = spawn().await;
    app.echo_api().await;
    let example = include_str!("../../../policy/tests/apim_docs/set-header-policy__3.xml");
    app.policy(
        ECHO_POLICY,
        &format!("<policies><inbound><base />{example}</inbound></policies>"),
    )
    .await;
    let (status, seen) = status_json(
        app.gateway(Method::GET, "svc.localhost", "/echo/x")
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["headers"]["x-request-context-data"], ",local");
}

/// The .NET types of the "policy expressions" article that need the interpreter's library:
/// `context.Timestamp` / `Elapsed`, `Uri`, JWTs from headers, HMAC, `Regex`, `Guid`.
#[tokio::test]
async fn dates_uris_tokens_hashes_and_patterns_run_in_policies() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><base />
        <set-header name="x-year" exists-action="override"><value>@(context.Timestamp.ToString("yyyy"))</value></set-header>
        <set-header name="x-elapsed" exists-action="override"><value>@(context.Elapsed >= TimeSpan.Zero && context.Elapsed < TimeSpan.FromSeconds(30))</value></set-header>
        <set-header name="x-user" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("Authorization","").Split(' ')[1].AsJwt()?.Subject)</value></set-header>
        <set-header name="x-profile" exists-action="override"><value>@(new Uri(new Uri("https://profiles.example.com/UserProfile/"), "ada").AbsoluteUri)</value></set-header>
        <set-header name="x-signature" exists-action="override"><value>@{
            var hmac = new HMACSHA256(Encoding.UTF8.GetBytes("key"));
            return Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes("The quick brown fox jumps over the lazy dog")));
        }</value></set-header>
        <set-header name="x-order" exists-action="override"><value>@(Regex.Match(context.Request.Url.Path, @"\d+").Value)</value></set-header>
        <set-header name="x-guid-length" exists-action="override"><value>@(Guid.NewGuid().ToString().Length)</value></set-header>
    </inbound></policies>"#,
    )
    .await;
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({ "sub": "ada", "iss": "https://issuer.example" }),
        &jsonwebtoken::EncodingKey::from_secret(b"any key: AsJwt does not check signatures"),
    )
    .expect("a token");
    let (status, seen) = status_json(
        app.gateway(Method::GET, "svc.localhost", "/echo/orders/1234")
            .header("Authorization", format!("Bearer {token}"))
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    assert_eq!(status, 200, "{seen}");
    let headers = &seen["headers"];
    // The year the request arrived in.
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(headers["x-year"], year.as_str());
    assert_eq!(headers["x-elapsed"], "True");
    assert_eq!(headers["x-user"], "ada");
    assert_eq!(
        headers["x-profile"],
        "https://profiles.example.com/UserProfile/ada"
    );
    // RFC 4231-style known answer for HMAC-SHA256("key", "The quick brown fox…").
    assert_eq!(
        headers["x-signature"],
        "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="
    );
    assert_eq!(headers["x-order"], "1234");
    assert_eq!(headers["x-guid-length"], "36");
}

/// `context.Request.Body.As<XDocument>()` and `System.Xml.Linq`: a SOAP request is read for
/// a header and a response body; the XML still reaches the backend.
#[tokio::test]
async fn scripts_read_xml_bodies_with_xdocument() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        "/services/svc/apis/echo/policy",
        r#"<policies><inbound><base />
        <set-header name="x-order" exists-action="override"><value>@{
            var doc = context.Request.Body.As<XDocument>(preserveContent: true);
            var body = doc.Root.Element(XName.Get("Body", "http://schemas.xmlsoap.org/soap/envelope/"));
            var order = body.Elements().First();
            return order.Name.LocalName + ":" + order.Element("{http://tempuri.org/}id").Value;
        }</value></set-header>
        <set-header name="x-note-lang" exists-action="override"><value>@(context.Request.Body.As<XElement>(preserveContent: true).Descendants().First(e => e.Name.LocalName == "note").Attribute("lang").Value)</value></set-header>
        </inbound></policies>"#,
    )
    .await;
    let soap = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetOrder xmlns="http://tempuri.org/"><id>7</id><note lang="en">gift</note></GetOrder></soap:Body></soap:Envelope>"#;
    let response = app
        .gateway(Method::POST, "svc.localhost", "/echo/soap")
        .header("Content-Type", "text/xml")
        .body(soap)
        .send()
        .await
        .unwrap();
    let (status, echo) = status_json(response).await;
    assert_eq!(status, 200, "{echo}");
    assert_eq!(echo["headers"]["x-order"], "GetOrder:7");
    assert_eq!(echo["headers"]["x-note-lang"], "en");
    assert_eq!(echo["bodyLength"], soap.len());
    // Not XML: the expression fails as APIM's does (500, on-error).
    let response = app
        .gateway(Method::POST, "svc.localhost", "/echo/soap")
        .body("not xml")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
