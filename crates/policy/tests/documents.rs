//! Documents are compiled whole or refused with every fault at its line and column.

use portcullis_policy::document::SectionKind;
use portcullis_policy::effective::effective_xml;
use portcullis_policy::engine::Pipeline;
use portcullis_policy::{PolicyDocument, ScopeKind};
use std::sync::Arc;

fn compile(text: &str, scope: ScopeKind) -> Result<PolicyDocument, String> {
    PolicyDocument::parse(text, scope, "test").map_err(|d| d.to_string())
}

/// One document that uses every policy of the catalogue, the way APIM documents them.
const EVERYTHING: &str = r#"<policies>
  <inbound>
    <base />
    <cors allow-credentials="false">
      <allowed-origins><origin>https://app.example.com</origin></allowed-origins>
      <allowed-methods preflight-result-max-age="300"><method>GET</method><method>POST</method></allowed-methods>
      <allowed-headers><header>content-type</header></allowed-headers>
      <expose-headers><header>x-request-id</header></expose-headers>
    </cors>
    <ip-filter action="allow">
      <address>127.0.0.1</address>
      <address-range from="10.0.0.0" to="10.255.255.255" />
    </ip-filter>
    <check-header name="x-tenant" failed-check-httpcode="400" failed-check-error-message="Tenant missing" ignore-case="true">
      <value>alpha</value>
    </check-header>
    <validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-httpcode="401">
      <issuer-signing-keys><key>c2VjcmV0LWtleS1mb3ItdGVzdHM=</key></issuer-signing-keys>
      <audiences><audience>api://portcullis</audience></audiences>
      <issuers><issuer>https://issuer.example</issuer></issuers>
      <required-claims><claim name="role" match="any"><value>admin</value></claim></required-claims>
    </validate-jwt>
    <rate-limit calls="10" renewal-period="60" remaining-calls-header-name="x-remaining" />
    <rate-limit-by-key calls="3" renewal-period="60" counter-key="@(context.Request.IpAddress)" increment-condition="@(context.Request.Method != &quot;OPTIONS&quot;)" />
    <quota-by-key calls="1000" renewal-period="3600" counter-key="@(context.Subscription.Id)" />
    <set-variable name="tenant" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-tenant&quot;, &quot;none&quot;))" />
    <set-header name="x-tenant-seen" exists-action="override"><value>@((string)context.Variables["tenant"])</value></set-header>
    <set-query-parameter name="api-version" exists-action="skip"><value>2024-01-01</value></set-query-parameter>
    <rewrite-uri template="/v2/{id}" copy-unmatched-params="true" />
    <set-backend-service base-url="https://backend.example/api" />
    <set-method>POST</set-method>
    <set-body>@("from " + context.Request.IpAddress)</set-body>
    <choose>
      <when condition="@(context.Request.Method == &quot;GET&quot;)">
        <mock-response status-code="200" content-type="application/json" />
      </when>
      <otherwise>
        <trace source="test" severity="information"><message>not a GET</message></trace>
      </otherwise>
    </choose>
  </inbound>
  <backend>
    <retry condition="@(context.Response.StatusCode >= 500)" count="3" interval="1" delta="1" max-interval="5" first-fast-retry="true">
      <limit-concurrency key="@(context.Api.Name)" max-count="10">
        <forward-request timeout="20" follow-redirects="true" />
      </limit-concurrency>
    </retry>
  </backend>
  <outbound>
    <base />
    <set-status code="201" reason="Created" />
    <set-header name="x-powered-by" exists-action="delete" />
  </outbound>
  <on-error>
    <return-response>
      <set-status code="503" reason="Unavailable" />
      <set-header name="retry-after" exists-action="override"><value>10</value></set-header>
      <set-body>{"error": "try later"}</set-body>
    </return-response>
  </on-error>
</policies>"#;

