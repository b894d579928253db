//! A service's **APIs**: the list, **Add API** → **Blank API** or **OpenAPI**.

use crate::api::apis::{CreateApi, list_apis, name_from_display_name};
use crate::components::{
    FormError, Interactive, LoadError, Protected, ServiceFrame, TextField, form_feedback,
};
use crate::pages::openapi_import::OpenApiForm;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ApisPage() -> impl IntoView {
    let params = use_params_map();
    let service = Signal::derive(move || params.read().get("service").unwrap_or_default());
    view! {
        <Protected>
            <ServiceFrame service current="APIs">
                <ApiList service/>
            </ServiceFrame>
        </Protected>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Adding {
    No,
    Choosing,
    Blank,
    OpenApi,
}

#[component]
fn ApiList(service: Signal<String>) -> impl IntoView {
    let apis = Resource::new(move || service.get(), list_apis);
    let adding = RwSignal::new(Adding::No);
    view! {
        <Interactive>
            <div class="page-head">
                <h1>"APIs"</h1>
                <button type="button" class="button primary" on:click=move |_| adding.set(Adding::Choosing)>
                    "Add API"
                </button>
            </div>
            <Show when=move || adding.get() == Adding::Choosing>
                <section class="panel" aria-labelledby="choose-title">
                    <h2 id="choose-title">"Add API"</h2>
                    <p class="lead">"Define a new API by hand, or from the description you have."</p>
                    <div class="choices">
                        <button type="button" class="choice" on:click=move |_| adding.set(Adding::Blank)>
                            <strong>"Blank API"</strong>
                            <span>"A backend URL and a URL suffix; add operations afterwards."</span>
                        </button>
                        <button type="button" class="choice" on:click=move |_| adding.set(Adding::OpenApi)>
                            <strong>"OpenAPI"</strong>
                            <span>"Swagger 2.0 or OpenAPI 3 (JSON or YAML): a file, pasted text or a URL."</span>
                        </button>
                    </div>
                </section>
            </Show>
            <Show when=move || adding.get() == Adding::Blank>
                <BlankApiForm service on_cancel=Callback::new(move |()| adding.set(Adding::No))/>
            </Show>
            <Show when=move || adding.get() == Adding::OpenApi>
                <OpenApiForm service existing="" on_cancel=Callback::new(move |()| adding.set(Adding::No))/>
            </Show>
            <Suspense fallback=|| view! { <p class="loading">"Loading APIs…"</p> }>
                {move || Suspend::new(async move {
                    match apis.await {
                        Ok(list) if list.is_empty() => {
                            view! {
                                <div class="empty">
                                    <p>"No APIs yet. " <strong>"Add API"</strong> " puts a backend behind the gateway."</p>
                                </div>
                            }
                                .into_any()
                        }
                        Ok(list) => {
                            let service = service.get_untracked();
                            view! {
                                <table class="table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Display name"</th>
                                            <th scope="col">"Name"</th>
                                            <th scope="col">"API URL"</th>
                                            <th scope="col">"Subscription"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list
                                            .into_iter()
                                            .map(|api| {
                                                view! {
                                                    <tr>
                                                        <td>
                                                            <a href=format!("/services/{service}/apis/{}", api.name)>
                                                                {api.display_name}
                                                            </a>
                                                        </td>
                                                        <td><code>{api.name}</code></td>
                                                        <td><code>{api.api_url}</code></td>
                                                        <td>{if api.subscription_required { "required" } else { "not required" }}</td>
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
        </Interactive>
    }
}

#[component]
fn BlankApiForm(service: Signal<String>, on_cancel: Callback<()>) -> impl IntoView {
    let create = ServerAction::<CreateApi>::new();
    let display_name = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let name_edited = RwSignal::new(false);
    let (errors, message) = form_feedback(create, &[]);
    view! {
        <section class="panel" aria-labelledby="blank-title">
            <h2 id="blank-title">"Create a blank API"</h2>
            <ActionForm action=create>
                <input type="hidden" name="service" prop:value=move || service.get()/>
                <TextField
                    label="Display name"
                    name="display_name"
                    errors
                    required=true
                    value=display_name
                    on_input=Callback::new(move |text: String| {
                        if !name_edited.get_untracked() {
                            name.set(name_from_display_name(&text));
                        }
                        display_name.set(text);
                    })
                />
                <TextField
                    label="Name"
                    name="name"
                    errors
                    hint="Filled from the display name; lowercase letters, digits and hyphens."
                    value=name
                    on_input=Callback::new(move |text: String| {
                        name_edited.set(true);
                        name.set(text);
                    })
                />
                <TextField
                    label="Web service URL"
                    name="service_url"
                    errors
                    required=true
                    hint="The backend, e.g. the URL of a flow's \"When an HTTP request is received\" trigger."
                />
                <TextField
                    label="API URL suffix"
                    name="path"
                    errors
                    hint="Callers reach the API at the gateway URL followed by this suffix."
                />
                <label class="check">
                    <input type="checkbox" name="subscription_required" checked=true/>
                    "Subscription required"
                </label>
                <FormError message/>
                <div class="actions">
                    <button type="submit" class="button primary" disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Creating…" } else { "Create" }}
                    </button>
                    <button type="button" class="button secondary" on:click=move |_| on_cancel.run(())>
                        "Cancel"
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}
