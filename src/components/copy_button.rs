//! A button that copies a text to the clipboard and says "Copied".

use super::interactive::use_hydrated;
use leptos::prelude::*;

#[component]
pub fn CopyButton(
    /// What to copy.
    #[prop(into)]
    text: Signal<String>,
    /// The button's label, e.g. "Copy" or "Copy primary key".
    label: &'static str,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    // Copying needs the page's script: until it runs, the button is disabled.
    let hydrated = use_hydrated();
    let copy = move |_| {
        let value = text.get_untracked();
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let clipboard = leptos::prelude::window().navigator().clipboard();
            let written = wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&value)).await;
            copied.set(written.is_ok());
            if written.is_ok() {
                set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = value;
    };
    view! {
        <button type="button" class="button secondary small" disabled=move || !hydrated.get() on:click=copy>
            {label}
        </button>
        <span class="copied" role="status">{move || if copied.get() { "Copied" } else { "" }}</span>
    }
}
