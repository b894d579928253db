//! OpenAPI in and out.
//!
//! **In** ([`import()`]): a Swagger 2.0 or OpenAPI 3.0/3.1 document (JSON or YAML) becomes
//! what Portcullis keeps of an API — display name, description, backend URL, schemas — and
//! one operation per path and method, named and described as Azure API Management's import
//! names them (see [`naming`]). What the document says that Portcullis does not keep is
//! listed item by item in [`ImportedApi::skipped`]; what makes the document unusable
//! (an external `$ref`, a version other than 2.0/3.0/3.1) refuses it whole
//! ([`ImportError`]). Nothing is half-imported without a word.
//!
//! **Out** ([`export()`]): an API and its operations as OpenAPI 3.0 (JSON or YAML) or
//! Swagger 2.0 (JSON), addressed to the gateway with the subscription key as `apiKey`
//! security schemes, and as a Power Platform custom connector definition.
//!
//! The document is read as a JSON tree ([`serde_json::Value`]) and walked: the three
//! versions differ in a handful of places (where schemas, parameters and bodies live), which
//! [`source::Version`] names, and one walk serves them all. Every input bound is stated where
//! it is enforced: [`source::MAX_DOCUMENT_BYTES`], [`refs::MAX_REF_HOPS`],
//! [`import::MAX_OPERATIONS`].

pub mod export;
pub mod import;
pub mod naming;
pub mod refs;
pub mod source;

pub use export::{ExportFormat, export};
pub use import::{ImportError, ImportOptions, ImportedApi, Skipped, import};
