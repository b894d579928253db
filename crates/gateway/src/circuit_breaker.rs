//! Circuit breakers of backends (APIM's `circuitBreaker.rules`): when the failures of a
//! backend reach the rule's count (or percentage of calls) within its interval, the breaker
//! *trips* and, for the trip duration — or as long as the failing answer's `Retry-After`
//! asks, when the rule accepts it — calls to the backend get 503 without being sent. Then it
//! closes, with a clean slate.
//!
//! A failure is an answer whose status is in the rule's ranges, or no answer at all (the
//! connection failed or the backend timed out).
//!
//! State outlives snapshots: the [`BreakerBoard`] hands each compiled snapshot the breaker
//! it had before for the same backend and rule, so saving an unrelated change neither resets
//! an open breaker nor forgets counted failures. With Redis ([`SharedTrips`]), a trip is
//! written there and every node learns of it on its next call to that backend (at most one
//! Redis read per backend per [`SHARED_CHECK_EVERY`]), so all nodes open together — APIM
//! keeps the state per instance.
//!
//! The window is a ring of at most [`BUCKETS`] time buckets behind one lock per backend,
//! taken once per call to a backend that has a rule; whether the breaker is open is one
//! atomic read.

use portcullis_domain::backend::{BreakerRule, FailureThreshold, MIN_CALLS_FOR_PERCENTAGE};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The interval is counted in at most this many buckets.
pub const BUCKETS: u64 = 32;
/// How often a node asks Redis whether another node tripped a breaker it has closed.
pub const SHARED_CHECK_EVERY: Duration = Duration::from_millis(500);

/// Milliseconds since the Unix epoch (shared by all nodes, unlike `Instant`).
pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What one call to the backend came to.
#[derive(Debug, Clone, Copy)]
pub enum CallOutcome {
    /// The backend answered with this status (and, maybe, a `Retry-After`).
    Answered {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// No answer: the connection failed or the backend timed out.
    NoAnswer,
}

/// Where trips are shared between nodes (Redis); see [`crate::redis_counters`].
pub trait SharedTrips: Send + Sync + std::fmt::Debug {
    /// Records that `key` is open until `until` (Unix milliseconds).
    fn publish_trip(&self, key: &str, until: u64);
    /// Asks (in the background) until when `key` is open, and calls `learn` with the answer.
    fn fetch_trip(&self, key: &str, learn: Box<dyn FnOnce(u64) + Send>);
}

#[derive(Debug, Default)]
struct Window {
    /// (bucket start in Unix ms, failures, calls), oldest first.
    buckets: VecDeque<(u64, u32, u32)>,
}

impl Window {
    /// Failures and calls in the buckets still inside the interval that ends `now`.
    fn totals(&self, now: u64, interval: u64) -> (u32, u32) {
        self.buckets
            .iter()
            .filter(|(at, _, _)| at + interval > now)
            .fold((0, 0), |(f, c), (_, failures, calls)| {
                (f + failures, c + calls)
            })
    }

    fn add(&mut self, now: u64, width: u64, interval: u64, failed: bool) -> (u32, u32) {
        let start = now - now % width.max(1);
        while self
            .buckets
            .front()
            .is_some_and(|(at, _, _)| *at + interval <= now)
        {
            self.buckets.pop_front();
        }
        match self.buckets.back_mut() {
            Some((at, failures, calls)) if *at == start => {
                *failures += u32::from(failed);
                *calls += 1;
            }
            _ => {
                if self.buckets.len() as u64 > BUCKETS {
                    self.buckets.pop_front();
                }
                self.buckets.push_back((start, u32::from(failed), 1));
            }
        }
        self.totals(now, interval)
    }
}

/// The breaker of one backend.
#[derive(Debug)]
pub struct Breaker {
    /// `service/backend`, the key in Redis and in the board.
    key: String,
    rule: BreakerRule,
    /// Unix ms until which the breaker is open (0: closed); shared with Redis lookups in
    /// flight, which may move it later.
    open_until: Arc<AtomicU64>,
    /// When this node last asked Redis (Unix ms).
    checked_shared: AtomicU64,
    /// How many times it tripped since the node started (for the portal).
    trips: AtomicU64,
    window: Mutex<Window>,
    shared: SharedSlot,
}

/// Where a board's breakers share their trips, once the deployment says (Redis is set up
/// after the first snapshot is compiled).
type SharedSlot = Arc<std::sync::OnceLock<Arc<dyn SharedTrips>>>;

/// What the portal shows of a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed { failures: u32, calls: u32 },
    Open { remaining: Duration },
}

