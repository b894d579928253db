//! The cache behind `cache-lookup-value`, `cache-store-value` and `cache-remove-value`.
//!
//! APIM offers an *internal* cache (in each gateway's memory) and an *external* one (Redis,
//! shared by every gateway); `caching-type` picks, and its default `prefer-external` takes
//! the external one when there is one. Portcullis does the same: [`MemoryCache`] is the
//! internal cache, bounded by bytes and by each entry's time to live, and the gateway
//! provides the external one when it runs with Redis ([`Caches::external`]).
//!
//! What survives between requests is a [`CachedValue`]: text, a number, a boolean, or JSON
//! kept as its text (a `JObject` stored by one request is a new `JObject` for the next, so
//! no two requests share an object they could change under each other).
//!
//! Keys belong to a service: the policy prefixes every key with the service's name, so two
//! services that use the same key never see each other's values.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The largest value one entry may hold (its text); a larger one is not stored.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;
/// The longest key kept as it is; a longer one is kept by its SHA-256.
pub const MAX_KEY_BYTES: usize = 256;
/// The default memory budget of the internal cache.
pub const DEFAULT_MEMORY_BUDGET: usize = 64 << 20;

/// A value as the cache keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CachedValue {
    Text(String),
    Int(i64),
    Bool(bool),
    /// A JSON token (`JObject`, `JArray`, …), as its text.
    Json(String),
    /// A whole response (`cache-store`).
    Response(CachedResponse),
}

/// A response as `cache-store` keeps it and `cache-lookup` gives it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedResponse {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: bytes::Bytes,
}

impl CachedResponse {
    fn size(&self) -> usize {
        self.body.len()
            + self
                .headers
                .iter()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>()
    }

    fn encode(&self) -> String {
        use base64::Engine as _;
        let b64 = &base64::engine::general_purpose::STANDARD;
        serde_json::json!({
            "s": self.status,
            "h": self.headers.iter().map(|(n, v)| [n.clone(), b64.encode(v)]).collect::<Vec<_>>(),
            "b": b64.encode(&self.body),
        })
        .to_string()
    }

    fn decode(text: &str) -> Option<Self> {
        use base64::Engine as _;
        let b64 = &base64::engine::general_purpose::STANDARD;
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        let headers = value
            .get("h")?
            .as_array()?
            .iter()
            .map(|pair| {
                let name = pair.get(0)?.as_str()?.to_owned();
                let value = b64.decode(pair.get(1)?.as_str()?).ok()?;
                Some((name, value))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            status: u16::try_from(value.get("s")?.as_u64()?).ok()?,
            headers,
            body: b64.decode(value.get("b")?.as_str()?).ok()?.into(),
        })
    }
}

impl CachedValue {
    /// How many bytes the value holds.
    pub fn size(&self) -> usize {
        match self {
            Self::Text(text) | Self::Json(text) => text.len(),
            Self::Int(_) | Self::Bool(_) => 8,
            Self::Response(response) => response.size(),
        }
    }

    /// The value as one string, for stores that keep text (Redis): a tag and the payload.
    pub fn encode(&self) -> String {
        match self {
            Self::Text(text) => format!("s:{text}"),
            Self::Int(n) => format!("i:{n}"),
            Self::Bool(b) => format!("b:{b}"),
            Self::Json(text) => format!("j:{text}"),
            Self::Response(response) => format!("r:{}", response.encode()),
        }
    }

    /// Reads what [`CachedValue::encode`] wrote; `None` for anything else.
    pub fn decode(encoded: &str) -> Option<Self> {
        let (tag, payload) = encoded.split_once(':')?;
        Some(match tag {
            "s" => Self::Text(payload.to_owned()),
            "i" => Self::Int(payload.parse().ok()?),
            "b" => Self::Bool(payload.parse().ok()?),
            "j" => Self::Json(payload.to_owned()),
            "r" => Self::Response(CachedResponse::decode(payload)?),
            _ => return None,
        })
    }
}

/// Why the cache could not answer (the policy treats a failed lookup as a miss).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CacheError(pub String);

pub type CacheFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CacheError>> + Send + 'a>>;

/// A store of values by key, each with a time to live.
pub trait ValueCache: Send + Sync + fmt::Debug {
    fn get(&self, key: &str) -> CacheFuture<'_, Option<CachedValue>>;
    fn set(&self, key: &str, value: CachedValue, ttl: Duration) -> CacheFuture<'_, ()>;
    fn remove(&self, key: &str) -> CacheFuture<'_, ()>;
}

/// The caches a gateway offers policies.
#[derive(Debug, Clone)]
pub struct Caches {
    pub internal: Arc<dyn ValueCache>,
    /// Redis, when the gateway has it.
    pub external: Option<Arc<dyn ValueCache>>,
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            internal: Arc::new(MemoryCache::with_memory_budget(DEFAULT_MEMORY_BUDGET)),
            external: None,
        }
    }
}

