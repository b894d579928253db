//! Analytics for a service: calls over time by class, latency percentiles, breakdowns, and
//! the recent calls.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// `14:05`, or `11-27 14:00` over several days (UTC).
    pub label: String,
    pub success: u64,
    pub blocked: u64,
    pub failed: u64,
    pub other: u64,
}

impl Bucket {
    pub fn total(&self) -> u64 {
        self.success + self.blocked + self.failed + self.other
    }
}

/// Milliseconds at the 50th, 95th and 99th percentile (bucket bounds); `None` without calls.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BreakdownRow {
    pub name: String,
    pub calls: u64,
    pub success: u64,
    pub blocked: u64,
    pub failed: u64,
    pub other: u64,
    pub avg_ms: f64,
    pub bytes: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalyticsData {
    /// `Last hour (UTC 13:05–14:05), per minute`.
    pub range_label: String,
    pub buckets: Vec<Bucket>,
    pub totals: BreakdownRow,
    pub gateway: Percentiles,
    pub backend: Percentiles,
    pub by_api: Vec<BreakdownRow>,
    pub by_operation: Vec<BreakdownRow>,
    pub by_product: Vec<BreakdownRow>,
    pub by_subscription: Vec<BreakdownRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecentRow {
    /// `2026-11-27 14:05:09` (UTC).
    pub at: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub api: String,
    pub operation: String,
    pub subscription: String,
    pub total_ms: f64,
    pub backend_ms: Option<f64>,
    pub request_id: String,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{BreakdownRow, Percentiles};
    use chrono::{DateTime, NaiveDateTime, Utc};
    use portcullis_domain::usage::{Histogram, UsageCounts};

    /// Bucket sizes a range may use, in minutes.
    const STEPS: [i64; 9] = [1, 5, 15, 30, 60, 120, 360, 720, 1440];

    /// `(from, to, step)` in unix minutes (`to` exclusive), and how to name it.
    pub fn window(range: &str, from: &str, to: &str) -> Result<(i64, i64, i64, String), String> {
        let now = Utc::now().timestamp().div_euclid(60) + 1;
        let (from, to, name) = match range {
            "24h" => (now - 24 * 60, now, "Last 24 hours"),
            "7d" => (now - 7 * 24 * 60, now, "Last 7 days"),
            "custom" => {
                let parse = |text: &str, what: &str| {
                    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M")
                        .map(|t| t.and_utc().timestamp().div_euclid(60))
                        .map_err(|_| format!("Enter the {what} as a date and time."))
                };
                let (from, to) = (parse(from, "start")?, parse(to, "end")?);
                if to <= from {
                    return Err("The end must come after the start.".into());
                }
                if to - from > 90 * 24 * 60 {
                    return Err("Choose at most 90 days.".into());
                }
                (from, to, "Custom range")
            }
            _ => (now - 60, now, "Last hour"),
        };
        let span = to - from;
        let step = STEPS
            .iter()
            .copied()
            .find(|s| span / s <= 120)
            .unwrap_or(1440);
        let per = match step {
            1 => "per minute".to_owned(),
            s if s < 60 => format!("per {s} minutes"),
            60 => "per hour".to_owned(),
            1440 => "per day".to_owned(),
            s => format!("per {} hours", s / 60),
        };
        let label = format!(
            "{name} (UTC {} – {}), {per}",
            stamp(from, span),
            stamp(to, span)
        );
        Ok((from - from.rem_euclid(step), to, step, label))
    }

    /// A minute as text: time of day within a day, with the date beyond.
    pub fn stamp(minute: i64, span: i64) -> String {
        let at = DateTime::<Utc>::from_timestamp(minute * 60, 0).unwrap_or_default();
        if span <= 24 * 60 {
            at.format("%H:%M").to_string()
        } else {
            at.format("%m-%d %H:%M").to_string()
        }
    }

    pub fn percentiles(histogram: &Histogram) -> Percentiles {
        Percentiles {
            p50: histogram.percentile(0.50),
            p95: histogram.percentile(0.95),
            p99: histogram.percentile(0.99),
        }
    }

    pub fn row(name: String, counts: &UsageCounts) -> BreakdownRow {
        BreakdownRow {
            name,
            calls: counts.calls,
            success: counts.success,
            blocked: counts.blocked,
            failed: counts.failed,
            other: counts.other,
            avg_ms: if counts.calls == 0 {
                0.0
            } else {
                counts.total_ms_sum / counts.calls as f64
            },
            bytes: counts.bytes,
        }
    }
}

#[server]
pub async fn analytics(
    service: String,
    range: String,
    from: String,
    to: String,
) -> Result<AnalyticsData, ServerFnError> {
    use portcullis_domain::usage::UsageCounts;
    use std::collections::BTreeMap;
    let (state, _) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let (start, end, step, range_label) =
        ssr::window(&range, &from, &to).map_err(ServerFnError::new)?;
    let rows = state
        .control
        .store()
        .usage(service.as_str(), start, end)
        .await
        .map_err(crate::server::internal)?;
    let count = usize::try_from((end - start + step - 1) / step).unwrap_or(0);
    let mut buckets: Vec<Bucket> = (0..count)
        .map(|i| Bucket {
            label: ssr::stamp(start + i as i64 * step, end - start),
            ..Default::default()
        })
        .collect();
    let mut totals = UsageCounts::default();
    let mut groups: [BTreeMap<String, UsageCounts>; 4] = Default::default();
    for (key, counts) in &rows {
        let index = usize::try_from((key.minute - start) / step).unwrap_or(0);
        if let Some(bucket) = buckets.get_mut(index) {
            bucket.success += counts.success;
            bucket.blocked += counts.blocked;
            bucket.failed += counts.failed;
            bucket.other += counts.other;
        }
        totals.merge(counts);
        let none = |value: &str, empty: &str| {
            if value.is_empty() {
                empty.to_owned()
            } else {
                value.to_owned()
            }
        };
        let names = [
            none(&key.api, "(no API matched)"),
            if key.operation.is_empty() {
                "(no operation matched)".to_owned()
            } else {
                format!("{} › {}", key.api, key.operation)
            },
            none(&key.product, "(no product)"),
            none(&key.subscription, "(no key)"),
        ];
        for (group, name) in groups.iter_mut().zip(names) {
            group.entry(name).or_default().merge(counts);
        }
    }
    let [by_api, by_operation, by_product, by_subscription] = groups.map(|group| {
        let mut rows: Vec<BreakdownRow> = group
            .iter()
            .map(|(name, counts)| ssr::row(name.clone(), counts))
            .collect();
        rows.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.name.cmp(&b.name)));
        rows
    });
    Ok(AnalyticsData {
        range_label,
        buckets,
        totals: ssr::row("All calls".into(), &totals),
        gateway: ssr::percentiles(&totals.total),
        backend: ssr::percentiles(&totals.backend),
        by_api,
        by_operation,
        by_product,
        by_subscription,
    })
}

