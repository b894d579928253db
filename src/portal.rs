//! The portal's routes on the portal listener: server-rendered Leptos pages, their server
//! functions under `/api`, and the compiled site files (`target/site`: wasm, JS, CSS) —
//! behind the session layer and the cross-site guard.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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
    let downloads = {
        let state = state.clone();
        move |session, path| export_download(state.clone(), session, path)
    };
    Ok(Router::new()
        .route("/api/{*fn_name}", post(server_fns))
        .route(
            "/downloads/services/{service}/apis/{api}/{format}",
            axum::routing::get(downloads),
        )
        .leptos_routes_with_context(&options, routes, context, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options)
        .layer(axum::middleware::from_fn(reject_cross_site))
        .layer(sessions))
}

/// An API's export as a file, for the signed-in administrator (the API page's **Export**
/// links): `format` is `openapi-json`, `openapi`, `swagger` or `powerplatform`.
async fn export_download(
    state: PortalState,
    session: tower_sessions::Session,
    Path((service, api, format)): Path<(String, String, String)>,
) -> Response {
    let signed_in = session
        .get::<String>(portcullis::server::ADMIN_SESSION_KEY)
        .await
        .ok()
        .flatten()
        .is_some();
    if !signed_in {
        return (StatusCode::UNAUTHORIZED, "Sign in to download exports.").into_response();
    }
    let parsed = (
        portcullis_domain::ServiceName::parse(&service),
        portcullis_domain::ApiName::parse(&api),
        portcullis_openapi::ExportFormat::parse(&format.replace('-', "+")),
    );
    let (Ok(service), Ok(api), Some(format)) = parsed else {
        return (StatusCode::NOT_FOUND, "No such export.").into_response();
    };
    let gateway_url = state.gateway_url(&service);
    match portcullis_server::openapi_source::export_api(
        state.control.store(),
        &service,
        &api,
        &gateway_url,
        format,
    )
    .await
    {
        Ok(document) => (
            portcullis_server::openapi_source::download_headers(format, &api),
            document,
        )
            .into_response(),
        Err(portcullis_store::StoreError::NotFound(message)) => {
            (StatusCode::NOT_FOUND, message).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "export failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "The export failed.").into_response()
        }
    }
}
