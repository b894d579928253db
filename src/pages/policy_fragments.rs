//! A service's **Policy fragments**: the list (with the policies that include each one),
//! **Add policy fragment**, editing one in the same editor as policies (faults marked at
//! their line), and deleting one that no policy includes.

use crate::api::policies::PolicyDiagnostic;
use crate::api::policy_fragments::{
    DeletePolicyFragment, FragmentSummary, NEW_FRAGMENT, SavePolicyFragment, policy_fragments_page,
};
use crate::components::{
    CodeEditor, FormError, Interactive, Jump, LoadError, Protected, SaveNotice, SaveState,
    ServiceFrame, error_text,
};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn PolicyFragmentsPage() -> impl IntoView {
    let params = use_params_map();
    let service = Signal::derive(move || params.read().get("service").unwrap_or_default());
    view! {
        <Protected>
            <ServiceFrame service current="Policy fragments">
                <PolicyFragments service/>
            </ServiceFrame>
        </Protected>
    }
}

/// The editor's contents; `original` is set while editing.
#[derive(Clone, Copy)]
struct FragmentForm {
    open: RwSignal<bool>,
    original: RwSignal<String>,
    name: RwSignal<String>,
    description: RwSignal<String>,
    text: RwSignal<String>,
}

impl FragmentForm {
    fn new() -> Self {
        Self {
            open: RwSignal::new(false),
            original: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            description: RwSignal::new(String::new()),
            text: RwSignal::new(String::new()),
        }
    }

    fn start_new(&self) {
        self.original.set(String::new());
        self.name.set(String::new());
        self.description.set(String::new());
        self.text.set(NEW_FRAGMENT.to_owned());
        self.open.set(true);
    }

    fn start_edit(&self, fragment: &FragmentSummary) {
        self.original.set(fragment.name.clone());
        self.name.set(fragment.name.clone());
        self.description.set(fragment.description.clone());
        self.text.set(fragment.value.clone());
        self.open.set(true);
    }
}

