//! `<authentication-certificate>`: the gateway presents a client certificate in its TLS
//! handshake with the backend. Three forms, as in APIM — exactly one of:
//!
//! * `certificate-id="…"`: a certificate uploaded to the service (with its private key);
//! * `thumbprint="…"`: the same, found by its SHA-1 thumbprint (either may be an expression,
//!   looked up when the request goes out);
//! * `body="@(…)"` (with an optional `password`): a PKCS#12 (PFX) file an expression yields,
//!   as a `byte[]` or its base64 text — read by the gateway when the request goes out.
//!
//! The first two, written as text, are checked when the document is saved: the certificate must exist and hold
//! a private key. The policy itself only names the certificate
//! ([`crate::exchange::ClientCertificate`]); the gateway keeps one TLS client per certificate
//! and never reuses a connection opened with one certificate for a call with another (or
//! none).

use super::{Compiler, Context, Flow, Outcome, Policy, Step, expression_failed};
use crate::error::Diagnostic;
use crate::exchange::ClientCertificate;
use crate::expr::Template;
use crate::expr::Value;
use crate::xml::Element;
use base64::Engine as _;
use bytes::Bytes;
use std::sync::Arc;

/// A PKCS#12 file from an expression is at most this large.
pub const MAX_INLINE_CERTIFICATE: usize = 64 * 1024;

#[derive(Debug)]
enum Source {
    /// Found when the document was saved: the thumbprint.
    Stored(Arc<str>),
    /// An expression that gives the certificate's id (`by_thumbprint`: its thumbprint),
    /// looked up when the request goes out.
    Computed {
        template: Template,
        by_thumbprint: bool,
    },
    Inline {
        body: Template,
        password: Option<Template>,
    },
}

#[derive(Debug)]
pub struct AuthenticationCertificate {
    source: Source,
}

impl AuthenticationCertificate {
    /// The certificate this policy names for this request.
    pub fn resolve(&self, exchange: &crate::Exchange) -> Result<ClientCertificate, String> {
        match &self.source {
            Source::Stored(thumbprint) => Ok(ClientCertificate::Stored(thumbprint.clone())),
            Source::Computed {
                template,
                by_thumbprint,
            } => {
                let named = template.render(exchange)?;
                let named = named.trim();
                Ok(if *by_thumbprint {
                    // Thumbprints are kept in upper case (APIM writes them so).
                    ClientCertificate::Stored(Arc::from(named.to_ascii_uppercase()))
                } else {
                    ClientCertificate::Id(Arc::from(named))
                })
            }
            Source::Inline { body, password } => {
                let pfx = pfx_bytes(body.value(exchange)?)?;
                let password = match password {
                    Some(password) => password.render(exchange)?.into_owned(),
                    None => String::new(),
                };
                Ok(ClientCertificate::Inline { pfx, password })
            }
        }
    }
}

/// The bytes of a PFX file from an expression's value: a `byte[]`, or base64 text.
fn pfx_bytes(value: Value<'_>) -> Result<Bytes, String> {
    let bytes = match value {
        Value::Str(text) => base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| "the certificate text is not base64.".to_owned())?,
        Value::Object(object) => match &object.0 {
            portcullis_script::Value::List(items) => {
                let items = items.lock();
                if items.len() > MAX_INLINE_CERTIFICATE {
                    return Err(too_large());
                }
                items
                    .iter()
                    .map(|item| match item {
                        portcullis_script::Value::Int(b) => u8::try_from(*b).ok(),
                        _ => None,
                    })
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(|| "the certificate is not a byte[].".to_owned())?
            }
            _ => return Err("the certificate must be a byte[] or base64 text.".to_owned()),
        },
        Value::Null => return Err("the certificate expression gave null.".to_owned()),
        other => {
            return Err(format!(
                "the certificate must be a byte[] or base64 text, not {}.",
                other.kind()
            ));
        }
    };
    if bytes.len() > MAX_INLINE_CERTIFICATE {
        return Err(too_large());
    }
    Ok(Bytes::from(bytes))
}

fn too_large() -> String {
    format!(
        "a certificate from an expression has at most {} KiB.",
        MAX_INLINE_CERTIFICATE / 1024
    )
}

