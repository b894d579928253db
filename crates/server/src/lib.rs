//! Portcullis' server side, without the UI.
//!
//! * [`control`] — the control plane: the one door for configuration writes. It runs a store
//!   write, then reloads and recompiles the gateway snapshot, so a saved change is live on the
//!   next request.
//! * [`mgmt`] — the management REST API under `/mgmt` (APIM's resource paths and property
//!   names, bearer tokens), a thin layer over [`control`].
//! * [`demo`] — the demo flow: a stand-in for a low-code flow's "When an HTTP request is
//!   received" URL that adds two numbers.
//! * [`follow`] — on PostgreSQL, reloads when another node commits a change (LISTEN/NOTIFY,
//!   with a catch-up by revision after a lost connection).
//! * [`local_copy`] — on PostgreSQL, the last known good configuration in a local SQLite
//!   file, served when the node starts while the database is away.
//! * [`shared_traces`] — finished traces written to the database, so a portal on another
//!   node can show them; trace tokens are signed with a key the nodes share.
//! * [`startup`] — binds the portal, gateway and demo listeners and runs them until shutdown.
//!
//! The Leptos portal lives in the root crate and plugs its router into [`startup`].

pub mod analytics;
pub mod config;
pub mod control;
pub mod demo;
pub mod follow;
pub mod listen;
pub mod local_copy;
pub mod mgmt;
pub mod openapi_source;
pub mod shared_traces;
pub mod startup;

pub use config::ServeConfig;
pub use control::Control;
pub use startup::{Application, RunningApplication};
