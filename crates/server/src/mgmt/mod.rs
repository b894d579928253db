//! The management REST API under `/mgmt`: JSON, APIM's resource paths and property names,
//! `Authorization: Bearer <token>` on every call.
//!
//! Each resource has its own file with its body and response types and thin handlers:
//! parse the path and body into domain values, call the store through
//! [`Control::write`](crate::Control::write), answer with the saved resource. Bodies are
//! accepted flat or wrapped in APIM's `{"properties": {…}}`.

mod api_import;
mod apis;
mod audit;
mod auth;
mod backends;
mod body;
mod certificates;
mod error;
mod named_values;
mod operations;
mod paging;
mod policies;
mod policy_fragments;
mod products;
mod services;
mod subscriptions;

pub use error::{MgmtError, UNAVAILABLE_MESSAGE, unanswered_message};

use crate::Control;
use axum::Router;
use axum::routing::{any, get, post, put};
use std::sync::Arc;

pub type MgmtState = Arc<Control>;
pub use api_import::GatewayUrls;

/// The `/mgmt` router, authentication included.
pub fn router(control: Arc<Control>) -> Router {
    let s = "/mgmt/services/{service}";
    let routes = Router::new()
        .route("/mgmt/services", get(services::list))
        .route(
            s,
            put(services::put)
                .get(services::get)
                .delete(services::delete),
        )
        .route(&format!("{s}/auditLog"), get(audit::list))
        .route(
            &format!("{s}/policy"),
            put(policies::put_global)
                .get(policies::get_global)
                .delete(policies::delete_global),
        )
        .route(&format!("{s}/apis"), get(apis::list))
        .route(
            &format!("{s}/apis/{{api}}"),
            put(apis::put).get(apis::get).delete(apis::delete),
        )
        .route(
            &format!("{s}/apis/{{api}}/policy"),
            put(policies::put_api)
                .get(policies::get_api)
                .delete(policies::delete_api),
        )
        .route(
            &format!("{s}/apis/{{api}}/operations"),
            get(operations::list),
        )
        .route(
            &format!("{s}/apis/{{api}}/operations/{{operation}}"),
            put(operations::put)
                .get(operations::get)
                .delete(operations::delete),
        )
        .route(
            &format!("{s}/apis/{{api}}/operations/{{operation}}/policy"),
            put(policies::put_operation)
                .get(policies::get_operation)
                .delete(policies::delete_operation),
        )
        .route(&format!("{s}/products"), get(products::list))
        .route(
            &format!("{s}/products/{{product}}"),
            put(products::put)
                .get(products::get)
                .delete(products::delete),
        )
        .route(
            &format!("{s}/products/{{product}}/apis"),
            get(products::list_apis),
        )
        .route(
            &format!("{s}/products/{{product}}/apis/{{api}}"),
            put(products::link_api).delete(products::unlink_api),
        )
        .route(
            &format!("{s}/products/{{product}}/policy"),
            put(policies::put_product)
                .get(policies::get_product)
                .delete(policies::delete_product),
        )
        .route(&format!("{s}/subscriptions"), get(subscriptions::list))
        .route(
            &format!("{s}/subscriptions/{{sid}}"),
            put(subscriptions::put)
                .get(subscriptions::get)
                .delete(subscriptions::delete),
        )
        .route(
            &format!("{s}/subscriptions/{{sid}}/listSecrets"),
            post(subscriptions::list_secrets),
        )
        .route(
            &format!("{s}/subscriptions/{{sid}}/regeneratePrimaryKey"),
            post(subscriptions::regenerate_primary),
        )
        .route(
            &format!("{s}/subscriptions/{{sid}}/regenerateSecondaryKey"),
            post(subscriptions::regenerate_secondary),
        )
        .route(&format!("{s}/policyFragments"), get(policy_fragments::list))
        .route(
            &format!("{s}/policyFragments/{{fragment}}"),
            put(policy_fragments::put)
                .get(policy_fragments::get)
                .delete(policy_fragments::delete),
        )
        .route(&format!("{s}/backends"), get(backends::list))
        .route(
            &format!("{s}/backends/{{backend}}"),
            put(backends::put)
                .get(backends::get)
                .delete(backends::delete),
        )
        .route(
            &format!("{s}/backends/{{backend}}/reset"),
            axum::routing::post(backends::reset),
        )
        .route(&format!("{s}/certificates"), get(certificates::list))
        .route(
            &format!("{s}/certificates/{{certificate}}"),
            put(certificates::put)
                .get(certificates::get)
                .delete(certificates::delete),
        )
        .route(&format!("{s}/namedValues"), get(named_values::list))
        .route(
            &format!("{s}/namedValues/{{named}}"),
            put(named_values::put)
                .get(named_values::get)
                .delete(named_values::delete),
        )
        .route(
            &format!("{s}/namedValues/{{named}}/listValue"),
            post(named_values::list_value),
        )
        .route("/mgmt/{*rest}", any(|| async { MgmtError::NoRoute }))
        .route_layer(axum::middleware::from_fn_with_state(
            control.clone(),
            auth::require_token,
        ));
    routes.with_state(control)
}
