//! Labelled form inputs that show their field's error.

use super::error_text;
use crate::api::FieldErrors;
use leptos::prelude::*;

/// A text input with a real `<label>`, a hint, and the error for its field.
#[component]
pub fn TextField(
    /// Label text.
    label: &'static str,
    /// The input's `name` (the server function argument) and id.
    name: &'static str,
    /// Errors of the last submission.
    #[prop(into)]
    errors: Signal<FieldErrors>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional, into)] value: Option<Signal<String>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] on_input: Option<Callback<String>>,
) -> impl IntoView {
    let error = move || errors.get().get(name);
    let error_id = format!("{name}-error");
    let hint_id = format!("{name}-hint");
    let input_id = name;
    let described_by = format!("{hint_id} {error_id}");
    let on_input_handler = move |event: leptos::ev::Event| {
        if let Some(callback) = on_input {
            callback.run(event_target_value(&event));
        }
    };
    // Only a field with a value signal binds its value: binding an empty one would wipe what a
    // person typed before the page finished hydrating.
    let input = match value {
        Some(value) => view! {
            <input
                id=input_id
                name=name
                type=kind
                required=required
                autocomplete=autocomplete
                aria-invalid=move || if error().is_some() { "true" } else { "false" }
                aria-describedby=described_by.clone()
                prop:value=move || value.get()
                on:input=on_input_handler
            />
        }
        .into_any(),
        None => view! {
            <input
                id=input_id
                name=name
                type=kind
                required=required
                autocomplete=autocomplete
                aria-invalid=move || if error().is_some() { "true" } else { "false" }
                aria-describedby=described_by.clone()
                on:input=on_input_handler
            />
        }
        .into_any(),
    };
    view! {
        <div class="field" class:invalid=move || error().is_some()>
            <label for=name>{label}</label>
            {input}
            {hint.map(|hint| view! { <p class="hint" id=hint_id.clone()>{hint}</p> })}
            <p class="field-error" id=error_id role="alert">{error}</p>
        </div>
    }
}

/// What a form shows after its server function answered: the errors per field, and one
/// message for the form as a whole (a server failure, or an error no field owns).
pub fn form_feedback<S>(
    action: ServerAction<S>,
    form_fields: &'static [&'static str],
) -> (Signal<FieldErrors>, Signal<Option<String>>)
where
    S: server_fn::ServerFn<Output = FieldErrors, Error = ServerFnError>
        + Send
        + Sync
        + Clone
        + 'static,
{
    let errors = Signal::derive(move || match action.value().get() {
        Some(Ok(errors)) => errors,
        _ => FieldErrors::default(),
    });
    let message = Signal::derive(move || match action.value().get() {
        Some(Err(error)) => Some(error_text(&error)),
        Some(Ok(errors)) => std::iter::once("form")
            .chain(form_fields.iter().copied())
            .find_map(|field| errors.get(field)),
        None => None,
    });
    (errors, message)
}
