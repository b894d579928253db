//! Who made a change, as the audit log records it.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A management API call authenticated by the named token.
    Token(String),
    /// An administrator signed in to the portal.
    Admin(String),
    /// Portcullis itself (seeding, maintenance).
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Token(name) => write!(f, "token:{name}"),
            Actor::Admin(name) => write!(f, "admin:{name}"),
            Actor::System => f.write_str("system"),
        }
    }
}
