//! Adding calls up: per minute and per (API, operation, product, subscription), plus the
//! newest calls for the recent log, until the next flush takes them. Keys hold the
//! snapshot's shared names, so counting a call allocates nothing; text is made at flush.

use portcullis_domain::usage::{RecentCall, UsageCounts, UsageKey};
use portcullis_gateway::calls::CallRecord;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

type Name = Option<Arc<str>>;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CallKey {
    service: Arc<str>,
    minute: i64,
    api: Name,
    operation: Name,
    product: Name,
    subscription: Name,
}

fn text(name: &Name) -> String {
    name.as_deref().unwrap_or_default().to_owned()
}

fn unix_ms(at: SystemTime) -> i64 {
    let since_epoch = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// What has been counted since the last flush.
#[derive(Debug, Default)]
pub struct Pending {
    minutes: HashMap<CallKey, UsageCounts>,
    recent: VecDeque<CallRecord>,
}

impl Pending {
    pub fn add(&mut self, call: CallRecord) {
        let key = CallKey {
            service: call.service.clone(),
            minute: unix_ms(call.at).div_euclid(60_000),
            api: call.api.clone(),
            operation: call.operation.clone(),
            product: call.product.clone(),
            subscription: call.subscription.clone(),
        };
        let total_ms = call.total.as_secs_f64() * 1000.0;
        let backend_ms = call.backend.map(|d| d.as_secs_f64() * 1000.0);
        self.minutes.entry(key).or_default().add_call(
            call.status,
            total_ms,
            backend_ms,
            call.bytes,
        );
        // Only the newest calls are ever kept, so a burst need not all be written.
        if self.recent.len() >= usize::try_from(portcullis_store::RECENT_CALLS_KEPT).unwrap_or(1000)
        {
            self.recent.pop_front();
        }
        self.recent.push_back(call);
    }

    pub fn is_empty(&self) -> bool {
        self.minutes.is_empty() && self.recent.is_empty()
    }

    /// Everything counted so far, as the store's values, leaving this empty.
    pub fn take(&mut self) -> (Vec<(UsageKey, UsageCounts)>, Vec<RecentCall>) {
        let minutes = std::mem::take(&mut self.minutes)
            .into_iter()
            .map(|(key, counts)| {
                (
                    UsageKey {
                        service: key.service.to_string(),
                        minute: key.minute,
                        api: text(&key.api),
                        operation: text(&key.operation),
                        product: text(&key.product),
                        subscription: text(&key.subscription),
                    },
                    counts,
                )
            })
            .collect();
        let recent = std::mem::take(&mut self.recent)
            .into_iter()
            .map(|call| RecentCall {
                service: call.service.to_string(),
                at_ms: unix_ms(call.at),
                method: call.method.as_str().to_owned(),
                path: call.path.to_string(),
                api: text(&call.api),
                operation: text(&call.operation),
                product: text(&call.product),
                subscription: text(&call.subscription),
                status: call.status,
                total_ms: call.total.as_secs_f64() * 1000.0,
                backend_ms: call.backend.map(|d| d.as_secs_f64() * 1000.0),
                bytes: call.bytes,
                ip: call.ip.to_string(),
                request_id: call.request_id,
            })
            .collect();
        (minutes, recent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn call(at: SystemTime, status: u16) -> CallRecord {
        CallRecord {
            at,
            service: Arc::from("svc"),
            api: Some(Arc::from("echo")),
            operation: Some(Arc::from("get")),
            product: None,
            subscription: Some(Arc::from("tester")),
            method: http::Method::GET,
            path: Box::from("/echo/x"),
            status,
            total: Duration::from_millis(4),
            backend: Some(Duration::from_millis(3)),
            bytes: 10,
            ip: "127.0.0.1".parse().unwrap(),
            request_id: "id".into(),
        }
    }

    #[test]
    fn calls_are_counted_per_minute_and_class() {
        let minute = UNIX_EPOCH + Duration::from_secs(60 * 29_000_000);
        let mut pending = Pending::default();
        pending.add(call(minute + Duration::from_millis(59_999), 200));
        pending.add(call(minute + Duration::from_millis(59_999), 429));
        // One millisecond later is the next minute.
        pending.add(call(minute + Duration::from_secs(60), 502));
        let (mut minutes, recent) = pending.take();
        assert!(pending.is_empty());
        minutes.sort_by_key(|(key, _)| key.minute);
        assert_eq!(minutes.len(), 2);
        let (first_key, first) = &minutes[0];
        assert_eq!(
            (first_key.minute, first_key.product.as_str()),
            (29_000_000, "")
        );
        assert_eq!(
            (first.calls, first.success, first.blocked, first.bytes),
            (2, 1, 1, 20)
        );
        assert_eq!(first.backend_calls, 2);
        let (second_key, second) = &minutes[1];
        assert_eq!(second_key.minute, 29_000_001);
        assert_eq!((second.calls, second.failed), (1, 1));
        assert_eq!(recent.len(), 3);
        assert_eq!(
            (recent[2].status, recent[2].path.as_str()),
            (502, "/echo/x")
        );
    }

    #[test]
    fn only_the_newest_calls_wait_for_the_log() {
        let mut pending = Pending::default();
        let kept = usize::try_from(portcullis_store::RECENT_CALLS_KEPT).unwrap();
        for i in 0..kept + 10 {
            pending.add(call(UNIX_EPOCH + Duration::from_secs(i as u64), 200));
        }
        let (minutes, recent) = pending.take();
        assert_eq!(recent.len(), kept);
        assert_eq!(
            minutes.iter().map(|(_, c)| c.calls).sum::<u64>(),
            (kept + 10) as u64
        );
    }
}
