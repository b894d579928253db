//! How the portal shows what went wrong on the server.
//!
//! Most errors belong where they happened: a form's message under the form ([`FormError`]),
//! a page whose data could not be loaded in place of that data ([`LoadError`]). One does
//! not: **"your session has ended"** is true of the whole page, and every part of it that
//! talks to the server hits it at once. Shown in place, a page said it two or three times
//! and nowhere said what to do. So that one is reported to the frame ([`SessionEnded`],
//! provided by `Protected`), which shows it once, pinned to the top, with a link to sign in
//! again; the places that hit it show nothing and keep what was typed.

use crate::api::auth::SESSION_ENDED;
use leptos::prelude::*;

/// The message of a server function error, without the framework's prefix.
pub fn error_text(error: &ServerFnError) -> String {
    match error {
        ServerFnError::ServerError(message) => message.clone(),
        other => other.to_string(),
    }
}

/// Set once any part of a signed-in page learns that its session has ended.
#[derive(Clone, Copy)]
pub struct SessionEnded(pub RwSignal<bool>);

/// Tells the frame when `message` becomes the session's end. Returns whether there is a
/// frame to tell: outside `Protected` (sign-in, setup) the message is shown in place.
fn report_session_end(message: Signal<Option<String>>) -> bool {
    let Some(SessionEnded(ended)) = use_context::<SessionEnded>() else {
        return false;
    };
    // Effects run in the browser only; on the server `Protected` has already sent a visitor
    // without a session to sign-in.
    Effect::new(move |_| {
        if message.read().as_deref() == Some(SESSION_ENDED) {
            ended.set(true);
        }
    });
    true
}

/// An error about the whole form (or the server) rather than one field.
#[component]
pub fn FormError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    let framed = report_session_end(message);
    let shown = move || {
        message
            .get()
            .filter(|text| !(framed && text == SESSION_ENDED))
    };
    view! {
        {move || shown().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
    }
}

/// In place of data that could not be loaded: why.
#[component]
pub fn LoadError(error: ServerFnError) -> impl IntoView {
    let message = error_text(&error);
    let framed = report_session_end(Signal::stored(Some(message.clone())));
    (!(framed && message == SESSION_ENDED))
        .then(|| view! { <p class="error" role="alert">{message}</p> })
}
