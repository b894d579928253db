//! APIM's documentation examples (`tests/apim_docs/`, sources in `SOURCES.md`), read as APIM
//! reads them. Each file is taken unchanged from the page it names; a fragment (a policy or a
//! section on its own, as the pages show them) is wrapped into a document here.
//!
//! Every example must compile, except those in [`KNOWN_GAPS`], each with what it needs —
//! and those must still fail, so the list shrinks as the missing pieces land (issue 15).

use portcullis_policy::library::{CertificateInfo, PublicKey, ServiceLibrary};
use portcullis_policy::{PolicyDocument, ScopeKind};
use std::collections::BTreeMap;
use std::path::Path;

/// Examples that need what Portcullis does not have yet, and why.
const KNOWN_GAPS: &[(&str, &str)] = &[
    (
        "cache-lookup-policy__1.xml",
        "not valid as written: the page writes duration=\"seconds\" (a placeholder) where a number goes",
    ),
    (
        "api-management-sample-send-request__5.xml",
        "not C#: the page writes a stray quote after each @(…) in set-url",
    ),
    (
        "limit-concurrency-policy__1.xml",
        "not a document: the page puts '…' where the other policies go",
    ),
    (
        "set-backend-service-policy__2.xml",
        "not C#: the page's expression misses a closing parenthesis",
    ),
    (
        "set-body-policy__3.xml",
        "not C#: the page's example is pseudo-code (`== <tag>`)",
    ),
    (
        "set-header-policy__1.xml",
        "a header name with spaces ('some header name', a placeholder of the page)",
    ),
    (
        "set-header-policy__2.xml",
        "a header name with spaces ('some header name', a placeholder of the page)",
    ),
];

const SECTIONS: [&str; 4] = ["inbound", "backend", "outbound", "on-error"];

/// The example as whole documents to try: as written when it is one; a section wrapped in
/// `<policies>`; a policy or several wrapped in each section in turn (the pages show
/// `forward-request` fragments that belong in `<backend>`, `set-body` ones for either way).
fn as_documents(text: &str) -> Vec<String> {
    let body = text.trim_start();
    let root = body
        .strip_prefix('<')
        .map(|rest| {
            rest.split(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .next()
                .unwrap_or("")
        })
        .unwrap_or("");
    if root == "policies" || (root == "!--" && body.contains("<policies")) {
        return vec![text.to_owned()];
    }
    if SECTIONS.contains(&root) {
        return vec![format!("<policies>\n{text}\n</policies>")];
    }
    SECTIONS
        .iter()
        .map(|section| format!("<policies>\n<{section}>\n{text}\n</{section}>\n</policies>"))
        .collect()
}

/// Named values the examples reference get a value: base64 text without padding, which
/// serves where an example expects a signing key and where it names a header.
fn named_values(text: &str) -> BTreeMap<String, String> {
    portcullis_policy::policy_text::named_value_references(text)
        .into_iter()
        .map(|name| {
            (
                name.to_owned(),
                "c2lnbmluZy1rZXktb2YtdGhlLWRvY3MtZXhhbXBsZXMtZm9yLXRlc3Rz".to_owned(),
            )
        })
        .collect()
}

/// Compiles at the first scope that takes the example (rate limits and quotas have theirs).
/// Fragments the examples include exist, empty (the pages do not show their content).
fn fragments(text: &str) -> BTreeMap<String, String> {
    portcullis_policy::catalogue::include_fragment::included_fragments(&format!(
        "<policies>{text}</policies>"
    ))
    .into_iter()
    .map(|id| (id, "<fragment></fragment>".to_owned()))
    .collect()
}

/// Certificates the examples name (by id or thumbprint) exist, with a private key, and so
/// do the backends they name.
fn library(text: &str) -> ServiceLibrary {
    let mut library = ServiceLibrary {
        fragments: fragments(text),
        ..ServiceLibrary::default()
    };
    let document = format!("<policies>{text}</policies>");
    library
        .backends
        .extend(portcullis_policy::catalogue::set_backend_service::named_backends(&document));
    for named in
        portcullis_policy::catalogue::authentication_certificate::named_certificates(&document)
    {
        let is_thumbprint = named.len() == 40 && named.bytes().all(|b| b.is_ascii_hexdigit());
        let (id, thumbprint) = if is_thumbprint {
            (format!("by-{named}"), named.clone())
        } else {
            (named.clone(), "0".repeat(40))
        };
        library.certificates.insert(
            id.clone(),
            CertificateInfo {
                id,
                thumbprint,
                public_key: PublicKey::Rsa(Vec::new()),
                has_private_key: true,
            },
        );
    }
    library
}

fn compile(text: &str) -> Result<(), String> {
    let named = named_values(text);
    let fragments = library(text);
    let mut faults = Vec::new();
    for document in as_documents(text) {
        for scope in [
            ScopeKind::Api,
            ScopeKind::Product,
            ScopeKind::Operation,
            ScopeKind::Global,
        ] {
            match PolicyDocument::parse_in(&document, scope, "docs", &named, &fragments) {
                Ok(_) => return Ok(()),
                Err(diagnostics) => faults.push(diagnostics.to_string()),
            }
        }
    }
    Err(faults.swap_remove(0))
}

#[test]
fn the_documentations_examples_compile() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apim_docs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the examples")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "{} examples", files.len());
    let mut unexpected = Vec::new();
    let mut accepted = 0;
    for path in &files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let text = std::fs::read_to_string(path).expect("UTF-8");
        let gap = KNOWN_GAPS.iter().find(|(file, _)| *file == name);
        match (compile(&text), gap) {
            (Ok(()), None) => accepted += 1,
            (Err(fault), None) => unexpected.push(format!("{name}: refused: {fault}")),
            (Ok(()), Some(_)) => {
                unexpected.push(format!("{name}: compiles now — take it off KNOWN_GAPS"))
            }
            (Err(_), Some(_)) => {}
        }
    }
    println!(
        "{accepted} of {} documentation examples compile; {} known gaps",
        files.len(),
        KNOWN_GAPS.len()
    );
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}
