//! Schema migrations of the config store, for SQLite and PostgreSQL alike.
//!
//! Migrations run on every start of `portcullis` (idempotently: applied ones are recorded in
//! `seaql_migrations`). Add a change as a new file `mYYYYMMDD_NNNNNN_what.rs` and list it in
//! [`Migrator::migrations`]; never edit one that has shipped.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_config_store;
mod m20261127_000002_sessions;
mod m20261127_000003_usage;
mod m20261127_000004_grants_revision;
mod m20261127_000005_shared_traces;
mod m20261202_000006_token_expiry;
mod m20261202_000007_named_values;
mod m20261203_000008_policy_fragments;
mod m20261203_000009_operation_responses;
mod m20261203_000010_certificates;
mod m20261203_000011_api_contracts;
mod m20261204_000012_backends;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_config_store::Migration),
            Box::new(m20261127_000002_sessions::Migration),
            Box::new(m20261127_000003_usage::Migration),
            Box::new(m20261127_000004_grants_revision::Migration),
            Box::new(m20261127_000005_shared_traces::Migration),
            Box::new(m20261202_000006_token_expiry::Migration),
            Box::new(m20261202_000007_named_values::Migration),
            Box::new(m20261203_000008_policy_fragments::Migration),
            Box::new(m20261203_000009_operation_responses::Migration),
            Box::new(m20261203_000010_certificates::Migration),
            Box::new(m20261203_000011_api_contracts::Migration),
            Box::new(m20261204_000012_backends::Migration),
        ]
    }
}
