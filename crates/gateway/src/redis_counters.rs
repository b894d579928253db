//! Rate-limit, quota and concurrency counters shared by every gateway node, in Redis.
//!
//! Each decision is one Lua script, which Redis runs atomically: read the counter, decide,
//! count — no other call can slip in between, so concurrent calls on many nodes never let
//! more than the limit through, and refused calls are not counted. The time is Redis'
//! own (`TIME`), so nodes with skewed clocks still share one window.
//!
//! The semantics are those of [`MemoryCounters`](portcullis_policy::counters::MemoryCounters):
//!
//! * **sliding window** (`rate-limit`, `rate-limit-by-key`): a log of (millisecond, calls) —
//!   a sorted set of stamps plus a hash of counts and a running total, so a call costs O(1)
//!   however busy the key. Windows over ~65 s log in 1/65,536ths of the window, rounded late.
//!   A shorter window sharing a key with a longer one counts the log's tail.
//! * **quota** (`quota`, `quota-by-key`): a count for a period that starts with the first
//!   call; the key expires when the period ends.
//! * **slots** (`limit-concurrency`): a sorted set of the slots in flight, each named by its
//!   holder's ticket and scored with the end of its own lease ([`SLOT_LEASE`] by default).
//!   A holder renews its slot while its call runs; the slots of a node that crashed run
//!   out one by one, however busy the key stays.
//!
//! When Redis cannot be reached or does not answer within the timeout, the deployment's
//! [`CounterFailure`] decides: let the call through (fail-open, the default; a log line at
//! most every [`LOG_EVERY`] and the failure counted) or refuse it with 503 (fail-closed). The
//! connection is re-established in the background; counting resumes as soon as Redis answers.

use arc_swap::ArcSwap;
use portcullis_policy::counters::{
    Acquired, CounterError, CounterFuture, CounterStore, Decision, SlotTicket,
};
use portcullis_policy::value_cache::{CacheError, CacheFuture, CachedValue, ValueCache};
use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a slot taken by `limit-concurrency` is kept unless its holder renews it (every
/// third of the lease while the call runs): the longest a crashed node's slots stay taken.
pub const SLOT_LEASE: Duration = Duration::from_secs(30);
/// A failing Redis is logged at most this often (every failure is counted).
pub const LOG_EVERY: Duration = Duration::from_secs(10);
/// Longer windows log calls in this many slots at most (as in memory).
const MAX_LOG_ENTRIES: u64 = 65_536;

/// What a call gets when the counters cannot be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CounterFailure {
    /// Let the call through without counting it.
    #[default]
    Open,
    /// Refuse the call: 503.
    Closed,
}

/// A failure mode name that is not `open` or `closed`.
#[derive(Debug, thiserror::Error)]
#[error("unknown counter failure mode '{0}': expected open or closed")]
pub struct UnknownFailureMode(String);

impl std::str::FromStr for CounterFailure {
    type Err = UnknownFailureMode;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "open" | "fail-open" => Ok(Self::Open),
            "closed" | "fail-closed" => Ok(Self::Closed),
            _ => Err(UnknownFailureMode(text.to_owned())),
        }
    }
}

/// How to reach Redis and what to do when it does not answer.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    pub url: String,
    /// Put before every key, so deployments (or tests) can share one Redis.
    pub key_prefix: String,
    /// The longest a call waits for a counter decision.
    pub timeout: Duration,
    pub failure: CounterFailure,
    /// How long a concurrency slot lasts without renewal ([`SLOT_LEASE`]).
    pub slot_lease: Duration,
}

/// Counters in Redis, shared by every node that uses the same Redis.
pub struct RedisCounters {
    client: redis::Client,
    config: ConnectionManagerConfig,
    /// Replaced when it stops answering (see [`RedisCounters::replace_hung`]).
    connection: ArcSwap<ConnectionManager>,
    settings: RedisSettings,
    scripts: Scripts,
    failures: AtomicU64,
    /// The next slot ticket: counts up from a random start, so tickets of different nodes
    /// do not meet.
    next_ticket: AtomicU64,
    /// When the last failure was logged: milliseconds since `started` (0: never).
    last_logged_ms: AtomicU64,
    started: Instant,
}

impl std::fmt::Debug for RedisCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCounters")
            .field("failure", &self.settings.failure)
            .field("timeout", &self.settings.timeout)
            .finish_non_exhaustive()
    }
}

