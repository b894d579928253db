//! Signing in and out, and creating the first administrator with the setup code.

use crate::api::FieldErrors;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use crate::protocol::SESSION_ENDED;

/// Whether the installation still needs its first administrator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetupStatus {
    NeedsAdministrator,
    Ready,
}

#[server]
pub async fn setup_state() -> Result<SetupStatus, ServerFnError> {
    let state = crate::server::state()?;
    let admins = state
        .control
        .store()
        .admin_count()
        .await
        .map_err(crate::server::internal)?;
    Ok(if admins == 0 {
        SetupStatus::NeedsAdministrator
    } else {
        SetupStatus::Ready
    })
}

/// The signed-in administrator's name, if any.
#[server]
pub async fn current_admin() -> Result<Option<String>, ServerFnError> {
    crate::server::signed_in().await
}

/// Signs in and redirects to `next` (a local path) or the services list. Wrong credentials
/// get one generic message; repeated failures from one address are answered ever more slowly.
#[server]
pub async fn sign_in(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<Option<String>, ServerFnError> {
    let state = crate::server::state()?;
    let peer = crate::server::peer_ip().await;
    state.sign_in_throttle.wait_turn(peer).await;
    let valid = state
        .control
        .store()
        .verify_admin(username.trim(), &password)
        .await
        .map_err(crate::server::internal)?;
    if !valid {
        return Ok(Some("The user name or password is not correct.".to_owned()));
    }
    state.sign_in_throttle.succeeded(peer);
    crate::server::start_session(username.trim()).await?;
    leptos_axum::redirect(&crate::server::local_path(next.as_deref()));
    Ok(None)
}

#[server]
pub async fn sign_out() -> Result<(), ServerFnError> {
    crate::server::end_session().await?;
    leptos_axum::redirect("/sign-in");
    Ok(())
}

/// Creates the first administrator; needs the setup code `serve` printed. Signs them in.
#[server]
pub async fn create_administrator(
    setup_code: String,
    username: String,
    password: String,
    confirm_password: String,
) -> Result<FieldErrors, ServerFnError> {
    let state = crate::server::state()?;
    let store = state.control.store();
    if store.admin_count().await.map_err(crate::server::internal)? > 0 {
        return Ok(FieldErrors::one(
            "setup_code",
            "This installation has an administrator already; sign in instead.",
        ));
    }
    let peer = crate::server::peer_ip().await;
    state.sign_in_throttle.wait_turn(peer).await;
    if !state.setup_code.matches(setup_code.trim()) {
        return Ok(FieldErrors::one(
            "setup_code",
            "That is not the setup code. It is printed by `portcullis serve` when it starts without an administrator.",
        ));
    }
    state.sign_in_throttle.succeeded(peer);
    if password != confirm_password {
        return Ok(FieldErrors::one(
            "confirm_password",
            "The passwords do not match.",
        ));
    }
    if let Err(error) = store.add_admin(username.trim(), &password).await {
        return crate::api::field_errors(error);
    }
    state.setup_code.consume();
    crate::server::start_session(username.trim()).await?;
    leptos_axum::redirect("/services");
    Ok(FieldErrors::default())
}
