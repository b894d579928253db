//! **Sign in**: Username, Password.

use crate::api::FieldErrors;
use crate::api::auth::{SetupStatus, SignIn, setup_state};
use crate::components::{FormError, Interactive, TextField};
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let setup = Resource::new(|| (), |_| setup_state());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match setup.await {
                    Ok(SetupStatus::NeedsAdministrator) => view! { <Redirect path="/setup"/> }.into_any(),
                    _ => view! { <SignInForm/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignInForm() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let message = Signal::derive(move || match action.value().get() {
        Some(Ok(message)) => message,
        Some(Err(error)) => Some(crate::components::error_text(&error)),
        None => None,
    });
    let no_errors = Signal::derive(FieldErrors::default);
    view! {
        <div class="auth-page">
            <div class="auth-card">
                <p class="auth-brand"><span class="brand-mark" aria-hidden="true"></span>"Portcullis"</p>
                <h1>"Sign in"</h1>
                <Interactive>
                    <ActionForm action=action>
                        <input type="hidden" name="next" prop:value=next/>
                        <TextField label="Username" name="username" errors=no_errors required=true autocomplete="username"/>
                        <TextField
                            label="Password"
                            name="password"
                            kind="password"
                            errors=no_errors
                            required=true
                            autocomplete="current-password"
                        />
                        <FormError message/>
                        <button type="submit" class="button primary wide" disabled=move || action.pending().get()>
                            {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                        </button>
                    </ActionForm>
                </Interactive>
            </div>
        </div>
    }
}
