//! The policy editor, one page for every scope: All APIs (the service), a product, an API,
//! an operation. The XML is edited as text with line numbers; **Save** sends it to the
//! server, which compiles it and either makes it live at once or returns every fault,
//! marked at its line. Snippets and two forms write policies into the text for you.

use crate::api::policies::{
    PolicyDiagnostic, PolicyPageData, ResetPolicy, SavePolicy, ScopeRef, policy_page,
};
use crate::components::{
    ApiTabs, CodeEditor, FormError, Interactive, Jump, LoadError, Protected, ServiceFrame, confirm,
    error_text,
};
use crate::pages::effective_policy::EffectivePolicyPanel;
use crate::pages::policy_forms::{IpFilterForm, RateLimitForm};
use crate::policy_text::{SNIPPETS, insert_into_section};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn PolicyPage() -> impl IntoView {
    let params = use_params_map();
    let param = move |name: &str| params.read().get(name).unwrap_or_default();
    let service = Signal::derive(move || param("service"));
    let scope = Signal::derive(move || ScopeRef {
        product: param("product"),
        api: param("api"),
        operation: param("operation"),
    });
    let current = move || {
        let scope = scope.get_untracked();
        if !scope.product.is_empty() {
            "Products"
        } else if !scope.api.is_empty() {
            "APIs"
        } else {
            "Policies"
        }
    };
    let reset = ServerAction::<ResetPolicy>::new();
    // Reload after a reset that went through only: a refused one leaves the editor as it was.
    let resets = RwSignal::new(0u64);
    Effect::new(move |_| {
        if let Some(Ok(())) = reset.value().get() {
            resets.update(|n| *n += 1);
        }
    });
    let data = Resource::new(
        move || (service.get(), scope.get(), resets.get()),
        |(service, scope, _)| policy_page(service, scope),
    );
    view! {
        <Protected>
            <ServiceFrame service current=current()>
                <Show when=move || { let s = scope.get(); !s.api.is_empty() && s.operation.is_empty() }>
                    <ApiTabs service api=Signal::derive(move || scope.get().api) current="Policies"/>
                </Show>
                <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(data) => view! { <PolicyEditor data service scope reset/> }.into_any(),
                            Err(error) => view! { <LoadError error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </ServiceFrame>
        </Protected>
    }
}

/// Which helper panel is open above the editor.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Panel {
    None,
    IpFilter,
    RateLimit,
    Effective,
}

