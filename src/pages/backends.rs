//! A service's **Backends**: the list with each circuit breaker's state on this node,
//! **Add backend** (a single URL with credentials, TLS checks and a breaker rule, or a pool
//! of backends by priority and weight), editing, deleting one nothing uses, and **Close
//! breaker**.

use crate::api::backends::{
    BackendSummary, DeleteBackend, ResetBreaker, SaveBackend, backends_page,
};
use crate::components::{
    FormError, Interactive, LoadError, Protected, SaveNotice, SaveState, ServiceFrame, TextField,
    form_feedback,
};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn BackendsPage() -> impl IntoView {
    let params = use_params_map();
    let service = Signal::derive(move || params.read().get("service").unwrap_or_default());
    view! {
        <Protected>
            <ServiceFrame service current="Backends">
                <Backends service/>
            </ServiceFrame>
        </Protected>
    }
}

/// The form's contents; `original` is set while editing.
#[derive(Clone, Copy)]
struct BackendForm {
    open: RwSignal<bool>,
    original: RwSignal<String>,
    name: RwSignal<String>,
    pool: RwSignal<bool>,
    url: RwSignal<String>,
    description: RwSignal<String>,
    headers: RwSignal<String>,
    query: RwSignal<String>,
    scheme: RwSignal<String>,
    parameter: RwSignal<String>,
    validate_chain: RwSignal<bool>,
    validate_name: RwSignal<bool>,
    breaker: RwSignal<bool>,
    threshold: RwSignal<String>,
    interval: RwSignal<String>,
    statuses: RwSignal<String>,
    trip: RwSignal<String>,
    retry_after: RwSignal<bool>,
    members: RwSignal<String>,
}

impl BackendForm {
    fn new() -> Self {
        Self {
            open: RwSignal::new(false),
            original: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            pool: RwSignal::new(false),
            url: RwSignal::new(String::new()),
            description: RwSignal::new(String::new()),
            headers: RwSignal::new(String::new()),
            query: RwSignal::new(String::new()),
            scheme: RwSignal::new(String::new()),
            parameter: RwSignal::new(String::new()),
            validate_chain: RwSignal::new(true),
            validate_name: RwSignal::new(true),
            breaker: RwSignal::new(false),
            threshold: RwSignal::new("5".to_owned()),
            interval: RwSignal::new("PT1M".to_owned()),
            statuses: RwSignal::new("500-599".to_owned()),
            trip: RwSignal::new("PT30S".to_owned()),
            retry_after: RwSignal::new(true),
            members: RwSignal::new(String::new()),
        }
    }

    fn fill(&self, backend: &BackendSummary) {
        self.name.set(backend.name.clone());
        self.pool.set(backend.is_pool);
        self.url.set(backend.url.clone());
        self.description.set(backend.description.clone());
        self.headers.set(backend.headers.clone());
        self.query.set(backend.query.clone());
        self.scheme.set(backend.authorization_scheme.clone());
        self.parameter.set(backend.authorization_parameter.clone());
        self.validate_chain.set(backend.validate_chain);
        self.validate_name.set(backend.validate_name);
        self.members.set(backend.members.clone());
        match &backend.breaker {
            Some(rule) => {
                self.breaker.set(true);
                self.threshold.set(rule.threshold.clone());
                self.interval.set(rule.interval.clone());
                self.statuses.set(rule.statuses.clone());
                self.trip.set(rule.trip_duration.clone());
                self.retry_after.set(rule.accept_retry_after);
            }
            None => {
                let fresh = Self::new();
                self.breaker.set(false);
                self.threshold.set(fresh.threshold.get_untracked());
                self.interval.set(fresh.interval.get_untracked());
                self.statuses.set(fresh.statuses.get_untracked());
                self.trip.set(fresh.trip.get_untracked());
                self.retry_after.set(true);
            }
        }
    }

    fn start_new(&self) {
        self.original.set(String::new());
        self.fill(&BackendSummary {
            validate_chain: true,
            validate_name: true,
            ..BackendSummary::default()
        });
        self.open.set(true);
    }

