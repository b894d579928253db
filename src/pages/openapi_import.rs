//! **Add API → OpenAPI** and an API's **Import**: a document chosen as a file, pasted, or
//! named by its URL; **Preview** shows the operations that would be made and what the
//! document says that is not imported; then **Create** (a new API, whose page opens) or
//! **Import** (into this API: its settings stay, operations the document lacks stay unless
//! the box says otherwise). Also the API page's **Export** links.

use crate::api::openapi::{EXPORTS, ImportOpenapi, OpenApiPreview, export_href, preview_openapi};
use crate::components::{FormError, TextField, form_feedback};
use leptos::prelude::*;

/// The form's contents.
#[derive(Clone, Copy)]
struct Source {
    /// What is sent: the document's text (from a file or pasted).
    document: RwSignal<String>,
    /// The chosen file (name and size), when the text came from one.
    file: RwSignal<Option<String>>,
    url: RwSignal<String>,
    display_name: RwSignal<String>,
    name: RwSignal<String>,
    path: RwSignal<String>,
    service_url: RwSignal<String>,
}

impl Source {
    fn new() -> Self {
        Self {
            document: RwSignal::new(String::new()),
            file: RwSignal::new(None),
            url: RwSignal::new(String::new()),
            display_name: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            path: RwSignal::new(String::new()),
            service_url: RwSignal::new(String::new()),
        }
    }

    /// Fills the empty fields from what the document says.
    fn take_preview(&self, preview: &OpenApiPreview) {
        let fill = |field: RwSignal<String>, value: &str| {
            if field.get_untracked().trim().is_empty() {
                field.set(value.to_owned());
            }
        };
        fill(self.display_name, &preview.title);
        fill(self.name, &preview.suggested_name);
        fill(self.path, &preview.suggested_name);
        fill(
            self.service_url,
            preview.service_url.as_deref().unwrap_or(""),
        );
    }
}