struct Scripts {
    window: Script,
    quota: Script,
    acquire: Script,
    renew: Script,
    release: Script,
}

impl RedisCounters {
    /// Prepares the connection; it is opened on first use (and again whenever it drops), so
    /// a gateway starts even while Redis is down. Fails only for a malformed URL.
    pub fn new(settings: RedisSettings) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(settings.url.as_str())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.timeout))
            .set_response_timeout(Some(settings.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), config.clone())?;
        Ok(Self {
            client,
            config,
            connection: ArcSwap::from_pointee(connection),
            settings,
            scripts: Scripts {
                window: Script::new(WINDOW_SCRIPT),
                quota: Script::new(QUOTA_SCRIPT),
                acquire: Script::new(ACQUIRE_SCRIPT),
                renew: Script::new(RENEW_SCRIPT),
                release: Script::new(RELEASE_SCRIPT),
            },
            failures: AtomicU64::new(0),
            next_ticket: AtomicU64::new(rand::random()),
            last_logged_ms: AtomicU64::new(0),
            started: Instant::now(),
        })
    }

    /// How many counter decisions Redis could not make (for `/metrics`).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Runs `invocation` within the timeout; a failure is counted, logged now and then, and
    /// answered by the failure mode: `open` (`Ok(None)`) or an error.
    async fn run<T: redis::FromRedisValue>(
        &self,
        invocation: redis::ScriptInvocation<'_>,
    ) -> Result<Option<T>, CounterError> {
        let used = self.connection.load_full();
        let mut connection = (*used).clone();
        let timeout = self.settings.timeout;
        let outcome = tokio::time::timeout(timeout, invocation.invoke_async(&mut connection)).await;
        let error = match outcome {
            Ok(Ok(value)) => return Ok(Some(value)),
            Ok(Err(error)) if error.is_timeout() => {
                self.replace_hung(&used);
                error.to_string()
            }
            Ok(Err(error)) => error.to_string(),
            Err(_) => {
                self.replace_hung(&used);
                format!("no answer within {} ms", timeout.as_millis())
            }
        };
        self.failed(&error);
        match self.settings.failure {
            CounterFailure::Open => Ok(None),
            CounterFailure::Closed => Err(CounterError(format!(
                "The rate-limit counters cannot be reached: {error}"
            ))),
        }
    }

    /// A connection that stopped answering (a hung server, a network that drops packets
    /// instead of refusing them) is not one the connection manager replaces by itself: it
    /// only reconnects after a refused or reset connection. So a timed-out connection is
    /// swapped for a new one here — once, by whichever call noticed first.
    fn replace_hung(&self, used: &Arc<ConnectionManager>) {
        let fresh =
            match ConnectionManager::new_lazy_with_config(self.client.clone(), self.config.clone())
            {
                Ok(fresh) => Arc::new(fresh),
                Err(error) => {
                    tracing::debug!(%error, "cannot prepare a new Redis connection");
                    return;
                }
            };
        self.connection.rcu(|current| {
            if Arc::ptr_eq(current, used) {
                fresh.clone()
            } else {
                current.clone()
            }
        });
    }

    fn failed(&self, error: &str) {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        // One log line per LOG_EVERY, claimed without a lock by whichever failure is first.
        let now_ms = u64::try_from(self.started.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let last = self.last_logged_ms.load(Ordering::Relaxed);
        let due = last == 0 || now_ms.saturating_sub(last) >= millis(LOG_EVERY);
        if due
            && self
                .last_logged_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let mode = match self.settings.failure {
                CounterFailure::Open => "calls go through uncounted (fail-open)",
                CounterFailure::Closed => "calls are refused with 503 (fail-closed)",
            };
            tracing::warn!(error, failures, "Redis counters unavailable; {mode}");
        }
    }
}

impl RedisCounters {
    /// A Redis key of one counter: `part` says which (`log`, `counts`, `quota`,
    /// `slot-leases`); the `{…}` hash tag keeps a counter's keys in one Redis Cluster slot.
    fn redis_key(&self, key: &str, part: &str) -> String {
        format!("{}:{{{key}}}:{part}", self.settings.key_prefix)
    }

