//! A service's **Overview**: its gateway URL (with a copy button) and what it is.

use crate::api::services::get_service;
use crate::components::{CopyButton, LoadError, Protected, ServiceFrame};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn ServiceOverviewPage() -> impl IntoView {
    let params = use_params_map();
    let name = Signal::derive(move || params.read().get("service").unwrap_or_default());
    view! {
        <Protected>
            <ServiceFrame service=name current="Overview">
                <Overview name/>
            </ServiceFrame>
        </Protected>
    }
}

#[component]
fn Overview(name: Signal<String>) -> impl IntoView {
    let service = Resource::new(move || name.get(), get_service);
    let query = use_query_map();
    let saved = move || query.read().get("saved").is_some();
    view! {
        <Show when=saved>
            <p class="toast success" role="status">"Saved — live on the gateway"</p>
        </Show>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match service.await {
                    Ok(service) => {
                        let url = Signal::stored(service.gateway_url.clone());
                        view! {
                            <h1>{service.display_name.clone()}</h1>
                            <dl class="facts">
                                <dt>"Service name"</dt>
                                <dd><code>{service.name.clone()}</code></dd>
                                <dt>"Gateway URL"</dt>
                                <dd class="with-copy">
                                    <code data-testid="gateway-url">{service.gateway_url.clone()}</code>
                                    <CopyButton text=url label="Copy"/>
                                </dd>
                                <dt>"Default service"</dt>
                                <dd>
                                    {if service.is_default {
                                        "Yes — requests for hosts that name no service come here."
                                    } else {
                                        "No"
                                    }}
                                </dd>
                            </dl>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
