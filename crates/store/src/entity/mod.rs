//! sea-orm entities: one file per table, mirroring the migration. Nothing outside this crate
//! sees them; the store converts rows into domain types at its boundary.

pub mod administrator;
pub mod api;
pub mod audit_entry;
pub mod backend;
pub mod certificate;
pub mod cluster_key;
pub mod config_revision;
pub mod management_token;
pub mod named_value;
pub mod operation;
pub mod policy;
pub mod policy_fragment;
pub mod product;
pub mod product_api;
pub mod recent_call;
pub mod service;
pub mod session;
pub mod subscription;
pub mod trace;
pub mod usage_minute;