impl Breaker {
    fn new(key: String, rule: BreakerRule, shared: SharedSlot) -> Self {
        Self {
            key,
            rule,
            open_until: Arc::new(AtomicU64::new(0)),
            checked_shared: AtomicU64::new(0),
            trips: AtomicU64::new(0),
            window: Mutex::new(Window::default()),
            shared,
        }
    }

    /// How long the breaker stays open, or `None` when calls may go through.
    pub fn open_for(&self) -> Option<Duration> {
        let now = now_millis();
        self.check_shared(now);
        let until = self.open_until.load(Ordering::Acquire);
        (until > now).then(|| Duration::from_millis(until - now))
    }

    /// Every [`SHARED_CHECK_EVERY`], asks Redis whether another node tripped this breaker.
    fn check_shared(&self, now: u64) {
        let Some(shared) = self.shared.get() else {
            return;
        };
        let last = self.checked_shared.load(Ordering::Relaxed);
        let every = u64::try_from(SHARED_CHECK_EVERY.as_millis()).unwrap_or(500);
        if now < last + every
            || self
                .checked_shared
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let target = self.open_until.clone();
        shared.fetch_trip(
            &self.key,
            Box::new(move |until| {
                target.fetch_max(until, Ordering::AcqRel);
            }),
        );
    }

    /// Counts the outcome of a call; trips the breaker when the rule says so.
    pub fn record(&self, outcome: CallOutcome) {
        let (failed, retry_after) = match outcome {
            CallOutcome::Answered {
                status,
                retry_after,
            } => (self.rule.counts_status(status), retry_after),
            CallOutcome::NoAnswer => (true, None),
        };
        let now = now_millis();
        let interval = u64::try_from(self.rule.interval.duration().as_millis()).unwrap_or(u64::MAX);
        let (failures, calls) = {
            let Ok(mut window) = self.window.lock() else {
                return;
            };
            let counts = window.add(now, interval / BUCKETS, interval, failed);
            let trips = failed
                && match self.rule.threshold {
                    FailureThreshold::Count(count) => counts.0 >= count,
                    FailureThreshold::Percentage(percent) => {
                        counts.1 >= MIN_CALLS_FOR_PERCENTAGE
                            && u64::from(counts.0) * 100 >= u64::from(percent) * u64::from(counts.1)
                    }
                };
            if trips {
                window.buckets.clear();
            }
            if !trips {
                return;
            }
            counts
        };
        let duration = match retry_after {
            Some(asked) if self.rule.accept_retry_after => asked,
            _ => self.rule.trip_duration.duration(),
        };
        let until = now + u64::try_from(duration.as_millis()).unwrap_or(u64::MAX / 2);
        self.open_until.fetch_max(until, Ordering::AcqRel);
        self.trips.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            backend = %self.key,
            rule = %self.rule.name,
            failures,
            calls,
            open_for_ms = until - now,
            "circuit breaker tripped"
        );
        if let Some(shared) = self.shared.get() {
            shared.publish_trip(&self.key, until);
        }
    }

    /// The state now, for the portal and the management API.
    pub fn state(&self) -> BreakerState {
        if let Some(remaining) = self.open_for() {
            return BreakerState::Open { remaining };
        }
        let now = now_millis();
        let interval = u64::try_from(self.rule.interval.duration().as_millis()).unwrap_or(u64::MAX);
        let Ok(window) = self.window.lock() else {
            return BreakerState::Closed {
                failures: 0,
                calls: 0,
            };
        };
        let (failures, calls) = window.totals(now, interval);
        BreakerState::Closed { failures, calls }
    }

    /// Closes the breaker now, forgetting the failures counted (and, with Redis, the shared
    /// trip).
    pub fn reset(&self) {
        self.open_until.store(0, Ordering::Release);
        if let Ok(mut window) = self.window.lock() {
            window.buckets.clear();
        }
        if let Some(shared) = self.shared.get() {
            shared.publish_trip(&self.key, 0);
        }
    }

    /// Times it tripped since this node started.
    pub fn trips(&self) -> u64 {
        self.trips.load(Ordering::Relaxed)
    }
}

/// The breakers of every backend, by `service/backend`, kept across snapshots.
#[derive(Debug, Default)]
pub struct BreakerBoard {
    breakers: Mutex<HashMap<String, Arc<Breaker>>>,
    shared: SharedSlot,
}

