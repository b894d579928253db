//! Labelled form inputs that show their field's error.

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
    view! {
        <div class="field" class:invalid=move || error().is_some()>
            <label for=name>{label}</label>
            <input
                id=name
                name=name
                type=kind
                required=required
                autocomplete=autocomplete
                aria-invalid=move || if error().is_some() { "true" } else { "false" }
                aria-describedby=format!("{hint_id} {error_id}")
                prop:value=move || value.map(|v| v.get()).unwrap_or_default()
                on:input=move |event| {
                    if let Some(callback) = on_input {
                        callback.run(event_target_value(&event));
                    }
                }
            />
            {hint.map(|hint| view! { <p class="hint" id=hint_id.clone()>{hint}</p> })}
            <p class="field-error" id=error_id role="alert">{error}</p>
        </div>
    }
}

/// An error about the whole form (or the server) rather than one field.
#[component]
pub fn FormError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p class="form-error" role="alert">{move || message.get()}</p>
        </Show>
    }
}
