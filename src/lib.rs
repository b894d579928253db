//! Portcullis' admin portal, built twice — for the server (`ssr`), where it renders pages and
//! runs server functions, and for the browser (`hydrate`), where it becomes interactive.
//!
//! * [`app`] — the HTML shell and the routes;
//! * [`pages`] — one component per page; [`components`] — pieces they share;
//! * [`api`] — the wire types and server functions (thin: session check, parse, call the
//!   control plane);
//! * `server` (ssr only) — the state server functions reach, sessions, sign-in throttle,
//!   setup code, cross-site guard.
//!
//! Everything server-only lives in the `portcullis-*` crates under `crates/` and is pulled in
//! by the `ssr` feature alone, so none of it reaches the wasm bundle.

#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod components;
pub mod console_url;
pub mod pages;
pub mod policy_text;
pub mod protocol;
#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the wasm bundle: attaches the server-rendered page to the live app.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
