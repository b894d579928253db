//! The vocabulary of Portcullis.
//!
//! Every value that comes from outside — a management API body, a portal form, a database
//! row — is parsed into one of these types before anything else looks at it. Their fields are
//! private and their only constructors validate, so a `ServiceName` or a `UrlTemplate` in hand
//! is always a valid one: handlers, the store and the gateway never re-check ("parse, don't
//! validate"). A failed parse is a [`ValidationError`] that names the offending field.
//!
//! The [`model`] module assembles these values into the configuration of a whole installation,
//! the one shape that travels from the store to the gateway.

pub mod api_suffix;
pub mod backend;
pub mod certificate;
pub mod display_name;
pub mod error;
pub mod header_name;
pub mod iso_duration;
pub mod library;
pub mod list_query;
pub mod method;
pub mod model;
pub mod name;
pub mod named_value;
pub mod operation_contract;
pub mod operation_response;
pub mod policy;
pub mod policy_fragment;
pub mod product;
pub mod schema_example;
pub mod service_url;
pub mod subscription;
pub mod url_template;
pub mod usage;

pub use api_suffix::ApiSuffix;
pub use backend::BackendSettings;
pub use certificate::Certificate;
pub use display_name::DisplayName;
pub use error::ValidationError;
pub use header_name::{KeyHeaderName, KeyQueryParamName};
pub use iso_duration::IsoDuration;
pub use library::PolicyLibrary;
pub use list_query::{ListQuery, Page};
pub use method::HttpMethod;
pub use name::{
    ApiName, BackendName, CertificateName, NamedValueName, OperationName, PolicyFragmentName,
    ProductName, ServiceName, SubscriptionName,
};
pub use named_value::{NamedValueMap, NamedValueSettings};
pub use policy::{PolicyScope, PolicyXml};
pub use policy_fragment::{FragmentFormat, FragmentMap, PolicyFragmentSettings};
pub use product::ProductState;
pub use service_url::ServiceUrl;
pub use subscription::{SubscriptionKey, SubscriptionScope, SubscriptionState};
pub use url_template::{TemplateSegment, UrlTemplate};
