//! Policy fragments: a service's reusable pieces of policy, included by documents with
//! `<include-fragment fragment-id="…"/>`.

use crate::api::policies::PolicyDiagnostic;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A fragment as the page lists and edits it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FragmentSummary {
    pub name: String,
    pub description: String,
    pub value: String,
    /// The scopes whose documents include it (`API echo`).
    pub used_by: Vec<String>,
}

/// What **Save** found: a fault in the name or the description, faults in the XML (each
/// at its line), or a refusal that concerns another document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FragmentSaveResult {
    pub name_error: Option<String>,
    pub description_error: Option<String>,
    pub diagnostics: Vec<PolicyDiagnostic>,
    pub message: Option<String>,
}

impl FragmentSaveResult {
    pub fn is_saved(&self) -> bool {
        *self == Self::default()
    }
}

/// What a new fragment starts from.
pub const NEW_FRAGMENT: &str = "<fragment>\n  <set-header name=\"x-example\" exists-action=\"override\">\n    <value>example</value>\n  </set-header>\n</fragment>";

#[server]
pub async fn policy_fragments_page(service: String) -> Result<Vec<FragmentSummary>, ServerFnError> {
    let (state, _) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let records = state
        .control
        .store()
        .list_policy_fragments(&service)
        .await
        .map_err(crate::server::internal)?;
    Ok(records
        .into_iter()
        .map(|record| FragmentSummary {
            name: record.name.to_string(),
            description: record.settings.description.clone(),
            value: record.settings.value().to_owned(),
            used_by: record.used_by,
        })
        .collect())
}

/// **Create** / **Save**. `original` is set when editing (the name cannot change then).
#[server]
pub async fn save_policy_fragment(
    service: String,
    original: Option<String>,
    name: String,
    description: String,
    value: String,
) -> Result<FragmentSaveResult, ServerFnError> {
    use portcullis_domain::{FragmentFormat, PolicyFragmentName, PolicyFragmentSettings};
    use portcullis_store::StoreError;
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let store = state.control.store();
    let original = original.filter(|o| !o.trim().is_empty());
    let name = match PolicyFragmentName::parse(original.clone().unwrap_or(name)) {
        Ok(name) => name,
        Err(error) => {
            return Ok(FragmentSaveResult {
                name_error: Some(error.message),
                ..Default::default()
            });
        }
    };
    if original.is_none() && store.get_policy_fragment(&service, &name).await.is_ok() {
        return Ok(FragmentSaveResult {
            name_error: Some(format!("A policy fragment named '{name}' exists already.")),
            ..Default::default()
        });
    }
    let named = store
        .named_value_map(&service)
        .await
        .map_err(crate::server::internal)?;
    // The faults of the text itself, each where the editor can mark it.
    if let Err(diagnostics) =
        portcullis_policy::catalogue::include_fragment::check_fragment(&value, &named)
    {
        return Ok(FragmentSaveResult {
            diagnostics: diagnostics
                .0
                .into_iter()
                .map(|d| PolicyDiagnostic {
                    line: d.line,
                    column: d.column,
                    message: d.message,
                })
                .collect(),
            ..Default::default()
        });
    }
    let settings =
        match PolicyFragmentSettings::parse(value, description, FragmentFormat::Xml, &named) {
            Ok(settings) => settings,
            Err(error) if error.field == "description" => {
                return Ok(FragmentSaveResult {
                    description_error: Some(error.message),
                    ..Default::default()
                });
            }
            Err(error) => {
                return Ok(FragmentSaveResult {
                    message: Some(error.message),
                    ..Default::default()
                });
            }
        };
    match state
        .control
        .write(store.put_policy_fragment(&actor, &service, &name, settings))
        .await
    {
        Ok(_) => Ok(FragmentSaveResult::default()),
        Err(StoreError::Invalid(invalid)) => Ok(FragmentSaveResult {
            message: Some(invalid.message),
            ..Default::default()
        }),
        Err(StoreError::Conflict { message, .. }) => Ok(FragmentSaveResult {
            message: Some(message),
            ..Default::default()
        }),
        Err(other) => Err(crate::server::internal(other)),
    }
}

/// Deletes a fragment; `Some(message)` when a document includes it.
#[server]
pub async fn delete_policy_fragment(
    service: String,
    name: String,
) -> Result<Option<String>, ServerFnError> {
    use portcullis_store::StoreError;
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let name = portcullis_domain::PolicyFragmentName::parse(name)
        .map_err(|e| ServerFnError::new(e.message))?;
    match state
        .control
        .write(
            state
                .control
                .store()
                .delete_policy_fragment(&actor, &service, &name),
        )
        .await
    {
        Ok(()) => Ok(None),
        Err(StoreError::Conflict { message, .. }) => Ok(Some(message)),
        Err(other) => Err(crate::server::internal(other)),
    }
}
