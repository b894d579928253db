//! A service's **Certificates**: the list (subject, thumbprint, expiry, whether the private
//! key is there, which policies use it), **Upload certificate** (a PFX/PEM/.cer file chosen
//! or PEM text pasted), and deleting one that no policy uses.

use crate::api::certificates::{
    CertificateSummary, DeleteCertificate, UploadCertificate, certificates_page,
};
use crate::components::{
    CopyButton, FormError, Interactive, LoadError, Protected, SaveNotice, SaveState, ServiceFrame,
    TextField, form_feedback,
};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn CertificatesPage() -> impl IntoView {
    let params = use_params_map();
    let service = Signal::derive(move || params.read().get("service").unwrap_or_default());
    view! {
        <Protected>
            <ServiceFrame service current="Certificates">
                <Certificates service/>
            </ServiceFrame>
        </Protected>
    }
}

/// The upload form's contents.
#[derive(Clone, Copy)]
struct UploadForm {
    open: RwSignal<bool>,
    id: RwSignal<String>,
    /// What is sent: PEM text, or base64 of the chosen file.
    data: RwSignal<String>,
    /// The chosen file (name and size), when the data came from one.
    file: RwSignal<Option<String>>,
    /// Pasted PEM text.
    pasted: RwSignal<String>,
}

impl UploadForm {
    fn new() -> Self {
        Self {
            open: RwSignal::new(false),
            id: RwSignal::new(String::new()),
            data: RwSignal::new(String::new()),
            file: RwSignal::new(None),
            pasted: RwSignal::new(String::new()),
        }
    }

    fn start(&self) {
        self.id.set(String::new());
        self.data.set(String::new());
        self.file.set(None);
        self.pasted.set(String::new());
        self.open.set(true);
    }

    /// Takes a chosen file's bytes: PEM text as it is, anything else as base64.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn take_file(&self, name: String, bytes: Vec<u8>) {
        use base64::Engine as _;
        let label = format!("{name} ({} bytes)", bytes.len());
        let data = match String::from_utf8(bytes) {
            Ok(text) if text.trim_start().starts_with("-----BEGIN") => text,
            Ok(text) => base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
            Err(error) => base64::engine::general_purpose::STANDARD.encode(error.into_bytes()),
        };
        self.data.set(data);
        self.pasted.set(String::new());
        self.file.set(Some(label));
        if self.id.get_untracked().trim().is_empty() {
            let stem = name
                .rsplit_once('.')
                .map_or(name.as_str(), |(stem, _)| stem);
            self.id.set(crate::api::apis::name_from_display_name(stem));
        }
    }
}