/// The newest calls (at most 200), optionally only of one status class or subscription.
#[server]
pub async fn recent_requests(
    service: String,
    class: String,
    subscription: String,
) -> Result<Vec<RecentRow>, ServerFnError> {
    use portcullis_domain::usage::StatusClass;
    let (state, _) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let class = match class.as_str() {
        "success" => Some(StatusClass::Success),
        "blocked" => Some(StatusClass::Blocked),
        "failed" => Some(StatusClass::Failed),
        "other" => Some(StatusClass::Other),
        _ => None,
    };
    let filter = portcullis_store::RecentFilter {
        class,
        subscription: (!subscription.is_empty()).then_some(subscription),
        limit: 200,
    };
    let calls = state
        .control
        .store()
        .recent_calls(service.as_str(), &filter)
        .await
        .map_err(crate::server::internal)?;
    Ok(calls
        .into_iter()
        .map(|call| RecentRow {
            at: chrono::DateTime::<chrono::Utc>::from_timestamp_millis(call.at_ms)
                .unwrap_or_default()
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            method: call.method,
            path: call.path,
            status: call.status,
            api: call.api,
            operation: call.operation,
            subscription: call.subscription,
            total_ms: call.total_ms,
            backend_ms: call.backend_ms,
            request_id: call.request_id,
        })
        .collect())
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::ssr::window;

    #[test]
    fn ranges_pick_readable_bucket_sizes() {
        let (from, to, step, label) = window("1h", "", "").unwrap();
        assert_eq!((to - from, step), (60, 1));
        assert!(label.starts_with("Last hour (UTC "), "{label}");
        let (_, _, step, _) = window("24h", "", "").unwrap();
        assert_eq!(step, 15);
        let (_, _, step, label) = window("7d", "", "").unwrap();
        assert_eq!(step, 120);
        assert!(label.ends_with("per 2 hours"), "{label}");
        let (from, to, step, _) = window("custom", "2026-11-27T10:00", "2026-11-27T10:30").unwrap();
        assert_eq!((to - from, step), (30, 1));
        assert!(window("custom", "2026-11-27T10:30", "2026-11-27T10:00").is_err());
        assert!(window("custom", "yesterday", "2026-11-27T10:00").is_err());
    }
}
