//! What the policy engine costs per request, measured without any network: a compiled
//! pipeline (the benchmark's case (c): `ip-filter`, `rate-limit-by-key`, `set-header`, under
//! the default API and global documents) run against an exchange, with an upstream that
//! answers at once. Also what compiling that document costs when it is saved, and what a
//! sliding-window counter costs once a minute of traffic is in it — and what the C#
//! interpreter costs on the two scripts policies write most: a statement block that reads a
//! JSON body property into a header, and a LINQ query over the headers.
//!
//! `cargo bench -p portcullis-policy`

use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, StatusCode};
use portcullis_policy::catalogue::forward_request::ForwardOptions;
use portcullis_policy::counters::MemoryCounters;
use portcullis_policy::engine::{self, Pipeline, Upstream};
use portcullis_policy::exchange::{Exchange, ResponseState};
use portcullis_policy::{PolicyDocument, Rejection, ScopeKind};
use std::future::Future;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

const CASE_C: &str = r#"<policies>
  <inbound>
    <base />
    <ip-filter action="allow"><address-range from="127.0.0.0" to="127.255.255.255" /></ip-filter>
    <rate-limit-by-key calls="1000000000" renewal-period="60" counter-key="@(context.Request.IpAddress)" />
    <set-header name="x-bench" exists-action="override"><value>portcullis</value></set-header>
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>"#;

/// A backend that answers 200 at once.
struct Answering;

impl Upstream for Answering {
    fn forward<'a>(
        &'a mut self,
        exchange: &'a mut Exchange,
        _options: &'a ForwardOptions,
    ) -> Pin<Box<dyn Future<Output = Result<(), Rejection>> + Send + 'a>> {
        exchange.response = Some(ResponseState::new(StatusCode::OK));
        Box::pin(std::future::ready(Ok(())))
    }
}

fn pipeline(api_document: &str) -> Pipeline {
    let api = PolicyDocument::parse(api_document, ScopeKind::Api, "API bench")
        .expect("the benchmark document compiles");
    let global = PolicyDocument::default_for(ScopeKind::Global, "global");
    Pipeline::new(vec![Arc::new(api), Arc::new(global)])
}

fn exchange() -> Exchange {
    let (parts, ()) = Request::get("http://bench.localhost/policied/hello?x=1")
        .header("accept", "application/json")
        .body(())
        .expect("a valid request")
        .into_parts();
    Exchange::new(
        parts,
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        Arc::from("bench.localhost"),
    )
}

fn run_pipeline(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let counters = MemoryCounters::new();
    let error_response = |_: &Rejection, _: &Exchange| ResponseState::new(StatusCode::FORBIDDEN);
    let caches = portcullis_policy::value_cache::Caches::default();
    let mut group = c.benchmark_group("pipeline");
    for (name, document) in [
        ("defaults only", "<policies />"),
        ("ip-filter + rate-limit-by-key + set-header", CASE_C),
    ] {
        let pipeline = pipeline(document);
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut exchange = exchange();
                let rejection = runtime.block_on(engine::run(
                    &pipeline,
                    &mut exchange,
                    &counters,
                    &caches,
                    &mut Answering,
                    &error_response,
                ));
                assert!(rejection.is_none());
                black_box(exchange.response)
            })
        });
    }
    group.finish();
}

/// A statement block that reads a property of the caller's JSON body into a header.
const JSON_BODY_SCRIPT: &str = r#"<policies><inbound><base />
  <set-header name="x-customer" exists-action="override"><value>@{
    var body = context.Request.Body.As<JObject>(preserveContent: true);
    return (string)body["customer"]["id"];
  }</value></set-header>
</inbound></policies>"#;

/// A LINQ query over the request headers.
const LINQ_SCRIPT: &str = r#"<policies><inbound><base />
  <set-header name="x-names" exists-action="override"><value>@(string.Join(",", context.Request.Headers.Where(h => h.Key.StartsWith("x-")).Select(h => h.Key.ToUpper())))</value></set-header>
</inbound></policies>"#;

