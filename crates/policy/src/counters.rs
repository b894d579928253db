//! The counter store behind `rate-limit`, `rate-limit-by-key`, `quota`, `quota-by-key` and
//! `limit-concurrency`.
//!
//! Policies talk to the [`CounterStore`] trait only. [`MemoryCounters`] is the exact
//! single-node implementation: a sliding window kept as a log of (millisecond, count)
//! entries, so a limit of N calls per period lets exactly N through in any period; calls a
//! limit refuses are not counted; keys idle longer than their window are swept so memory
//! stays bounded. A busy key's log is bounded too: windows longer than ~65 s log calls in
//! 1/65,536ths of the window, rounded late, so they still never let more than N through. A shared implementation (Redis) plugs in behind the same trait.

use hashbrown::{DefaultHashBuilder, HashMap};
use std::collections::VecDeque;
use std::future::Future;
use std::hash::BuildHasher;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// What a counter said about one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Counted; `remaining` more calls fit in the current window.
    Allowed { remaining: u64 },
    /// Not counted; the call would fit again after `retry_after`.
    Refused { retry_after: Duration },
}

/// Which slot a call holds: the store's name for it, handed back to renew and release it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlotTicket(pub u64);

/// What [`CounterStore::acquire`] answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquired {
    /// A slot was taken: give it back with [`CounterStore::release`].
    Taken(SlotTicket),
    /// Let through without a slot (a shared store that could not be asked and fails open):
    /// there is nothing to give back, and giving back would free someone else's slot.
    Uncounted,
    /// Every slot is taken.
    Full,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CounterError(pub String);

pub type CounterFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CounterError>> + Send + 'a>>;

/// Where counts live. Implementations must be exact: concurrent calls never overshoot.
pub trait CounterStore: Send + Sync + std::fmt::Debug {
    /// Counts `amount` calls for `key` if the calls counted in the last `window` plus
    /// `amount` stay within `limit` (a sliding window).
    fn hit_window(
        &self,
        key: &str,
        limit: u64,
        window: Duration,
        amount: u64,
    ) -> CounterFuture<'_, Decision>;

    /// Counts `amount` calls for `key` in a fixed period that starts with the key's first
    /// call (`period` `None`: the quota never renews).
    fn hit_quota(
        &self,
        key: &str,
        limit: u64,
        period: Option<Duration>,
        amount: u64,
    ) -> CounterFuture<'_, Decision>;

    /// Takes one of `max` slots for `key`.
    fn acquire(&self, key: &str, max: u64) -> CounterFuture<'_, Acquired>;

    /// Gives back the slot `ticket` names; done when the slot is free again, so the
    /// caller's next call finds it free.
    fn release(&self, key: &str, ticket: SlotTicket) -> CounterFuture<'_, ()>;

    /// [`CounterStore::release`] without waiting, for a call that was dropped half-way
    /// (nothing is left to await it).
    fn release_later(&self, key: &str, ticket: SlotTicket);

    /// How long a slot stays taken unless its holder renews it; `None`: until released.
    /// A shared store leases slots so that those of a node that crashed come back; a holder
    /// renews its slot every third of the lease for as long as its call runs.
    fn slot_lease(&self) -> Option<Duration> {
        None
    }

    /// Extends the lease of the slot `ticket` names (see [`CounterStore::slot_lease`]).
    fn renew(&self, key: &str, ticket: SlotTicket) -> CounterFuture<'_, ()> {
        let _ = (key, ticket);
        Box::pin(std::future::ready(Ok(())))
    }
}

/// Independent locks: requests for different keys rarely wait on each other.
const SHARDS: usize = 64;
/// Every this many hits, one shard (in turn) drops its idle keys.
const SWEEP_EVERY: u64 = 256;

#[derive(Debug)]
enum Counter {
    Window {
        window: Duration,
        /// (milliseconds since the store began, calls) in time order.
        log: VecDeque<(u64, u64)>,
        total: u64,
    },
    Quota {
        started: Instant,
        period: Option<Duration>,
        count: u64,
    },
    Slots {
        taken: u64,
    },
}

impl Counter {
    #[cfg(test)]
    fn log_len(&self) -> usize {
        match self {
            Self::Window { log, .. } => log.len(),
            _ => 0,
        }
    }

    /// Whether the counter holds nothing that a future call could need.
    fn is_idle(&mut self, now: Instant, origin: Instant) -> bool {
        match self {
            Self::Window { window, log, total } => {
                evict(log, total, now_ms(now, origin), *window);
                log.is_empty()
            }
            Self::Quota {
                started, period, ..
            } => period.is_some_and(|p| now.duration_since(*started) >= p),
            Self::Slots { taken } => *taken == 0,
        }
    }
}

