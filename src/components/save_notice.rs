//! The line at the top of a page that says what became of the last change.
//!
//! A page saves through several server actions (create, edit, regenerate, suspend…). The
//! notice speaks of the **latest** one only: "Saving…" from the moment it is sent, "Saved —
//! live on the gateway" once it succeeded (the write returns after the gateway swapped in the
//! new configuration, so a call made after that sees the change). A success from an earlier
//! change never stands in for the one still on its way — someone who clicks "Regenerate"
//! and then calls with the old key must not be told it is already gone.

use leptos::prelude::*;

/// Shows "Saving…" while `saving` is true and "Saved — live on the gateway" while `saved` is.
///
/// The page sets `saved` when an action succeeds; this component clears it whenever a new
/// change starts, so the success line always belongs to the change that came last.
#[component]
pub fn SaveNotice(#[prop(into)] saving: Signal<bool>, saved: RwSignal<bool>) -> impl IntoView {
    Effect::new(move |_| {
        if saving.get() {
            saved.set(false);
        }
    });
    view! {
        {move || {
            if saving.get() {
                Some(view! { <p class="toast pending" role="status">"Saving…"</p> }.into_any())
            } else if saved.get() {
                Some(view! { <p class="toast success" role="status">"Saved — live on the gateway"</p> }.into_any())
            } else {
                None
            }
        }}
    }
}
