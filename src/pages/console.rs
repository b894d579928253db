//! An API's **Test** tab: pick an operation, fill in its parameters, headers and body, and
//! **Send** it through the gateway — or **Trace** it to see every policy that ran. The
//! subscription key header is filled in from the chosen subscription (the built-in
//! all-access one by default) and masked until **Show** is pressed.

use crate::api::console::{
    BUILT_IN_SUBSCRIPTION, ConsoleData, ConsoleKey, ConsoleOperation, ConsoleRequest,
    ConsoleResponse, HeaderPair, SendConsoleRequest, TraceView, console_page,
};
use crate::components::{ApiTabs, Interactive, LoadError, Protected, ServiceFrame};
use crate::console_url::{request_url, template_parameters};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ConsolePage() -> impl IntoView {
    let params = use_params_map();
    let service = Signal::derive(move || params.read().get("service").unwrap_or_default());
    let api = Signal::derive(move || params.read().get("api").unwrap_or_default());
    let data = Resource::new(
        move || (service.get(), api.get()),
        |(service, api)| console_page(service, api),
    );
    view! {
        <Protected>
            <ServiceFrame service current="APIs">
                <ApiTabs service api current="Test"/>
                <h1>"Test"</h1>
                <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(page) if page.operations.is_empty() => view! {
                                <div class="empty"><p>"This API has no operations yet: add one on the Design tab, then test it here."</p></div>
                            }.into_any(),
                            Ok(page) => view! { <Console page service/> }.into_any(),
                            Err(error) => view! { <LoadError error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </ServiceFrame>
        </Protected>
    }
}

/// One editable name/value row.
#[derive(Clone, Copy)]
struct Row {
    name: RwSignal<String>,
    value: RwSignal<String>,
}

impl Row {
    fn new(name: &str, value: &str) -> Self {
        Self {
            name: RwSignal::new(name.to_owned()),
            value: RwSignal::new(value.to_owned()),
        }
    }
}

#[component]
fn Console(page: ConsoleData, service: Signal<String>) -> impl IntoView {
    let operations = StoredValue::new(page.operations.clone());
    let selected = RwSignal::new(0usize);
    let operation = move || operations.with_value(|ops| ops.get(selected.get()).cloned());
    let parameters = RwSignal::new(Vec::<(String, RwSignal<String>)>::new());
    let query = RwSignal::new(Vec::<Row>::new());
    let key_header = page.key_header.clone();
    let key_row = Row::new(&key_header, "");
    let headers = RwSignal::new(vec![key_row, Row::new("Content-Type", "application/json")]);
    let body = RwSignal::new(String::new());
    let show_key = RwSignal::new(false);
    let subscription = RwSignal::new(BUILT_IN_SUBSCRIPTION.to_owned());
    let fetch_key = ServerAction::<ConsoleKey>::new();
    let send = ServerAction::<SendConsoleRequest>::new();
    let tab = RwSignal::new("message");

    // A new operation: fresh parameter fields; a body only for methods that carry one.
    Effect::new(move |_| {
        if let Some(op) = operation() {
            let fields = template_parameters(&op.url_template)
                .into_iter()
                .map(|p| (p.name().to_owned(), RwSignal::new(String::new())))
                .collect();
            parameters.set(fields);
            if body.get_untracked().is_empty()
                && matches!(op.method.as_str(), "POST" | "PUT" | "PATCH")
            {
                body.set("{\n  \n}".to_owned());
            }
        }
    });
    // The chosen subscription's key goes into the key header.
    Effect::new(move |_| {
        fetch_key.dispatch(ConsoleKey {
            service: service.get_untracked(),
            subscription: subscription.get(),
        });
    });
    Effect::new(move |_| {
        if let Some(Ok(key)) = fetch_key.value().get() {
            key_row.value.set(key);
        }
    });

    let api_url = page.api_url.clone();
    let url = Signal::derive(move || {
        let Some(op) = operation() else {
            return String::new();
        };
        let values = parameters.get();
        let extra: Vec<(String, String)> = query
            .get()
            .iter()
            .map(|r| (r.name.get(), r.value.get()))
            .collect();
        request_url(
            &api_url,
            &op.url_template,
            |name| {
                values
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.get())
                    .unwrap_or_default()
            },
            &extra,
        )
    });
    let dispatch = move |trace: bool| {
        let Some(op) = operation() else { return };
        let has_body = !matches!(op.method.as_str(), "GET" | "HEAD");
        tab.set(if trace { "trace" } else { "message" });
        send.dispatch(SendConsoleRequest {
            request: ConsoleRequest {
                service: service.get_untracked(),
                method: op.method.clone(),
                url: url.get_untracked(),
                headers: headers
                    .get_untracked()
                    .iter()
                    .map(|r| HeaderPair {
                        name: r.name.get_untracked(),
                        value: r.value.get_untracked(),
                    })
                    .collect(),
                body: if has_body {
                    body.get_untracked()
                } else {
                    String::new()
                },
                trace,
            },
        });
    };
    let subscriptions = page.subscriptions.clone();
    view! {
        <Interactive>
            <div class="console">
                <aside class="operation-list" aria-label="Operations">
                    {move || operations.with_value(|ops| ops.iter().enumerate().map(|(index, op)| {
                        let label = op.display_name.clone();
                        let method = op.method.clone();
                        view! {
                            <button
                                type="button"
                                class="operation-pick"
                                class:current=move || selected.get() == index
                                aria-pressed=move || if selected.get() == index { "true" } else { "false" }
                                on:click=move |_| selected.set(index)
                            >
                                <span class="method">{method}</span>
                                " "
                                {label}
                            </button>
                        }
                    }).collect_view())}
                </aside>
                <section class="console-form">
                    <h2>{move || operation().map(|o: ConsoleOperation| o.display_name).unwrap_or_default()}</h2>
                    <Show when=move || !parameters.with(Vec::is_empty)>
                        <h3>"Template parameters"</h3>
                        {move || parameters.get().into_iter().map(|(name, value)| {
                            let id = format!("param-{name}");
                            view! {
                                <div class="field">
                                    <label for=id.clone()>{name.clone()}</label>
                                    <input id=id prop:value=move || value.get() on:input=move |e| value.set(event_target_value(&e))/>
                                </div>
                            }
                        }).collect_view()}
                    </Show>
                    <h3>"Query parameters"</h3>
                    <RowList rows=query kind="parameter"/>
                    <button type="button" class="button secondary small" on:click=move |_| query.update(|q| q.push(Row::new("", "")))>"Add parameter"</button>
                    <h3>"Headers"</h3>
                    <div class="field">
                        <label for="console-subscription">"Subscription"</label>
                        <select id="console-subscription" prop:value=move || subscription.get() on:change=move |e| subscription.set(event_target_value(&e))>
                            {subscriptions.iter().map(|s| view! { <option value=s.name.clone()>{s.label.clone()}</option> }).collect_view()}
                        </select>
                        <p class="hint">{format!("Fills in {key_header}.")}</p>
                    </div>
                    <div class="rows">
                        {move || headers.get().into_iter().enumerate().map(|(index, row)| {
                            let is_key = index == 0;
                            view! {
                                <div class="row">
                                    <input aria-label="Header name" class="row-name" prop:value=move || row.name.get() on:input=move |e| row.name.set(event_target_value(&e))/>
                                    <input
                                        aria-label=if is_key { "Subscription key" } else { "Header value" }
                                        class="row-value"
                                        type=move || if is_key && !show_key.get() { "password" } else { "text" }
                                        autocomplete="off"
                                        prop:value=move || row.value.get()
                                        on:input=move |e| row.value.set(event_target_value(&e))
                                    />
                                    {if is_key {
                                        view! {
                                            <button type="button" class="button secondary small" on:click=move |_| show_key.update(|s| *s = !*s)>
                                                {move || if show_key.get() { "Hide" } else { "Show" }}
                                            </button>
                                        }.into_any()
                                    } else {
                                        view! {
                                            <button type="button" class="button secondary small" aria-label="Remove header" on:click=move |_| headers.update(|h| { h.remove(index); })>"Remove"</button>
                                        }.into_any()
                                    }}
                                </div>
                            }
                        }).collect_view()}
                    </div>
                    <button type="button" class="button secondary small" on:click=move |_| headers.update(|h| h.push(Row::new("", "")))>"Add header"</button>
                    <Show when=move || operation().is_some_and(|o| !matches!(o.method.as_str(), "GET" | "HEAD"))>
                        <div class="field wide">
                            <label for="console-body">"Body"</label>
                            <textarea id="console-body" class="mono" rows="6" prop:value=move || body.get() on:input=move |e| body.set(event_target_value(&e))></textarea>
                        </div>
                    </Show>
                    <h3>"Request URL"</h3>
                    <p class="request-url">
                        <span class="method">{move || operation().map(|o| o.method).unwrap_or_default()}</span>
                        " "
                        <code data-testid="request-url">{move || url.get()}</code>
                    </p>
                    <div class="actions">
                        <button type="button" class="button primary" disabled=move || send.pending().get() on:click=move |_| dispatch(false)>
                            {move || if send.pending().get() { "Sending…" } else { "Send" }}
                        </button>
                        <button type="button" class="button secondary" disabled=move || send.pending().get() on:click=move |_| dispatch(true)>"Trace"</button>
                    </div>
                    {move || match send.value().get() {
                        None => ().into_any(),
                        Some(Err(error)) => view! { <LoadError error/> }.into_any(),
                        Some(Ok(response)) => view! { <ResponseView response tab/> }.into_any(),
                    }}
                </section>
            </div>
        </Interactive>
    }
}

