//! `<validate-jwt>`: the request must carry a valid JSON Web Token — signed with one of the
//! `issuer-signing-keys` (HS256/384/512 with a base64 `<key>`, RS256/384/512 with
//! `<key n="…" e="…"/>` or a PEM public key) or of the keys an `<openid-config>` provider
//! publishes (see [`super::openid_keys`]), not expired, and matching `audiences`, `issuers`
//! (by default the provider's issuer) and `required-claims`. Otherwise the caller gets
//! `failed-validation-httpcode` (401) with the configured or a specific message.
//!
//! `<validate-azure-ad-token tenant-id="…">` is the same check for Microsoft Entra ID
//! tokens: the tenant's OpenID configuration (under the gateway's Entra authority) gives the
//! keys and the issuer (its v1.0 form `https://sts.windows.net/{tenant}/` too), the token's
//! `azp` (or v1.0 `appid`) must be one of `client-application-ids`, and its audience one of
//! `audiences` or `backend-application-ids` (as the id or `api://{id}`).

use super::openid_keys::{Family, OpenIdConfig, SigningKey};
use super::{
    Compiler, Context, Flow, Outcome, Policy, Step, WaitingOutcome, WaitingPolicy,
    expression_failed, status_code,
};
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

/// The key family that checks `algorithm`.
fn family_of(algorithm: Algorithm) -> Family {
    match algorithm {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => Family::Hmac,
        Algorithm::ES256 | Algorithm::ES384 => Family::Ec,
        Algorithm::EdDSA => Family::Ed,
        _ => Family::Rsa,
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
    keys: Vec<SigningKey>,
    openid: Vec<OpenIdConfig>,
    audiences: Vec<Template>,
    issuers: Vec<Template>,
    claims: Vec<RequiredClaim>,
    entra: Option<Entra>,
}

/// What `validate-azure-ad-token` adds.
#[derive(Debug)]
struct Entra {
    tenant: String,
    /// The tenant's configuration, made at the first call (the authority is the gateway's).
    config: std::sync::OnceLock<OpenIdConfig>,
    client_ids: Vec<String>,
    backend_ids: Vec<String>,
}

impl Entra {
    fn config(&self, authority: Option<http::Uri>) -> Result<&OpenIdConfig, String> {
        if let Some(config) = self.config.get() {
            return Ok(config);
        }
        let authority = authority
            .map(|a| a.to_string())
            .unwrap_or_else(|| "https://login.microsoftonline.com".to_owned());
        let url = format!(
            "{}/{}/v2.0/.well-known/openid-configuration",
            authority.trim_end_matches('/'),
            self.tenant
        );
        let url: http::Uri = url
            .parse()
            .map_err(|_| format!("{url} is not a URL: check tenant-id"))?;
        Ok(self.config.get_or_init(|| OpenIdConfig::new(url)))
    }

    /// The issuers a tenant's tokens carry: the configuration's (v2.0) and its v1.0 form.
    fn issuers(published: &str) -> Vec<String> {
        let mut issuers = vec![published.to_owned()];
        let tenant = published
            .trim_end_matches('/')
            .trim_end_matches("/v2.0")
            .rsplit('/')
            .next()
            .unwrap_or_default();
        if !tenant.is_empty() {
            issuers.push(format!("https://sts.windows.net/{tenant}/"));
        }
        issuers
    }

    fn check_client(&self, claims: &serde_json::Value) -> bool {
        let client = claims
            .get("azp")
            .or_else(|| claims.get("appid"))
            .and_then(|v| v.as_str());
        client.is_some_and(|c| self.client_ids.iter().any(|id| id == c))
    }
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
                    // Without require-scheme a scheme may still precede the token
                    // (`Authorization: Bearer …`, as APIM's examples send it).
                    None => Some(Cow::Borrowed(
                        value
                            .split_once(' ')
                            .map_or(value, |(_, token)| token.trim()),
                    )),
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

    fn validation(
        &self,
        algorithm: Algorithm,
        audiences: &[String],
        issuers: &[String],
    ) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.clock_skew;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.required_spec_claims.clear();
        if self.require_expiration {
            validation.required_spec_claims.insert("exp".to_owned());
        }
        if audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(audiences);
        }
        if !issuers.is_empty() {
            validation.set_issuer(issuers);
        }
        validation
    }

    /// The audiences and issuers, their expressions evaluated.
    fn rendered(
        &self,
        templates: &[Template],
        cx: &Context<'_>,
        what: &str,
    ) -> Result<Vec<String>, Rejection> {
        templates
            .iter()
            .map(|t| {
                t.render(&*cx.exchange)
                    .map(|text| text.trim().to_owned())
                    .map_err(|e| expression_failed(&format!("validate-jwt {what}"), e))
            })
            .collect()
    }

    /// Checks `token` with `keys`; `issuers` are the accepted issuers (none: any).
    fn verify<'k>(
        &self,
        token: &str,
        header: &jsonwebtoken::Header,
        keys: impl Iterator<Item = &'k SigningKey>,
        audiences: &[String],
        issuers: &[String],
    ) -> Result<serde_json::Value, Rejection> {
        let family = family_of(header.alg);
        let validation = self.validation(header.alg, audiences, issuers);
        let mut last = "JWT Validation Failed: Signature validation failed.";
        for key in keys {
            if key.family != family {
                continue;
            }
            if let (Some(wanted), Some(kid)) = (&header.kid, &key.kid)
                && wanted != kid
            {
                continue;
            }
            match jsonwebtoken::decode::<serde_json::Value>(token, &key.key, &validation) {
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

    fn header(&self, token: &str) -> Result<jsonwebtoken::Header, Rejection> {
        jsonwebtoken::decode_header(token)
            .map_err(|_| self.refuse("JWT Validation Failed: Malformed JWT."))
    }

    /// What is left once the token is verified: its claims, the note, the variable.
    fn accept(&self, cx: &mut Context<'_>, token: String, claims: &serde_json::Value) -> Outcome {
        self.check_claims(claims)?;
        cx.exchange.note(|| {
            let subject = claims
                .get("sub")
                .map(json_text)
                .unwrap_or_else(|| "-".to_owned());
            format!("token valid (sub {subject})")
        });
        if let Some(name) = &self.output_variable {
            // A `Jwt`, as APIM gives it (`((Jwt)context.Variables["jwt"]).Claims`); the text
            // if it cannot be read as one (it was verified, so it can).
            let value = match portcullis_script::jwt::parse_jwt(&token) {
                Some(jwt) => {
                    Value::Object(crate::expr::ScriptObject(portcullis_script::Value::Native(
                        std::sync::Arc::new(portcullis_script::native::Native::Jwt(jwt)),
                    )))
                }
                None => Value::Str(Cow::Owned(token)),
            };
            cx.exchange.set_variable(name, value);
        }
        Ok(Flow::Continue)
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
        let header = self.header(&token)?;
        let audiences = self.rendered(&self.audiences, cx, "audience")?;
        let issuers = self.rendered(&self.issuers, cx, "issuer")?;
        let claims = self.verify(&token, &header, self.keys.iter(), &audiences, &issuers)?;
        self.accept(cx, token, &claims)
    }
}

/// `validate-jwt` with `<openid-config>`: the provider's keys may have to be fetched first.
#[derive(Debug)]
pub struct ValidateJwtWithProvider(ValidateJwt);

impl WaitingPolicy for ValidateJwtWithProvider {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            let policy = &self.0;
            let Some(token) = policy.token(cx)?.map(std::borrow::Cow::into_owned) else {
                return Err(policy.refuse("JWT not present."));
            };
            let header = policy.header(&token)?;
            let audiences = policy.rendered(&policy.audiences, cx, "audience")?;
            let mut issuers = policy.rendered(&policy.issuers, cx, "issuer")?;
            let mut configs: Vec<&OpenIdConfig> = policy.openid.iter().collect();
            if let Some(entra) = &policy.entra {
                match entra.config(cx.upstream.entra_authority()) {
                    Ok(config) => configs.push(config),
                    Err(fault) => cx.exchange.note(|| fault),
                }
            }
            let mut provided = Vec::new();
            for config in configs {
                match config
                    .keys(&mut *cx.upstream, cx.exchange, header.kid.as_deref())
                    .await
                {
                    Ok(keys) => provided.push(keys),
                    Err(fault) => {
                        cx.exchange.note(|| fault.clone());
                        tracing::warn!(url = %config.url(), "validate-jwt: {fault}");
                    }
                }
            }
            if provided.is_empty() && policy.keys.is_empty() {
                return Err(
                    policy.refuse("JWT Validation Failed: the signing keys could not be obtained.")
                );
            }
            if policy.issuers.is_empty() {
                // By default a token must come from one of the providers (a multi-tenant
                // issuer with a `{tenantid}` placeholder is not checked).
                let published: Vec<String> =
                    provided.iter().filter_map(|p| p.issuer.clone()).collect();
                if !published.is_empty() && published.iter().all(|i| !i.contains('{')) {
                    issuers = match &policy.entra {
                        Some(_) => published.iter().flat_map(|i| Entra::issuers(i)).collect(),
                        None => published,
                    };
                }
            }
            let mut audiences = audiences;
            if let Some(entra) = &policy.entra {
                for id in &entra.backend_ids {
                    audiences.push(id.clone());
                    audiences.push(format!("api://{id}"));
                }
            }
            let keys = policy
                .keys
                .iter()
                .chain(provided.iter().flat_map(|p| p.keys.iter()));
            let claims = policy.verify(&token, &header, keys, &audiences, &issuers)?;
            if let Some(entra) = &policy.entra
                && !entra.check_client(&claims)
            {
                return Err(policy.refuse(
                    "JWT Validation Failed: the client application is not one of client-application-ids.",
                ));
            }
            policy.accept(cx, token, &claims)
        })
    }
}

