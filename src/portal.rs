//! The portal's routes on the portal listener: server-rendered Leptos pages, their server
//! functions, and the compiled site files (`target/site`: wasm, JS, CSS).

use axum::Router;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use portcullis::app::{App, shell};

/// The portal router, ready to merge beside the management API.
pub fn routes() -> anyhow::Result<Router> {
    let configuration = get_configuration(None)?;
    let options = configuration.leptos_options;
    let routes = generate_route_list(App);
    Ok(Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options))
}