#[component]
fn RowList(rows: RwSignal<Vec<Row>>, kind: &'static str) -> impl IntoView {
    view! {
        <div class="rows">
            {move || rows.get().into_iter().enumerate().map(|(index, row)| view! {
                <div class="row">
                    <input aria-label=format!("{kind} name") class="row-name" placeholder="name" prop:value=move || row.name.get() on:input=move |e| row.name.set(event_target_value(&e))/>
                    <input aria-label=format!("{kind} value") class="row-value" placeholder="value" prop:value=move || row.value.get() on:input=move |e| row.value.set(event_target_value(&e))/>
                    <button type="button" class="button secondary small" aria-label=format!("Remove {kind}") on:click=move |_| rows.update(|r| { r.remove(index); })>"Remove"</button>
                </div>
            }).collect_view()}
        </div>
    }
}

#[component]
fn ResponseView(response: ConsoleResponse, tab: RwSignal<&'static str>) -> impl IntoView {
    let ok = response.status < 400;
    let size = if response.size >= 1024 {
        format!("{:.1} KB", response.size as f64 / 1024.0)
    } else {
        format!("{} B", response.size)
    };
    let trace = response.trace.clone();
    let has_trace = trace.is_some();
    view! {
        <section class="panel response" aria-label="HTTP response">
            <div class="tabs small" role="tablist" aria-label="Response">
                <button
                    type="button"
                    role="tab"
                    aria-selected=move || if tab.get() == "message" { "true" } else { "false" }
                    class:current=move || tab.get() == "message"
                    on:click=move |_| tab.set("message")
                >
                    "Message"
                </button>
                <button
                    type="button"
                    role="tab"
                    aria-selected=move || if tab.get() == "trace" { "true" } else { "false" }
                    class:current=move || tab.get() == "trace"
                    disabled=!has_trace
                    on:click=move |_| tab.set("trace")
                >
                    "Trace"
                </button>
            </div>
            <Show when=move || tab.get() == "message">
                <p class="status-line">
                    <strong class:ok=ok class:bad=!ok data-testid="status-line">{response.status_line.clone()}</strong>
                    <span class="hint">{format!(" · {:.0} ms · {size}", response.elapsed_ms)}</span>
                </p>
                <dl class="header-list">
                    {response.headers.iter().map(|h| view! { <dt>{h.name.clone()}</dt><dd>{h.value.clone()}</dd> }).collect_view()}
                </dl>
                <pre class="code" data-testid="response-body">{response.body.clone()}</pre>
                <Show when=move || response.truncated>
                    <p class="hint">"The body is longer than 1 MiB; the rest is not shown."</p>
                </Show>
            </Show>
            <Show when=move || tab.get() == "trace">
                {trace.clone().map(|trace| view! { <TraceSections trace/> })}
            </Show>
        </section>
    }
}