    /// Runs a slot script (renew, release) for `ticket`. Its failure only shortens or
    /// lengthens one slot's life to its lease, and the call it belongs to goes on either
    /// way, so it is logged, not returned — and not counted as a failed decision.
    fn slot_call(
        &self,
        script: &Script,
        key: &str,
        ticket: SlotTicket,
    ) -> impl Future<Output = Result<(), CounterError>> + Send + 'static {
        let mut connection = (*self.connection.load_full()).clone();
        let script = script.clone();
        let slots = self.redis_key(key, "slot-leases");
        let lease = millis(self.settings.slot_lease);
        let timeout = self.settings.timeout;
        async move {
            let mut invocation = script.prepare_invoke();
            invocation.key(slots).arg(member(ticket)).arg(lease);
            let answered =
                tokio::time::timeout(timeout, invocation.invoke_async::<i64>(&mut connection))
                    .await;
            if !matches!(answered, Ok(Ok(_))) {
                tracing::debug!(
                    "a concurrency slot could not be renewed or given back; its lease decides"
                );
            }
            Ok(())
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl CounterStore for RedisCounters {
    fn hit_window(
        &self,
        key: &str,
        limit: u64,
        window: Duration,
        amount: u64,
    ) -> CounterFuture<'_, Decision> {
        let (log, counts) = (self.redis_key(key, "log"), self.redis_key(key, "counts"));
        Box::pin(async move {
            let mut invocation = self.scripts.window.prepare_invoke();
            invocation
                .key(log)
                .key(counts)
                .arg(limit)
                .arg(millis(window))
                .arg(amount)
                .arg(MAX_LOG_ENTRIES);
            let answer: Option<(i64, i64)> = self.run(invocation).await?;
            Ok(decision(answer, limit))
        })
    }

    fn hit_quota(
        &self,
        key: &str,
        limit: u64,
        period: Option<Duration>,
        amount: u64,
    ) -> CounterFuture<'_, Decision> {
        let quota = self.redis_key(key, "quota");
        Box::pin(async move {
            let mut invocation = self.scripts.quota.prepare_invoke();
            invocation
                .key(quota)
                .arg(limit)
                .arg(period.map_or(0, millis))
                .arg(amount);
            let answer: Option<(i64, i64)> = self.run(invocation).await?;
            Ok(decision(answer, limit))
        })
    }

    fn acquire(&self, key: &str, max: u64) -> CounterFuture<'_, Acquired> {
        let slots = self.redis_key(key, "slot-leases");
        let ticket = SlotTicket(self.next_ticket.fetch_add(1, Ordering::Relaxed));
        Box::pin(async move {
            let mut invocation = self.scripts.acquire.prepare_invoke();
            invocation
                .key(slots)
                .arg(max)
                .arg(millis(self.settings.slot_lease))
                .arg(member(ticket));
            let answer: Option<i64> = self.run(invocation).await?;
            Ok(match answer {
                None => Acquired::Uncounted,
                Some(1) => Acquired::Taken(ticket),
                Some(_) => Acquired::Full,
            })
        })
    }

    fn release(&self, key: &str, ticket: SlotTicket) -> CounterFuture<'_, ()> {
        Box::pin(self.slot_call(&self.scripts.release, key, ticket))
    }

    fn release_later(&self, key: &str, ticket: SlotTicket) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(self.slot_call(&self.scripts.release, key, ticket));
    }

    fn slot_lease(&self) -> Option<Duration> {
        Some(self.settings.slot_lease)
    }

    fn renew(&self, key: &str, ticket: SlotTicket) -> CounterFuture<'_, ()> {
        Box::pin(self.slot_call(&self.scripts.renew, key, ticket))
    }
}

/// A slot's name in its sorted set.
fn member(ticket: SlotTicket) -> String {
    format!("{:016x}", ticket.0)
}

/// A script's `{counted, n}` as a decision: `n` is the remaining calls when counted, the
/// milliseconds until the call would fit when not (negative: never). No answer (fail-open)
/// lets the call through.
fn decision(answer: Option<(i64, i64)>, limit: u64) -> Decision {
    match answer {
        None => Decision::Allowed { remaining: limit },
        Some((1, remaining)) => Decision::Allowed {
            remaining: u64::try_from(remaining).unwrap_or(0),
        },
        Some((_, wait)) => Decision::Refused {
            retry_after: u64::try_from(wait).map_or(Duration::MAX, Duration::from_millis),
        },
    }
}

/// Redis' clock in milliseconds, shared by the scripts.
macro_rules! now_ms {
    () => {
        "local clock = redis.call('TIME')\n\
         local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)\n"
    };
}