#[derive(Debug, Default)]
struct Shard {
    counters: HashMap<String, Counter>,
}

impl Shard {
    /// The key's counter, made by `new` on its first call. The key is copied only then, not
    /// on every call.
    fn counter(&mut self, key: &str, new: impl FnOnce() -> Counter) -> &mut Counter {
        self.counters.entry_ref(key).or_insert_with(new)
    }
}

#[derive(Debug)]
pub struct MemoryCounters {
    origin: Instant,
    shards: Vec<Mutex<Shard>>,
    /// Picks a key's shard.
    shard_of: DefaultHashBuilder,
    /// Calls so far; every [`SWEEP_EVERY`]th sweeps the next shard in turn.
    hits: AtomicU64,
}

impl Default for MemoryCounters {
    fn default() -> Self {
        Self::new()
    }
}

fn now_ms(now: Instant, origin: Instant) -> u64 {
    u64::try_from(now.duration_since(origin).as_millis()).unwrap_or(u64::MAX)
}

fn window_ms(window: Duration) -> u64 {
    u64::try_from(window.as_millis()).unwrap_or(u64::MAX)
}

/// A window's log holds at most this many entries (~1 MiB), however long the window and
/// however busy the key.
const MAX_LOG_ENTRIES: u64 = 65_536;

/// The time a call at `now` is logged under. Up to a minute's window that is its
/// millisecond; a longer window is cut into [`MAX_LOG_ENTRIES`] slots and a call is logged
/// at the *last* millisecond of its slot, so it leaves the window at most one slot late and
/// never early: no period ever holds more calls than the limit, and a refused caller may
/// wait up to one slot (1.3 s for a day's window) longer than the exact answer.
fn log_stamp(now_ms: u64, window_ms: u64) -> u64 {
    let slot = (window_ms / MAX_LOG_ENTRIES).max(1);
    (now_ms / slot) * slot + (slot - 1)
}

/// Drops log entries older than the window (an entry at `t` counts while `now < t + window`).
fn evict(log: &mut VecDeque<(u64, u64)>, total: &mut u64, now: u64, window: Duration) {
    let window = window_ms(window);
    while let Some(&(at, count)) = log.front() {
        if at.saturating_add(window) > now {
            break;
        }
        log.pop_front();
        *total -= count;
    }
}

