//! Products: bundles of APIs that subscriptions open.

// `save_product` takes the product form's nine fields as arguments (an `ActionForm` posts
// them by name); `#[server]` also generates the browser-side stub with the same nine, where
// an `allow` on the function does not reach.
#![allow(clippy::too_many_arguments)]

use crate::api::FieldErrors;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductSummary {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub subscription_required: bool,
    pub approval_required: bool,
    pub published: bool,
    pub apis: Vec<String>,
}

/// An API a product may contain: name and display name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiChoice {
    pub name: String,
    pub display_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductsPageData {
    pub products: Vec<ProductSummary>,
    pub apis: Vec<ApiChoice>,
}

#[server]
pub async fn products_page(service: String) -> Result<ProductsPageData, ServerFnError> {
    let (state, _) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let store = state.control.store();
    let products = store
        .list_products(&service)
        .await
        .map_err(crate::server::internal)?;
    let apis = store
        .list_apis(&service)
        .await
        .map_err(crate::server::internal)?;
    Ok(ProductsPageData {
        products: products
            .into_iter()
            .map(|product| ProductSummary {
                name: product.name.to_string(),
                display_name: product.settings.display_name.to_string(),
                description: product.settings.description,
                subscription_required: product.settings.subscription_required,
                approval_required: product.settings.approval_required,
                published: product.settings.state == portcullis_domain::ProductState::Published,
                apis: product.apis.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        apis: apis
            .into_iter()
            .map(|api| ApiChoice {
                name: api.name.to_string(),
                display_name: api.settings.display_name.to_string(),
            })
            .collect(),
    })
}

/// **Create** / **Save** a product. Checkboxes arrive as `Some` when ticked; `apis` is the
/// comma-separated names of the ticked APIs. `original` is set when editing.
#[server]
pub async fn save_product(
    service: String,
    original: Option<String>,
    display_name: String,
    name: String,
    description: String,
    subscription_required: Option<String>,
    approval_required: Option<String>,
    published: Option<String>,
    apis: String,
) -> Result<FieldErrors, ServerFnError> {
    use crate::api::apis::name_from_display_name;
    use portcullis_domain::model::{ProductSettings, parse_description};
    use portcullis_domain::*;
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let original = original.filter(|o| !o.trim().is_empty());
    let name = match (&original, name.trim()) {
        (Some(original), _) => original.clone(),
        (None, "") => name_from_display_name(&display_name),
        (None, typed) => typed.to_owned(),
    };
    let parsed = (
        DisplayName::parse(&display_name),
        ProductName::parse(name),
        parse_description(&description),
    );
    let (display_name, name, description) = match parsed {
        (Ok(d), Ok(n), Ok(text)) => (d, n, text),
        (d, n, text) => {
            let mut errors = FieldErrors::default();
            for error in [d.err(), n.err(), text.err()].into_iter().flatten() {
                let field = match error.field.as_str() {
                    "displayName" => "display_name",
                    "description" => "description",
                    _ => "name",
                };
                errors.0.push(crate::api::FieldError {
                    field: field.into(),
                    message: error.message,
                });
            }
            return Ok(errors);
        }
    };
    let mut wanted = Vec::new();
    for api in apis.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        match ApiName::parse(api) {
            Ok(api) => wanted.push(api),
            Err(error) => return Ok(FieldErrors::one("apis", error.message)),
        }
    }
    let store = state.control.store();
    let settings = ProductSettings {
        display_name,
        description,
        subscription_required: subscription_required.is_some(),
        approval_required: approval_required.is_some(),
        state: if published.is_some() {
            ProductState::Published
        } else {
            ProductState::NotPublished
        },
    };
    // One transaction for the settings and the API list: one revision, one audit entry, and
    // nothing half-saved if the database goes away in between.
    let creating = original.is_none();
    if let Err(error) = state
        .control
        .write(store.save_product_with_apis(&actor, &service, &name, creating, settings, &wanted))
        .await
    {
        // The open-product rule is about the checkbox: an open product shares no API.
        return crate::api::field_errors(error)
            .map(|errors| relabel(errors, "subscription_required"));
    }
    Ok(FieldErrors::default())
}

/// Store errors name the management API's fields; point them at the form's.
#[cfg(feature = "ssr")]
fn relabel(mut errors: FieldErrors, field: &str) -> FieldErrors {
    for error in &mut errors.0 {
        if error.field == "subscriptionRequired" || error.field == "form" {
            error.field = field.to_owned();
        }
    }
    errors
}

/// Deletes a product and, when asked, its subscriptions.
#[server]
pub async fn delete_product(
    service: String,
    product: String,
    with_subscriptions: bool,
) -> Result<Option<String>, ServerFnError> {
    use portcullis_store::{DeleteProduct, StoreError};
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let product = portcullis_domain::ProductName::parse(product)
        .map_err(|e| ServerFnError::new(e.message))?;
    let mode = if with_subscriptions {
        DeleteProduct::DeleteSubscriptions
    } else {
        DeleteProduct::KeepSubscriptions
    };
    let store = state.control.store();
    match state
        .control
        .write(store.delete_product(&actor, &service, &product, mode))
        .await
    {
        Ok(()) => Ok(None),
        Err(StoreError::Conflict { message, .. }) => Ok(Some(message)),
        Err(other) => Err(crate::server::internal(other)),
    }
}
