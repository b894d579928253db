//! A service's **Named values**: the list, **Add named value**, editing one, deleting one
//! that no policy uses, and **Show value** for secrets.

use crate::api::named_values::{
    DeleteNamedValue, NamedValueSummary, SaveNamedValue, named_values_page, show_named_value,
};
use crate::components::{
    FormError, Interactive, LoadError, Protected, SaveNotice, SaveState, ServiceFrame, TextField,
    form_feedback,
};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn NamedValuesPage() -> impl IntoView {
    let params = use_params_map();
    let service = Signal::derive(move || params.read().get("service").unwrap_or_default());
    view! {
        <Protected>
            <ServiceFrame service current="Named values">
                <NamedValues service/>
            </ServiceFrame>
        </Protected>
    }
}

/// The form's contents; `original` is set while editing.
#[derive(Clone, Copy)]
struct NamedValueForm {
    open: RwSignal<bool>,
    original: RwSignal<String>,
    display_name: RwSignal<String>,
    value: RwSignal<String>,
    secret: RwSignal<bool>,
    tags: RwSignal<String>,
}

impl NamedValueForm {
    fn new() -> Self {
        Self {
            open: RwSignal::new(false),
            original: RwSignal::new(String::new()),
            display_name: RwSignal::new(String::new()),
            value: RwSignal::new(String::new()),
            secret: RwSignal::new(false),
            tags: RwSignal::new(String::new()),
        }
    }

    fn start_new(&self) {
        self.original.set(String::new());
        self.display_name.set(String::new());
        self.value.set(String::new());
        self.secret.set(false);
        self.tags.set(String::new());
        self.open.set(true);
    }

    fn start_edit(&self, named: &NamedValueSummary) {
        self.original.set(named.name.clone());
        self.display_name.set(named.display_name.clone());
        self.value.set(named.value.clone().unwrap_or_default());
        self.secret.set(named.secret);
        self.tags.set(named.tags.join(", "));
        self.open.set(true);
    }
}