#[component]
fn PolicyEditor(
    data: PolicyPageData,
    service: Signal<String>,
    scope: Signal<ScopeRef>,
    reset: ServerAction<ResetPolicy>,
) -> impl IntoView {
    let text = RwSignal::new(data.xml.clone());
    let saved_text = RwSignal::new(data.xml.clone());
    let diagnostics = RwSignal::new(Vec::<PolicyDiagnostic>::new());
    let jump = RwSignal::new(None::<Jump>);
    let panel = RwSignal::new(Panel::None);
    let notice = RwSignal::new(None::<String>);
    let save = ServerAction::<SavePolicy>::new();
    let is_default = RwSignal::new(data.is_default);

    Effect::new(move |_| match save.value().get() {
        Some(Ok(found)) if found.is_empty() => {
            diagnostics.set(Vec::new());
            saved_text.set(text.get_untracked());
            is_default.set(false);
            notice.set(Some("Saved — live on the gateway".into()));
        }
        Some(Ok(found)) => {
            notice.set(None);
            if let Some(first) = found.first() {
                jump.set(Some((first.line, first.column)));
            }
            diagnostics.set(found);
        }
        Some(Err(error)) => {
            notice.set(None);
            diagnostics.set(vec![PolicyDiagnostic {
                line: 1,
                column: 1,
                message: error_text(&error),
            }]);
        }
        None => {}
    });
    let marked =
        Signal::derive(move || diagnostics.with(|d| d.iter().map(|d| d.line).collect::<Vec<_>>()));
    let unsaved = move || text.with(|t| saved_text.with(|s| t != s));
    let on_save = move |_| {
        notice.set(None);
        save.dispatch(SavePolicy {
            service: service.get_untracked(),
            scope: scope.get_untracked(),
            xml: text.get_untracked(),
        });
    };
    let on_snippet = move |event: leptos::ev::Event| {
        let label = event_target_value(&event);
        if let Some(snippet) = SNIPPETS.iter().find(|s| s.label == label) {
            text.update(|t| *t = insert_into_section(t, snippet.section, snippet.xml));
            notice.set(Some(format!(
                "Added “{}” to <{}>; edit it, then Save.",
                snippet.label, snippet.section
            )));
        }
    };
    let reset_message = if scope.get_untracked() == ScopeRef::default() {
        "Reset All APIs to the default document? Every API of the service then only forwards calls (no global policies)."
    } else {
        "Remove the document at this scope? It then inherits every section from the scope above."
    };
    let on_reset = move |_| {
        if confirm(reset_message) {
            reset.dispatch(ResetPolicy {
                service: service.get_untracked(),
                scope: scope.get_untracked(),
            });
        }
    };
    let toggle = move |which: Panel| {
        move |_| panel.update(|p| *p = if *p == which { Panel::None } else { which })
    };
    let back_href = data.back_href.clone();
    let operations = data.operations.clone();
    let products = data.products.clone();
    view! {
        <Interactive>
            <div class="policy-head">
                <h1>"Policies"</h1>
                <p class="subtitle" data-testid="policy-scope">{data.title.clone()}</p>
                <div class="actions">
                    <a class="button secondary" href=back_href>{format!("Back to {}", data.back_label)}</a>
                    <button type="button" class="button secondary" on:click=toggle(Panel::Effective)>"Calculate effective policy"</button>
                    <button type="button" class="button secondary" disabled=move || is_default.get() || reset.pending().get() on:click=on_reset>
                        "Reset to default"
                    </button>
                </div>
            </div>
            <FormError message=Signal::derive(move || match reset.value().get() {
                Some(Err(error)) => Some(error_text(&error)),
                _ => None,
            })/>
            <p class="hint">
                "Sections run in order: inbound, backend (forward-request calls the backend), outbound; on-error runs after any error. "
                <code>"<base />"</code>
                " runs the scope above at that point: operation → API → product → All APIs."
            </p>
            <Show when=move || panel.get() == Panel::Effective>
                <EffectivePolicyPanel service scope=scope.get_untracked() operations=operations.clone() products=products.clone()/>
            </Show>
            <div class="toolbar" role="toolbar" aria-label="Insert policies">
                <label class="inline">
                    "Insert policy "
                    <select aria-label="Insert policy" on:change=on_snippet prop:value="">
                        <option value="" disabled=true selected=true>"Choose a snippet…"</option>
                        {SNIPPETS.iter().map(|s| view! { <option value=s.label>{s.label}</option> }).collect_view()}
                    </select>
                </label>
                <button type="button" class="button secondary small" on:click=toggle(Panel::IpFilter)>"Restrict caller IPs…"</button>
                <button type="button" class="button secondary small" on:click=toggle(Panel::RateLimit)>"Limit call rate per key…"</button>
            </div>
            <Show when=move || panel.get() == Panel::IpFilter>
                <IpFilterForm text notice panel_open=Callback::new(move |open: bool| if !open { panel.set(Panel::None) })/>
            </Show>
            <Show when=move || panel.get() == Panel::RateLimit>
                <RateLimitForm text notice panel_open=Callback::new(move |open: bool| if !open { panel.set(Panel::None) })/>
            </Show>
            <CodeEditor text marked jump label="Policy XML"/>
            <Show when=move || !diagnostics.with(Vec::is_empty)>
                <div class="diagnostics" role="alert">
                    <p><strong>"Not saved: the document has faults."</strong></p>
                    <ul>
                        {move || diagnostics.get().into_iter().map(|d| {
                            let (line, column) = (d.line, d.column);
                            view! {
                                <li>
                                    <button type="button" class="link" on:click=move |_| jump.set(Some((line, column)))>
                                        {format!("Line {line}, column {column}")}
                                    </button>
                                    ": " {d.message.clone()}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </div>
            </Show>
            <Show when=move || notice.get().is_some()>
                <p class="toast success" role="status">{move || notice.get()}</p>
            </Show>
            <div class="actions">
                <button type="button" class="button primary" disabled=move || save.pending().get() on:click=on_save>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
                <Show when=unsaved>
                    <span class="hint">"Unsaved changes"</span>
                </Show>
                <Show when=move || is_default.get()>
                    <span class="hint">"Nothing is saved at this scope yet: this is the default document."</span>
                </Show>
            </div>
        </Interactive>
    }
}
