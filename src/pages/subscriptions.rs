//! A service's **Subscriptions**: the list with keys (show, copy, regenerate) and states
//! (suspend, activate, cancel), and **Add subscription**.

use crate::api::subscriptions::{
    CreateSubscription, RegenerateKey, SUBSCRIPTIONS_PER_PAGE, SetSubscriptionState,
    SubscriptionSummary, subscription_keys, subscriptions_page,
};
use crate::components::{
    FormError, Interactive, LoadError, Protected, SaveNotice, SaveState, ServiceFrame, TextField,
    confirm, error_text, form_feedback,
};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    let params = use_params_map();
    let service = Signal::derive(move || params.read().get("service").unwrap_or_default());
    view! {
        <Protected>
            <ServiceFrame service current="Subscriptions">
                <Subscriptions service/>
            </ServiceFrame>
        </Protected>
    }
}

#[component]
fn Subscriptions(service: Signal<String>) -> impl IntoView {
    let create = ServerAction::<CreateSubscription>::new();
    let regenerate = ServerAction::<RegenerateKey>::new();
    let set_state = ServerAction::<SetSubscriptionState>::new();
    let saves = SaveState::new();
    // The list is paged and searched on the server: it stays fast at 100,000 subscriptions.
    let search = RwSignal::new(String::new());
    let page = RwSignal::new(0_u64);
    let data = Resource::new(
        move || (service.get(), saves.successes(), search.get(), page.get()),
        |(service, _, search, page)| subscriptions_page(service, search, page),
    );
    let adding = RwSignal::new(false);
    // A refused key or state change says why (the form shows its own errors).
    let change_error = RwSignal::new(None::<String>);
    let saving = Signal::derive(move || {
        create.pending().get() || regenerate.pending().get() || set_state.pending().get()
    });
    Effect::new(move |_| {
        if saving.get() {
            change_error.set(None);
        }
    });
    // One effect per action: each reacts to its own outcome only, so an earlier success
    // never comes back when a later change fails.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(errors)) if errors.is_empty()) {
            adding.set(false);
            saves.succeeded();
        }
    });
    Effect::new(move |_| match regenerate.value().get() {
        Some(Ok(())) => saves.succeeded(),
        Some(Err(error)) => change_error.set(Some(error_text(&error))),
        None => {}
    });
    Effect::new(move |_| match set_state.value().get() {
        Some(Ok(())) => saves.succeeded(),
        Some(Err(error)) => change_error.set(Some(error_text(&error))),
        None => {}
    });
    view! {
        <Interactive>
            <div class="page-head">
                <h1>"Subscriptions"</h1>
                <button type="button" class="button primary" on:click=move |_| adding.set(true)>"Add subscription"</button>
            </div>
            <SaveNotice saving state=saves/>
            <FormError message=change_error/>
            <div class="list-tools">
                <input
                    type="search"
                    class="search"
                    placeholder="Search by name or display name"
                    aria-label="Search subscriptions"
                    prop:value=move || search.get()
                    on:input=move |event| {
                        search.set(event_target_value(&event));
                        page.set(0);
                    }
                />
            </div>
            <Suspense fallback=|| view! { <p class="loading">"Loading subscriptions…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(data) => {
                            let (products, apis) = (data.products.clone(), data.apis.clone());
                            view! {
                                <Show when=move || adding.get()>
                                    <AddSubscription service create adding products=products.clone() apis=apis.clone()/>
                                </Show>
                                {if data.subscriptions.is_empty() && search.get_untracked().trim().is_empty() {
                                    view! {
                                        <div class="empty"><p>"No subscriptions yet. " <strong>"Add subscription"</strong> " creates a pair of keys."</p></div>
                                    }
                                        .into_any()
                                } else if data.subscriptions.is_empty() {
                                    view! {
                                        <div class="empty"><p>"No subscription's name or display name contains “" {search.get_untracked()} "”."</p></div>
                                    }
                                        .into_any()
                                } else {
                                    let (total, shown_page) = (data.total, data.page);
                                    let first = shown_page * SUBSCRIPTIONS_PER_PAGE + 1;
                                    let last = first + data.subscriptions.len() as u64 - 1;
                                    let pages = total.div_ceil(SUBSCRIPTIONS_PER_PAGE);
                                    view! {
                                        <table class="table">
                                            <thead>
                                                <tr>
                                                    <th scope="col">"Name"</th>
                                                    <th scope="col">"Display name"</th>
                                                    <th scope="col">"Scope"</th>
                                                    <th scope="col">"State"</th>
                                                    <th scope="col">"Keys"</th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {data
                                                    .subscriptions
                                                    .into_iter()
                                                    .map(|subscription| view! { <SubscriptionRow service subscription regenerate set_state/> })
                                                    .collect_view()}
                                            </tbody>
                                        </table>
                                        <nav class="pager" aria-label="Subscription pages">
                                            <span class="pager-status">
                                                {format!("{first}–{last} of {}", group_thousands(total))}
                                            </span>
                                            <button
                                                type="button"
                                                class="button"
                                                disabled={shown_page == 0}
                                                on:click=move |_| page.set(shown_page.saturating_sub(1))
                                            >
                                                "Previous"
                                            </button>
                                            <span class="pager-page">{format!("Page {} of {}", shown_page + 1, pages.max(1))}</span>
                                            <button
                                                type="button"
                                                class="button"
                                                disabled={shown_page + 1 >= pages}
                                                on:click=move |_| page.set(shown_page + 1)
                                            >
                                                "Next"
                                            </button>
                                        </nav>
                                    }
                                        .into_any()
                                }}
                            }
                                .into_any()
                        }
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Suspense>
        </Interactive>
    }
}

