//! Integration tests: the real servers on loopback port 0, a fresh database per test, real
//! backends. One binary (`tests/api/`) so the crate links once.

mod analytics;
mod apiops;
mod backends;
mod cache_values;
mod certificates;
mod connections;
mod gateway_auth;
mod gateway_forwarding;
mod gateway_matching;
mod helpers;
mod hot_path;
mod managed_identity;
mod management;
mod named_values;
mod openapi;
mod policies_access;
mod policies_transform;
mod policy_expressions;
mod policy_fragments;
mod redis_counters;
mod response_cache;
mod scale_out;
mod send_request;
mod tls;
mod tracing;
mod wait;
mod walkthrough;