    fn start_edit(&self, backend: &BackendSummary) {
        self.original.set(backend.name.clone());
        self.fill(backend);
        self.open.set(true);
    }
}

#[component]
fn Backends(service: Signal<String>) -> impl IntoView {
    let save = ServerAction::<SaveBackend>::new();
    let remove = ServerAction::<DeleteBackend>::new();
    let reset = ServerAction::<ResetBreaker>::new();
    let saves = SaveState::new();
    let data = Resource::new(
        move || (service.get(), saves.successes(), reset.version().get()),
        |(service, _, _)| backends_page(service),
    );
    let form = BackendForm::new();
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
                <h1>"Backends"</h1>
                <button type="button" class="button primary" on:click=move |_| form.start_new()>"Add backend"</button>
            </div>
            <p class="lead">
                "Named targets for " <code>"<set-backend-service backend-id=\"…\"/>"</code>
                ": a URL with its credentials and a circuit breaker, or a pool that spreads calls over several and fails over when a breaker opens."
            </p>
            <SaveNotice saving=Signal::derive(move || save.pending().get() || remove.pending().get()) state=saves/>
            <FormError message=Signal::derive(remove_message)/>
            <Show when=move || form.open.get()>
                <BackendEditor service form save/>
            </Show>
            <Suspense fallback=|| view! { <p class="loading">"Loading backends…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(backends) => view! { <BackendTable service backends form remove reset/> }.into_any(),
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Suspense>
        </Interactive>
    }
}