/// The import form: for a new API (`existing` empty) or into the API `existing`.
#[component]
pub fn OpenApiForm(
    service: Signal<String>,
    #[prop(into)] existing: String,
    on_cancel: Callback<()>,
    /// Called after an import into an existing API.
    #[prop(optional)]
    on_imported: Option<Callback<()>>,
) -> impl IntoView {
    let new = existing.is_empty();
    let import = ServerAction::<ImportOpenapi>::new();
    let (errors, message) = form_feedback(import, &[]);
    let source = Source::new();
    let preview = Action::new(move |(): &()| {
        let document = source.document.get_untracked();
        let url = source.url.get_untracked();
        async move { preview_openapi(document, url).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(shown)) = preview.value().get()
            && shown.error.is_none()
        {
            source.take_preview(&shown);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(errors)) = import.value().get()
            && errors.is_empty()
            && let Some(done) = on_imported
        {
            done.run(());
        }
    });
    let choose = move |event: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            let Some(input) = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let Some(file) = input.files().and_then(|files| files.get(0)) else {
                return;
            };
            leptos::task::spawn_local(async move {
                let Ok(text) = wasm_bindgen_futures::JsFuture::from(file.text()).await else {
                    return;
                };
                let text = text.as_string().unwrap_or_default();
                source
                    .file
                    .set(Some(format!("{} ({} bytes)", file.name(), text.len())));
                source.document.set(text);
                source.url.set(String::new());
                preview.dispatch(());
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = event;
    };
    let existing_name = existing.clone();
    view! {
        <section class="panel" aria-labelledby="openapi-title">
            <h2 id="openapi-title">{if new { "Create from OpenAPI" } else { "Import OpenAPI" }}</h2>
            <p class="lead">
                "Swagger 2.0 or OpenAPI 3.0/3.1, JSON or YAML: one operation per path and method, with its parameters, bodies, responses and examples."
            </p>
            <ActionForm action=import>
                <input type="hidden" name="service" prop:value=move || service.get()/>
                <input type="hidden" name="existing" prop:value=existing_name.clone()/>
                <input type="hidden" name="document" prop:value=move || source.document.get()/>
                <div class="field">
                    <label for="openapi-file">"OpenAPI file"</label>
                    <input id="openapi-file" type="file" accept=".json,.yaml,.yml" on:change=choose/>
                    <p class="hint">
                        {move || match source.file.get() {
                            Some(label) => format!("Read {label}."),
                            None => "A .json, .yaml or .yml file.".to_owned(),
                        }}
                    </p>
                </div>
                <div class="field">
                    <label for="openapi-text">"Or paste the document"</label>
                    <textarea
                        id="openapi-text"
                        rows="6"
                        class="mono"
                        prop:value=move || if source.file.get().is_some() { String::new() } else { source.document.get() }
                        on:input=move |event| {
                            source.document.set(event_target_value(&event));
                            source.file.set(None);
                        }
                    ></textarea>
                    <p class="field-error" role="alert">{move || errors.get().get("document")}</p>
                </div>
                <TextField
                    label="Or its URL"
                    name="url"
                    errors
                    hint="Fetched by the server (at most 4 MiB, within 30 s)."
                    value=source.url
                    on_input=Callback::new(move |text: String| source.url.set(text))
                />
                <div class="actions">
                    <button type="button" class="button secondary" disabled=move || preview.pending().get() on:click=move |_| { preview.dispatch(()); }>
                        {move || if preview.pending().get() { "Reading…" } else { "Preview" }}
                    </button>
                </div>
                {move || preview.value().get().map(|answer| match answer {
                    Ok(shown) => view! { <PreviewTable shown/> }.into_any(),
                    Err(error) => view! { <p class="form-error" role="alert">{crate::components::error_text(&error)}</p> }.into_any(),
                })}
                <Show when=move || new>
                    <TextField
                        label="Display name"
                        name="display_name"
                        errors
                        hint="From the document's title unless you change it."
                        value=source.display_name
                        on_input=Callback::new(move |text: String| source.display_name.set(text))
                    />
                    <TextField
                        label="Name"
                        name="name"
                        errors
                        hint="Lowercase letters, digits and hyphens."
                        value=source.name
                        on_input=Callback::new(move |text: String| source.name.set(text))
                    />
                    <TextField
                        label="API URL suffix"
                        name="path"
                        errors
                        required=true
                        hint="Callers reach the API at the gateway URL followed by this suffix."
                        value=source.path
                        on_input=Callback::new(move |text: String| source.path.set(text))
                    />
                    <TextField
                        label="Web service URL"
                        name="service_url"
                        errors
                        hint="The backend: from the document's first server unless you change it."
                        value=source.service_url
                        on_input=Callback::new(move |text: String| source.service_url.set(text))
                    />
                    <label class="check">
                        <input type="checkbox" name="subscription_required" checked=true/>
                        "Subscription required"
                    </label>
                </Show>
                <Show when=move || !new>
                    <input type="hidden" name="display_name" value=""/>
                    <input type="hidden" name="name" value=""/>
                    <input type="hidden" name="path" value=""/>
                    <input type="hidden" name="service_url" value=""/>
                    <label class="check">
                        <input type="checkbox" name="remove_missing"/>
                        "Delete the operations the document does not describe (and their policies)"
                    </label>
                    <p class="hint">
                        "Left unticked, they stay. Operations are matched by name, else by method and URL template; a matched operation keeps its policies."
                    </p>
                </Show>
                <FormError message/>
                <div class="actions">
                    <button type="submit" class="button primary" disabled=move || import.pending().get()>
                        {move || match (import.pending().get(), new) {
                            (true, _) => "Importing…",
                            (false, true) => "Create",
                            (false, false) => "Import",
                        }}
                    </button>
                    <button type="button" class="button secondary" on:click=move |_| on_cancel.run(())>
                        "Cancel"
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}

/// What the preview found.
#[component]
fn PreviewTable(shown: OpenApiPreview) -> impl IntoView {
    if let Some(error) = shown.error {
        return view! { <p class="form-error" role="alert">{error}</p> }.into_any();
    }
    let count = shown.operations.len();
    let skipped = shown.skipped.clone();
    view! {
        <div class="preview" data-testid="openapi-preview">
            <p>
                <strong>{shown.title.clone()}</strong>
                {format!(": {count} operation{}", if count == 1 { "" } else { "s" })}
                {shown.service_url.clone().map(|url| format!(", backend {url}"))}
            </p>
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Method"</th>
                        <th scope="col">"URL template"</th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Display name"</th>
                    </tr>
                </thead>
                <tbody>
                    {shown
                        .operations
                        .into_iter()
                        .map(|operation| view! {
                            <tr>
                                <td><span class="method">{operation.method}</span></td>
                                <td><code>{operation.url_template}</code></td>
                                <td><code>{operation.name}</code></td>
                                <td>{operation.display_name}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
            {(!skipped.is_empty()).then(|| view! {
                <details class="skipped">
                    <summary>{format!("Not imported ({})", skipped.len())}</summary>
                    <ul>
                        {skipped
                            .into_iter()
                            .map(|(location, reason)| view! { <li><code>{location}</code>": "{reason}</li> })
                            .collect_view()}
                    </ul>
                </details>
            })}
        </div>
    }
    .into_any()
}

/// The API page's export links: downloads of the API as OpenAPI 3, OpenAPI 2 and a Power
/// Platform custom connector, addressed to the gateway.
#[component]
pub fn ExportLinks(service: String, api: String) -> impl IntoView {
    view! {
        <div class="export-links">
            <span>"Export:"</span>
            {EXPORTS
                .into_iter()
                .map(|(format, label)| {
                    view! {
                        <a class="button secondary small" href=export_href(&service, &api, format) download="">{label}</a>
                    }
                })
                .collect_view()}
        </div>
    }
}
