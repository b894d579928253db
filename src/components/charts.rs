//! Charts drawn as SVG by the app itself: calls over time stacked by class, and latency
//! percentiles side by side.

use crate::api::analytics::{Bucket, Percentiles};
use leptos::prelude::*;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 8.0;

/// The classes in stacking order, with their colours.
pub const CLASSES: [(&str, &str); 4] = [
    ("Successful", "#2f9e66"),
    ("Blocked (401/403/429)", "#d69e2e"),
    ("Failed (400/5xx)", "#c0362c"),
    ("Other", "#9aa5b1"),
];

/// A round number at or above `value` for the axis.
fn nice_max(value: u64) -> u64 {
    let value = value.max(1);
    let magnitude = 10u64.pow(value.ilog10());
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|m| *m >= value)
        .unwrap_or(value)
}

#[component]
pub fn CallsChart(buckets: Vec<Bucket>) -> impl IntoView {
    let count = buckets.len().max(1) as f64;
    let max = nice_max(buckets.iter().map(Bucket::total).max().unwrap_or(0));
    let plot = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / count;
    let bar = (slot * 0.8).max(1.0);
    let scale = move |n: u64| n as f64 / max as f64 * plot;
    let label_every = (buckets.len() / 6).max(1);
    let bars = buckets
        .iter()
        .enumerate()
        .map(|(i, bucket)| {
            let x = LEFT + i as f64 * slot + (slot - bar) / 2.0;
            let mut y = HEIGHT - BOTTOM;
            let parts = [bucket.success, bucket.blocked, bucket.failed, bucket.other];
            let rects = parts
                .iter()
                .zip(CLASSES)
                .filter(|(n, _)| **n > 0)
                .map(|(n, (_, colour))| {
                    let h = scale(*n);
                    y -= h;
                    view! { <rect x=format!("{x:.1}") y=format!("{y:.1}") width=format!("{bar:.1}") height=format!("{h:.1}") fill=colour/> }
                })
                .collect_view();
            let title = format!(
                "{}: {} calls ({} successful, {} blocked, {} failed, {} other)",
                bucket.label,
                bucket.total(),
                bucket.success,
                bucket.blocked,
                bucket.failed,
                bucket.other
            );
            let tick = (i % label_every == 0).then(|| {
                view! { <text x=format!("{:.1}", x + bar / 2.0) y=format!("{}", HEIGHT - 6.0) text-anchor="middle" class="axis">{bucket.label.clone()}</text> }
            });
            view! { <g><title>{title}</title>{rects}</g>{tick} }
        })
        .collect_view();
    let mid = HEIGHT - BOTTOM - plot / 2.0;
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label="Calls over time by result">
                <line x1=LEFT y1=TOP x2=WIDTH y2=TOP class="grid"/>
                <line x1=LEFT y1=mid x2=WIDTH y2=mid class="grid"/>
                <line x1=LEFT y1=HEIGHT - BOTTOM x2=WIDTH y2=HEIGHT - BOTTOM class="baseline"/>
                <text x=LEFT - 6.0 y=TOP + 4.0 text-anchor="end" class="axis">{max.to_string()}</text>
                <text x=LEFT - 6.0 y=mid + 4.0 text-anchor="end" class="axis">{(max as f64 / 2.0).to_string()}</text>
                <text x=LEFT - 6.0 y=HEIGHT - BOTTOM + 4.0 text-anchor="end" class="axis">"0"</text>
                {bars}
            </svg>
            <figcaption class="legend">
                {CLASSES.iter().map(|(label, colour)| view! {
                    <span><i style=format!("background:{colour}")></i>{*label}</span>
                }).collect_view()}
            </figcaption>
        </figure>
    }
}

/// p50/p95/p99 of the gateway's total time and of the backend's, as horizontal bars.
#[component]
pub fn LatencyChart(gateway: Percentiles, backend: Percentiles) -> impl IntoView {
    let rows = [
        ("p50", gateway.p50, backend.p50),
        ("p95", gateway.p95, backend.p95),
        ("p99", gateway.p99, backend.p99),
    ];
    let max = rows
        .iter()
        .flat_map(|(_, g, b)| [*g, *b])
        .flatten()
        .fold(0.0f64, f64::max)
        .max(1.0);
    let width = 520.0;
    let left = 48.0;
    let row_height = 44.0;
    let scale = move |ms: f64| (ms / max) * (width - left - 140.0);
    let shown = |ms: Option<f64>| ms.map_or("–".to_owned(), |ms| format!("≤ {ms} ms"));
    let svg_rows = rows
        .iter()
        .enumerate()
        .map(|(i, (label, g, b))| {
            let y = 6.0 + i as f64 * row_height;
            view! {
                <text x="0" y=y + 18.0 class="axis">{*label}</text>
                <rect x=left y=y width=scale(g.unwrap_or(0.0)).max(1.0) height="14" fill="#2f6fed"/>
                <text x=left + scale(g.unwrap_or(0.0)) + 6.0 y=y + 11.0 class="axis">{format!("gateway {}", shown(*g))}</text>
                <rect x=left y=y + 18.0 width=scale(b.unwrap_or(0.0)).max(1.0) height="14" fill="#9f7aea"/>
                <text x=left + scale(b.unwrap_or(0.0)) + 6.0 y=y + 29.0 class="axis">{format!("backend {}", shown(*b))}</text>
            }
        })
        .collect_view();
    view! {
        <figure class="chart latency">
            <svg viewBox=format!("0 0 {width} {}", 6.0 + 3.0 * row_height) role="img" aria-label="Latency percentiles">
                {svg_rows}
            </svg>
            <figcaption class="legend">
                <span><i style="background:#2f6fed"></i>"Gateway (total time)"</span>
                <span><i style="background:#9f7aea"></i>"Backend"</span>
            </figcaption>
        </figure>
    }
}