#[component]
fn BackendTable(
    service: Signal<String>,
    backends: Vec<BackendSummary>,
    form: BackendForm,
    remove: ServerAction<DeleteBackend>,
    reset: ServerAction<ResetBreaker>,
) -> impl IntoView {
    if backends.is_empty() {
        return view! {
            <div class="empty"><p>"No backends yet. " <strong>"Add backend"</strong> " names a URL (or a pool of them) that policies send calls to."</p></div>
        }
            .into_any();
    }
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Target"</th>
                    <th scope="col">"Circuit breaker"</th>
                    <th scope="col">"Used by"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {backends
                    .into_iter()
                    .map(|backend| view! { <BackendRow service backend form remove reset/> })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The breaker cell: its state on this node and its rule.
fn breaker_cell(backend: &BackendSummary) -> AnyView {
    let Some(rule) = backend.breaker.clone() else {
        let text = if backend.is_pool {
            "Each member's own"
        } else {
            "None"
        };
        return view! { <span class="muted">{text}</span> }.into_any();
    };
    let what = if rule.threshold.ends_with('%') {
        format!("{} of calls", rule.threshold)
    } else {
        format!("{} failures", rule.threshold)
    };
    let summary = format!(
        "Trips at {what} ({}) within {}, for {}{}",
        rule.statuses,
        rule.interval,
        rule.trip_duration,
        if rule.accept_retry_after {
            " or the backend's Retry-After"
        } else {
            ""
        }
    );
    let state = match rule.open_for_seconds {
        Some(seconds) => view! {
            <span class="badge danger">{format!("Open — closes in {seconds} s")}</span>
        }
        .into_any(),
        None => view! {
            <span class="badge success">"Closed"</span>
            <span class="muted">{format!(" {} of {} calls failed", rule.failures, rule.calls)}</span>
        }
        .into_any(),
    };
    view! {
        <div class="breaker">
            {state}
            {(rule.trips > 0).then(|| view! { <span class="muted">{format!(" · tripped {}×", rule.trips)}</span> })}
            <p class="hint">{summary}</p>
        </div>
    }
    .into_any()
}

#[component]
fn BackendRow(
    service: Signal<String>,
    backend: BackendSummary,
    form: BackendForm,
    remove: ServerAction<DeleteBackend>,
    reset: ServerAction<ResetBreaker>,
) -> impl IntoView {
    let edit_target = backend.clone();
    let name = backend.name.clone();
    let reset_name = backend.name.clone();
    let confirm_message = format!("Delete the backend '{}'?", backend.name);
    let open = backend
        .breaker
        .as_ref()
        .is_some_and(|b| b.open_for_seconds.is_some());
    let target = if backend.is_pool {
        let members: Vec<String> = backend
            .members
            .lines()
            .map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                match words.as_slice() {
                    [name, priority, weight] => {
                        format!("{name} (priority {priority}, weight {weight})")
                    }
                    _ => line.to_owned(),
                }
            })
            .collect();
        view! {
            <span class="badge">"Pool"</span>
            <ul class="members">{members.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
        }
        .into_any()
    } else {
        view! { <code>{backend.url.clone()}</code> }.into_any()
    };
    let used_by = if backend.used_by.is_empty() {
        "—".to_owned()
    } else {
        backend.used_by.join(", ")
    };
    view! {
        <tr>
            <td>
                <strong>{backend.name.clone()}</strong>
                {(!backend.description.is_empty()).then(|| view! { <p class="hint">{backend.description.clone()}</p> })}
            </td>
            <td>{target}</td>
            <td>{breaker_cell(&backend)}</td>
            <td>{used_by}</td>
            <td class="row-actions">
                {open.then(|| {
                    let reset_name = reset_name.clone();
                    view! {
                        <button
                            type="button"
                            class="button secondary small"
                            aria-label=format!("Close the breaker of {reset_name}")
                            on:click=move |_| {
                                reset.dispatch(ResetBreaker {
                                    service: service.get_untracked(),
                                    name: reset_name.clone(),
                                });
                            }
                        >
                            "Close breaker"
                        </button>
                    }
                })}
                <button
                    type="button"
                    class="button secondary small"
                    aria-label=format!("Edit {}", backend.name)
                    on:click=move |_| form.start_edit(&edit_target)
                >
                    "Edit"
                </button>
                <button
                    type="button"
                    class="button secondary small"
                    aria-label=format!("Delete {}", backend.name)
                    disabled=move || remove.pending().get()
                    on:click=move |_| {
                        if crate::components::confirm(&confirm_message) {
                            remove.dispatch(DeleteBackend {
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

/// A multi-line text field with its hint and error.
#[component]
fn LinesField(
    id: &'static str,
    label: &'static str,
    name: &'static str,
    hint: &'static str,
    value: RwSignal<String>,
    errors: Signal<crate::api::FieldErrors>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <textarea
                id=id
                name=name
                rows="2"
                prop:value=move || value.get()
                on:input=move |event| value.set(event_target_value(&event))
            ></textarea>
            <p class="hint">{hint}</p>
            <p class="field-error" role="alert">{move || errors.get().get(name)}</p>
        </div>
    }
}

#[component]
fn BackendEditor(
    service: Signal<String>,
    form: BackendForm,
    save: ServerAction<SaveBackend>,
) -> impl IntoView {
    // Faults of properties the form has no field for (a kept certificate, a second rule…)
    // show as the form's message; the others beside their field.
    let (errors, message) = form_feedback(
        save,
        &[
            "protocol",
            "title",
            "resourceId",
            "tls",
            "properties",
            "circuitBreaker.rules",
            "credentials.certificateIds",
            "credentials.certificate",
        ],
    );
    let editing = move || !form.original.get().is_empty();
    let check = |label: &'static str, name: &'static str, signal: RwSignal<bool>| {
        view! {
            <label class="check">
                <input
                    type="checkbox"
                    name=name
                    prop:checked=move || signal.get()
                    on:change=move |event| signal.set(event_target_checked(&event))
                />
                {label}
            </label>
        }
    };
    view! {
        <section class="panel" aria-labelledby="backend-title">
            <h2 id="backend-title">{move || if editing() { "Edit backend" } else { "Add backend" }}</h2>
            <ActionForm action=save>
                <input type="hidden" name="service" prop:value=move || service.get()/>
                <input type="hidden" name="original" prop:value=move || form.original.get()/>
                <input type="hidden" name="kind" prop:value=move || if form.pool.get() { "Pool" } else { "Single" }/>
                <TextField
                    label="Name"
                    name="name"
                    errors
                    required=true
                    value=form.name
                    on_input=Callback::new(move |text: String| form.name.set(text))
                />
                <fieldset class="choice" disabled=editing>
                    <legend>"Type"</legend>
                    <label class="check">
                        <input type="radio" name="type-choice" prop:checked=move || !form.pool.get() on:change=move |_| form.pool.set(false)/>
                        "Single URL"
                    </label>
                    <label class="check">
                        <input type="radio" name="type-choice" prop:checked=move || form.pool.get() on:change=move |_| form.pool.set(true)/>
                        "Pool of backends"
                    </label>
                </fieldset>
                <TextField
                    label="Description"
                    name="description"
                    errors
                    value=form.description
                    on_input=Callback::new(move |text: String| form.description.set(text))
                />
                <Show
                    when=move || form.pool.get()
                    fallback=move || view! {
                        <TextField
                            label="Runtime URL"
                            name="url"
                            errors
                            required=true
                            value=form.url
                            on_input=Callback::new(move |text: String| form.url.set(text))
                        />
                        <h3>"Credentials"</h3>
                        <LinesField id="backend-headers" label="Headers" name="headers" hint="One per line, name: value. Values may use {{named values}}, e.g. x-functions-key: {{orders-key}}." value=form.headers errors/>
                        <LinesField id="backend-query" label="Query parameters" name="query" hint="One per line, name=value; added after the caller's." value=form.query errors/>
                        <div class="field-row">
                            <TextField
                                label="Authorization scheme"
                                name="authorization_scheme"
                                errors
                                value=form.scheme
                                on_input=Callback::new(move |text: String| form.scheme.set(text))
                            />
                            <TextField
                                label="Authorization parameter"
                                name="authorization_parameter"
                                errors
                                value=form.parameter
                                on_input=Callback::new(move |text: String| form.parameter.set(text))
                            />
                        </div>
                        <h3>"TLS"</h3>
                        {check("Validate the certificate chain", "validate_chain", form.validate_chain)}
                        {check("Validate the certificate name", "validate_name", form.validate_name)}
                        <h3>"Circuit breaker"</h3>
                        {check("Stop calling the backend for a while when it keeps failing", "breaker", form.breaker)}
                        <Show when=move || form.breaker.get()>
                            <div class="field-row">
                                <TextField
                                    label="Trips at (failures, or % of calls)"
                                    name="breaker_threshold"
                                    errors
                                    value=form.threshold
                                    on_input=Callback::new(move |text: String| form.threshold.set(text))
                                />
                                <TextField
                                    label="Within (ISO 8601)"
                                    name="breaker_interval"
                                    errors
                                    value=form.interval
                                    on_input=Callback::new(move |text: String| form.interval.set(text))
                                />
                            </div>
                            <div class="field-row">
                                <TextField
                                    label="Failing statuses"
                                    name="breaker_statuses"
                                    errors
                                    value=form.statuses
                                    on_input=Callback::new(move |text: String| form.statuses.set(text))
                                />
                                <TextField
                                    label="Stays open for (ISO 8601)"
                                    name="breaker_trip"
                                    errors
                                    value=form.trip
                                    on_input=Callback::new(move |text: String| form.trip.set(text))
                                />
                            </div>
                            {check("Honour the backend's Retry-After", "breaker_retry_after", form.retry_after)}
                            <p class="hint">"A call that gets no answer (refused, timed out) always counts as a failure. While open, calls get 503 with Retry-After."</p>
                        </Show>
                    }
                >
                    <LinesField
                        id="backend-members"
                        label="Members"
                        name="members"
                        hint="One per line: backend name, priority (lower first), weight — e.g. east 1 3. A higher priority is used only when every member before it has its breaker open."
                        value=form.members
                        errors
                    />
                </Show>
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
