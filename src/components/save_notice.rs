//! The line at the top of a page that says what became of the last change.
//!
//! A page saves through several server actions (create, edit, regenerate, suspend…). The
//! notice speaks of the **latest** one only: "Saving…" from the moment it is sent, "Saved —
//! live on the gateway" once it succeeded (the write returns after the gateway swapped in the
//! new configuration, so a call made after that sees the change). A success from an earlier
//! change never stands in for the one still on its way — someone who clicks "Regenerate"
//! and then calls with the old key must not be told it is already gone.

use leptos::prelude::*;

/// What a page's changes came to: whether the latest one succeeded, and how many have.
///
/// A page's data reloads on [`SaveState::successes`], not on every answer: a change that was
/// refused (a field error, the database away, the session ended) leaves the page as it was —
/// an open form keeps what was typed, beside the error that says why.
#[derive(Clone, Copy)]
pub struct SaveState {
    saved: RwSignal<bool>,
    successes: RwSignal<u64>,
}

impl SaveState {
    pub fn new() -> Self {
        Self {
            saved: RwSignal::new(false),
            successes: RwSignal::new(0),
        }
    }

    /// A change went live: say so, and reload what the page shows.
    pub fn succeeded(&self) {
        self.saved.set(true);
        self.successes.update(|n| *n += 1);
    }

    /// Say "Saved" for a change made on the page before (one that navigated here).
    pub fn show_saved(&self) {
        self.saved.set(true);
    }

    /// How many changes went live; read it in a resource's source to reload after each.
    pub fn successes(&self) -> u64 {
        self.successes.get()
    }
}

impl Default for SaveState {
    fn default() -> Self {
        Self::new()
    }
}

/// Shows "Saving…" while `saving` is true and "Saved — live on the gateway" once the latest
/// change succeeded; a new change clears the old success as it starts.
#[component]
pub fn SaveNotice(#[prop(into)] saving: Signal<bool>, state: SaveState) -> impl IntoView {
    let saved = state.saved;
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