#[component]
fn SubscriptionRow(
    service: Signal<String>,
    subscription: SubscriptionSummary,
    regenerate: ServerAction<RegenerateKey>,
    set_state: ServerAction<SetSubscriptionState>,
) -> impl IntoView {
    let sid = StoredValue::new(subscription.name.clone());
    let shown = RwSignal::new(None::<(String, String)>);
    let copied = RwSignal::new("");
    let loading = RwSignal::new(false);
    let show = move |_| {
        if shown.get_untracked().is_some() {
            shown.set(None);
            return;
        }
        loading.set(true);
        leptos::task::spawn_local(async move {
            if let Ok(keys) = subscription_keys(service.get_untracked(), sid.get_value()).await {
                shown.set(Some((keys.primary, keys.secondary)));
            }
            loading.set(false);
        });
    };
    let copy = move |which: &'static str| {
        let _ = which;
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let Ok(keys) = subscription_keys(service.get_untracked(), sid.get_value()).await else {
                return;
            };
            let key = if which == "primary" {
                keys.primary
            } else {
                keys.secondary
            };
            let clipboard = leptos::prelude::window().navigator().clipboard();
            if wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&key))
                .await
                .is_ok()
            {
                copied.set(if which == "primary" {
                    "Copied primary key"
                } else {
                    "Copied secondary key"
                });
                set_timeout(move || copied.set(""), std::time::Duration::from_secs(3));
            }
        });
    };
    let regenerate_key = move |which: &'static str| {
        let message = format!(
            "Regenerate the {which} key of '{}'? The current {which} key stops working at once.",
            sid.get_value()
        );
        if confirm(&message) {
            shown.set(None);
            regenerate.dispatch(RegenerateKey {
                service: service.get_untracked(),
                sid: sid.get_value(),
                which: which.to_owned(),
            });
        }
    };
    let change_state = move |state: &'static str| {
        if state == "cancelled"
            && !confirm(&format!(
                "Cancel '{}'? Its keys stop working.",
                sid.get_value()
            ))
        {
            return;
        }
        set_state.dispatch(SetSubscriptionState {
            service: service.get_untracked(),
            sid: sid.get_value(),
            state: state.to_owned(),
        });
    };
    let active = subscription.state == "active";
    let cancelled = subscription.state == "cancelled";
    view! {
        <tr>
            <td><code>{subscription.name.clone()}</code></td>
            <td>{subscription.display_name.clone()}</td>
            <td><code>{subscription.scope.clone()}</code></td>
            <td><span class=format!("state {}", subscription.state)>{subscription.state.clone()}</span></td>
            <td class="keys">
                <Interactive>
                    <div class="key-actions">
                        <button type="button" class="button secondary small" disabled=move || loading.get() on:click=show>
                            {move || match (loading.get(), shown.get().is_some()) {
                                (true, _) => "Loading…",
                                (false, true) => "Hide keys",
                                (false, false) => "Show keys",
                            }}
                        </button>
                        <button type="button" class="button secondary small" on:click=move |_| copy("primary")>"Copy primary key"</button>
                        <button type="button" class="button secondary small" on:click=move |_| copy("secondary")>"Copy secondary key"</button>
                        <span class="copied" role="status">{move || copied.get()}</span>
                    </div>
                    {move || shown.get().map(|(primary, secondary)| view! {
                        <dl class="key-values">
                            <dt>"Primary"</dt><dd><code data-testid="primary-key">{primary}</code></dd>
                            <dt>"Secondary"</dt><dd><code data-testid="secondary-key">{secondary}</code></dd>
                        </dl>
                    })}
                    <div class="key-actions">
                        <button type="button" class="button secondary small" disabled=move || regenerate.pending().get() on:click=move |_| regenerate_key("primary")>"Regenerate primary key"</button>
                        <button type="button" class="button secondary small" disabled=move || regenerate.pending().get() on:click=move |_| regenerate_key("secondary")>"Regenerate secondary key"</button>
                        {if active {
                            view! { <button type="button" class="button secondary small" disabled=move || set_state.pending().get() on:click=move |_| change_state("suspended")>"Suspend"</button> }.into_any()
                        } else {
                            view! { <button type="button" class="button secondary small" disabled=move || set_state.pending().get() on:click=move |_| change_state("active")>"Activate"</button> }.into_any()
                        }}
                        {(!cancelled).then(|| view! {
                            <button type="button" class="button danger small" disabled=move || set_state.pending().get() on:click=move |_| change_state("cancelled")>"Cancel"</button>
                        })}
                    </div>
                </Interactive>
            </td>
        </tr>
    }
}

