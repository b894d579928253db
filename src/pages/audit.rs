//! A service's **Audit log**: who changed what, when, newest first, filterable by resource.

use crate::api::audit::list_audit;
use crate::components::{Interactive, LoadError, Protected, ServiceFrame};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn AuditPage() -> impl IntoView {
    let params = use_params_map();
    let name = Signal::derive(move || params.read().get("service").unwrap_or_default());
    view! {
        <Protected>
            <ServiceFrame service=name current="Audit log">
                <AuditLog name/>
            </ServiceFrame>
        </Protected>
    }
}

#[component]
fn AuditLog(name: Signal<String>) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let entries = Resource::new(
        move || (name.get(), filter.get()),
        |(name, filter)| list_audit(name, filter),
    );
    view! {
        <Interactive>
            <h1>"Audit log"</h1>
            <div class="field inline">
                <label for="resource-filter">"Resource starts with"</label>
                <input
                    id="resource-filter"
                    type="search"
                    placeholder=move || format!("/services/{}/apis", name.get())
                    on:change=move |event| filter.set(event_target_value(&event))
                />
            </div>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Ok(list) if list.is_empty() => view! { <p class="empty">"No changes recorded."</p> }.into_any(),
                        Ok(list) => {
                            view! {
                                <table class="table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"When"</th>
                                            <th scope="col">"Who"</th>
                                            <th scope="col">"Action"</th>
                                            <th scope="col">"Resource"</th>
                                            <th scope="col">"Change"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list
                                            .into_iter()
                                            .map(|entry| {
                                                view! {
                                                    <tr>
                                                        <td class="nowrap">{entry.at}</td>
                                                        <td>{entry.actor}</td>
                                                        <td>{entry.action}</td>
                                                        <td><code>{entry.resource}</code></td>
                                                        <td class="change">
                                                            {entry.before.map(|b| view! { <div><span class="label">"before "</span><code>{b}</code></div> })}
                                                            {entry.after.map(|a| view! { <div><span class="label">"after "</span><code>{a}</code></div> })}
                                                        </td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            }
                                .into_any()
                        }
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Transition>
        </Interactive>
    }
}
