//! Phase 2, authenticate: the subscription key check.
//!
//! The key is read from the API's header, or — only when that header is absent — from its
//! query parameter. Then, as APIM decides:
//! * a key was sent: it must belong to an active subscription whose scope opens this API
//!   (all APIs, this API, or a product containing it); otherwise 401 invalid key, even on an
//!   API that needs no key;
//! * no key: the call passes if an open product contains the API or the API does not require
//!   a subscription; otherwise 401 missing key.

use crate::grants::KeyMatch;
use crate::operation_table::query_value;
use crate::pipeline::GatewayError;
use crate::pipeline::matching::{Routed, request_host};
use http::request::Parts;

/// Who is calling, as far as the gateway can tell.
#[derive(Debug)]
pub struct Caller<'a> {
    /// The key the call presented and the subscription it belongs to.
    pub key: Option<KeyMatch<'a>>,
    /// The product the call is accounted to: the key's product, or the open product.
    pub product: Option<usize>,
}

pub fn authenticate<'a>(routed: &Routed<'a>, parts: &Parts) -> Result<Caller<'a>, GatewayError> {
    let api = routed.api;
    let presented = match parts.headers.get(&api.key_header) {
        Some(value) => Some(value.to_str().unwrap_or_default()),
        None => parts
            .uri
            .query()
            .and_then(|q| query_value(q, &api.key_query)),
    };
    match presented {
        Some(key) => {
            let found = routed
                .service
                .grant_for_key(key.trim())
                .ok_or(GatewayError::InvalidKey)?;
            let product = routed
                .service
                .scope_opens(&found.grant.scope, routed.api_index)
                .ok_or(GatewayError::InvalidKey)?;
            Ok(Caller {
                key: Some(found),
                product,
            })
        }
        None if api.open_product.is_some() || !api.subscription_required => Ok(Caller {
            key: None,
            product: api.open_product,
        }),
        None => {
            let host = request_host(parts).unwrap_or("localhost");
            let realm = if api.suffix.is_empty() {
                format!("http://{host}")
            } else {
                format!("http://{host}/{}", api.suffix)
            };
            Err(GatewayError::MissingKey {
                realm,
                header_name: api.key_header_text.clone(),
            })
        }
    }
}