fn text_list(
    cx: &Compiler<'_>,
    element: &Element,
    list: &str,
    item: &str,
) -> Result<Vec<Template>, Diagnostic> {
    let Some(list) = element.child(list) else {
        return Ok(Vec::new());
    };
    cx.only_attributes(list, &[])?;
    cx.only_children(list, &[item])?;
    list.children_named(item)
        .map(|e| {
            cx.text_template(e)
                .map(|t| t.unwrap_or(Template::Literal("".into())))
        })
        .collect()
}

fn compile_key(cx: &Compiler<'_>, key: &Element) -> Result<SigningKey, Diagnostic> {
    let (family, key) = compile_key_material(cx, key)?;
    Ok(SigningKey {
        kid: None,
        family,
        key,
    })
}

fn compile_key_material(
    cx: &Compiler<'_>,
    key: &Element,
) -> Result<(Family, DecodingKey), Diagnostic> {
    cx.only_attributes(key, &["n", "e", "certificate-id"])?;
    if let Some(attribute) = key.attribute("certificate-id") {
        return certificate_key(cx, attribute);
    }
    match (key.attribute("n"), key.attribute("e")) {
        (Some(n), Some(e)) => DecodingKey::from_rsa_components(n.value.trim(), e.value.trim())
            .map(|k| (Family::Rsa, k))
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
                    .map(|k| (Family::Rsa, k))
                    .map_err(|_| cx.fault(key.offset, "the PEM text is not an RSA public key."));
            }
            let secret = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| cx.fault(key.offset, "a symmetric <key> must be base64-encoded."))?;
            if secret.is_empty() {
                return Err(cx.fault(key.offset, "a <key> must not be empty."));
            }
            Ok((Family::Hmac, DecodingKey::from_secret(&secret)))
        }
    }
}