#[test]
fn the_whole_catalogue_compiles() {
    let document = compile(EVERYTHING, ScopeKind::Api).expect("compiles");
    let inbound: Vec<_> = document
        .section(SectionKind::Inbound)
        .steps
        .iter()
        .map(|s| s.name())
        .collect();
    assert_eq!(inbound[..4], ["base", "cors", "ip-filter", "check-header"]);
    assert_eq!(inbound.len(), 16);
    // quota belongs to products.
    let product = r#"<policies><inbound><quota calls="100" renewal-period="604800" /><base /></inbound></policies>"#;
    compile(product, ScopeKind::Product).expect("product quota");
}

#[track_caller]
fn refused(text: &str, scope: ScopeKind, line: usize, column: usize, needle: &str) {
    let diagnostics = PolicyDocument::parse(text, scope, "test").expect_err("refused");
    let first = diagnostics.first().expect("a diagnostic");
    assert_eq!((first.line, first.column), (line, column), "{diagnostics}");
    assert!(
        first.message.contains(needle),
        "{:?} does not mention {needle:?}",
        first.message
    );
}

#[test]
fn faults_are_placed_at_their_line_and_column() {
    let api = ScopeKind::Api;
    refused(
        "<policies>\n  <inbound>\n    <bogus />\n  </inbound>\n</policies>",
        api,
        3,
        5,
        "not a policy",
    );
    refused(
        "<policies>\n  <inbound>\n    <xsl-transform />\n  </inbound>\n</policies>",
        api,
        3,
        5,
        "does not support yet",
    );
    refused(
        "<policies>\n<inbound>\n<ip-filter action=\"maybe\"><address>1.2.3.4</address></ip-filter>\n</inbound>\n</policies>",
        api,
        3,
        20,
        "allow or forbid",
    );
    refused(
        "<policies>\n<inbound>\n<ip-filter action=\"allow\"><address>1.2.3.400</address></ip-filter>\n</inbound>\n</policies>",
        api,
        3,
        36,
        "not an IP address",
    );
    refused(
        "<policies><inbound><rate-limit calls=\"3\" /></inbound></policies>",
        api,
        1,
        20,
        "renewal-period",
    );
    refused(
        "<policies><inbound><rate-limit calls=\"x\" renewal-period=\"60\" /></inbound></policies>",
        api,
        1,
        39,
        "whole number",
    );
    refused(
        "<policies><inbound><rate-limit calls=\"3\" renewal-period=\"60\" colour=\"red\" /></inbound></policies>",
        api,
        1,
        70,
        "no attribute colour",
    );
    refused(
        "<policies><outbound><ip-filter action=\"forbid\" /></outbound></policies>",
        api,
        1,
        21,
        "cannot stand in <outbound>",
    );
    refused(
        "<policies><inbound><quota calls=\"1\" renewal-period=\"60\" /></inbound></policies>",
        api,
        1,
        20,
        "product scope",
    );
    refused(
        "<policies><inbound><rate-limit calls=\"1\" renewal-period=\"60\" /></inbound></policies>",
        ScopeKind::Global,
        1,
        20,
        "global",
    );
    // The expression fault points into the attribute value.
    refused(
        "<policies>\n  <inbound>\n    <rate-limit-by-key calls=\"3\" renewal-period=\"60\" counter-key=\"@(context.Tenant.Email)\" />\n  </inbound>\n</policies>",
        api,
        3,
        77,
        "context.Tenant",
    );
    // A property that the member's type does not have, found at save time.
    refused(
        "<policies><inbound><set-header name=\"x\" exists-action=\"override\"><value>@{ return context.Request.IpAddress.Lenght.ToString(); }</value></set-header></inbound></policies>",
        api,
        1,
        109,
        "context.Request.IpAddress is a string; its only property is Length: Lenght",
    );
    refused(
        "<policies><inbound><set-header name=\"x\" exists-action=\"override\"><value>@{ return context.Request.Url.Hots; }</value></set-header></inbound></policies>",
        api,
        1,
        103,
        "members are Host, Path, Port, Query, QueryString, Scheme, Length: Hots",
    );
    refused(
        "<policies><inbound><set-header name=\"x\" exists-action=\"override\"><value>@{ return context.Response.StatusCode.Value.ToString(); }</value></set-header></inbound></policies>",
        api,
        1,
        111,
        "a number, which has no properties",
    );
    refused(
        "<policies><inbound><base /><base /></inbound></policies>",
        api,
        1,
        28,
        "once",
    );
    refused(
        "<policies><inbound></outbound></policies>",
        api,
        1,
        20,
        "not well-formed",
    );
    refused("<policy />", api, 1, 1, "root element");
    refused(
        "<policies><inbound><choose><otherwise /></choose></inbound></policies>",
        api,
        1,
        20,
        "<when",
    );
    refused(
        "<policies><inbound><set-header name=\"content-length\"><value>1</value></set-header></inbound></policies>",
        api,
        1,
        38,
        "cannot be changed",
    );
    refused(
        "<policies><backend><forward-request timeout=\"soon\" /></backend></policies>",
        api,
        1,
        46,
        "whole number",
    );
    refused(
        "<policies><inbound><cors allow-credentials=\"true\"><allowed-origins><origin>*</origin></allowed-origins></cors></inbound></policies>",
        api,
        1,
        20,
        "allow-credentials",
    );
}