#[component]
fn TraceSections(trace: TraceView) -> impl IntoView {
    let sections = ["inbound", "backend", "outbound", "on-error"];
    let message = |m: &crate::api::console::MessageDto| {
        let headers = m
            .headers
            .iter()
            .map(|h| format!("{}: {}", h.name, h.value))
            .collect::<Vec<_>>()
            .join("\n");
        format!("{}\n{headers}", m.line)
    };
    view! {
        <div class="trace" data-testid="trace">
            <p class="hint">{format!("Trace {} · {:.1} ms in all", trace.id, trace.elapsed_ms)}</p>
            <details>
                <summary>"Request received"</summary>
                <pre class="code">{message(&trace.request)}</pre>
            </details>
            {sections.into_iter().map(|section| {
                let lines: Vec<_> = trace.lines.iter().filter(|l| l.section == section).cloned().collect();
                let backend = (section == "backend").then(|| (trace.backend_request.clone(), trace.backend_response.clone()));
                view! {
                    <h4>{section}</h4>
                    {if lines.is_empty() {
                        view! { <p class="hint">"Nothing ran."</p> }.into_any()
                    } else {
                        view! {
                            <table class="table trace-table">
                                <thead><tr><th scope="col">"Policy"</th><th scope="col">"Scope"</th><th scope="col">"Decision"</th><th scope="col">"Time"</th></tr></thead>
                                <tbody>
                                    {lines.into_iter().map(|l| view! {
                                        <tr>
                                            <td><code>{l.policy}</code></td>
                                            <td>{l.scope}</td>
                                            <td class="decision">{l.message}</td>
                                            <td class="nowrap">{format!("{:.2} ms", l.elapsed_ms)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                    {backend.map(|(request, response)| view! {
                        {request.map(|r| view! { <details><summary>"Request sent to the backend"</summary><pre class="code">{message(&r)}</pre></details> })}
                        {response.map(|r| view! { <details><summary>"Backend response"</summary><pre class="code">{message(&r)}</pre></details> })}
                    })}
                }
            }).collect_view()}
            <details>
                <summary>"Response returned"</summary>
                <pre class="code">{message(&trace.response)}</pre>
            </details>
        </div>
    }
}