fn run_scripts(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let counters = MemoryCounters::new();
    let caches = portcullis_policy::value_cache::Caches::default();
    let error_response = |_: &Rejection, _: &Exchange| ResponseState::new(StatusCode::FORBIDDEN);
    // About 1 KB, the customer id near the start.
    let body = bytes::Bytes::from(format!(
        r#"{{"customer":{{"id":"c-1042","name":"Contoso"}},"lines":[{}]}}"#,
        (0..20)
            .map(|i| format!(r#"{{"sku":"item-{i}","qty":{i}}}"#))
            .collect::<Vec<_>>()
            .join(",")
    ));
    let mut group = c.benchmark_group("scripts");
    for (name, document) in [
        (
            "@{ } reads a JSON body property into a header",
            JSON_BODY_SCRIPT,
        ),
        ("@( ) LINQ over 12 headers into a header", LINQ_SCRIPT),
    ] {
        let pipeline = pipeline(document);
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut exchange = exchange();
                for i in 0..10 {
                    exchange.request.headers.insert(
                        http::HeaderName::from_bytes(format!("x-extra-{i}").as_bytes())
                            .expect("a header name"),
                        http::HeaderValue::from_static("value"),
                    );
                }
                exchange.caller_body = Some(body.clone());
                let rejection = runtime.block_on(engine::run(
                    &pipeline,
                    &mut exchange,
                    &counters,
                    &caches,
                    &mut Answering,
                    &error_response,
                ));
                assert!(rejection.is_none(), "{rejection:?}");
                black_box(exchange.response)
            })
        });
    }
    group.finish();
}

/// Liquid templates (`set-body template="liquid"`): APIM's JSON example over a 1 KB body,
/// and a template whose loop the body sizes at 10^12 turns — what a spent budget costs.
fn run_liquid(c: &mut Criterion) {
    use portcullis_script::liquid::{Limits, Template};
    let mut data = serde_json::Map::new();
    data.insert(
        "body".into(),
        serde_json::json!({
            "customer": {"purchase": {"identifier": "4711", "orderShortDesc": "Nails"}},
            "n": 1_000_000_000_000_i64,
            "lines": (0..20).map(|i| serde_json::json!({"sku": format!("item-{i}"), "qty": i})).collect::<Vec<_>>(),
        }),
    );
    let docs = Template::parse(
        "{\n\"order\": {\n    \"id\": \"{{body.customer.purchase.identifier}}\",\n    \"summary\": \"{{body.customer.purchase.orderShortDesc}}\"\n    }\n}",
        0,
    )
    .expect("the docs example");
    let lines = Template::parse(
        "[{% for l in body.lines %}{\"sku\": \"{{ l.sku | Upcase }}\", \"qty\": {{ l.qty | Times: 2 }}}{% unless forloop.last %},{% endunless %}{% endfor %}]",
        0,
    )
    .expect("a loop");
    let spent = Template::parse("{% for i in (1..body.n) %}{% endfor %}", 0).expect("a range");
    let mut group = c.benchmark_group("liquid");
    group.bench_function("docs JSON example", |b| {
        b.iter(|| black_box(docs.render(&data, Limits::default())))
    });
    group.bench_function("loop over 20 lines with filters", |b| {
        b.iter(|| black_box(lines.render(&data, Limits::default())))
    });
    group.bench_function("a spent budget (10^12 turns asked)", |b| {
        b.iter(|| black_box(spent.render(&data, Limits::default()).is_err()))
    });
    group.finish();
}

fn compile_document(c: &mut Criterion) {
    c.bench_function("compile case (c) document", |b| {
        b.iter(|| PolicyDocument::parse(black_box(CASE_C), ScopeKind::Api, "API bench"))
    });
}

/// One key's sliding window after a minute of steady traffic (a call every millisecond, the
/// load `bench/run.sh` puts on case (c)): what each further call costs the counter.
fn busy_window(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let _clock = runtime.enter();
    let counters = MemoryCounters::new();
    let minute = Duration::from_secs(60);
    for _ in 0..60_000 {
        counters.hit_window_now("busy", u64::MAX, minute, 1);
        runtime.block_on(tokio::time::advance(Duration::from_millis(1)));
    }
    c.bench_function("rate-limit window after a busy minute", |b| {
        b.iter(|| counters.hit_window_now(black_box("busy"), u64::MAX, minute, 1))
    });
}

criterion_group!(
    benches,
    run_pipeline,
    run_scripts,
    run_liquid,
    compile_document,
    busy_window
);
criterion_main!(benches);
