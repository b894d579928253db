//! **Create administrator**: the first start's page, guarded by the setup code that `serve`
//! printed.

use crate::api::auth::{CreateAdministrator, SetupStatus, setup_state};
use crate::components::{FormError, Interactive, LoadError, TextField, form_feedback};
use leptos::prelude::*;

#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = Resource::new(|| (), |_| setup_state());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match setup.await {
                    Ok(SetupStatus::NeedsAdministrator) => view! { <CreateAdministratorForm/> }.into_any(),
                    Ok(SetupStatus::Ready) => {
                        view! {
                            <div class="auth-page">
                                <div class="auth-card">
                                    <h1>"Already set up"</h1>
                                    <p>"This installation has an administrator."</p>
                                    <a class="button primary" href="/sign-in">"Sign in"</a>
                                </div>
                            </div>
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
fn CreateAdministratorForm() -> impl IntoView {
    let action = ServerAction::<CreateAdministrator>::new();
    let (errors, message) = form_feedback(action, &[]);
    view! {
        <div class="auth-page">
            <div class="auth-card">
                <p class="auth-brand"><span class="brand-mark" aria-hidden="true"></span>"Portcullis"</p>
                <h1>"Create administrator"</h1>
                <p class="lead">
                    "Welcome. Enter the setup code that "<code>"portcullis serve"</code>
                    " printed when it started, and choose the first administrator's name and password."
                </p>
                <Interactive>
                    <ActionForm action=action>
                        <TextField label="Setup code" name="setup_code" errors required=true hint="Looks like ABCD-EFGH."/>
                        <TextField label="Username" name="username" errors required=true autocomplete="username"/>
                        <TextField
                            label="Password"
                            name="password"
                            kind="password"
                            errors
                            required=true
                            autocomplete="new-password"
                            hint="At least 10 characters."
                        />
                        <TextField
                            label="Confirm password"
                            name="confirm_password"
                            kind="password"
                            errors
                            required=true
                            autocomplete="new-password"
                        />
                        <FormError message/>
                        <button type="submit" class="button primary wide" disabled=move || action.pending().get()>
                            {move || if action.pending().get() { "Creating…" } else { "Create administrator" }}
                        </button>
                    </ActionForm>
                </Interactive>
            </div>
        </div>
    }
}
