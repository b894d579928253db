//! The Redis counters against a real Redis (`PORTCULLIS_TEST_REDIS_URL`; required in CI):
//! the same decisions as the in-memory counters, for the same calls.

use portcullis_gateway::redis_counters::{
    CounterFailure, RedisCounters, RedisSettings, SLOT_LEASE,
};
use portcullis_policy::counters::{Acquired, CounterStore, Decision, MemoryCounters};
use std::time::Duration;
use std::time::Instant;

fn redis() -> Option<RedisCounters> {
    redis_with_lease(SLOT_LEASE)
}

/// Counters whose concurrency slots last `slot_lease` unless renewed.
fn redis_with_lease(slot_lease: Duration) -> Option<RedisCounters> {
    let url = match std::env::var("PORTCULLIS_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            assert!(
                std::env::var("PORTCULLIS_REQUIRE_REDIS").as_deref() != Ok("1"),
                "PORTCULLIS_REQUIRE_REDIS=1 but PORTCULLIS_TEST_REDIS_URL is not set"
            );
            eprintln!("skipped: PORTCULLIS_TEST_REDIS_URL is not set");
            return None;
        }
    };
    let counters = RedisCounters::new(RedisSettings {
        url,
        key_prefix: format!("test-{}-{}", std::process::id(), nanos_now()),
        timeout: Duration::from_secs(2),
        failure: CounterFailure::Closed,
        slot_lease,
    });
    Some(counters.expect("a Redis URL"))
}

/// Keeps runs apart in a shared Redis.
fn nanos_now() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Runs `calls` (limit, window, amount) against both stores and returns both answers.
async fn both(
    redis: &RedisCounters,
    memory: &MemoryCounters,
    key: &str,
    calls: &[(u64, Duration, u64)],
) -> Vec<(Decision, Decision)> {
    let mut answers = Vec::new();
    for &(limit, window, amount) in calls {
        let from_redis = redis
            .hit_window(key, limit, window, amount)
            .await
            .expect("Redis answers");
        let from_memory = memory.hit_window_now(key, limit, window, amount);
        answers.push((from_redis, from_memory));
    }
    answers
}

/// Decisions agree when both count (same remaining calls) or both refuse (waits within
/// the few milliseconds between the two stores' clocks).
fn agree((redis, memory): (Decision, Decision)) -> bool {
    match (redis, memory) {
        (Decision::Allowed { remaining: a }, Decision::Allowed { remaining: b }) => a == b,
        (Decision::Refused { retry_after: a }, Decision::Refused { retry_after: b }) => {
            a.abs_diff(b) <= Duration::from_millis(50)
        }
        _ => false,
    }
}

#[tokio::test]
async fn sliding_windows_decide_as_in_memory() {
    let Some(redis) = redis() else { return };
    let memory = MemoryCounters::new();
    let second = Duration::from_secs(1);
    let minute = Duration::from_secs(60);
    // Three a second, then refused; a call of 2 that does not fit; one over the limit.
    let answers = both(
        &redis,
        &memory,
        "window",
        &[
            (3, second, 1),
            (3, second, 1),
            (3, second, 1),
            (3, second, 1),
            (3, second, 2),
            (3, second, 5),
        ],
    )
    .await;
    assert!(answers.iter().copied().all(agree), "{answers:?}");
    assert_eq!(answers[2].0, Decision::Allowed { remaining: 0 });
    assert!(matches!(answers[3].0, Decision::Refused { retry_after } if retry_after <= second));
    assert_eq!(
        answers[5].0,
        Decision::Refused {
            retry_after: second
        }
    );

    // Once the first calls leave the window there is room again.
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let answers = both(&redis, &memory, "window", &[(3, second, 1)]).await;
    assert_eq!(answers[0].0, Decision::Allowed { remaining: 2 });

    // A minute's window and a second's window on one key: the shorter one counts only its
    // second of the log.
    let answers = both(
        &redis,
        &memory,
        "shared",
        &[(100, minute, 5), (3, second, 1), (100, minute, 1)],
    )
    .await;
    assert!(answers.iter().copied().all(agree), "{answers:?}");
    assert!(matches!(answers[1].0, Decision::Refused { .. }));
    assert_eq!(answers[2].0, Decision::Allowed { remaining: 94 });
}

