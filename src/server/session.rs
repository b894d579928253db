//! The administrator's session: a name stored under one key of a tower-sessions session.

use leptos::prelude::ServerFnError;
use tower_sessions::Session;

/// The session key under which the signed-in administrator's name is kept.
pub const ADMIN_KEY: &str = "admin";

async fn session() -> Result<Session, ServerFnError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| ServerFnError::new(format!("The session is unavailable: {e}")))
}

pub async fn signed_in() -> Result<Option<String>, ServerFnError> {
    session()
        .await?
        .get::<String>(ADMIN_KEY)
        .await
        .map_err(|e| ServerFnError::new(format!("The session could not be read: {e}")))
}

/// Signs `username` in on a fresh session id (so an id planted before sign-in is useless).
pub async fn start_session(username: &str) -> Result<(), ServerFnError> {
    let session = session().await?;
    session
        .cycle_id()
        .await
        .map_err(|e| ServerFnError::new(format!("The session could not be started: {e}")))?;
    session
        .insert(ADMIN_KEY, username.to_owned())
        .await
        .map_err(|e| ServerFnError::new(format!("The session could not be started: {e}")))
}

pub async fn end_session() -> Result<(), ServerFnError> {
    session()
        .await?
        .flush()
        .await
        .map_err(|e| ServerFnError::new(format!("The session could not be ended: {e}")))
}
