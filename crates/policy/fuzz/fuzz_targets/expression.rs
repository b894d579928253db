//! Any text given to the expression parser, and whatever parses evaluated against a request:
//! errors are fine, panics and stack overflows are not.

#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_policy::Exchange;
use portcullis_policy::expr::{Template, parse};

fuzz_target!(|text: &str| {
    let request = http::Request::builder()
        .method("POST")
        .uri("/api/users/42?view=full&x=%41")
        .header("x-tenant", "alpha")
        .header("x-count", "41")
        .body(())
        .map(|r| r.into_parts().0);
    let Ok(parts) = request else { return };
    let exchange = Exchange::new(
        parts,
        "127.0.0.1"
            .parse()
            .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()),
        "svc.localhost".into(),
    );
    if let Ok(expr) = parse(text) {
        let _ = expr.eval(&exchange);
    }
    if let Ok(template) = Template::parse(text) {
        let _ = template.render(&exchange);
        let _ = template.truth(&exchange);
    }
});
