//! Asking before something is deleted.

/// Shows the browser's confirmation dialog; true when the person agreed. (Only in the
/// browser: on the server there is no one to ask, so nothing is confirmed.)
pub fn confirm(message: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        leptos::prelude::window()
            .confirm_with_message(message)
            .unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = message;
        false
    }
}
