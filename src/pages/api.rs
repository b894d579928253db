//! One API: its URL and settings, its operations (**Add operation**, edit, delete), and
//! deleting the API itself.

use crate::api::apis::{
    ApiDetail, ApiSummary, DeleteApi, DeleteOperation, METHODS, OperationSummary, SaveOperation,
    UpdateApi, get_api, name_from_display_name,
};
use crate::components::{
    ApiTabs, CopyButton, FormError, Interactive, LoadError, Protected, RowActions, SaveNotice,
    SaveState, ServiceFrame, TextField, confirm, form_feedback,
};
use crate::pages::openapi_import::{ExportLinks, OpenApiForm};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn ApiPage() -> impl IntoView {
    let params = use_params_map();
    let service = Signal::derive(move || params.read().get("service").unwrap_or_default());
    let api = Signal::derive(move || params.read().get("api").unwrap_or_default());
    view! {
        <Protected>
            <ServiceFrame service current="APIs">
                <ApiTabs service api current="Design"/>
                <ApiDetails service api/>
            </ServiceFrame>
        </Protected>
    }
}

/// The operation form's contents; `original` is set while editing an existing operation.
#[derive(Clone, Copy)]
struct OperationForm {
    open: RwSignal<bool>,
    original: RwSignal<String>,
    display_name: RwSignal<String>,
    name: RwSignal<String>,
    name_edited: RwSignal<bool>,
    method: RwSignal<String>,
    url_template: RwSignal<String>,
}

impl OperationForm {
    fn new() -> Self {
        Self {
            open: RwSignal::new(false),
            original: RwSignal::new(String::new()),
            display_name: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            name_edited: RwSignal::new(false),
            method: RwSignal::new("GET".into()),
            url_template: RwSignal::new("/".into()),
        }
    }

    fn start_new(&self) {
        self.original.set(String::new());
        self.display_name.set(String::new());
        self.name.set(String::new());
        self.name_edited.set(false);
        self.method.set("GET".into());
        self.url_template.set("/".into());
        self.open.set(true);
    }

    fn start_edit(&self, operation: &OperationSummary) {
        self.original.set(operation.name.clone());
        self.display_name.set(operation.display_name.clone());
        self.name.set(operation.name.clone());
        self.name_edited.set(true);
        self.method.set(operation.method.clone());
        self.url_template.set(operation.url_template.clone());
        self.open.set(true);
    }
}