impl MemoryCounters {
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            shard_of: DefaultHashBuilder::default(),
            hits: AtomicU64::new(0),
        }
    }

    /// How many keys are held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map_or(0, |s| s.counters.len()))
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` on the key's shard with the lock held. A poisoned lock (a panic elsewhere
    /// while holding it) is taken over: counters are plain numbers and stay consistent.
    fn with_shard<T>(&self, key: &str, f: impl FnOnce(&mut Shard, Instant) -> T) -> T {
        let now = Instant::now();
        let tick = self.hits.fetch_add(1, Ordering::Relaxed);
        if tick.is_multiple_of(SWEEP_EVERY) {
            self.sweep((tick / SWEEP_EVERY) as usize % SHARDS, now);
        }
        let shard = self.shard_of.hash_one(key) as usize % SHARDS;
        f(&mut self.lock(shard), now)
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "taken modulo SHARDS, the length of `shards`"
    )]
    fn lock(&self, index: usize) -> std::sync::MutexGuard<'_, Shard> {
        self.shards[index % SHARDS]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Drops the idle keys of one shard.
    fn sweep(&self, index: usize, now: Instant) {
        let origin = self.origin;
        self.lock(index)
            .counters
            .retain(|_, counter| !counter.is_idle(now, origin));
    }

    /// The synchronous core of [`CounterStore::hit_window`].
    pub fn hit_window_now(&self, key: &str, limit: u64, window: Duration, amount: u64) -> Decision {
        let origin = self.origin;
        self.with_shard(key, |shard, now| {
            let counter = shard.counter(key, || Counter::Window {
                window,
                log: VecDeque::new(),
                total: 0,
            });
            let Counter::Window {
                window: kept,
                log,
                total,
            } = counter
            else {
                return Decision::Refused {
                    retry_after: window,
                };
            };
            // The same key used with a longer period keeps the longer log.
            *kept = (*kept).max(window);
            let now_ms = now_ms(now, origin);
            let kept_ms = window_ms(*kept);
            let window_ms = window_ms(window);
            evict(log, total, now_ms, *kept);
            // Calls inside this policy's window. After eviction the log holds exactly the
            // kept window, so when this policy's window is the kept one that is the running
            // total (O(1) however busy the key); only a shorter window sharing the key with a
            // longer one scans the log's tail.
            let in_window: u64 = if window_ms >= kept_ms {
                *total
            } else {
                log.iter()
                    .rev()
                    .take_while(|(at, _)| at.saturating_add(window_ms) > now_ms)
                    .map(|(_, c)| c)
                    .sum()
            };
            if in_window.saturating_add(amount) > limit {
                // Free up as soon as enough old calls leave the window.
                let mut freed = 0;
                let needed = in_window.saturating_add(amount).saturating_sub(limit);
                let mut until = now_ms;
                for &(at, count) in log
                    .iter()
                    .filter(|(at, _)| at.saturating_add(window_ms) > now_ms)
                {
                    freed += count;
                    until = at.saturating_add(window_ms);
                    if freed >= needed {
                        break;
                    }
                }
                let retry_after = Duration::from_millis(until.saturating_sub(now_ms).max(1));
                let retry_after = if amount > limit { window } else { retry_after };
                return Decision::Refused { retry_after };
            }
            let stamp = log_stamp(now_ms, kept_ms);
            match log.back_mut() {
                Some((at, count)) if *at == stamp => *count += amount,
                _ => log.push_back((stamp, amount)),
            }
            *total += amount;
            Decision::Allowed {
                remaining: limit - in_window - amount,
            }
        })
    }

    /// The synchronous core of [`CounterStore::hit_quota`].
    pub fn hit_quota_now(
        &self,
        key: &str,
        limit: u64,
        period: Option<Duration>,
        amount: u64,
    ) -> Decision {
        self.with_shard(key, |shard, now| {
            let counter = shard.counter(key, || Counter::Quota {
                started: now,
                period,
                count: 0,
            });
            let Counter::Quota {
                started,
                period: kept,
                count,
            } = counter
            else {
                return Decision::Refused {
                    retry_after: period.unwrap_or(Duration::MAX),
                };
            };
            *kept = period;
            if let Some(period) = period {
                let elapsed = now.duration_since(*started);
                if elapsed >= period {
                    // Whole periods passed: the window moves on, aligned to the first call.
                    let periods = elapsed.as_nanos() / period.as_nanos().max(1);
                    let step = period.saturating_mul(u32::try_from(periods).unwrap_or(u32::MAX));
                    *started += step;
                    *count = 0;
                }
            }
            if count.saturating_add(amount) > limit {
                let retry_after = match period {
                    Some(period) => (*started + period).saturating_duration_since(now),
                    None => Duration::MAX,
                };
                return Decision::Refused { retry_after };
            }
            *count += amount;
            Decision::Allowed {
                remaining: limit - *count,
            }
        })
    }

    pub fn acquire_now(&self, key: &str, max: u64) -> bool {
        self.with_shard(key, |shard, _| {
            let counter = shard.counter(key, || Counter::Slots { taken: 0 });
            match counter {
                Counter::Slots { taken } if *taken < max => {
                    *taken += 1;
                    true
                }
                _ => false,
            }
        })
    }
}

impl CounterStore for MemoryCounters {
    fn hit_window(
        &self,
        key: &str,
        limit: u64,
        window: Duration,
        amount: u64,
    ) -> CounterFuture<'_, Decision> {
        let decision = self.hit_window_now(key, limit, window, amount);
        Box::pin(std::future::ready(Ok(decision)))
    }

    fn hit_quota(
        &self,
        key: &str,
        limit: u64,
        period: Option<Duration>,
        amount: u64,
    ) -> CounterFuture<'_, Decision> {
        let decision = self.hit_quota_now(key, limit, period, amount);
        Box::pin(std::future::ready(Ok(decision)))
    }

    fn acquire(&self, key: &str, max: u64) -> CounterFuture<'_, Acquired> {
        // One process, one count: slots need no names and no leases here.
        let taken = match self.acquire_now(key, max) {
            true => Acquired::Taken(SlotTicket(0)),
            false => Acquired::Full,
        };
        Box::pin(std::future::ready(Ok(taken)))
    }

    fn release(&self, key: &str, ticket: SlotTicket) -> CounterFuture<'_, ()> {
        self.release_later(key, ticket);
        Box::pin(std::future::ready(Ok(())))
    }

    fn release_later(&self, key: &str, _ticket: SlotTicket) {
        self.with_shard(key, |shard, _| {
            if let Some(Counter::Slots { taken }) = shard.counters.get_mut(key) {
                *taken = taken.saturating_sub(1);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn sliding_window_is_exact_and_refusals_do_not_count() {
        let counters = MemoryCounters::new();
        for remaining in [2, 1, 0] {
            assert_eq!(
                counters.hit_window_now("ip", 3, MINUTE, 1),
                Decision::Allowed { remaining }
            );
        }
        tokio::time::advance(Duration::from_secs(20)).await;
        // Refused calls keep being refused and are not counted.
        for _ in 0..5 {
            assert_eq!(
                counters.hit_window_now("ip", 3, MINUTE, 1),
                Decision::Refused {
                    retry_after: Duration::from_secs(40)
                }
            );
        }
        tokio::time::advance(Duration::from_secs(40)).await;
        // The first three calls left the window: three fit again, not fewer.
        for remaining in [2, 1, 0] {
            assert_eq!(
                counters.hit_window_now("ip", 3, MINUTE, 1),
                Decision::Allowed { remaining }
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn window_slides_rather_than_resets() {
        let counters = MemoryCounters::new();
        counters.hit_window_now("k", 2, MINUTE, 1);
        tokio::time::advance(Duration::from_secs(30)).await;
        counters.hit_window_now("k", 2, MINUTE, 1);
        tokio::time::advance(Duration::from_secs(31)).await;
        // 61 s after the first call: one slot free, the second call still counts.
        assert_eq!(
            counters.hit_window_now("k", 2, MINUTE, 1),
            Decision::Allowed { remaining: 0 }
        );
        assert!(matches!(
            counters.hit_window_now("k", 2, MINUTE, 1),
            Decision::Refused { .. }
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_shorter_window_on_a_shared_key_counts_only_its_own_period() {
        let counters = MemoryCounters::new();
        let ten_seconds = Duration::from_secs(10);
        for _ in 0..3 {
            counters.hit_window_now("shared", 100, MINUTE, 1);
        }
        // The 10 s policy sees the three calls while they are inside its window...
        assert_eq!(
            counters.hit_window_now("shared", 4, ten_seconds, 1),
            Decision::Allowed { remaining: 0 }
        );
        tokio::time::advance(Duration::from_secs(11)).await;
        // ...and none of them once they left it, although the minute still holds all four.
        assert_eq!(
            counters.hit_window_now("shared", 4, ten_seconds, 1),
            Decision::Allowed { remaining: 3 }
        );
        assert_eq!(
            counters.hit_window_now("shared", 100, MINUTE, 1),
            Decision::Allowed { remaining: 94 }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_window_keeps_a_bounded_log_and_never_lets_more_through() {
        let counters = MemoryCounters::new();
        let day = Duration::from_secs(86_400);
        // A call every 10 ms for 30 minutes: 180,000 calls at distinct milliseconds.
        for _ in 0..180_000 {
            counters.hit_window_now("busy", 180_000, day, 1);
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        let entries = counters
            .lock(counters.shard_of.hash_one("busy") as usize % SHARDS)
            .counters["busy"]
            .log_len();
        assert!(entries <= 2_000, "{entries} log entries");
        // The limit is reached and holds until the first calls are a whole day old...
        assert!(matches!(
            counters.hit_window_now("busy", 180_000, day, 1),
            Decision::Refused { .. }
        ));
        tokio::time::advance(day - Duration::from_secs(30 * 60)).await;
        assert!(matches!(
            counters.hit_window_now("busy", 180_000, day, 1),
            Decision::Refused { .. }
        ));
        // ...and frees up at most one slot (1.3 s) after that.
        tokio::time::advance(Duration::from_millis(1_400)).await;
        assert!(matches!(
            counters.hit_window_now("busy", 180_000, day, 1),
            Decision::Allowed { .. }
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn quota_is_a_fixed_period_from_the_first_call() {
        let counters = MemoryCounters::new();
        let hour = Some(Duration::from_secs(3600));
        assert_eq!(
            counters.hit_quota_now("s", 1, hour, 1),
            Decision::Allowed { remaining: 0 }
        );
        tokio::time::advance(Duration::from_secs(600)).await;
        assert_eq!(
            counters.hit_quota_now("s", 1, hour, 1),
            Decision::Refused {
                retry_after: Duration::from_secs(3000)
            }
        );
        tokio::time::advance(Duration::from_secs(3000)).await;
        assert_eq!(
            counters.hit_quota_now("s", 1, hour, 1),
            Decision::Allowed { remaining: 0 }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn idle_keys_are_swept() {
        let counters = MemoryCounters::new();
        for i in 0..5000 {
            counters.hit_window_now(&format!("caller-{i}"), 10, Duration::from_secs(1), 1);
        }
        assert!(counters.len() > 4000);
        tokio::time::advance(Duration::from_secs(2)).await;
        for _ in 0..(SWEEP_EVERY as usize * SHARDS + 1) {
            counters.hit_window_now("busy", u64::MAX, Duration::from_secs(1), 1);
        }
        assert!(counters.len() < 100, "{} keys left", counters.len());
    }

    #[test]
    fn concurrency_slots() {
        let counters = MemoryCounters::new();
        assert!(counters.acquire_now("k", 2));
        assert!(counters.acquire_now("k", 2));
        assert!(!counters.acquire_now("k", 2));
        counters.release_later("k", SlotTicket(0));
        assert!(counters.acquire_now("k", 2));
    }
}
