//! Slowing down repeated failed sign-ins from one address.
//!
//! The first three failures cost nothing; after that each attempt from the address waits
//! 0.5 s, 1 s, 2 s, … up to 8 s before its credentials are checked. Addresses forget their
//! failures after 15 quiet minutes, and the table is pruned so it stays small.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FREE_FAILURES: u32 = 3;
const MAX_DELAY: Duration = Duration::from_secs(8);
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
const MAX_TRACKED: usize = 10_000;

#[derive(Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl SignInThrottle {
    /// How long an attempt from `ip` must wait now, given its failures so far.
    pub fn delay(&self, ip: IpAddr) -> Duration {
        let Ok(failures) = self.failures.lock() else {
            return MAX_DELAY;
        };
        match failures.get(&ip) {
            Some(&(count, last)) if last.elapsed() < FORGET_AFTER => delay_after(count),
            _ => Duration::ZERO,
        }
    }

    /// Counts an attempt from `ip` as a failure *before* its credentials are checked, and
    /// returns how long it must wait. Counting first means attempts sent at once are
    /// throttled too: the tenth concurrent guess waits as long as the tenth sequential one.
    /// [`Self::succeeded`] forgets the address again.
    pub fn attempt(&self, ip: IpAddr) -> Duration {
        let Ok(mut failures) = self.failures.lock() else {
            return MAX_DELAY;
        };
        if failures.len() >= MAX_TRACKED {
            failures.retain(|_, (_, last)| last.elapsed() < FORGET_AFTER);
        }
        let entry = failures.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= FORGET_AFTER {
            entry.0 = 0;
        }
        let before = entry.0;
        entry.0 += 1;
        entry.1 = Instant::now();
        delay_after(before)
    }

    /// Counts an attempt (see [`Self::attempt`]) and waits its delay.
    pub async fn wait_turn(&self, ip: IpAddr) {
        let delay = self.attempt(ip);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }

    pub fn succeeded(&self, ip: IpAddr) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&ip);
        }
    }
}

/// The wait before the next attempt after `count` failures.
fn delay_after(count: u32) -> Duration {
    if count <= FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (count - FREE_FAILURES - 1).min(4);
    (Duration::from_millis(500) * 2u32.pow(doublings)).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_three_failures_and_reset_on_success() {
        let throttle = SignInThrottle::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        // Attempts are counted as they start: ten sent at once (none has failed yet) are
        // throttled exactly as ten in a row would be.
        let delays: Vec<Duration> = (0..10).map(|_| throttle.attempt(ip)).collect();
        assert_eq!(delays[..4], [Duration::ZERO; 4]);
        assert_eq!(delays[4], Duration::from_millis(500));
        assert_eq!(delays[5], Duration::from_secs(1));
        assert_eq!(delays[9], MAX_DELAY);
        assert_eq!(throttle.delay(ip), MAX_DELAY);
        assert_eq!(throttle.delay(other), Duration::ZERO, "per address");
        throttle.succeeded(ip);
        assert_eq!(throttle.delay(ip), Duration::ZERO);
        assert_eq!(throttle.attempt(ip), Duration::ZERO);
    }
}
