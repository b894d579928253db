//! One file per page (or page family), each a component the router mounts.

pub mod analytics;
pub mod api;
pub mod apis;
pub mod audit;
pub mod backends;
pub mod certificates;
pub mod console;
pub mod effective_policy;
pub mod named_values;
pub mod openapi_import;
pub mod policy;
pub mod policy_forms;
pub mod policy_fragments;
pub mod products;
pub mod service_overview;
pub mod services;
pub mod setup;
pub mod sign_in;
pub mod subscriptions;
