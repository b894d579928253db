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
    /// How long the next attempt from `ip` must wait.
    pub fn delay(&self, ip: IpAddr) -> Duration {
        let Ok(failures) = self.failures.lock() else {
            return MAX_DELAY;
        };
        match failures.get(&ip) {
            Some(&(count, last)) if count > FREE_FAILURES && last.elapsed() < FORGET_AFTER => {
                let doublings = (count - FREE_FAILURES - 1).min(4);
                (Duration::from_millis(500) * 2u32.pow(doublings)).min(MAX_DELAY)
            }
            _ => Duration::ZERO,
        }
    }

    pub async fn wait(&self, ip: IpAddr) {
        let delay = self.delay(ip);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }

    pub fn failed(&self, ip: IpAddr) {
        if let Ok(mut failures) = self.failures.lock() {
            if failures.len() >= MAX_TRACKED {
                failures.retain(|_, (_, last)| last.elapsed() < FORGET_AFTER);
            }
            let entry = failures.entry(ip).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= FORGET_AFTER {
                entry.0 = 0;
            }
            entry.0 += 1;
            entry.1 = Instant::now();
        }
    }

    pub fn succeeded(&self, ip: IpAddr) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_three_failures_and_reset_on_success() {
        let throttle = SignInThrottle::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            throttle.failed(ip);
        }
        assert_eq!(throttle.delay(ip), Duration::ZERO);
        throttle.failed(ip);
        assert_eq!(throttle.delay(ip), Duration::from_millis(500));
        throttle.failed(ip);
        assert_eq!(throttle.delay(ip), Duration::from_secs(1));
        for _ in 0..10 {
            throttle.failed(ip);
        }
        assert_eq!(throttle.delay(ip), MAX_DELAY);
        assert_eq!(throttle.delay(other), Duration::ZERO, "per address");
        throttle.succeeded(ip);
        assert_eq!(throttle.delay(ip), Duration::ZERO);
    }
}
