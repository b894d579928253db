//! Adding calls up: per minute and per (API, operation, product, subscription), plus the
//! recent-calls log, until the next flush takes them.

use portcullis_domain::usage::{RecentCall, UsageCounts, UsageKey};
use portcullis_gateway::calls::CallRecord;
use std::collections::HashMap;
use std::time::UNIX_EPOCH;

fn name(value: &Option<std::sync::Arc<str>>) -> String {
    value.as_deref().unwrap_or_default().to_owned()
}

/// What has been counted since the last flush.
#[derive(Debug, Default)]
pub struct Pending {
    minutes: HashMap<UsageKey, UsageCounts>,
    recent: Vec<RecentCall>,
}

impl Pending {
    pub fn add(&mut self, call: &CallRecord) {
        let since_epoch = call.at.duration_since(UNIX_EPOCH).unwrap_or_default();
        let at_ms = i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX);
        let key = UsageKey {
            service: call.service.to_string(),
            minute: at_ms.div_euclid(60_000),
            api: name(&call.api),
            operation: name(&call.operation),
            product: name(&call.product),
            subscription: name(&call.subscription),
        };
        let total_ms = call.total.as_secs_f64() * 1000.0;
        let backend_ms = call.backend.map(|d| d.as_secs_f64() * 1000.0);
        self.minutes.entry(key).or_default().add_call(
            call.status,
            total_ms,
            backend_ms,
            call.bytes,
        );
        self.recent.push(RecentCall {
            service: call.service.to_string(),
            at_ms,
            method: call.method.as_str().to_owned(),
            path: call.path.clone(),
            api: name(&call.api),
            operation: name(&call.operation),
            product: name(&call.product),
            subscription: name(&call.subscription),
            status: call.status,
            total_ms,
            backend_ms,
            bytes: call.bytes,
            ip: call.ip.to_string(),
            request_id: call.request_id.clone(),
        });
        // Only the newest calls are ever kept; a burst between flushes need not all be.
        let cap = usize::try_from(portcullis_store::RECENT_CALLS_KEPT).unwrap_or(1000) * 4;
        if self.recent.len() > cap {
            self.recent.drain(..self.recent.len() - cap);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.minutes.is_empty() && self.recent.is_empty()
    }

    /// Everything counted so far, leaving this empty.
    pub fn take(&mut self) -> (Vec<(UsageKey, UsageCounts)>, Vec<RecentCall>) {
        (
            std::mem::take(&mut self.minutes).into_iter().collect(),
            std::mem::take(&mut self.recent),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    fn call(at: SystemTime, status: u16) -> CallRecord {
        CallRecord {
            at,
            service: Arc::from("svc"),
            api: Some(Arc::from("echo")),
            operation: Some(Arc::from("get")),
            product: None,
            subscription: Some(Arc::from("tester")),
            method: http::Method::GET,
            path: "/echo/x".into(),
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
        pending.add(&call(minute + Duration::from_millis(59_999), 200));
        pending.add(&call(minute + Duration::from_millis(59_999), 429));
        // One millisecond later is the next minute.
        pending.add(&call(minute + Duration::from_secs(60), 502));
        let (mut minutes, recent) = pending.take();
        assert!(pending.is_empty());
        minutes.sort_by_key(|(key, _)| key.minute);
        assert_eq!(minutes.len(), 2);
        let (first_key, first) = &minutes[0];
        assert_eq!(first_key.minute, 29_000_000);
        assert_eq!(
            (first.calls, first.success, first.blocked, first.bytes),
            (2, 1, 1, 20)
        );
        assert_eq!(first.backend_calls, 2);
        let (second_key, second) = &minutes[1];
        assert_eq!(second_key.minute, 29_000_001);
        assert_eq!((second.calls, second.failed), (1, 1));
        assert_eq!(recent.len(), 3);
        assert_eq!(recent[2].status, 502);
    }
}
