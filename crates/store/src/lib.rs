//! The config store: the one room that knows sea-orm.
//!
//! It keeps services, APIs, operations, products, subscriptions, policy documents,
//! administrators, management tokens and the audit log in SQLite (embedded, WAL) or
//! PostgreSQL. Its public functions take and return domain types only; rows never leave the
//! crate.
//!
//! Every write is one transaction that also appends an audit entry and bumps the config
//! revision, so "what changed" and "which snapshot includes it" can never disagree. On
//! PostgreSQL the same transaction notifies every other node ([`ChangeFeed`]).
//! [`Store::load_config`] reads the whole configuration back, in one consistent read, as the
//! [`ConfigModel`](portcullis_domain::model::ConfigModel) that the gateway compiles.

mod actor;
mod admins;
mod apis;
mod audit;
mod backends;
mod certificates;
mod change;
mod change_feed;
mod connect;
mod entity;
mod error;
mod imports;
mod load;
mod local_copy;
mod named_values;
mod operations;
mod policies;
mod policy_fragments;
mod products;
mod services;
mod sessions;
mod subscriptions;
mod tokens;
mod traces;
mod usage;

#[cfg(feature = "test-support")]
pub mod testing;

pub use actor::Actor;
pub use apis::ApiRecord;
pub use audit::AuditRecord;
pub use backends::BackendRecord;
pub use certificates::CertificateRecord;
pub use change::Saved;
pub use change_feed::{CHANNEL, ChangeFeed, FeedEvent};
pub use connect::Store;
pub use error::StoreError;
pub use imports::{ApiImport, ImportOutcome};
pub use named_values::NamedValueRecord;
pub use policy_fragments::PolicyFragmentRecord;
pub use products::DeleteProduct;
pub use services::ServiceRecord;
pub use sessions::SessionRecords;
pub use subscriptions::KeySlot;
pub use tokens::{TokenListing, TokenRecord};
pub use usage::{RECENT_CALLS_KEPT, RecentFilter};
