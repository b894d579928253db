//! Configuration as code in the folder layout of Azure APIOps, so a team can keep one
//! repository for APIM and Portcullis:
//!
//! ```text
//! policy.xml                                        the service's (All APIs) policy
//! apis/<api>/apiInformation.json                    {"properties": {displayName, path, serviceUrl, …}}
//! apis/<api>/specification.yaml                     its operations, as OpenAPI 3 (YAML)
//! apis/<api>/policy.xml
//! apis/<api>/operations/<operation>/policy.xml
//! products/<product>/productInformation.json
//! products/<product>/policy.xml
//! products/<product>/apis/<api>/productApiInformation.json
//! named values/<name>/namedValueInformation.json   a secret's value is never written
//! backends/<name>/backendInformation.json          literal credentials written as {#TOKEN#}
//! policy fragments/<id>/policyFragmentInformation.json + policy.xml
//! subscriptions/<sid>/subscriptionInformation.json keys are never written
//! ```
//!
//! [`extract`] writes a service as such a folder ([`Artifacts`]); [`publish`] applies one
//! (creates and updates; deletes only when asked), with per-environment overrides merged
//! over the artifacts — or, as APIOps does with a commit id, only what one git commit
//! changed, deleting what it deleted ([`publish_commit`]); [`diff`] says what publish would
//! change. All three talk to a running
//! node through its management API ([`remote::Mgmt`]). Kinds Portcullis does not have
//! (loggers, diagnostics, gateways, GraphQL or SOAP APIs, …) are reported one by
//! one and skipped ([`Report::skipped`]).
//!
//! An extract is deterministic (keys in a fixed order, two-space JSON, a final new line), so
//! extract → publish into an empty instance → extract gives the same files, byte for byte.

pub mod artifacts;
pub mod extract;
pub mod overrides;
pub mod publish;
pub mod remote;

pub use artifacts::Artifacts;
pub use extract::extract;
pub use publish::{CommitChanges, Report, commit_changes, diff, publish, publish_commit};

/// The `properties` Portcullis keeps of each kind, in the order extract writes them (so
/// files come out the same every time) and the only ones publish applies.
pub const PROPERTIES: [(&str, &[&str]); 6] = [
    ("named values", &["displayName", "value", "secret", "tags"]),
    (
        "backends",
        &[
            "title",
            "description",
            "url",
            "protocol",
            "type",
            "resourceId",
            "credentials",
            "tls",
            "circuitBreaker",
            "pool",
        ],
    ),
    ("policy fragments", &["description", "format"]),
    (
        "products",
        &[
            "displayName",
            "description",
            "subscriptionRequired",
            "approvalRequired",
            "state",
        ],
    ),
    ("subscriptions", &["displayName", "scope", "state"]),
    (
        "apis",
        &[
            "displayName",
            "description",
            "path",
            "serviceUrl",
            "subscriptionRequired",
            "forwardSubscriptionKey",
            "subscriptionKeyParameterNames",
        ],
    ),
];

/// The properties of the kind stored in `folder`.
pub fn properties_of(folder: &str) -> &'static [&'static str] {
    PROPERTIES
        .iter()
        .find(|(kind, _)| *kind == folder)
        .map_or(&[], |(_, keys)| *keys)
}

/// Why a command failed (as opposed to skipping what it does not know).
#[derive(Debug, thiserror::Error)]
pub enum ApiOpsError {
    #[error("the management API: {0}")]
    Remote(String),
    #[error("{path}: {message}")]
    Artifact { path: String, message: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
