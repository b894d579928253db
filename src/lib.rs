//! Portcullis' web front: the Leptos admin portal, built twice — for the server (`ssr`), where
//! it renders pages and hosts server functions, and for the browser (`hydrate`), where it
//! becomes interactive. Everything server-only lives in the `portcullis-*` crates under
//! `crates/` and is pulled in by the `ssr` feature alone, so none of it reaches the wasm bundle.

pub mod app;

/// Entry point of the wasm bundle: attaches the server-rendered page to the live app.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