/// `caching-type`: which cache a policy uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CachingType {
    Internal,
    External,
    #[default]
    PreferExternal,
}

impl Caches {
    /// The cache `caching-type` names. `external` without an external cache uses the
    /// internal one (APIM's gateways without Redis have only that one).
    pub fn pick(&self, kind: CachingType) -> &dyn ValueCache {
        match (kind, &self.external) {
            (CachingType::External | CachingType::PreferExternal, Some(external)) => {
                external.as_ref()
            }
            _ => self.internal.as_ref(),
        }
    }
}

/// An entry of the internal cache: the value and when it expires.
#[derive(Clone)]
struct Entry {
    value: Arc<CachedValue>,
    ttl: Duration,
}

/// Every entry's own time to live, for moka.
struct PerEntry;

impl moka::Expiry<Arc<str>, Entry> for PerEntry {
    fn expire_after_create(&self, _: &Arc<str>, entry: &Entry, _: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _: &Arc<str>,
        entry: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// The internal cache: in this process' memory, at most `budget` bytes (keys and values;
/// the least used entries go first when it is full), each entry gone after its time to live.
pub struct MemoryCache {
    entries: moka::sync::Cache<Arc<str>, Entry>,
}

impl fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryCache")
            .field("entries", &self.entries.entry_count())
            .field("bytes", &self.entries.weighted_size())
            .finish()
    }
}

impl MemoryCache {
    pub fn with_memory_budget(budget: usize) -> Self {
        let entries = moka::sync::Cache::builder()
            .max_capacity(u64::try_from(budget).unwrap_or(u64::MAX))
            .weigher(|key: &Arc<str>, entry: &Entry| {
                // Each entry's own bookkeeping is about 100 bytes besides key and value.
                u32::try_from(key.len() + entry.value.size() + 100).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntry)
            .build();
        Self { entries }
    }

    /// The bytes held now (after pending evictions are done), for tests and metrics.
    pub fn held_bytes(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.weighted_size()
    }
}

impl ValueCache for MemoryCache {
    fn get(&self, key: &str) -> CacheFuture<'_, Option<CachedValue>> {
        let found = self.entries.get(key).map(|entry| (*entry.value).clone());
        Box::pin(std::future::ready(Ok(found)))
    }

    fn set(&self, key: &str, value: CachedValue, ttl: Duration) -> CacheFuture<'_, ()> {
        self.entries.insert(
            key.into(),
            Entry {
                value: Arc::new(value),
                ttl,
            },
        );
        Box::pin(std::future::ready(Ok(())))
    }

    fn remove(&self, key: &str) -> CacheFuture<'_, ()> {
        self.entries.invalidate(key);
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_survives_the_text_form_redis_keeps() {
        let response = CachedValue::Response(CachedResponse {
            status: 203,
            headers: vec![
                ("content-type".into(), b"application/json".to_vec()),
                ("x-raw".into(), vec![0xff, 0x00, b'a']),
            ],
            body: bytes::Bytes::from_static(b"{\"a\":1}\x00\xff"),
        });
        assert_eq!(CachedValue::decode(&response.encode()), Some(response));
        assert_eq!(CachedValue::decode("r:{not json"), None);
    }

    #[tokio::test]
    async fn values_come_back_with_their_type_until_they_expire() {
        let cache = MemoryCache::with_memory_budget(1 << 20);
        for (key, value) in [
            ("t", CachedValue::Text("contoso".into())),
            ("n", CachedValue::Int(-42)),
            ("b", CachedValue::Bool(true)),
            ("j", CachedValue::Json("{\"a\":1}".into())),
        ] {
            cache
                .set(key, value.clone(), Duration::from_secs(60))
                .await
                .unwrap();
            assert_eq!(cache.get(key).await.unwrap(), Some(value.clone()));
            assert_eq!(CachedValue::decode(&value.encode()), Some(value));
        }
        cache
            .set("short", CachedValue::Int(1), Duration::from_millis(50))
            .await
            .unwrap();
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(cache.get("short").await.unwrap(), None);
        cache.remove("t").await.unwrap();
        assert_eq!(cache.get("t").await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_memory_budget_holds_whatever_is_stored() {
        let budget = 256 << 10;
        let cache = MemoryCache::with_memory_budget(budget);
        let value = "x".repeat(4096);
        for i in 0..1000 {
            cache
                .set(
                    &format!("key-{i}"),
                    CachedValue::Text(value.clone()),
                    Duration::from_secs(600),
                )
                .await
                .unwrap();
        }
        let held = cache.held_bytes();
        assert!(held <= budget as u64, "{held} bytes held");
        assert!(held > (budget / 2) as u64, "the cache is used: {held}");
    }
}
