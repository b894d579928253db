//! A service's **Analytics**: calls over time (successful, blocked, failed), latency
//! percentiles for the gateway and the backend, breakdowns by API, operation, product and
//! subscription, and the **Requests** view of recent calls.

use crate::api::analytics::{AnalyticsData, BreakdownRow, analytics, recent_requests};
use crate::components::{
    CallsChart, Interactive, LatencyChart, LoadError, Protected, ServiceFrame,
};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

const RANGES: [(&str, &str); 4] = [
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("custom", "Custom"),
];

#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let params = use_params_map();
    let service = Signal::derive(move || params.read().get("service").unwrap_or_default());
    let view_tab = RwSignal::new("overview");
    view! {
        <Protected>
            <ServiceFrame service current="Analytics">
                <h1>"Analytics"</h1>
                <div class="tabs" role="tablist" aria-label="Analytics">
                    <button type="button" role="tab" aria-selected=move || (view_tab.get() == "overview").to_string() class:current=move || view_tab.get() == "overview" on:click=move |_| view_tab.set("overview")>"Overview"</button>
                    <button type="button" role="tab" aria-selected=move || (view_tab.get() == "requests").to_string() class:current=move || view_tab.get() == "requests" on:click=move |_| view_tab.set("requests")>"Requests"</button>
                </div>
                <Show when=move || view_tab.get() == "overview" fallback=move || view! { <RequestsView service/> }>
                    <Overview service/>
                </Show>
            </ServiceFrame>
        </Protected>
    }
}

#[component]
fn Overview(service: Signal<String>) -> impl IntoView {
    let range = RwSignal::new("1h".to_owned());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let refresh = RwSignal::new(0u32);
    let data = Resource::new(
        move || {
            (
                service.get(),
                range.get(),
                from.get(),
                to.get(),
                refresh.get(),
            )
        },
        |(service, range, from, to, _)| async move {
            if range == "custom" && (from.is_empty() || to.is_empty()) {
                return Ok(None);
            }
            analytics(service, range, from, to).await.map(Some)
        },
    );
    view! {
        <Interactive>
            <div class="toolbar" role="group" aria-label="Time range">
                {RANGES.iter().map(|(value, label)| view! {
                    <button
                        type="button"
                        class="button secondary small"
                        class:selected=move || range.get() == *value
                        aria-pressed=move || (range.get() == *value).to_string()
                        on:click=move |_| range.set((*value).to_owned())
                    >
                        {*label}
                    </button>
                }).collect_view()}
                <Show when=move || range.get() == "custom">
                    <label class="inline">"From " <input type="datetime-local" prop:value=move || from.get() on:change=move |e| from.set(event_target_value(&e))/></label>
                    <label class="inline">"To " <input type="datetime-local" prop:value=move || to.get() on:change=move |e| to.set(event_target_value(&e))/></label>
                </Show>
                <button type="button" class="button secondary small" on:click=move |_| refresh.update(|n| *n += 1)>"Refresh"</button>
            </div>
        </Interactive>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(data)) => view! { <OverviewView data/> }.into_any(),
                    Ok(None) => view! { <p class="hint">"Choose the start and end (UTC) of the range."</p> }.into_any(),
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KB", n as f64 / 1024.0),
        _ => format!("{:.1} MB", n as f64 / 1_048_576.0),
    }
}

#[component]
fn OverviewView(data: AnalyticsData) -> impl IntoView {
    let totals = data.totals.clone();
    let cards = [
        ("Total calls", totals.calls.to_string(), "total-calls"),
        ("Successful", totals.success.to_string(), "successful-calls"),
        ("Blocked", totals.blocked.to_string(), "blocked-calls"),
        ("Failed", totals.failed.to_string(), "failed-calls"),
        ("Data sent", bytes(totals.bytes), "bytes"),
    ];
    view! {
        <p class="hint">{data.range_label.clone()}</p>
        <div class="cards">
            {cards.into_iter().map(|(label, value, id)| view! {
                <div class="card"><span class="card-label">{label}</span><strong data-testid=id>{value}</strong></div>
            }).collect_view()}
        </div>
        <section class="panel">
            <h2>"Calls over time"</h2>
            <CallsChart buckets=data.buckets.clone()/>
        </section>
        <section class="panel">
            <h2>"Latency"</h2>
            <LatencyChart gateway=data.gateway.clone() backend=data.backend.clone()/>
        </section>
        <Breakdown title="By API" rows=data.by_api.clone()/>
        <Breakdown title="By operation" rows=data.by_operation.clone()/>
        <Breakdown title="By product" rows=data.by_product.clone()/>
        <Breakdown title="By subscription" rows=data.by_subscription.clone()/>
    }
}