#[component]
fn ApiDetails(service: Signal<String>, api: Signal<String>) -> impl IntoView {
    let save = ServerAction::<SaveOperation>::new();
    let remove_operation = ServerAction::<DeleteOperation>::new();
    let remove_api = ServerAction::<DeleteApi>::new();
    let update = ServerAction::<UpdateApi>::new();
    let saves = SaveState::new();
    let detail = Resource::new(
        move || (service.get(), api.get(), saves.successes()),
        |(service, api, _)| get_api(service, api),
    );
    let editing = RwSignal::new(false);
    let importing = RwSignal::new(false);
    let form = OperationForm::new();
    let query = use_query_map();
    Effect::new(move |_| {
        if query.read().get("saved").is_some() {
            saves.show_saved();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(errors)) = save.value().get()
            && errors.is_empty()
        {
            form.open.set(false);
            saves.succeeded();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = remove_operation.value().get() {
            saves.succeeded();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(errors)) = update.value().get()
            && errors.is_empty()
        {
            editing.set(false);
            saves.succeeded();
        }
    });
    view! {
        <SaveNotice saving=Signal::derive(move || save.pending().get() || remove_operation.pending().get() || update.pending().get()) state=saves/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => {
                        let summary = detail.api.clone();
                        view! {
                            <Show when=move || editing.get()>
                                <ApiSettingsEditor service api=summary.clone() update editing/>
                            </Show>
                            <Show when=move || importing.get()>
                                <OpenApiForm
                                    service
                                    existing=api.get_untracked()
                                    on_cancel=Callback::new(move |()| importing.set(false))
                                    on_imported=Callback::new(move |()| {
                                        importing.set(false);
                                        saves.succeeded();
                                    })
                                />
                            </Show>
                            <ApiView detail service form save remove_operation remove_api editing importing/>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ApiView(
    detail: ApiDetail,
    service: Signal<String>,
    form: OperationForm,
    save: ServerAction<SaveOperation>,
    remove_operation: ServerAction<DeleteOperation>,
    remove_api: ServerAction<DeleteApi>,
    editing: RwSignal<bool>,
    importing: RwSignal<bool>,
) -> impl IntoView {
    let api = detail.api.clone();
    let api_name = api.name.clone();
    let api_url = Signal::stored(api.api_url.clone());
    let operation_count = detail.operations.len();
    let delete_message = format!(
        "Delete the API '{}'? Its {} operation(s), its policies, its product links and {} subscription(s) scoped to it are deleted with it.",
        api.display_name, operation_count, detail.scoped_subscriptions
    );
    let delete_api = {
        let api_name = api_name.clone();
        move |_| {
            if confirm(&delete_message) {
                remove_api.dispatch(DeleteApi {
                    service: service.get_untracked(),
                    api: api_name.clone(),
                });
            }
        }
    };
    let operations = detail.operations.clone();
    view! {
        <Interactive>
            <div class="page-head">
                <h1>{api.display_name.clone()}</h1>
                <div class="actions">
                    <button type="button" class="button secondary" on:click=move |_| editing.set(true)>"Edit API"</button>
                    <button type="button" class="button secondary" on:click=move |_| importing.set(true)>"Import"</button>
                    <button type="button" class="button danger" disabled=move || remove_api.pending().get() on:click=delete_api>
                        {move || if remove_api.pending().get() { "Deleting…" } else { "Delete API" }}
                    </button>
                </div>
            </div>
            <dl class="facts">
                <dt>"API URL"</dt>
                <dd class="with-copy">
                    <code data-testid="api-url">{api.api_url.clone()}</code>
                    <CopyButton text=api_url label="Copy"/>
                </dd>
                <dt>"Name"</dt>
                <dd><code>{api.name.clone()}</code></dd>
                <dt>"Web service URL"</dt>
                <dd><code>{api.service_url.clone()}</code></dd>
                <dt>"API URL suffix"</dt>
                <dd>{if api.path.is_empty() { view! { <em>"(none)"</em> }.into_any() } else { view! { <code>{api.path.clone()}</code> }.into_any() }}</dd>
                <dt>"Subscription required"</dt>
                <dd>{if api.subscription_required { "Yes" } else { "No" }}</dd>
            </dl>
            <ExportLinks service=service.get_untracked() api=api.name.clone()/>
            <div class="page-head section">
                <h2>"Operations"</h2>
                <button type="button" class="button primary" on:click=move |_| form.start_new()>"Add operation"</button>
            </div>
            <Show when=move || form.open.get()>
                <OperationEditor service api=api_name.clone() form save/>
            </Show>
            {if operations.is_empty() {
                view! {
                    <div class="empty">
                        <p>"No operations yet: every call to this API gets 404 until you add one."</p>
                    </div>
                }
                    .into_any()
            } else {
                let api_for_rows = api.name.clone();
                view! {
                    <table class="table">
                        <thead>
                            <tr>
                                <th scope="col">"Display name"</th>
                                <th scope="col">"Method"</th>
                                <th scope="col">"URL template"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {operations
                                .into_iter()
                                .map(|operation| {
                                    let edit_target = operation.clone();
                                    let api = api_for_rows.clone();
                                    let name = operation.name.clone();
                                    let message = format!("Delete the operation '{}'? Calls to it get 404 from the next request on.", operation.display_name);
                                    view! {
                                        <tr>
                                            <td>{operation.display_name.clone()}</td>
                                            <td><span class="method">{operation.method.clone()}</span></td>
                                            <td><code>{operation.url_template.clone()}</code></td>
                                            <RowActions
                                                label=operation.display_name.clone()
                                                policies_href=format!("/services/{}/apis/{}/operations/{}/policies", service.get_untracked(), api, name)
                                                confirm_delete=message
                                                deleting=remove_operation.pending()
                                                on_edit=Callback::new(move |()| form.start_edit(&edit_target))
                                                on_delete=Callback::new(move |()| {
                                                    remove_operation.dispatch(DeleteOperation {
                                                        service: service.get_untracked(),
                                                        api: api.clone(),
                                                        operation: name.clone(),
                                                    });
                                                })
                                            />
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                    .into_any()
            }}
        </Interactive>
    }
}

#[component]
fn OperationEditor(
    service: Signal<String>,
    api: String,
    form: OperationForm,
    save: ServerAction<SaveOperation>,
) -> impl IntoView {
    let (errors, message) = form_feedback(save, &[]);
    let method_error = move || errors.get().get("method");
    view! {
        <section class="panel" aria-labelledby="operation-title">
            <h2 id="operation-title">
                {move || if form.original.get().is_empty() { "Add operation" } else { "Edit operation" }}
            </h2>
            <ActionForm action=save>
                <input type="hidden" name="service" prop:value=move || service.get()/>
                <input type="hidden" name="api" prop:value=api/>
                <input type="hidden" name="original" prop:value=move || form.original.get()/>
                <TextField
                    label="Display name"
                    name="display_name"
                    errors
                    required=true
                    value=form.display_name
                    on_input=Callback::new(move |text: String| {
                        if !form.name_edited.get_untracked() {
                            form.name.set(name_from_display_name(&text));
                        }
                        form.display_name.set(text);
                    })
                />
                <TextField
                    label="Name"
                    name="name"
                    errors
                    value=form.name
                    on_input=Callback::new(move |text: String| {
                        form.name_edited.set(true);
                        form.name.set(text);
                    })
                />
                <div class="field">
                    <label for="method">"Method"</label>
                    <select
                        id="method"
                        name="method"
                        prop:value=move || form.method.get()
                        on:change=move |event| form.method.set(event_target_value(&event))
                    >
                        {METHODS.iter().map(|m| view! { <option value=*m>{*m}</option> }).collect_view()}
                    </select>
                    <p class="field-error" role="alert">{method_error}</p>
                </div>
                <TextField
                    label="URL template"
                    name="url_template"
                    errors
                    required=true
                    hint="Starts with /; parameters like /orders/{id}; /* matches the rest."
                    value=form.url_template
                    on_input=Callback::new(move |text: String| form.url_template.set(text))
                />
                <FormError message/>
                <div class="actions">
                    <button type="submit" class="button primary" disabled=move || save.pending().get()>
                        {move || if save.pending().get() { "Saving…" } else { "Save" }}
                    </button>
                    <button type="button" class="button secondary" on:click=move |_| form.open.set(false)>
                        "Cancel"
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn ApiSettingsEditor(
    service: Signal<String>,
    api: ApiSummary,
    update: ServerAction<UpdateApi>,
    editing: RwSignal<bool>,
) -> impl IntoView {
    let (errors, message) = form_feedback(update, &[]);
    let display_name = RwSignal::new(api.display_name.clone());
    let service_url = RwSignal::new(api.service_url.clone());
    let path = RwSignal::new(api.path.clone());
    view! {
        <section class="panel" aria-labelledby="edit-api-title">
            <h2 id="edit-api-title">"Edit API"</h2>
            <ActionForm action=update>
                <input type="hidden" name="service" prop:value=move || service.get()/>
                <input type="hidden" name="api" prop:value=api.name.clone()/>
                <TextField
                    label="Display name"
                    name="display_name"
                    errors
                    required=true
                    value=display_name
                    on_input=Callback::new(move |text| display_name.set(text))
                />
                <TextField
                    label="Web service URL"
                    name="service_url"
                    errors
                    required=true
                    value=service_url
                    on_input=Callback::new(move |text| service_url.set(text))
                />
                <TextField
                    label="API URL suffix"
                    name="path"
                    errors
                    value=path
                    on_input=Callback::new(move |text| path.set(text))
                />
                <label class="check">
                    <input type="checkbox" name="subscription_required" checked=api.subscription_required/>
                    "Subscription required"
                </label>
                <FormError message/>
                <div class="actions">
                    <button type="submit" class="button primary" disabled=move || update.pending().get()>
                        {move || if update.pending().get() { "Saving…" } else { "Save" }}
                    </button>
                    <button type="button" class="button secondary" on:click=move |_| editing.set(false)>"Cancel"</button>
                </div>
            </ActionForm>
        </section>
    }
}
