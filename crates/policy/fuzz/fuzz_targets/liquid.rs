//! Any text as a Liquid template (`set-body template="liquid"`), rendered over any body:
//! the input is the template, then a NUL, then the body (read as JSON when it is JSON).
//! Errors and spent budgets are fine; panics, hangs and stack overflows are not.

#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_script::liquid::{Limits, Template};

fuzz_target!(|text: &str| {
    let (template, body) = text.split_once('\0').unwrap_or((text, ""));
    let Ok(template) = Template::parse(template, 0) else {
        return;
    };
    let body = serde_json::from_str(body)
        .unwrap_or_else(|_| serde_json::Value::String(body.to_owned()));
    let mut data = serde_json::Map::new();
    data.insert("body".into(), body);
    // Small budgets keep each run short; the bounds are what is under test.
    let limits = Limits {
        steps: 20_000,
        max_text: 1 << 16,
        copy_bytes: 1 << 20,
    };
    let _ = template.render(&data, limits);
});