impl Policy for AuthenticationCertificate {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let certificate = self
            .resolve(&*cx.exchange)
            .map_err(|e| expression_failed("authentication-certificate", e))?;
        cx.exchange.note(|| match &certificate {
            ClientCertificate::Stored(thumbprint) => {
                format!("client certificate {thumbprint} for the backend")
            }
            ClientCertificate::Id(id) => format!("client certificate '{id}' for the backend"),
            ClientCertificate::Inline { pfx, .. } => {
                format!(
                    "client certificate from an expression ({} bytes)",
                    pfx.len()
                )
            }
        });
        cx.exchange.client_certificate = Some(certificate);
        Ok(Flow::Continue)
    }
}

/// Reads the element's attributes (in `authentication-certificate` and inside
/// `send-request`).
pub fn compile_policy(
    element: &Element,
    cx: &mut Compiler<'_>,
) -> Result<AuthenticationCertificate, Diagnostic> {
    cx.only_attributes(
        element,
        &["thumbprint", "certificate-id", "body", "password"],
    )?;
    cx.only_children(element, &[])?;
    let given: Vec<_> = ["thumbprint", "certificate-id", "body"]
        .into_iter()
        .filter_map(|name| element.attribute(name))
        .collect();
    let attribute = match given.as_slice() {
        [one] => *one,
        [] => {
            return Err(cx.fault(
                element.offset,
                "<authentication-certificate> needs one of thumbprint, certificate-id or body.",
            ));
        }
        [_, second, ..] => {
            return Err(cx.fault(
                second.offset,
                "<authentication-certificate> takes only one of thumbprint, certificate-id and body.",
            ));
        }
    };
    let password = element.attribute("password");
    if attribute.name != "body"
        && let Some(password) = password
    {
        return Err(cx.fault(
            password.offset,
            "password goes with body only: an uploaded certificate's password was given when it was uploaded.",
        ));
    }
    let source = match attribute.name.as_str() {
        "body" => Source::Inline {
            body: cx.template(attribute)?,
            password: password.map(|p| cx.template(p)).transpose()?,
        },
        name if !matches!(cx.template(attribute)?, Template::Literal(_)) => Source::Computed {
            template: cx.template(attribute)?,
            by_thumbprint: name == "thumbprint",
        },
        name => {
            let wanted = cx.literal(attribute)?.trim();
            let found = if name == "thumbprint" {
                cx.library.certificate_with_thumbprint(wanted)
            } else {
                cx.library.certificate(wanted)
            };
            let Some(found) = found else {
                let what = if name == "thumbprint" {
                    format!("with the thumbprint {wanted}")
                } else {
                    format!("'{wanted}'")
                };
                return Err(cx.fault(
                    attribute.offset,
                    format!(
                        "the service has no certificate {what}; upload it under Certificates first."
                    ),
                ));
            };
            if !found.has_private_key {
                return Err(cx.fault(
                    attribute.offset,
                    format!(
                        "the certificate '{}' has no private key, so it cannot authenticate the gateway; upload it as a PFX or with its key.",
                        found.id
                    ),
                ));
            }
            Source::Stored(Arc::from(found.thumbprint.as_str()))
        }
    };
    Ok(AuthenticationCertificate { source })
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    Ok(Step::Now(
        "authentication-certificate",
        Box::new(compile_policy(element, cx)?),
    ))
}

/// The certificate ids and thumbprints `text` names in `authentication-certificate` and
/// validate-jwt keys (for "in use" checks); empty when the text is not well-formed.
pub fn named_certificates(text: &str) -> Vec<String> {
    let Ok(root) = crate::xml::parse_with(text, &()) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut stack = vec![&root];
    // The tree is bounded by the parser's depth limit; walked without recursion.
    while let Some(element) = stack.pop() {
        if matches!(element.name.as_str(), "authentication-certificate" | "key") {
            for name in ["certificate-id", "thumbprint"] {
                if let Some(attribute) = element.attribute(name) {
                    found.push(attribute.value.trim().to_owned());
                }
            }
        }
        stack.extend(element.children.iter());
    }
    found
}