/// KEYS: log (sorted set of stamps), counts (hash: stamp → calls, `total`, `kept`).
/// ARGV: limit, window ms, amount, max log entries. Returns {1, remaining} or {0, wait ms}.
const WINDOW_SCRIPT: &str = concat!(
    now_ms!(),
    r#"
local limit, window, amount, max_entries =
  tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local kept = tonumber(redis.call('HGET', KEYS[2], 'kept') or '0')
if window > kept then
  kept = window
  redis.call('HSET', KEYS[2], 'kept', kept)
end
local total = tonumber(redis.call('HGET', KEYS[2], 'total') or '0')
-- drop what left the kept window: an entry at t counts while now < t + kept
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - kept))
for _, stamp in ipairs(gone) do
  total = total - tonumber(redis.call('HGET', KEYS[2], stamp) or '0')
  redis.call('HDEL', KEYS[2], stamp)
end
if #gone > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - kept))
end
local after = string.format('(%d', now - window)
local in_window = total
if window < kept then
  in_window = 0
  for _, stamp in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], after, '+inf')) do
    in_window = in_window + tonumber(redis.call('HGET', KEYS[2], stamp) or '0')
  end
end
redis.call('HSET', KEYS[2], 'total', total)
if in_window + amount > limit then
  if amount > limit then
    return {0, window}
  end
  -- free again once enough of the oldest calls leave the window
  local needed = in_window + amount - limit
  local freed, free_at = 0, now
  for _, stamp in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], after, '+inf', 'LIMIT', 0, needed)) do
    freed = freed + tonumber(redis.call('HGET', KEYS[2], stamp) or '0')
    free_at = tonumber(stamp) + window
    if freed >= needed then break end
  end
  return {0, math.max(free_at - now, 1)}
end
local slot = math.max(math.floor(kept / max_entries), 1)
local stamp = string.format('%d', math.floor(now / slot) * slot + (slot - 1))
redis.call('ZADD', KEYS[1], stamp, stamp)
redis.call('HINCRBY', KEYS[2], stamp, amount)
redis.call('HSET', KEYS[2], 'total', total + amount)
redis.call('PEXPIRE', KEYS[1], kept + slot)
redis.call('PEXPIRE', KEYS[2], kept + slot)
return {1, limit - in_window - amount}
"#
);

/// KEYS: the quota hash (`count`). ARGV: limit, period ms (0: never renews), amount.
/// The period starts with the key's first call and ends when the key expires.
const QUOTA_SCRIPT: &str = concat!(
    now_ms!(),
    r#"
local limit, period, amount = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '-1')
if count < 0 then
  count = 0
  redis.call('HSET', KEYS[1], 'count', 0)
  if period > 0 then redis.call('PEXPIRE', KEYS[1], period) end
end
if count + amount > limit then
  if period > 0 then
    return {0, math.max(redis.call('PTTL', KEYS[1]), 1)}
  end
  return {0, -1}
end
redis.call('HINCRBY', KEYS[1], 'count', amount)
return {1, limit - count - amount}
"#
);

/// KEYS: the slots (member: ticket, score: the end of its lease in ms). ARGV: max, lease
/// ms, ticket. Drops the slots whose lease ran out, then takes one if fewer than max are
/// left. Returns 1 when a slot was taken.
const ACQUIRE_SCRIPT: &str = r#"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"#;

/// KEYS: the slots. ARGV: ticket, lease ms. Moves the end of a slot's lease (only a slot
/// still held: one whose lease ran out stays gone). Returns 1 when it was renewed.
const RENEW_SCRIPT: &str = r#"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local renewed = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1])
if renewed == 1 then
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', KEYS[1], last[2])
end
return renewed
"#;

/// KEYS: the slots. ARGV: ticket. Gives the slot back.
const RELEASE_SCRIPT: &str = r#"
return redis.call('ZREM', KEYS[1], ARGV[1])
"#;