#[component]
fn Certificates(service: Signal<String>) -> impl IntoView {
    let upload = ServerAction::<UploadCertificate>::new();
    let remove = ServerAction::<DeleteCertificate>::new();
    let saves = SaveState::new();
    let data = Resource::new(
        move || (service.get(), saves.successes()),
        |(service, _)| certificates_page(service),
    );
    let form = UploadForm::new();
    Effect::new(move |_| {
        if let Some(Ok(errors)) = upload.value().get()
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
                <h1>"Certificates"</h1>
                <button type="button" class="button primary" on:click=move |_| form.start()>"Upload certificate"</button>
            </div>
            <p class="lead">
                "Client certificates the gateway presents to backends ("
                <code>"<authentication-certificate certificate-id=\"…\"/>"</code>
                ") and certificates whose keys check JWT signatures ("
                <code>"<key certificate-id=\"…\"/>"</code>
                "). Private keys never leave the server."
            </p>
            <SaveNotice saving=Signal::derive(move || upload.pending().get() || remove.pending().get()) state=saves/>
            <FormError message=Signal::derive(remove_message)/>
            <Show when=move || form.open.get()>
                <UploadPanel service form upload/>
            </Show>
            <Suspense fallback=|| view! { <p class="loading">"Loading certificates…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(certificates) => view! { <CertificateTable service certificates remove/> }.into_any(),
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Suspense>
        </Interactive>
    }
}

#[component]
fn CertificateTable(
    service: Signal<String>,
    certificates: Vec<CertificateSummary>,
    remove: ServerAction<DeleteCertificate>,
) -> impl IntoView {
    if certificates.is_empty() {
        return view! {
            <div class="empty"><p>"No certificates yet. " <strong>"Upload certificate"</strong> " takes a PFX file with its password, PEM text, or a .cer file."</p></div>
        }
            .into_any();
    }
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"Id"</th>
                    <th scope="col">"Subject"</th>
                    <th scope="col">"Thumbprint"</th>
                    <th scope="col">"Expires"</th>
                    <th scope="col" title="Only a certificate uploaded with its private key can authenticate the gateway">"Private key"</th>
                    <th scope="col">"Used by"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {certificates
                    .into_iter()
                    .map(|certificate| view! { <CertificateRow service certificate remove/> })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// "expired", "in 12 days" (soon: a warning), "in 300 days", "in 99 years".
fn expiry_badge(days_left: i64) -> (&'static str, String) {
    match days_left {
        ..0 => ("badge danger", "expired".to_owned()),
        0..30 => ("badge warning", format!("in {days_left} days")),
        30..730 => ("badge", format!("in {days_left} days")),
        _ => ("badge", format!("in {} years", days_left / 365)),
    }
}

#[component]
fn CertificateRow(
    service: Signal<String>,
    certificate: CertificateSummary,
    remove: ServerAction<DeleteCertificate>,
) -> impl IntoView {
    let name = certificate.name.clone();
    let confirm_message = format!("Delete the certificate '{}'?", certificate.name);
    let (badge_class, badge_text) = expiry_badge(certificate.days_left);
    let thumbprint = certificate.thumbprint.clone();
    view! {
        <tr>
            <td class="nowrap"><code>{certificate.name.clone()}</code></td>
            <td class="value-cell">{certificate.subject.clone()}</td>
            <td class="value-cell">
                <code class="thumbprint">{certificate.thumbprint.clone()}</code>
                " "
                <CopyButton text=Signal::derive(move || thumbprint.clone()) label="Copy"/>
            </td>
            <td class="nowrap">{certificate.expires.clone()} <br/> <span class=badge_class>{badge_text}</span></td>
            <td>{if certificate.has_private_key { "Yes" } else { "No" }}</td>
            <td>{if certificate.used_by.is_empty() { "—".to_owned() } else { certificate.used_by.join(", ") }}</td>
            <td class="row-actions">
                <button
                    type="button"
                    class="button secondary small"
                    aria-label=format!("Delete {}", certificate.name)
                    disabled=move || remove.pending().get()
                    on:click=move |_| {
                        if crate::components::confirm(&confirm_message) {
                            remove.dispatch(DeleteCertificate {
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
fn UploadPanel(
    service: Signal<String>,
    form: UploadForm,
    upload: ServerAction<UploadCertificate>,
) -> impl IntoView {
    let (errors, message) = form_feedback(upload, &[]);
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
                let Ok(buffer) = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await
                else {
                    return;
                };
                let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                form.take_file(file.name(), bytes);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = event;
    };
    view! {
        <section class="panel" aria-labelledby="certificate-title">
            <h2 id="certificate-title">"Upload certificate"</h2>
            <ActionForm action=upload>
                <input type="hidden" name="service" prop:value=move || service.get()/>
                <input type="hidden" name="data" prop:value=move || form.data.get()/>
                <TextField
                    label="Id"
                    name="id"
                    errors
                    required=true
                    hint="What policies write in certificate-id=\"…\"."
                    value=form.id
                    on_input=Callback::new(move |text: String| form.id.set(text))
                />
                <div class="field">
                    <label for="certificate-file">"Certificate file"</label>
                    <input
                        id="certificate-file"
                        type="file"
                        accept=".pfx,.p12,.pem,.crt,.cer,.key"
                        on:change=choose
                    />
                    <p class="hint">
                        {move || match form.file.get() {
                            Some(label) => format!("Read {label}."),
                            None => "A PFX/P12 file (with its private key), PEM, or a .cer file.".to_owned(),
                        }}
                    </p>
                </div>
                <div class="field">
                    <label for="certificate-pem">"Or paste PEM text"</label>
                    <textarea
                        id="certificate-pem"
                        rows="5"
                        class="mono"
                        placeholder="-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n…"
                        prop:value=move || form.pasted.get()
                        on:input=move |event| {
                            let text = event_target_value(&event);
                            form.data.set(text.clone());
                            form.pasted.set(text);
                            form.file.set(None);
                        }
                    ></textarea>
                    <p class="field-error" role="alert">{move || errors.get().get("data")}</p>
                </div>
                <TextField
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="off"
                    hint="Opens a PFX file; leave empty for PEM and .cer."
                    errors
                />
                <FormError message/>
                <div class="actions">
                    <button type="submit" class="button primary" disabled=move || upload.pending().get()>
                        {move || if upload.pending().get() { "Uploading…" } else { "Upload" }}
                    </button>
                    <button type="button" class="button secondary" on:click=move |_| form.open.set(false)>
                        "Cancel"
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}
