//! The configuration of a whole installation, as plain parsed values.
//!
//! Each resource is split in two: its *settings* (what a management `PUT` replaces) and the
//! resource with its name and children. The store writes settings and reads whole
//! [`ConfigModel`]s back; the gateway compiles a `ConfigModel` into its routing snapshot. No
//! database type and no HTTP type appears here, so both sides can depend on this module
//! without depending on each other.

use crate::{
    ApiName, ApiSuffix, DisplayName, HttpMethod, KeyHeaderName, KeyQueryParamName, OperationName,
    PolicyScope, PolicyXml, ProductName, ProductState, ServiceName, ServiceUrl, SubscriptionKey,
    SubscriptionName, SubscriptionScope, SubscriptionState, UrlTemplate,
};

// The settings serialise with the management API's property names: that JSON is what the
// audit log keeps as "before" and "after", and what the API returns. Keys never serialise.

/// Everything the gateway needs, read in one consistent transaction.
#[derive(Debug, Clone, Default)]
pub struct ConfigModel {
    /// Increases with every committed change; a snapshot never replaces a newer one.
    pub revision: i64,
    /// The revision of the last change that added, changed or removed a subscription.
    pub grants_revision: i64,
    /// Whether the services' subscription lists were read.
    pub subscriptions: SubscriptionsRead,
    pub services: Vec<ServiceConfig>,
}

/// Subscriptions run to 100,000s of rows and change far less often than the rest; a
/// reload by a reader that already holds them leaves them out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SubscriptionsRead {
    /// Every subscription was read: into the services' `subscriptions`, or handed to the
    /// reader one by one as it was read (the lists then stay empty).
    #[default]
    All,
    /// No subscription changed since `grants_revision`, which the reader said it holds;
    /// every service's `subscriptions` is empty.
    UnchangedSinceGrantsRevision,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSettings {
    pub display_name: DisplayName,
    /// Requests whose host names no service go to the default service.
    pub is_default: bool,
}

#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub name: ServiceName,
    pub settings: ServiceSettings,
    pub apis: Vec<ApiConfig>,
    pub products: Vec<ProductConfig>,
    pub subscriptions: Vec<SubscriptionConfig>,
    pub policies: Vec<PolicyConfig>,
    /// Display name → value, for compiling the service's documents.
    pub named_values: crate::NamedValueMap,
    /// Policy fragments and certificates, for the documents that name them (and the
    /// certificates for the gateway's TLS clients).
    pub library: crate::PolicyLibrary,
    /// The display names and values of the secret named values: traces write
    /// `{{DisplayName}}` wherever a value would show.
    pub secrets: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiSettings {
    pub display_name: DisplayName,
    /// Free text (an OpenAPI import takes `info.description`).
    pub description: String,
    pub service_url: ServiceUrl,
    pub path: ApiSuffix,
    pub subscription_required: bool,
    #[serde(rename = "subscriptionKeyHeaderName")]
    pub key_header_name: KeyHeaderName,
    #[serde(rename = "subscriptionKeyQueryParamName")]
    pub key_query_param_name: KeyQueryParamName,
    /// APIM forwards the key to the backend; Portcullis strips it unless this is set.
    pub forward_subscription_key: bool,
}

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub name: ApiName,
    pub settings: ApiSettings,
    /// Its schemas by type name (for `mock-response` examples made from a schema).
    pub schemas: std::sync::Arc<crate::operation_contract::ApiSchemas>,
    pub operations: Vec<OperationConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationSettings {
    pub display_name: DisplayName,
    pub method: HttpMethod,
    pub url_template: UrlTemplate,
    pub description: String,
    /// The parameters of the URL template (their types and descriptions).
    pub template_parameters: Vec<crate::operation_contract::Parameter>,
    /// Query parameters, headers and bodies the request may carry.
    pub request: crate::operation_contract::OperationRequest,
    /// What it documents about its responses (examples for `mock-response`).
    pub responses: Vec<crate::operation_response::OperationResponse>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationConfig {
    pub name: OperationName,
    pub settings: OperationSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductSettings {
    pub display_name: DisplayName,
    pub description: String,
    pub subscription_required: bool,
    pub approval_required: bool,
    pub state: ProductState,
}

#[derive(Debug, Clone)]
pub struct ProductConfig {
    pub name: ProductName,
    pub settings: ProductSettings,
    pub apis: Vec<ApiName>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionSettings {
    pub display_name: DisplayName,
    pub scope: SubscriptionScope,
    pub state: SubscriptionState,
}

#[derive(Debug, Clone)]
pub struct SubscriptionConfig {
    pub name: SubscriptionName,
    pub settings: SubscriptionSettings,
    pub primary_key: SubscriptionKey,
    pub secondary_key: SubscriptionKey,
}

#[derive(Debug, Clone)]
pub struct PolicyConfig {
    pub scope: PolicyScope,
    pub xml: PolicyXml,
}

/// Product descriptions are free text up to this many characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

/// Parses a product description: trimmed, at most [`MAX_DESCRIPTION_CHARS`].
pub fn parse_description(value: &str) -> Result<String, crate::ValidationError> {
    let trimmed = value.trim();
    if trimmed.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(crate::ValidationError::new(
            "description",
            "InvalidDescription",
            format!("A description has at most {MAX_DESCRIPTION_CHARS} characters."),
        ));
    }
    Ok(trimmed.to_owned())
}
