//! Analytics values: how calls are classed, counted per minute, and timed.
//!
//! The gateway's calls are added up per minute and per (API, operation, product,
//! subscription) into [`UsageCounts`]; latencies go into a fixed-bucket [`Histogram`] so that
//! minutes can be merged and percentiles read back over any time range.

/// How APIM's analytics class a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    /// Below 400.
    Success,
    /// 401, 403 and 429: the gateway (or the backend) refused the caller.
    Blocked,
    /// 400 and 5xx.
    Failed,
    /// Any other 4xx (404, 405, …).
    Other,
}

impl StatusClass {
    pub fn of(status: u16) -> Self {
        match status {
            0..=399 => Self::Success,
            401 | 403 | 429 => Self::Blocked,
            400 | 500.. => Self::Failed,
            _ => Self::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Blocked => "blocked",
            Self::Failed => "failed",
            Self::Other => "other",
        }
    }
}

/// Upper bounds of the latency buckets, in milliseconds; the last bucket has no bound.
pub const LATENCY_BOUNDS_MS: [f64; 29] = [
    0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0, 50.0, 70.0, 100.0, 150.0, 200.0, 300.0,
    500.0, 700.0, 1_000.0, 1_500.0, 2_000.0, 3_000.0, 5_000.0, 7_000.0, 10_000.0, 15_000.0,
    20_000.0, 30_000.0, 60_000.0,
];

/// Counts of latencies per bucket (one more bucket than bounds: the overflow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram(Vec<u64>);

impl Default for Histogram {
    fn default() -> Self {
        Self(vec![0; LATENCY_BOUNDS_MS.len() + 1])
    }
}

impl Histogram {
    pub fn add(&mut self, milliseconds: f64) {
        let bucket = LATENCY_BOUNDS_MS
            .iter()
            .position(|bound| milliseconds <= *bound)
            .unwrap_or(LATENCY_BOUNDS_MS.len());
        self.0[bucket] += 1;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            *mine += theirs;
        }
    }

    pub fn count(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The bucket bound at or below which `quantile` (0–1) of the latencies lie; `None`
    /// when empty. Values in the overflow bucket read as the last bound.
    pub fn percentile(&self, quantile: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let wanted = (quantile * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, count) in self.0.iter().enumerate() {
            seen += count;
            if seen >= wanted {
                return Some(LATENCY_BOUNDS_MS[index.min(LATENCY_BOUNDS_MS.len() - 1)]);
            }
        }
        LATENCY_BOUNDS_MS.last().copied()
    }

    /// `3,0,12,…`: how the store keeps it.
    pub fn encode(&self) -> String {
        self.0
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads [`Histogram::encode`]'s text; anything malformed reads as empty.
    pub fn decode(text: &str) -> Self {
        let counts: Vec<u64> = text
            .split(',')
            .filter_map(|n| n.trim().parse().ok())
            .collect();
        if counts.len() == LATENCY_BOUNDS_MS.len() + 1 {
            Self(counts)
        } else {
            Self::default()
        }
    }
}

/// What one minute's calls are counted by. Empty strings stand for "none" (no product, no
/// subscription; no API when nothing matched).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UsageKey {
    pub service: String,
    /// Unix minutes.
    pub minute: i64,
    pub api: String,
    pub operation: String,
    pub product: String,
    pub subscription: String,
}

/// Calls counted under one key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageCounts {
    pub calls: u64,
    pub success: u64,
    pub blocked: u64,
    pub failed: u64,
    pub other: u64,
    pub bytes: u64,
    pub total_ms_sum: f64,
    pub backend_ms_sum: f64,
    pub backend_calls: u64,
    pub total: Histogram,
    pub backend: Histogram,
}

impl UsageCounts {
    pub fn add_call(&mut self, status: u16, total_ms: f64, backend_ms: Option<f64>, bytes: u64) {
        self.calls += 1;
        match StatusClass::of(status) {
            StatusClass::Success => self.success += 1,
            StatusClass::Blocked => self.blocked += 1,
            StatusClass::Failed => self.failed += 1,
            StatusClass::Other => self.other += 1,
        }
        self.bytes += bytes;
        self.total_ms_sum += total_ms;
        self.total.add(total_ms);
        if let Some(backend_ms) = backend_ms {
            self.backend_calls += 1;
            self.backend_ms_sum += backend_ms;
            self.backend.add(backend_ms);
        }
    }

    pub fn merge(&mut self, other: &UsageCounts) {
        self.calls += other.calls;
        self.success += other.success;
        self.blocked += other.blocked;
        self.failed += other.failed;
        self.other += other.other;
        self.bytes += other.bytes;
        self.total_ms_sum += other.total_ms_sum;
        self.backend_ms_sum += other.backend_ms_sum;
        self.backend_calls += other.backend_calls;
        self.total.merge(&other.total);
        self.backend.merge(&other.backend);
    }
}

/// One call in the recent-requests log.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentCall {
    pub service: String,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub method: String,
    pub path: String,
    pub api: String,
    pub operation: String,
    pub product: String,
    pub subscription: String,
    pub status: u16,
    pub total_ms: f64,
    pub backend_ms: Option<f64>,
    pub bytes: u64,
    pub ip: String,
    pub request_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_apim() {
        assert_eq!(StatusClass::of(200), StatusClass::Success);
        assert_eq!(StatusClass::of(304), StatusClass::Success);
        for blocked in [401, 403, 429] {
            assert_eq!(StatusClass::of(blocked), StatusClass::Blocked);
        }
        for failed in [400, 500, 502, 504] {
            assert_eq!(StatusClass::of(failed), StatusClass::Failed);
        }
        assert_eq!(StatusClass::of(404), StatusClass::Other);
    }

    #[test]
    fn percentiles_come_from_merged_buckets() {
        let mut a = Histogram::default();
        for ms in [0.3, 0.8, 1.5, 4.0] {
            a.add(ms);
        }
        let mut b = Histogram::default();
        for _ in 0..96 {
            b.add(12.0);
        }
        a.merge(&b);
        assert_eq!(a.count(), 100);
        assert_eq!(a.percentile(0.5), Some(15.0));
        assert_eq!(a.percentile(0.02), Some(1.0));
        assert_eq!(Histogram::default().percentile(0.5), None);
        let mut slow = Histogram::default();
        slow.add(120_000.0);
        assert_eq!(slow.percentile(0.99), Some(60_000.0));
        assert_eq!(Histogram::decode(&a.encode()), a);
        assert_eq!(Histogram::decode("1,2"), Histogram::default());
    }
}