#[test]
fn every_fault_is_reported_not_just_the_first() {
    let text = "<policies>\n<inbound>\n<bogus />\n<other />\n</inbound>\n</policies>";
    let diagnostics = PolicyDocument::parse(text, ScopeKind::Api, "test").expect_err("refused");
    let lines: Vec<_> = diagnostics.0.iter().map(|d| d.line).collect();
    assert_eq!(lines, [3, 4]);
}

#[test]
fn base_inlines_the_parent_where_it_stands() {
    let global = Arc::new(
        PolicyDocument::parse(
            r#"<policies><inbound><set-variable name="g" value="1" /></inbound><backend><forward-request /></backend></policies>"#,
            ScopeKind::Global,
            "global",
        )
        .unwrap(),
    );
    let api = Arc::new(
        PolicyDocument::parse(
            r#"<policies><inbound><trace source="api"><message>api</message></trace><base /></inbound></policies>"#,
            ScopeKind::Api,
            "API echo",
        )
        .unwrap(),
    );
    let operation = Arc::new(
        PolicyDocument::parse(
            r#"<policies><inbound><set-method>GET</set-method><base /><set-header name="x" exists-action="delete" /></inbound></policies>"#,
            ScopeKind::Operation,
            "operation echo/get",
        )
        .unwrap(),
    );
    let pipeline = Pipeline::new(vec![operation.clone(), api.clone(), global.clone()]);
    assert_eq!(
        pipeline.step_names(SectionKind::Inbound),
        ["set-method", "trace", "set-variable", "set-header"]
    );
    // Sections the operation and API leave out inherit the global backend.
    assert_eq!(
        pipeline.step_names(SectionKind::Backend),
        ["forward-request"]
    );

    let merged = effective_xml(&[&operation, &api, &global]);
    let order: Vec<usize> = ["<set-method>", "<trace", "<set-variable", "<set-header"]
        .iter()
        .map(|needle| {
            merged
                .find(needle)
                .unwrap_or_else(|| panic!("{needle} in {merged}"))
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{merged}");
    assert!(merged.contains("<!-- API echo -->"), "{merged}");
    // The merged document is itself a valid operation document.
    compile(&merged, ScopeKind::Operation).expect("the effective policy compiles");
}

#[test]
fn a_section_without_base_drops_inheritance() {
    let global = Arc::new(PolicyDocument::default_for(ScopeKind::Global, "global"));
    let api = Arc::new(
        PolicyDocument::parse(
            r#"<policies><backend><return-response /></backend></policies>"#,
            ScopeKind::Api,
            "API",
        )
        .unwrap(),
    );
    let pipeline = Pipeline::new(vec![api, global]);
    assert_eq!(
        pipeline.step_names(SectionKind::Backend),
        ["return-response"]
    );
}

/// `levels` nested `<choose><when>`, with a `set-header` at the bottom.
fn nested_choose(levels: usize) -> String {
    let open = r#"<choose><when condition="@(true)">"#;
    let mut text = String::from("<policies><inbound>");
    text.push_str(&open.repeat(levels));
    text.push_str(
        r#"<set-header name="x-deep" exists-action="override"><value>1</value></set-header>"#,
    );
    text.push_str(&"</when></choose>".repeat(levels));
    text.push_str("</inbound></policies>");
    text
}

/// Runs `work` on a thread with a tokio worker's stack (2 MiB): a recursion that is not
/// bounded overflows it and aborts the test process.
fn on_a_worker_sized_stack<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(work)
        .expect("a thread")
        .join()
        .expect("no panic")
}

#[test]
fn hostile_nesting_is_refused_naming_the_limit_not_a_stack_overflow() {
    let text = nested_choose(5_000);
    assert!(
        text.len() > 200_000 && text.len() < 256 * 1024,
        "{}",
        text.len()
    );
    let fault = on_a_worker_sized_stack(move || compile(&text, ScopeKind::Api).unwrap_err());
    assert!(fault.contains("Line 1, column"), "{fault}");
    assert!(fault.contains("at most 64"), "{fault}");
}

#[test]
fn the_deepest_document_allowed_compiles_flattens_and_prints_on_a_worker_stack() {
    // 2 (policies, inbound) + 2 per level + 1 (set-header) = 63 ≤ 64 elements deep.
    let text = nested_choose(30);
    on_a_worker_sized_stack(move || {
        let api = Arc::new(compile(&text, ScopeKind::Api).expect("it compiles"));
        let global = Arc::new(PolicyDocument::default_for(ScopeKind::Global, "global"));
        let pipeline = Pipeline::new(vec![api.clone(), global.clone()]);
        assert_eq!(pipeline.step_names(SectionKind::Inbound), ["choose"]);
        let merged = effective_xml(&[&api, &global]);
        compile(&merged, ScopeKind::Api).expect("the effective policy compiles");
    });
    assert!(compile(&nested_choose(32), ScopeKind::Api).is_err());
}

/// Expressions written as APIM's documentation writes them — raw quotes, angle brackets and
/// ampersands inside attribute values and text — mean the same as the escaped form.
#[test]
fn expressions_with_raw_xml_characters_read_as_apim_reads_them() {
    let raw = r#"<policies>
  <inbound>
    <choose>
      <when condition="@(context.Request.Method == "POST" && context.Request.Headers.GetValueOrDefault("x-tenant", "") != "")">
        <set-header name="x-seen" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("x-tenant", "<none>"))</value></set-header>
      </when>
    </choose>
  </inbound>
</policies>"#;
    let escaped = r#"<policies>
  <inbound>
    <choose>
      <when condition="@(context.Request.Method == &quot;POST&quot; &amp;&amp; context.Request.Headers.GetValueOrDefault(&quot;x-tenant&quot;, &quot;&quot;) != &quot;&quot;)">
        <set-header name="x-seen" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("x-tenant", "&lt;none&gt;"))</value></set-header>
      </when>
    </choose>
  </inbound>