#[component]
fn AddSubscription(
    service: Signal<String>,
    create: ServerAction<CreateSubscription>,
    adding: RwSignal<bool>,
    products: Vec<(String, String)>,
    apis: Vec<(String, String)>,
) -> impl IntoView {
    let scope = RwSignal::new("all".to_owned());
    let (errors, message) = form_feedback(create, &["scope"]);
    view! {
        <section class="panel" aria-labelledby="subscription-title">
            <h2 id="subscription-title">"Add subscription"</h2>
            <ActionForm action=create>
                <input type="hidden" name="service" prop:value=move || service.get()/>
                <TextField label="Name" name="name" errors required=true hint="Lowercase letters, digits and hyphens."/>
                <TextField label="Display name" name="display_name" errors required=true/>
                <div class="field">
                    <label for="scope">"Scope"</label>
                    <select id="scope" name="scope" on:change=move |event| scope.set(event_target_value(&event))>
                        <option value="all">"All APIs"</option>
                        <option value="product">"Product"</option>
                        <option value="api">"API"</option>
                    </select>
                </div>
                <Show when=move || scope.get() == "product">
                    <div class="field">
                        <label for="product">"Product"</label>
                        <select id="product" name="product">
                            {products.iter().map(|(name, display)| view! { <option value=name.clone()>{display.clone()}</option> }).collect_view()}
                        </select>
                        <p class="field-error" role="alert">{move || errors.get().get("product")}</p>
                    </div>
                </Show>
                <Show when=move || scope.get() == "api">
                    <div class="field">
                        <label for="api">"API"</label>
                        <select id="api" name="api">
                            {apis.iter().map(|(name, display)| view! { <option value=name.clone()>{display.clone()}</option> }).collect_view()}
                        </select>
                        <p class="field-error" role="alert">{move || errors.get().get("api")}</p>
                    </div>
                </Show>
                <FormError message/>
                <div class="actions">
                    <button type="submit" class="button primary" disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Creating…" } else { "Create" }}
                    </button>
                    <button type="button" class="button secondary" on:click=move |_| adding.set(false)>"Cancel"</button>
                </div>
            </ActionForm>
        </section>
    }
}

/// `100000` → `100,000`.
fn group_thousands(number: u64) -> String {
    let digits = number.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(super::group_thousands(0), "0");
        assert_eq!(super::group_thousands(999), "999");
        assert_eq!(super::group_thousands(100_000), "100,000");
        assert_eq!(super::group_thousands(1_234_567), "1,234,567");
    }
}
