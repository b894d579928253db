//! `<openid-config url="…"/>` of `validate-jwt`: the signing keys (and the issuer) of an
//! OpenID Connect provider, read from its metadata document and the `jwks_uri` it names.
//!
//! Fetched through the gateway's [`Upstream`] on first use, kept for an hour, fetched again
//! sooner when a token names a key (`kid`) that is not there (at most every 30 s: a caller
//! making up `kid`s cannot make the gateway hammer the provider). One request fetches while
//! the others wait for it. When the provider cannot be reached, keys fetched before are
//! used until it can.

use crate::engine::{OutboundCall, Upstream};
use crate::exchange::Exchange;
use arc_swap::ArcSwapOption;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long fetched keys are used before they are fetched again.
const KEEP_FOR: Duration = Duration::from_secs(3600);
/// The least time between two fetches for a key that is not there.
const UNKNOWN_KEY_REFETCH: Duration = Duration::from_secs(30);
/// A metadata document or key set larger than this is refused.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Which algorithms a key can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Hmac,
    Rsa,
    Ec,
    Ed,
}

/// A signing key and the `kid` it was published under.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: Option<String>,
    pub family: Family,
    pub key: DecodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({:?}, {:?})", self.kid, self.family)
    }
}

/// What a provider published.
#[derive(Debug)]
pub struct ProviderKeys {
    fetched: Instant,
    /// The metadata's `issuer`.
    pub issuer: Option<String>,
    pub keys: Vec<SigningKey>,
}

impl ProviderKeys {
    fn has(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

/// One `<openid-config>`, with what was fetched from it.
#[derive(Debug)]
pub struct OpenIdConfig {
    url: http::Uri,
    /// Read by every call without a lock; replaced whole after a fetch.
    fetched: ArcSwapOption<ProviderKeys>,
    /// Held while fetching, so that one request fetches and the others wait.
    fetching: tokio::sync::Mutex<()>,
}

impl OpenIdConfig {
    pub fn new(url: http::Uri) -> Self {
        Self {
            url,
            fetched: ArcSwapOption::empty(),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    pub fn url(&self) -> &http::Uri {
        &self.url
    }

    fn kept(&self) -> Option<Arc<ProviderKeys>> {
        self.fetched.load_full()
    }

    /// Whether `kept` serves a token that names `kid`.
    fn serves(kept: &ProviderKeys, kid: Option<&str>) -> bool {
        let age = kept.fetched.elapsed();
        age < KEEP_FOR && (kid.is_none_or(|kid| kept.has(kid)) || age < UNKNOWN_KEY_REFETCH)
    }

    /// The provider's keys, fetched when none are kept, when they are old, or when a token
    /// names a key they lack.
    pub async fn keys(
        &self,
        upstream: &mut dyn Upstream,
        exchange: &mut Exchange,
        kid: Option<&str>,
    ) -> Result<Arc<ProviderKeys>, String> {
        if let Some(kept) = self.kept()
            && Self::serves(&kept, kid)
        {
            return Ok(kept);
        }
        let _fetching = self.fetching.lock().await;
        // Another request may have fetched while this one waited.
        let kept = self.kept();
        if let Some(kept) = &kept
            && Self::serves(kept, kid)
        {
            return Ok(kept.clone());
        }
        match self.fetch(upstream, exchange).await {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                self.fetched.store(Some(fresh.clone()));
                Ok(fresh)
            }
            Err(fault) => match kept {
                // The provider is away: the keys it published before still hold.
                Some(kept) => {
                    exchange.note(|| format!("{fault}; using the keys fetched before"));
                    Ok(kept)
                }
                None => Err(fault),
            },
        }
    }

    async fn fetch(
        &self,
        upstream: &mut dyn Upstream,
        exchange: &mut Exchange,
    ) -> Result<ProviderKeys, String> {
        let metadata: serde_json::Value = get_json(upstream, exchange, self.url.clone()).await?;
        let issuer = metadata
            .get("issuer")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let jwks_uri = metadata
            .get("jwks_uri")
            .and_then(|v| v.as_str())
            .ok_or_else(|| format!("the OpenID configuration at {} has no jwks_uri", self.url))?;
        let jwks_uri: http::Uri = jwks_uri
            .parse()
            .map_err(|_| format!("the jwks_uri {jwks_uri} is not a URL"))?;
        let set: JwkSet =
            serde_json::from_value(get_json(upstream, exchange, jwks_uri.clone()).await?)
                .map_err(|e| format!("the key set at {jwks_uri} is not a JSON Web Key Set: {e}"))?;
        let keys = set
            .keys
            .iter()
            .filter_map(|jwk| {
                let family = match &jwk.algorithm {
                    AlgorithmParameters::RSA(_) => Family::Rsa,
                    AlgorithmParameters::EllipticCurve(_) => Family::Ec,
                    AlgorithmParameters::OctetKeyPair(_) => Family::Ed,
                    AlgorithmParameters::OctetKey(_) => Family::Hmac,
                };
                // A key for encryption only is not a signing key.
                let for_signing = !matches!(
                    jwk.common.public_key_use,
                    Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
                );
                let key = DecodingKey::from_jwk(jwk).ok()?;
                for_signing.then(|| SigningKey {
                    kid: jwk.common.key_id.clone(),
                    family,
                    key,
                })
            })
            .collect::<Vec<_>>();
        if keys.is_empty() {
            return Err(format!("the key set at {jwks_uri} has no signing key"));
        }
        exchange.note(|| format!("fetched {} signing keys from {jwks_uri}", keys.len()));
        Ok(ProviderKeys {
            fetched: Instant::now(),
            issuer,
            keys,
        })
    }
}

async fn get_json(
    upstream: &mut dyn Upstream,
    exchange: &mut Exchange,
    url: http::Uri,
) -> Result<serde_json::Value, String> {
    let shown = url.to_string();
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::ACCEPT,
        http::HeaderValue::from_static("application/json"),
    );
    let call = OutboundCall::get(url, headers, FETCH_TIMEOUT);
    let response = upstream
        .send_request(call, exchange)
        .await
        .map_err(|e| format!("could not fetch {shown}: {e}"))?;
    if !response.status.is_success() {
        return Err(format!("{shown} answered {}", response.status));
    }
    if response.body.len() > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "{shown} answered more than {MAX_DOCUMENT_BYTES} bytes"
        ));
    }
    serde_json::from_slice(&response.body).map_err(|e| format!("{shown} did not answer JSON: {e}"))
}