</policies>"#;
    let raw_doc = compile(raw, ScopeKind::Api).expect("the raw form is accepted");
    let escaped_doc = compile(escaped, ScopeKind::Api).expect("the escaped form is accepted");
    let write = |doc: &PolicyDocument| effective_xml(&[doc]);
    assert_eq!(write(&raw_doc), write(&escaped_doc));
    assert!(
        write(&raw_doc).contains("&lt;none&gt;"),
        "{}",
        write(&raw_doc)
    );
}

/// A fault inside a raw expression is placed in the text as it was written.
#[test]
fn a_fault_after_a_raw_expression_points_at_the_original_text() {
    let text = "<policies>\n  <inbound>\n    <set-header name=\"x\" exists-action=\"override\"><value>@(\"a\" + \"<b>\")</value></set-header>\n    <no-such-policy />\n  </inbound>\n</policies>";
    let fault = compile(text, ScopeKind::Api).unwrap_err();
    assert!(fault.starts_with("Line 4, column 5:"), "{fault}");
    let unclosed = "<policies>\n  <inbound>\n    <set-variable name=\"v\" value=\"@(foo(&quot;)\" />\n  </inbound>\n</policies>";
    let fault = compile(unclosed, ScopeKind::Api).unwrap_err();
    assert!(fault.starts_with("Line 3, column 35:"), "{fault}");
    assert!(fault.contains("never ends"), "{fault}");
}