/// The external cache of `cache-*-value` policies: plain Redis strings under
/// `<prefix>:cache:<key>`, with Redis' own expiry (`SET … PX`). A cache that does not answer
/// in time is a miss; it is counted with the counters' failures.
impl ValueCache for RedisCounters {
    fn get(&self, key: &str) -> CacheFuture<'_, Option<CachedValue>> {
        let key = format!("{}:cache:{key}", self.settings.key_prefix);
        Box::pin(async move {
            let mut command = redis::cmd("GET");
            command.arg(key);
            let found: Option<String> = self.cache_command(command).await?;
            Ok(found.as_deref().and_then(CachedValue::decode))
        })
    }

    fn set(&self, key: &str, value: CachedValue, ttl: Duration) -> CacheFuture<'_, ()> {
        let key = format!("{}:cache:{key}", self.settings.key_prefix);
        Box::pin(async move {
            let mut command = redis::cmd("SET");
            command
                .arg(key)
                .arg(value.encode())
                .arg("PX")
                .arg(millis(ttl));
            self.cache_command::<()>(command).await
        })
    }

    fn remove(&self, key: &str) -> CacheFuture<'_, ()> {
        let key = format!("{}:cache:{key}", self.settings.key_prefix);
        Box::pin(async move {
            let mut command = redis::cmd("DEL");
            command.arg(key);
            self.cache_command::<()>(command).await
        })
    }
}

impl RedisCounters {
    /// Runs one cache command within the timeout.
    async fn cache_command<T: redis::FromRedisValue>(
        &self,
        command: redis::Cmd,
    ) -> Result<T, CacheError> {
        let used = self.connection.load_full();
        let mut connection = (*used).clone();
        let timeout = self.settings.timeout;
        let error = match tokio::time::timeout(timeout, command.query_async(&mut connection)).await
        {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(error)) if error.is_timeout() => {
                self.replace_hung(&used);
                error.to_string()
            }
            Ok(Err(error)) => error.to_string(),
            Err(_) => {
                self.replace_hung(&used);
                format!("no answer within {} ms", timeout.as_millis())
            }
        };
        self.failures.fetch_add(1, Ordering::Relaxed);
        Err(CacheError(format!(
            "the Redis cache cannot be reached: {error}"
        )))
    }
}

/// Circuit-breaker trips shared by every node (see [`crate::circuit_breaker`]): a trip is a
/// key `breaker:{service}/{backend}` holding the Unix millisecond it ends at, expiring then.
/// Both directions run in a task of their own, so a slow Redis never holds a call up; an
/// unanswered one only means a node learns of a trip by counting failures itself.
impl crate::circuit_breaker::SharedTrips for RedisCounters {
    fn publish_trip(&self, key: &str, until: u64) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut connection = (*self.connection.load_full()).clone();
        let key = format!("{}breaker:{key}", self.settings.key_prefix);
        let timeout = self.settings.timeout;
        let lasts = until
            .saturating_sub(crate::circuit_breaker::now_millis())
            .max(1);
        runtime.spawn(async move {
            let mut command = redis::cmd("SET");
            command.arg(&key).arg(until).arg("PX").arg(lasts);
            let sent = tokio::time::timeout(timeout, command.query_async::<()>(&mut connection));
            if !matches!(sent.await, Ok(Ok(()))) {
                tracing::info!(%key, "the circuit-breaker trip could not be shared through Redis");
            }
        });
    }

    fn fetch_trip(&self, key: &str, learn: Box<dyn FnOnce(u64) + Send>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut connection = (*self.connection.load_full()).clone();
        let key = format!("{}breaker:{key}", self.settings.key_prefix);
        let timeout = self.settings.timeout;
        runtime.spawn(async move {
            let mut command = redis::cmd("GET");
            command.arg(&key);
            let answer =
                tokio::time::timeout(timeout, command.query_async::<Option<u64>>(&mut connection));
            if let Ok(Ok(Some(until))) = answer.await {
                learn(until);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_modes_parse() {
        assert_eq!(
            "open".parse::<CounterFailure>().unwrap(),
            CounterFailure::Open
        );
        assert_eq!(
            "fail-closed".parse::<CounterFailure>().unwrap(),
            CounterFailure::Closed
        );
        assert!("maybe".parse::<CounterFailure>().is_err());
    }

    #[test]
    fn script_answers_become_decisions() {
        assert_eq!(
            decision(Some((1, 4)), 5),
            Decision::Allowed { remaining: 4 }
        );
        assert_eq!(
            decision(Some((0, 1500)), 5),
            Decision::Refused {
                retry_after: Duration::from_millis(1500)
            }
        );
        assert_eq!(
            decision(Some((0, -1)), 5),
            Decision::Refused {
                retry_after: Duration::MAX
            }
        );
        assert_eq!(decision(None, 5), Decision::Allowed { remaining: 5 });
    }
}
