//! `<validate-jwt>`: the request must carry a valid JSON Web Token — signed with one of the
//! `issuer-signing-keys` (HS256/384/512 with a base64 `<key>`, RS256/384/512 with
//! `<key n="…" e="…"/>` or a PEM public key), not expired, and matching `audiences`,
//! `issuers` and `required-claims`. Otherwise the caller gets `failed-validation-httpcode`
//! (401) with the configured or a specific message.

use super::{Compiler, Context, Flow, Outcome, Policy, Step, expression_failed, status_code};
use crate::error::{Diagnostic, Rejection};
use crate::expr::{Template, Value};
use crate::xml::Element;
use base64::Engine;
use http::{HeaderName, StatusCode};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::borrow::Cow;

#[derive(Debug)]
enum Source {
    Header {
        name: HeaderName,
        scheme: Option<String>,
    },
    Query(String),
    Value(Template),
}

#[derive(Clone)]
enum Key {
    Hmac(DecodingKey),
    Rsa(DecodingKey),
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Hmac(_) => "Key::Hmac(***)",
            Self::Rsa(_) => "Key::Rsa",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    All,
    Any,
}

#[derive(Debug)]
struct RequiredClaim {
    name: String,
    matching: Match,
    separator: Option<String>,
    values: Vec<String>,
}

#[derive(Debug)]
pub struct ValidateJwt {
    source: Source,
    status: StatusCode,
    message: Option<String>,
    require_expiration: bool,
    clock_skew: u64,
    output_variable: Option<Box<str>>,
    keys: Vec<Key>,
    audiences: Vec<String>,
    issuers: Vec<String>,
    claims: Vec<RequiredClaim>,
}

impl ValidateJwt {
    fn refuse(&self, reason: &str) -> Rejection {
        Rejection::Refused {
            status: self.status,
            message: self.message.clone().unwrap_or_else(|| reason.to_owned()),
        }
    }

    fn token<'e>(&'e self, cx: &'e Context<'_>) -> Result<Option<Cow<'e, str>>, Rejection> {
        Ok(match &self.source {
            Source::Header { name, scheme } => {
                let Some(value) = cx
                    .exchange
                    .request
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                else {
                    return Ok(None);
                };
                let value = value.trim();
                match scheme {
                    None => Some(Cow::Borrowed(value)),
                    Some(scheme) => value
                        .split_once(' ')
                        .filter(|(s, _)| s.eq_ignore_ascii_case(scheme))
                        .map(|(_, token)| Cow::Borrowed(token.trim())),
                }
            }
            Source::Query(name) => cx
                .exchange
                .request
                .uri
                .query()
                .and_then(|q| {
                    q.split('&').find_map(|pair| {
                        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
                        (n == name).then(|| v.to_owned())
                    })
                })
                .map(Cow::Owned),
            Source::Value(template) => {
                let text = template
                    .render(&*cx.exchange)
                    .map_err(|e| expression_failed("validate-jwt token-value", e))?;
                (!text.is_empty()).then(|| Cow::Owned(text.into_owned()))
            }
        })
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.clock_skew;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.required_spec_claims.clear();
        if self.require_expiration {
            validation.required_spec_claims.insert("exp".to_owned());
        }
        if self.audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&self.audiences);
        }
        if !self.issuers.is_empty() {
            validation.set_issuer(&self.issuers);
        }
        validation
    }

    fn verify(&self, token: &str) -> Result<serde_json::Value, Rejection> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| self.refuse("JWT Validation Failed: Malformed JWT."))?;
        let hmac = matches!(
            header.alg,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        );
        let rsa = matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
        );
        let validation = self.validation(header.alg);
        let mut last = "JWT Validation Failed: Signature validation failed.";
        for key in &self.keys {
            let key = match key {
                Key::Hmac(key) if hmac => key,
                Key::Rsa(key) if rsa => key,
                _ => continue,
            };
            match jsonwebtoken::decode::<serde_json::Value>(token, key, &validation) {
                Ok(data) => return Ok(data.claims),
                Err(error) => {
                    last = match error.kind() {
                        ErrorKind::InvalidSignature => last,
                        ErrorKind::ExpiredSignature => "JWT Validation Failed: JWT Expired.",
                        ErrorKind::ImmatureSignature => "JWT Validation Failed: JWT not yet valid.",
                        ErrorKind::InvalidAudience => {
                            "JWT Validation Failed: Audience validation failed."
                        }
                        ErrorKind::InvalidIssuer => {
                            "JWT Validation Failed: Issuer validation failed."
                        }
                        ErrorKind::MissingRequiredClaim(_) => {
                            "JWT Validation Failed: JWT has no expiration time."
                        }
                        _ => "JWT Validation Failed: Malformed JWT.",
                    };
                    if !matches!(error.kind(), ErrorKind::InvalidSignature) {
                        // The signature held; the claims did not. Another key will not help.
                        break;
                    }
                }
            }
        }
        Err(self.refuse(last))
    }

    fn check_claims(&self, claims: &serde_json::Value) -> Result<(), Rejection> {
        for claim in &self.claims {
            let present: Vec<String> = match claims.get(&claim.name) {
                None | Some(serde_json::Value::Null) => {
                    return Err(self.refuse(&format!(
                        "JWT Validation Failed: Claim {} is missing.",
                        claim.name
                    )));
                }
                Some(serde_json::Value::Array(items)) => items.iter().map(json_text).collect(),
                Some(value) => {
                    let text = json_text(value);
                    match &claim.separator {
                        Some(separator) => text
                            .split(separator.as_str())
                            .map(|s| s.trim().to_owned())
                            .collect(),
                        None => vec![text],
                    }
                }
            };
            if claim.values.is_empty() {
                continue;
            }
            let ok = match claim.matching {
                Match::All => claim.values.iter().all(|v| present.contains(v)),
                Match::Any => claim.values.iter().any(|v| present.contains(v)),
            };
            if !ok {
                return Err(self.refuse(&format!(
                    "JWT Validation Failed: Claim value mismatch: {}.",
                    claim.name
                )));
            }
        }
        Ok(())
    }
}

fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Policy for ValidateJwt {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let Some(token) = self.token(cx)?.map(std::borrow::Cow::into_owned) else {
            return Err(self.refuse("JWT not present."));
        };
        let claims = self.verify(&token)?;
        self.check_claims(&claims)?;
        cx.exchange.note(|| {
            let subject = claims
                .get("sub")
                .map(json_text)
                .unwrap_or_else(|| "-".to_owned());
            format!("token valid (sub {subject})")
        });
        if let Some(name) = &self.output_variable {
            cx.exchange
                .set_variable(name, Value::Str(Cow::Owned(token)));
        }
        Ok(Flow::Continue)
    }
}

fn text_list(
    cx: &Compiler<'_>,
    element: &Element,
    list: &str,
    item: &str,
) -> Result<Vec<String>, Diagnostic> {
    let Some(list) = element.child(list) else {
        return Ok(Vec::new());
    };
    cx.only_attributes(list, &[])?;
    cx.only_children(list, &[item])?;
    Ok(list
        .children_named(item)
        .map(|e| e.text_value().to_owned())
        .collect())
}

fn compile_key(cx: &Compiler<'_>, key: &Element) -> Result<Key, Diagnostic> {
    cx.only_attributes(key, &["n", "e", "certificate-id"])?;
    if let Some(attribute) = key.attribute("certificate-id") {
        return Err(cx.fault(
            attribute.offset,
            "certificate-id keys are not supported yet; give the key inline.",
        ));
    }
    match (key.attribute("n"), key.attribute("e")) {
        (Some(n), Some(e)) => DecodingKey::from_rsa_components(n.value.trim(), e.value.trim())
            .map(Key::Rsa)
            .map_err(|_| {
                cx.fault(
                    n.offset,
                    "n and e must be the base64url modulus and exponent of an RSA key.",
                )
            }),
        (Some(a), None) | (None, Some(a)) => {
            Err(cx.fault(a.offset, "an RSA key needs both n and e."))
        }
        (None, None) => {
            let text = key.text_value();
            if text.starts_with("-----BEGIN") {
                return DecodingKey::from_rsa_pem(text.as_bytes())
                    .map(Key::Rsa)
                    .map_err(|_| cx.fault(key.offset, "the PEM text is not an RSA public key."));
            }
            let secret = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| cx.fault(key.offset, "a symmetric <key> must be base64-encoded."))?;
            if secret.is_empty() {
                return Err(cx.fault(key.offset, "a <key> must not be empty."));
            }
            Ok(Key::Hmac(DecodingKey::from_secret(&secret)))
        }
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(
        element,
        &[
            "header-name",
            "query-parameter-name",
            "token-value",
            "failed-validation-httpcode",
            "failed-validation-error-message",
            "require-expiration-time",
            "require-scheme",
            "require-signed-tokens",
            "clock-skew",
            "output-token-variable-name",
        ],
    )?;
    cx.only_children(
        element,
        &[
            "openid-config",
            "issuer-signing-keys",
            "decryption-keys",
            "audiences",
            "issuers",
            "required-claims",
        ],
    )?;
    for unsupported in ["openid-config", "decryption-keys"] {
        if let Some(child) = element.child(unsupported) {
            return Err(cx.fault(child.offset, format!("<{unsupported}> is not supported yet; give the signing keys in <issuer-signing-keys>.")));
        }
    }
    let sources: Vec<_> = ["header-name", "query-parameter-name", "token-value"]
        .into_iter()
        .filter_map(|name| element.attribute(name))
        .collect();
    if let [_, second, ..] = sources.as_slice() {
        return Err(cx.fault(
            second.offset,
            "use one of header-name, query-parameter-name and token-value.",
        ));
    }
    let scheme = element
        .attribute("require-scheme")
        .map(|a| cx.literal(a).map(str::to_owned))
        .transpose()?;
    let source = match sources.first() {
        Some(a) if a.name == "query-parameter-name" => Source::Query(cx.literal(a)?.to_owned()),
        Some(a) if a.name == "token-value" => Source::Value(cx.template(a)?),
        Some(a) => Source::Header {
            name: cx.header_name(a)?,
            scheme,
        },
        None => Source::Header {
            name: http::header::AUTHORIZATION,
            scheme: Some(scheme.unwrap_or_else(|| "Bearer".to_owned())),
        },
    };
    if let Some(attribute) = element.attribute("require-signed-tokens")
        && cx.literal(attribute)? != "true"
    {
        return Err(cx.fault(
            attribute.offset,
            "unsigned tokens are never accepted; require-signed-tokens must be true.",
        ));
    }
    let status = match element.attribute("failed-validation-httpcode") {
        Some(attribute) => status_code(cx, attribute)?,
        None => StatusCode::UNAUTHORIZED,
    };
    let keys_element = element.child("issuer-signing-keys").ok_or_else(|| {
        cx.fault(
            element.offset,
            "<validate-jwt> needs <issuer-signing-keys> with at least one <key>.",
        )
    })?;
    cx.only_attributes(keys_element, &[])?;
    cx.only_children(keys_element, &["key"])?;
    let keys = keys_element
        .children_named("key")
        .map(|key| compile_key(cx, key))
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(cx.fault(
            keys_element.offset,
            "<issuer-signing-keys> needs at least one <key>.",
        ));
    }
    let mut claims = Vec::new();
    if let Some(required) = element.child("required-claims") {
        cx.only_attributes(required, &[])?;
        cx.only_children(required, &["claim"])?;
        for claim in required.children_named("claim") {
            cx.only_attributes(claim, &["name", "match", "separator"])?;
            cx.only_children(claim, &["value"])?;
            let matching = match claim
                .attribute("match")
                .map(|a| cx.literal(a))
                .transpose()?
            {
                None | Some("all") => Match::All,
                Some("any") => Match::Any,
                Some(other) => {
                    return Err(cx.fault(
                        claim.offset,
                        format!("match must be all or any, not '{other}'."),
                    ));
                }
            };
            claims.push(RequiredClaim {
                name: cx.literal(cx.required(claim, "name")?)?.to_owned(),
                matching,
                separator: claim.attribute("separator").map(|a| a.value.clone()),
                values: claim
                    .children_named("value")
                    .map(|v| v.text_value().to_owned())
                    .collect(),
            });
        }
    }
    Ok(Step::Now(
        "validate-jwt",
        Box::new(ValidateJwt {
            source,
            status,
            message: element
                .attribute("failed-validation-error-message")
                .map(|a| cx.literal(a).map(str::to_owned))
                .transpose()?,
            require_expiration: cx.boolean(element, "require-expiration-time", true)?,
            clock_skew: cx
                .optional_number(element, "clock-skew", 0..=86_400)?
                .unwrap_or(0),
            output_variable: element
                .attribute("output-token-variable-name")
                .map(|a| cx.literal(a).map(Box::from))
                .transpose()?,
            keys,
            audiences: text_list(cx, element, "audiences", "audience")?,
            issuers: text_list(cx, element, "issuers", "issuer")?,
            claims,
        }),
    ))
}
