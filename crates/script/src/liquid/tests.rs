//! Templates rendered whole: Liquid's semantics, and the bounds on what a request's body can
//! make a template do.

use super::{Limits, Template};
use crate::error::RunError;
use serde_json::{Map, Value, json};

fn data(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn render(template: &str, body: Value) -> String {
    Template::parse(template, 0)
        .unwrap()
        .render(&data(json!({ "body": body })), Limits::default())
        .unwrap()
}

#[test]
fn the_documentation_examples_transform_json() {
    // set-body policy page, "Transform JSON using a Liquid template".
    let template = "{\n\"order\": {\n    \"id\": \"{{body.customer.purchase.identifier}}\",\n    \"summary\": \"{{body.customer.purchase.orderShortDesc}}\"\n    }\n}";
    let body = json!({"customer": {"purchase": {"identifier": "4711", "orderShortDesc": "Nails"}}});
    let out: Value = serde_json::from_str(&render(template, body)).unwrap();
    assert_eq!(out, json!({"order": {"id": "4711", "summary": "Nails"}}));
}

#[test]
fn control_flow() {
    let body = json!({"items": [{"n": "a", "q": 1}, {"n": "b", "q": 5}, {"n": "c", "q": 3}]});
    assert_eq!(
        render(
            "{% for i in body.items %}{% if i.q > 2 %}{{ i.n }}{% elsif i.q == 1 %}-{% else %}?{% endif %}{% endfor %}",
            body.clone()
        ),
        "-bc"
    );
    assert_eq!(
        render(
            "{% for i in body.items reversed limit: 2 %}{{ forloop.index }}{{ i.n }}{% unless forloop.last %},{% endunless %}{% endfor %}",
            body.clone()
        ),
        // Liquid takes the limit first, then reverses.
        "1b,2a"
    );
    assert_eq!(
        render(
            "{% for i in body.items %}{% if i.n == 'b' %}{% break %}{% endif %}{{ i.n }}{% endfor %}",
            body.clone()
        ),
        "a"
    );
    assert_eq!(
        render(
            "{% for i in body.none %}x{% else %}empty{% endfor %}",
            body.clone()
        ),
        "empty"
    );
    assert_eq!(
        render(
            "{% case body.items.size %}{% when 1, 2 %}few{% when 3 %}three{% else %}many{% endcase %}",
            body.clone()
        ),
        "three"
    );
    assert_eq!(
        render(
            "{% assign names = body.items | Map: 'n' | Join: '+' %}{{ names | Upcase }}",
            body.clone()
        ),
        "A+B+C"
    );
    assert_eq!(
        render(
            "{% capture x %}{{ body.items[1].n }}{{ body.items[-1].n }}{% endcapture %}[{{ x }}]",
            body
        ),
        "[bc]"
    );
    assert_eq!(
        render("{% for i in (1..3) %}{{ i }}{% endfor %}", Value::Null),
        "123"
    );
    assert_eq!(
        render(
            "{% if x == empty and body == nil %}yes{% endif %}",
            Value::Null
        ),
        ""
    );
    assert_eq!(
        render("{% if '' == empty or false %}yes{% endif %}", Value::Null),
        "yes"
    );
    assert_eq!(render("{{ 'a b' | Split: ' ' | Size }}", Value::Null), "2");
    assert_eq!(
        render(
            "{% increment n %}{% increment n %}{% decrement m %}",
            Value::Null
        ),
        "01-1"
    );
    assert_eq!(
        render(
            "{% for i in (1..3) %}{% cycle 'x', 'y' %}{% endfor %}",
            Value::Null
        ),
        "xyx"
    );
}

#[test]
fn missing_values_are_nil_and_write_nothing() {
    assert_eq!(render("[{{ body.a.b[3].c }}]", json!({"a": 1})), "[]");
    assert_eq!(
        render(
            "{{ body.flag }} {{ body.n }}",
            json!({"flag": true, "n": 2.5})
        ),
        "true 2.5"
    );
}

fn budget_error(template: &str, body: Value, limits: Limits) -> String {
    match Template::parse(template, 0)
        .unwrap()
        .render(&data(json!({ "body": body })), limits)
    {
        Err(RunError::Budget(message)) => message,
        // A filter whose result would pass the bound on texts fails where it stands.
        Err(RunError::Failed { message, .. }) if message.contains("bounded") => message,
        other => panic!("{template}: {other:?}"),
    }
}

#[test]
fn a_body_cannot_make_a_template_hang_or_grow_without_bound() {
    let limits = Limits::default();
    // A range the body sizes, with nothing written in it.
    let message = budget_error(
        "{% for i in (1..body.n) %}{% endfor %}",
        json!({"n": 1_000_000_000_000_i64}),
        limits,
    );
    assert!(message.contains("steps"), "{message}");
    // A text that doubles in a loop.
    let message = budget_error(
        "{% assign s = 'xx' %}{% for i in (1..64) %}{% assign s = s | Append: s %}{% endfor %}",
        Value::Null,
        limits,
    );
    assert!(
        message.contains("budget") || message.contains("bound"),
        "{message}"
    );
    // The same by capture.
    let message = budget_error(
        "{% assign s = 'xx' %}{% for i in (1..64) %}{% capture s %}{{ s }}{{ s }}{% endcapture %}{% endfor %}",
        Value::Null,
        limits,
    );
    assert!(message.contains("bound"), "{message}");
    // Loops inside loops over a large body, writing little.
    let big: Vec<Value> = (0..2000).map(|i| json!({"i": i})).collect();
    let message = budget_error(
        "{% for a in body.items %}{% for b in body.items %}{% endfor %}{% endfor %}",
        json!({ "items": big }),
        limits,
    );
    assert!(
        message.contains("bound") || message.contains("steps"),
        "{message}"
    );
}

#[test]
fn a_range_made_into_a_list_is_bounded() {
    let template = Template::parse("{% assign r = (1..body.n) %}{{ r | Size }}", 0).unwrap();
    let out = template.render(&data(json!({"body": {"n": 10}})), Limits::default());
    assert_eq!(out.unwrap(), "10");
    let out = template.render(
        &data(json!({"body": {"n": 1_000_000_000}})),
        Limits::default(),
    );
    assert!(matches!(out, Err(RunError::Failed { .. })), "{out:?}");
}

#[test]
fn failures_are_run_errors_at_the_filter() {
    let template = Template::parse("ab {{ 1 | DividedBy: body.zero }}", 0).unwrap();
    let out = template.render(&data(json!({"body": {"zero": 0}})), Limits::default());
    assert!(
        matches!(out, Err(RunError::Failed { offset: 10, .. })),
        "{out:?}"
    );
}
