//! **Services**: the list and **Add service**.

use crate::api::services::{CreateService, list_services};
use crate::components::{FormError, Interactive, LoadError, Protected, TextField, form_feedback};
use leptos::prelude::*;

#[component]
pub fn ServicesPage() -> impl IntoView {
    view! {
        <Protected>
            <ServicesList/>
        </Protected>
    }
}

#[component]
fn ServicesList() -> impl IntoView {
    let create = ServerAction::<CreateService>::new();
    let services = Resource::new(|| (), |_| list_services());
    let adding = RwSignal::new(false);
    let (errors, message) = form_feedback(create, &[]);
    view! {
        <Interactive>
            <main class="page">
                <div class="page-head">
                    <h1>"Services"</h1>
                    <button type="button" class="button primary" on:click=move |_| adding.set(true)>
                        "Add service"
                    </button>
                </div>
                <p class="lead">
                    "A service is one gateway host with its own APIs, products and subscriptions."
                </p>
                <Show when=move || adding.get()>
                    <section class="panel" aria-labelledby="add-service-title">
                        <h2 id="add-service-title">"Add service"</h2>
                        <ActionForm action=create>
                            <TextField
                                label="Service name"
                                name="name"
                                errors
                                required=true
                                hint="Lowercase letters, digits and hyphens. Callers reach the service at <name>.localhost."
                            />
                            <TextField label="Display name" name="display_name" errors required=true/>
                            <FormError message/>
                            <div class="actions">
                                <button type="submit" class="button primary" disabled=move || create.pending().get()>
                                    {move || if create.pending().get() { "Creating…" } else { "Create" }}
                                </button>
                                <button type="button" class="button secondary" on:click=move |_| adding.set(false)>
                                    "Cancel"
                                </button>
                            </div>
                        </ActionForm>
                    </section>
                </Show>
                <Suspense fallback=|| view! { <p class="loading">"Loading services…"</p> }>
                    {move || Suspend::new(async move {
                        match services.await {
                            Ok(list) if list.is_empty() => {
                                view! {
                                    <div class="empty">
                                        <p>"No services yet. " <strong>"Add service"</strong> " creates the first one."</p>
                                    </div>
                                }
                                    .into_any()
                            }
                            Ok(list) => {
                                view! {
                                    <table class="table">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Name"</th>
                                                <th scope="col">"Display name"</th>
                                                <th scope="col">"Gateway URL"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {list
                                                .into_iter()
                                                .map(|service| {
                                                    view! {
                                                        <tr>
                                                            <td>
                                                                <a href=format!("/services/{}", service.name)>{service.name.clone()}</a>
                                                                {service.is_default.then(|| view! { <span class="badge">"default"</span> })}
                                                            </td>
                                                            <td>{service.display_name}</td>
                                                            <td><code>{service.gateway_url}</code></td>
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
                </Suspense>
            </main>
        </Interactive>
    }
}
