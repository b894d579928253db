//! Any text given to the policy parser and validator: it must answer Ok or a diagnostic,
//! never panic; and what it accepts must survive the effective-policy round trip.

#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_policy::effective::effective_xml;
use portcullis_policy::{PolicyDocument, ScopeKind};

fuzz_target!(|text: &str| {
    for scope in [
        ScopeKind::Global,
        ScopeKind::Product,
        ScopeKind::Api,
        ScopeKind::Operation,
    ] {
        match PolicyDocument::parse(text, scope, "fuzz") {
            Ok(document) => {
                let global = PolicyDocument::default_for(ScopeKind::Global, "global");
                let chain = if scope == ScopeKind::Global {
                    vec![&document]
                } else {
                    vec![&document, &global]
                };
                let merged = effective_xml(&chain);
                if let Err(diagnostics) = PolicyDocument::parse(&merged, scope, "fuzz") {
                    panic!(
                        "the effective policy of an accepted document does not compile: {diagnostics}\n{merged}"
                    );
                }
            }
            Err(diagnostics) => {
                assert!(!diagnostics.0.is_empty());
                for diagnostic in &diagnostics.0 {
                    assert!(diagnostic.line >= 1 && diagnostic.column >= 1);
                }
            }
        }
    }
});