#[tokio::test]
async fn quotas_and_slots_decide_as_in_memory() {
    let Some(redis) = redis() else { return };
    let memory = MemoryCounters::new();
    for _ in 0..2 {
        let from_redis = redis.hit_quota("quota", 2, None, 1).await.expect("Redis");
        assert_eq!(from_redis, memory.hit_quota_now("quota", 2, None, 1));
    }
    let refused = redis.hit_quota("quota", 2, None, 1).await.expect("Redis");
    assert_eq!(refused, memory.hit_quota_now("quota", 2, None, 1));
    assert!(matches!(refused, Decision::Refused { .. }));

    let hour = Duration::from_secs(3600);
    let counted = redis
        .hit_quota("hourly", 5, Some(hour), 5)
        .await
        .expect("Redis");
    assert_eq!(counted, Decision::Allowed { remaining: 0 });
    let Decision::Refused { retry_after } = redis
        .hit_quota("hourly", 5, Some(hour), 1)
        .await
        .expect("Redis")
    else {
        panic!("the quota is used up");
    };
    assert!(retry_after <= hour && retry_after > hour - Duration::from_secs(5));

    let Acquired::Taken(first) = redis.acquire("slots", 2).await.expect("Redis") else {
        panic!("a free slot");
    };
    assert!(matches!(
        redis.acquire("slots", 2).await.expect("Redis"),
        Acquired::Taken(_)
    ));
    assert_eq!(
        redis.acquire("slots", 2).await.expect("Redis"),
        Acquired::Full
    );
    redis.release("slots", first).await.expect("Redis");
    assert!(
        matches!(
            redis.acquire("slots", 2).await.expect("Redis"),
            Acquired::Taken(_)
        ),
        "a released slot is free at once"
    );
}

#[tokio::test]
async fn a_slot_nobody_renews_comes_back_after_its_lease_while_renewed_ones_stay() {
    let lease = Duration::from_millis(400);
    let Some(redis) = redis_with_lease(lease) else {
        return;
    };
    assert_eq!(redis.slot_lease(), Some(lease));
    // Two slots: one held by a node that crashed (never renewed, never released), one by a
    // call that runs on and renews.
    let Acquired::Taken(_crashed) = redis.acquire("leases", 2).await.expect("Redis") else {
        panic!("a free slot");
    };
    let Acquired::Taken(running) = redis.acquire("leases", 2).await.expect("Redis") else {
        panic!("a free slot");
    };
    // Other calls keep asking meanwhile: a busy key must not keep a dead slot alive.
    let started = Instant::now();
    let mut came_back = None;
    while started.elapsed() < lease * 5 {
        redis.renew("leases", running).await.expect("Redis");
        if let Acquired::Taken(ticket) = redis.acquire("leases", 2).await.expect("Redis") {
            came_back = Some((started.elapsed(), ticket));
            break;
        }
        tokio::time::sleep(lease / 8).await;
    }
    let (after, newcomer) = came_back.expect("the crashed node's slot comes back");
    assert!(
        after >= lease / 2,
        "not before its lease ran out: {after:?}"
    );
    // The renewed slot is still held: the newcomer took the last one.
    assert_eq!(
        redis.acquire("leases", 2).await.expect("Redis"),
        Acquired::Full
    );
    redis.release("leases", newcomer).await.expect("Redis");
    redis.release("leases", running).await.expect("Redis");
    assert!(matches!(
        redis.acquire("leases", 2).await.expect("Redis"),
        Acquired::Taken(_)
    ));
}

/// A Redis nobody answers at: a port that was free a moment ago.
fn unreachable(failure: CounterFailure) -> RedisCounters {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    RedisCounters::new(RedisSettings {
        url: format!("redis://127.0.0.1:{port}/"),
        key_prefix: "unreachable".to_owned(),
        timeout: Duration::from_millis(200),
        failure,
        slot_lease: SLOT_LEASE,
    })
    .expect("a Redis URL")
}

#[tokio::test]
async fn without_redis_fail_open_lets_calls_through_uncounted_and_fail_closed_refuses() {
    let open = unreachable(CounterFailure::Open);
    let second = Duration::from_secs(1);
    assert_eq!(
        open.hit_window("k", 1, second, 1).await,
        Ok(Decision::Allowed { remaining: 1 })
    );
    // No slot was taken, so none may be given back (that would free another call's).
    assert_eq!(open.acquire("k", 1).await, Ok(Acquired::Uncounted));
    assert_eq!(open.failures(), 2);

    let closed = unreachable(CounterFailure::Closed);
    assert!(closed.hit_window("k", 1, second, 1).await.is_err());
    assert!(closed.acquire("k", 1).await.is_err());
    assert!(closed.hit_quota("k", 1, None, 1).await.is_err());
}