#[component]
fn PolicyFragments(service: Signal<String>) -> impl IntoView {
    let save = ServerAction::<SavePolicyFragment>::new();
    let remove = ServerAction::<DeletePolicyFragment>::new();
    let saves = SaveState::new();
    let data = Resource::new(
        move || (service.get(), saves.successes()),
        |(service, _)| policy_fragments_page(service),
    );
    let form = FragmentForm::new();
    Effect::new(move |_| {
        if let Some(Ok(result)) = save.value().get()
            && result.is_saved()
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
        Some(Err(error)) => Some(error_text(&error)),
        _ => None,
    };
    view! {
        <Interactive>
            <div class="page-head">
                <h1>"Policy fragments"</h1>
                <button type="button" class="button primary" on:click=move |_| form.start_new()>"Add policy fragment"</button>
            </div>
            <p class="lead">
                "Pieces of policy that several policies share: write "
                <code>"<include-fragment fragment-id=\"name\" />"</code>
                " where one belongs. A change is checked against every policy that includes it and is live on the next request."
            </p>
            <SaveNotice saving=Signal::derive(move || save.pending().get() || remove.pending().get()) state=saves/>
            <FormError message=Signal::derive(remove_message)/>
            <Show when=move || form.open.get()>
                <FragmentEditor service form save/>
            </Show>
            <Suspense fallback=|| view! { <p class="loading">"Loading policy fragments…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(fragments) => view! { <FragmentTable service fragments form remove/> }.into_any(),
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Suspense>
        </Interactive>
    }
}

#[component]
fn FragmentTable(
    service: Signal<String>,
    fragments: Vec<FragmentSummary>,
    form: FragmentForm,
    remove: ServerAction<DeletePolicyFragment>,
) -> impl IntoView {
    if fragments.is_empty() {
        return view! {
            <div class="empty"><p>"No policy fragments yet. " <strong>"Add policy fragment"</strong> " keeps policies that several APIs or operations share in one place."</p></div>
        }
            .into_any();
    }
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Description"</th>
                    <th scope="col">"Included by"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {fragments
                    .into_iter()
                    .map(|fragment| {
                        let edit_target = fragment.clone();
                        let name = fragment.name.clone();
                        let confirm_message = format!("Delete the policy fragment '{}'?", fragment.name);
                        view! {
                            <tr>
                                <td><code>{fragment.name.clone()}</code></td>
                                <td>{if fragment.description.is_empty() { "—".to_owned() } else { fragment.description.clone() }}</td>
                                <td>{if fragment.used_by.is_empty() { "No policy".to_owned() } else { fragment.used_by.join(", ") }}</td>
                                <td class="row-actions">
                                    <button
                                        type="button"
                                        class="button secondary small"
                                        aria-label=format!("Edit {}", fragment.name)
                                        on:click=move |_| form.start_edit(&edit_target)
                                    >
                                        "Edit"
                                    </button>
                                    <button
                                        type="button"
                                        class="button secondary small"
                                        aria-label=format!("Delete {}", fragment.name)
                                        disabled=move || remove.pending().get()
                                        on:click=move |_| {
                                            if crate::components::confirm(&confirm_message) {
                                                remove.dispatch(DeletePolicyFragment {
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
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn FragmentEditor(
    service: Signal<String>,
    form: FragmentForm,
    save: ServerAction<SavePolicyFragment>,
) -> impl IntoView {
    let jump = RwSignal::new(None::<Jump>);
    let editing = move || !form.original.get().is_empty();
    let result = move || match save.value().get() {
        Some(Ok(result)) => result,
        Some(Err(error)) => crate::api::policy_fragments::FragmentSaveResult {
            message: Some(error_text(&error)),
            ..Default::default()
        },
        None => Default::default(),
    };
    let diagnostics = Memo::new(move |_| result().diagnostics);
    Effect::new(move |_| {
        if let Some(first) = diagnostics.get().first() {
            jump.set(Some((first.line, first.column)));
        }
    });
    let marked =
        Signal::derive(move || diagnostics.with(|d| d.iter().map(|d| d.line).collect::<Vec<_>>()));
    let on_save = move |_| {
        save.dispatch(SavePolicyFragment {
            service: service.get_untracked(),
            original: Some(form.original.get_untracked()),
            name: form.name.get_untracked(),
            description: form.description.get_untracked(),
            value: form.text.get_untracked(),
        });
    };
    view! {
        <section class="panel" aria-labelledby="fragment-title">
            <h2 id="fragment-title">{move || if editing() { format!("Edit policy fragment {}", form.original.get()) } else { "Add policy fragment".to_owned() }}</h2>
            <Show when=move || !editing()>
                <div class="field">
                    <label for="fragment-name">"Name"</label>
                    <input
                        id="fragment-name"
                        type="text"
                        required=true
                        prop:value=move || form.name.get()
                        on:input=move |event| form.name.set(event_target_value(&event))
                    />
                    <p class="hint">"Lowercase letters, digits and dashes; policies name it in fragment-id."</p>
                    <p class="field-error" role="alert">{move || result().name_error}</p>
                </div>
            </Show>
            <div class="field">
                <label for="fragment-description">"Description"</label>
                <input
                    id="fragment-description"
                    type="text"
                    prop:value=move || form.description.get()
                    on:input=move |event| form.description.set(event_target_value(&event))
                />
                <p class="field-error" role="alert">{move || result().description_error}</p>
            </div>
            <CodeEditor text=form.text marked jump label="Policy fragment XML"/>
            <Show when=move || !diagnostics.with(Vec::is_empty)>
                <div class="diagnostics" role="alert">
                    <p><strong>"Not saved: the fragment has faults."</strong></p>
                    <ul>
                        {move || diagnostics.get().into_iter().map(|d: PolicyDiagnostic| {
                            let (line, column) = (d.line, d.column);
                            view! {
                                <li>
                                    <button type="button" class="link" on:click=move |_| jump.set(Some((line, column)))>
                                        {format!("Line {line}, column {column}")}
                                    </button>
                                    ": " {d.message.clone()}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </div>
            </Show>
            <FormError message=Signal::derive(move || result().message)/>
            <div class="actions">
                <button type="button" class="button primary" disabled=move || save.pending().get() on:click=on_save>
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
        </section>
    }
}