#[component]
fn NamedValues(service: Signal<String>) -> impl IntoView {
    let save = ServerAction::<SaveNamedValue>::new();
    let remove = ServerAction::<DeleteNamedValue>::new();
    let saves = SaveState::new();
    let data = Resource::new(
        move || (service.get(), saves.successes()),
        |(service, _)| named_values_page(service),
    );
    let form = NamedValueForm::new();
    Effect::new(move |_| {
        if let Some(Ok(errors)) = save.value().get()
            && errors.is_empty()
        {
            form.open.set(false);
            saves.succeeded();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(None)) = remove.value().get() {
            saves.succeeded();
        }
    });
    let remove_message = move || match remove.value().get() {
        Some(Ok(Some(message))) => Some(message),
        Some(Err(error)) => Some(crate::components::error_text(&error)),
        _ => None,
    };
    view! {
        <Interactive>
            <div class="page-head">
                <h1>"Named values"</h1>
                <button type="button" class="button primary" on:click=move |_| form.start_new()>"Add named value"</button>
            </div>
            <p class="lead">
                "Values that policies use by name: write " <code>"{{DisplayName}}"</code>
                " in any attribute, text or expression. A change is live on the next request."
            </p>
            <SaveNotice saving=Signal::derive(move || save.pending().get() || remove.pending().get()) state=saves/>
            <FormError message=Signal::derive(remove_message)/>
            <Show when=move || form.open.get()>
                <NamedValueEditor service form save/>
            </Show>
            <Suspense fallback=|| view! { <p class="loading">"Loading named values…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(values) => view! { <NamedValueTable service values form remove/> }.into_any(),
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Suspense>
        </Interactive>
    }
}

#[component]
fn NamedValueTable(
    service: Signal<String>,
    values: Vec<NamedValueSummary>,
    form: NamedValueForm,
    remove: ServerAction<DeleteNamedValue>,
) -> impl IntoView {
    if values.is_empty() {
        return view! {
            <div class="empty"><p>"No named values yet. " <strong>"Add named value"</strong> " keeps a value (a secret too) that policies use by name."</p></div>
        }
            .into_any();
    }
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"Display name"</th>
                    <th scope="col">"Value"</th>
                    <th scope="col">"Tags"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {values
                    .into_iter()
                    .map(|named| view! { <NamedValueRow service named form remove/> })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn NamedValueRow(
    service: Signal<String>,
    named: NamedValueSummary,
    form: NamedValueForm,
    remove: ServerAction<DeleteNamedValue>,
) -> impl IntoView {
    let shown = RwSignal::new(None::<String>);
    let show = {
        let name = named.name.clone();
        Action::new(move |(): &()| {
            let name = name.clone();
            async move {
                let value = show_named_value(service.get_untracked(), name).await;
                shown.set(Some(
                    value.unwrap_or_else(|e| crate::components::error_text(&e)),
                ));
            }
        })
    };
    let label = named.display_name.clone();
    let edit_target = named.clone();
    let name = named.name.clone();
    let confirm_message = format!("Delete the named value '{}'?", named.display_name);
    let secret = named.secret;
    let value = named.value.clone();
    view! {
        <tr>
            <td><code>{format!("{{{{{}}}}}", named.display_name)}</code></td>
            <td class="value-cell">
                {move || match (&value, shown.get()) {
                    (Some(value), _) => view! { <code>{value.clone()}</code> }.into_any(),
                    (None, Some(revealed)) => view! { <code>{revealed}</code> }.into_any(),
                    (None, None) => view! { <span class="secret">"•••••• (secret)"</span> }.into_any(),
                }}
            </td>
            <td>{if named.tags.is_empty() { "—".to_owned() } else { named.tags.join(", ") }}</td>
            <td class="row-actions">
                <Show when=move || secret && shown.get().is_none()>
                    <button
                        type="button"
                        class="button secondary small"
                        aria-label=format!("Show value of {label}")
                        on:click=move |_| {
                            show.dispatch(());
                        }
                    >
                        "Show value"
                    </button>
                </Show>
                <button
                    type="button"
                    class="button secondary small"
                    aria-label=format!("Edit {}", named.display_name)
                    on:click=move |_| form.start_edit(&edit_target)
                >
                    "Edit"
                </button>
                <button
                    type="button"
                    class="button secondary small"
                    aria-label=format!("Delete {}", named.display_name)
                    disabled=move || remove.pending().get()
                    on:click=move |_| {
                        if crate::components::confirm(&confirm_message) {
                            remove.dispatch(DeleteNamedValue {
                                service: service.get_untracked(),
                                name: name.clone(),
                            });
                        }
                    }
                >
                    "Delete"
                </button>
            </td>
        </tr>
    }
}

#[component]
fn NamedValueEditor(
    service: Signal<String>,
    form: NamedValueForm,
    save: ServerAction<SaveNamedValue>,
) -> impl IntoView {
    let (errors, message) = form_feedback(save, &["value", "tags"]);
    let editing = move || !form.original.get().is_empty();
    view! {
        <section class="panel" aria-labelledby="named-value-title">
            <h2 id="named-value-title">{move || if editing() { "Edit named value" } else { "Add named value" }}</h2>
            <ActionForm action=save>
                <input type="hidden" name="service" prop:value=move || service.get()/>
                <input type="hidden" name="original" prop:value=move || form.original.get()/>
                <TextField
                    label="Display name"
                    name="display_name"
                    errors
                    required=true
                    value=form.display_name
                    on_input=Callback::new(move |text: String| form.display_name.set(text))
                />
                <div class="field">
                    <label for="named-value">"Value"</label>
                    <textarea
                        id="named-value"
                        name="value"
                        rows="2"
                        placeholder=move || if editing() && form.secret.get() { "Leave empty to keep the secret value" } else { "" }
                        prop:value=move || form.value.get()
                        on:input=move |event| form.value.set(event_target_value(&event))
                    ></textarea>
                    <p class="hint">"Text or a policy expression such as @(DateTime.UtcNow.ToString()); not another {{named value}}."</p>
                    <p class="field-error" role="alert">{move || errors.get().get("value")}</p>
                </div>
                <label class="check">
                    <input
                        type="checkbox"
                        name="secret"
                        prop:checked=move || form.secret.get()
                        on:change=move |event| form.secret.set(event_target_checked(&event))
                    />
                    "Secret (shown only on Show value; never in lists, traces or the audit log)"
                </label>
                <TextField
                    label="Tags"
                    name="tags"
                    errors
                    value=form.tags
                    on_input=Callback::new(move |text: String| form.tags.set(text))
                />
                <FormError message/>
                <div class="actions">
                    <button type="submit" class="button primary" disabled=move || save.pending().get()>
                        {move || match (save.pending().get(), editing()) {
                            (true, _) => "Saving…",
                            (false, true) => "Save",
                            (false, false) => "Create",
                        }}
                    </button>
                    <button type="button" class="button secondary" on:click=move |_| form.open.set(false)>
                        "Cancel"
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}