#[component]
fn Breakdown(title: &'static str, rows: Vec<BreakdownRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <h2 class="section">{title}</h2><p class="hint">"No calls in this range."</p> }.into_any();
    }
    view! {
        <h2 class="section">{title}</h2>
        <table class="table" aria-label=title>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Calls"</th>
                    <th scope="col">"Successful"</th>
                    <th scope="col">"Blocked"</th>
                    <th scope="col">"Failed"</th>
                    <th scope="col">"Other"</th>
                    <th scope="col">"Average time"</th>
                    <th scope="col">"Data sent"</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|row| view! {
                    <tr>
                        <td>{row.name}</td>
                        <td>{row.calls}</td>
                        <td>{row.success}</td>
                        <td>{row.blocked}</td>
                        <td>{row.failed}</td>
                        <td>{row.other}</td>
                        <td class="nowrap">{format!("{:.1} ms", row.avg_ms)}</td>
                        <td class="nowrap">{bytes(row.bytes)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn RequestsView(service: Signal<String>) -> impl IntoView {
    let class = RwSignal::new(String::new());
    let subscription = RwSignal::new(String::new());
    let refresh = RwSignal::new(0u32);
    let calls = Resource::new(
        move || {
            (
                service.get(),
                class.get(),
                subscription.get(),
                refresh.get(),
            )
        },
        |(service, class, subscription, _)| recent_requests(service, class, subscription),
    );
    view! {
        <Interactive>
            <div class="toolbar">
                <label class="inline">
                    "Status "
                    <select prop:value=move || class.get() on:change=move |e| class.set(event_target_value(&e))>
                        <option value="">"All"</option>
                        <option value="success">"Successful"</option>
                        <option value="blocked">"Blocked (401/403/429)"</option>
                        <option value="failed">"Failed (400/5xx)"</option>
                        <option value="other">"Other"</option>
                    </select>
                </label>
                <label class="inline">
                    "Subscription "
                    <input placeholder="name, e.g. tester" prop:value=move || subscription.get() on:change=move |e| subscription.set(event_target_value(&e).trim().to_owned())/>
                </label>
                <button type="button" class="button secondary small" on:click=move |_| refresh.update(|n| *n += 1)>"Refresh"</button>
            </div>
        </Interactive>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match calls.await {
                    Ok(rows) if rows.is_empty() => view! { <div class="empty"><p>"No calls match."</p></div> }.into_any(),
                    Ok(rows) => view! {
                        <table class="table" aria-label="Recent calls">
                            <thead>
                                <tr>
                                    <th scope="col">"Time (UTC)"</th>
                                    <th scope="col">"Request"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Operation"</th>
                                    <th scope="col">"Subscription"</th>
                                    <th scope="col">"Time"</th>
                                    <th scope="col">"Request id"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|row| {
                                    let bad = row.status >= 400;
                                    view! {
                                        <tr>
                                            <td class="nowrap">{row.at}</td>
                                            <td><span class="method">{row.method}</span>" "<code>{row.path}</code></td>
                                            <td><span class="status" class:bad=bad>{row.status}</span></td>
                                            <td>{if row.operation.is_empty() { "—".to_owned() } else { format!("{} › {}", row.api, row.operation) }}</td>
                                            <td>{if row.subscription.is_empty() { "—".to_owned() } else { row.subscription }}</td>
                                            <td class="nowrap">{format!("{:.1} ms", row.total_ms)}</td>
                                            <td><code class="small" title=row.request_id.clone()>{row.request_id.chars().take(12).collect::<String>()}"…"</code></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