/// The public key of the service's certificate `certificate-id` names.
fn certificate_key(
    cx: &Compiler<'_>,
    attribute: &crate::xml::Attribute,
) -> Result<(Family, DecodingKey), Diagnostic> {
    use crate::library::PublicKey;
    let id = cx.literal(attribute)?.trim();
    let Some(certificate) = cx.library.certificate(id) else {
        return Err(cx.fault(
            attribute.offset,
            format!("the service has no certificate '{id}'; upload it under Certificates first."),
        ));
    };
    match &certificate.public_key {
        PublicKey::Rsa(der) => Ok((Family::Rsa, DecodingKey::from_rsa_der(der))),
        PublicKey::Ec(point) => Ok((Family::Ec, DecodingKey::from_ec_der(point))),
        PublicKey::Other(kind) => Err(cx.fault(
            attribute.offset,
            format!(
                "the certificate '{id}' holds {kind} key; JWT signatures are checked with RSA or EC keys."
            ),
        )),
    }
}

/// `<validate-azure-ad-token>`.
pub fn compile_azure_ad(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    compile(element, cx)
}

/// The application ids listed in `<{list}><application-id>…`.
fn application_ids(
    cx: &Compiler<'_>,
    element: &Element,
    list: &str,
) -> Result<Vec<String>, Diagnostic> {
    let Some(list) = element.child(list) else {
        return Ok(Vec::new());
    };
    cx.only_attributes(list, &[])?;
    cx.only_children(list, &["application-id"])?;
    Ok(list
        .children_named("application-id")
        .map(|e| e.text_value().trim().to_owned())
        .filter(|id| !id.is_empty())
        .collect())
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    let azure = element.name == "validate-azure-ad-token";
    let entra = if azure {
        cx.only_attributes(
            element,
            &[
                "tenant-id",
                "header-name",
                "query-parameter-name",
                "token-value",
                "failed-validation-httpcode",
                "failed-validation-error-message",
                "output-token-variable-name",
            ],
        )?;
        cx.only_children(
            element,
            &[
                "client-application-ids",
                "backend-application-ids",
                "audiences",
                "required-claims",
            ],
        )?;
        let tenant = cx.literal(cx.required(element, "tenant-id")?)?.to_owned();
        if tenant.is_empty() || tenant.contains(['/', '?', '#', ' ']) {
            return Err(cx.fault(
                element.offset,
                "tenant-id is a tenant's id or domain name (contoso.onmicrosoft.com).",
            ));
        }
        let client_ids = application_ids(cx, element, "client-application-ids")?;
        if client_ids.is_empty() {
            return Err(cx.fault(
                element.offset,
                "<validate-azure-ad-token> needs <client-application-ids> with at least one <application-id>.",
            ));
        }
        Some(Entra {
            tenant,
            config: std::sync::OnceLock::new(),
            client_ids,
            backend_ids: application_ids(cx, element, "backend-application-ids")?,
        })
    } else {
        None
    };
    if !azure {
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
    }
    if let Some(child) = element.child("decryption-keys") {
        return Err(cx.fault(
            child.offset,
            "<decryption-keys> is not supported: Portcullis validates signed tokens (JWS), not encrypted ones (JWE).",
        ));
    }
    let mut openid = Vec::new();
    for config in element.children_named("openid-config") {
        cx.only_attributes(config, &["url"])?;
        cx.only_children(config, &[])?;
        let url = cx.required(config, "url")?;
        let parsed: http::Uri = cx.literal(url)?.parse().map_err(|_| {
            cx.fault(
                url.offset,
                "url must be the address of an OpenID configuration document.",
            )
        })?;
        if !matches!(parsed.scheme_str(), Some("https" | "http")) || parsed.host().is_none() {
            return Err(cx.fault(url.offset, "url must be an absolute http(s) address."));
        }
        openid.push(OpenIdConfig::new(parsed));
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
    let keys = match element.child("issuer-signing-keys") {
        Some(keys_element) => {
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
            keys
        }
        None if !openid.is_empty() || entra.is_some() => Vec::new(),
        None => {
            return Err(cx.fault(
                element.offset,
                "<validate-jwt> needs <issuer-signing-keys> with at least one <key>, or an <openid-config>.",
            ));
        }
    };
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
    let policy = ValidateJwt {
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
        openid,
        audiences: text_list(cx, element, "audiences", "audience")?,
        issuers: text_list(cx, element, "issuers", "issuer")?,
        claims,
        entra,
    };
    if policy.openid.is_empty() && policy.entra.is_none() {
        Ok(Step::Now("validate-jwt", Box::new(policy)))
    } else {
        Ok(Step::Wait(
            "validate-jwt",
            Box::new(ValidateJwtWithProvider(policy)),
        ))
    }
}
