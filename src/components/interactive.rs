//! Controls that work only in a hydrated page.
//!
//! The portal is rendered on the server and then hydrated: until the wasm has loaded and
//! attached its event handlers, a button whose behaviour lives in the browser does nothing,
//! text typed into a field bound to a signal is replaced by the signal's value when
//! hydration reaches it, and an `ActionForm` posts without script and comes back empty,
//! without its field errors. So every page puts its controls inside [`Interactive`], which
//! keeps them disabled until the page can act on them: a quick click or keystroke is visibly
//! not taken instead of silently lost. (Links stay live; they work without script.)

use leptos::prelude::*;

/// `false` on the server and while the page hydrates, `true` once this component runs in an
/// interactive page (effects only run in the browser, after hydration).
pub(super) fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}

/// A group of browser-only controls, disabled until the page is interactive.
///
/// A `<fieldset disabled>` disables every control inside it at once; it is laid out with
/// `display: contents`, so wrapping changes nothing on screen. What a `<Suspense>` shows
/// hydrates when its data is there, possibly after the page around it: such content gets an
/// `Interactive` of its own (the nested one waits for its own hydration).
#[component]
pub fn Interactive(children: Children) -> impl IntoView {
    let hydrated = use_hydrated();
    view! {
        <fieldset class="interactive" disabled=move || !hydrated.get()>
            {children()}
        </fieldset>
    }
}
