//! The portal's routes on the portal listener: server-rendered Leptos pages, their server
//! functions under `/api`, and the compiled site files (`target/site`: wasm, JS, CSS) —
//! behind the session layer and the cross-site guard.

use axum::Router;
use axum::routing::post;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use portcullis::app::{App, shell};
use portcullis::server::{PortalState, reject_cross_site};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// Whether the session cookie is marked `Secure` (set when the portal is served over https,
/// e.g. behind a TLS-terminating proxy).
pub struct CookiePolicy {
    pub secure: bool,
}

/// The portal router, ready to merge beside the management API.
pub fn routes(state: PortalState, cookies: CookiePolicy) -> anyhow::Result<Router> {
    let configuration = get_configuration(None)?;
    let options = configuration.leptos_options;
    let routes = generate_route_list(App);
    let sessions = SessionManagerLayer::new(state.control.store().session_records())
        .with_name("portcullis_session")
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(cookies.secure)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::hours(12),
        ));
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let server_fns = {
        let context = context.clone();
        move |request| leptos_axum::handle_server_fns_with_context(context.clone(), request)
    };
    Ok(Router::new()
        .route("/api/{*fn_name}", post(server_fns))
        .leptos_routes_with_context(&options, routes, context, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options)
        .layer(axum::middleware::from_fn(reject_cross_site))
        .layer(sessions))
}
