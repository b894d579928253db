//! What the portal's two halves — the server (`server`) and the pages in the browser — agree
//! on beyond the data types of `api`: messages that carry a meaning of their own. A leaf
//! module, so that `server` needs nothing from `api`.

/// What every server function that needs an administrator answers once the session is gone.
/// The portal recognises it (`components::errors`) and offers to sign in again.
pub const SESSION_ENDED: &str = "Your session has ended; sign in again.";