impl BreakerBoard {
    /// Shares every breaker's trips through `shared` (Redis) from now on; the first call
    /// wins.
    pub fn share_through(&self, shared: Arc<dyn SharedTrips>) {
        let _ = self.shared.set(shared);
    }

    /// The breaker of `service`'s `backend` under `rule`: the one it had if the rule is the
    /// same, else a new, closed one. Called when a snapshot is compiled, never per call.
    pub fn breaker(&self, service: &str, backend: &str, rule: &BreakerRule) -> Arc<Breaker> {
        let key = format!("{service}/{backend}");
        let Ok(mut breakers) = self.breakers.lock() else {
            return Arc::new(Breaker::new(key, rule.clone(), self.shared.clone()));
        };
        if let Some(kept) = breakers.get(&key).filter(|kept| kept.rule == *rule) {
            return kept.clone();
        }
        let fresh = Arc::new(Breaker::new(key.clone(), rule.clone(), self.shared.clone()));
        breakers.insert(key, fresh.clone());
        fresh
    }

    /// Forgets the breakers no snapshot uses any more (the board's only references).
    pub fn sweep(&self) {
        if let Ok(mut breakers) = self.breakers.lock() {
            breakers.retain(|_, breaker| Arc::strong_count(breaker) > 1);
        }
    }

    /// The breaker of `service/backend`, if it has one.
    pub fn get(&self, service: &str, backend: &str) -> Option<Arc<Breaker>> {
        let breakers = self.breakers.lock().ok()?;
        breakers.get(&format!("{service}/{backend}")).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_domain::IsoDuration;

    fn rule(threshold: FailureThreshold, accept_retry_after: bool) -> BreakerRule {
        BreakerRule {
            name: "r".into(),
            threshold,
            interval: IsoDuration::parse("PT1M", "i").expect("valid"),
            status_ranges: vec![(500, 599)],
            trip_duration: IsoDuration::parse("PT10S", "t").expect("valid"),
            accept_retry_after,
        }
    }

    fn answered(status: u16) -> CallOutcome {
        CallOutcome::Answered {
            status,
            retry_after: None,
        }
    }

    #[test]
    fn trips_at_the_count_and_not_before() {
        let breaker = Breaker::new(
            "s/b".into(),
            rule(FailureThreshold::Count(3), false),
            SharedSlot::default(),
        );
        breaker.record(answered(500));
        breaker.record(answered(200));
        breaker.record(answered(429));
        breaker.record(CallOutcome::NoAnswer);
        assert!(breaker.open_for().is_none());
        breaker.record(answered(503));
        let open = breaker.open_for().expect("open");
        assert!(open > Duration::from_secs(9) && open <= Duration::from_secs(10));
        assert_eq!(breaker.trips(), 1);
    }

    #[test]
    fn a_percentage_waits_for_enough_calls() {
        let breaker = Breaker::new(
            "s/b".into(),
            rule(FailureThreshold::Percentage(50), false),
            SharedSlot::default(),
        );
        for _ in 0..4 {
            breaker.record(answered(500));
        }
        assert!(breaker.open_for().is_none(), "4 calls are too few to judge");
        for _ in 0..5 {
            breaker.record(answered(200));
        }
        assert!(breaker.open_for().is_none(), "4 of 9");
        breaker.record(answered(500));
        assert!(breaker.open_for().is_some(), "5 of 10 is 50%");
    }

    #[test]
    fn retry_after_sets_the_trip_when_accepted() {
        let breaker = Breaker::new(
            "s/b".into(),
            rule(FailureThreshold::Count(1), true),
            SharedSlot::default(),
        );
        breaker.record(CallOutcome::Answered {
            status: 503,
            retry_after: Some(Duration::from_secs(120)),
        });
        assert!(breaker.open_for().expect("open") > Duration::from_secs(100));
    }

    #[test]
    fn the_board_keeps_state_while_the_rule_is_the_same() {
        let board = BreakerBoard::default();
        let first = board.breaker("s", "b", &rule(FailureThreshold::Count(1), false));
        first.record(answered(500));
        let again = board.breaker("s", "b", &rule(FailureThreshold::Count(1), false));
        assert!(again.open_for().is_some());
        let changed = board.breaker("s", "b", &rule(FailureThreshold::Count(2), false));
        assert!(changed.open_for().is_none());
    }
}
