//! Named values: a service's `{{name}}` values for policy documents.

use crate::api::FieldErrors;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A named value as the page lists it; a secret's value is not sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedValueSummary {
    pub name: String,
    pub display_name: String,
    /// `None` for a secret.
    pub value: Option<String>,
    pub secret: bool,
    pub tags: Vec<String>,
}

#[server]
pub async fn named_values_page(service: String) -> Result<Vec<NamedValueSummary>, ServerFnError> {
    let (state, _) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let records = state
        .control
        .store()
        .list_named_values(&service)
        .await
        .map_err(crate::server::internal)?;
    Ok(records
        .into_iter()
        .map(|record| {
            let settings = record.settings;
            NamedValueSummary {
                name: record.name.to_string(),
                display_name: settings.display_name().to_owned(),
                value: (!settings.secret).then(|| settings.value().to_owned()),
                secret: settings.secret,
                tags: settings.tags.clone(),
            }
        })
        .collect())
}

/// **Create** / **Save**. `original` is set when editing; a secret edited with an empty value
/// keeps the value it has. `tags` are comma-separated.
#[server]
pub async fn save_named_value(
    service: String,
    original: Option<String>,
    display_name: String,
    value: String,
    secret: Option<String>,
    tags: String,
) -> Result<FieldErrors, ServerFnError> {
    use portcullis_domain::{NamedValueName, NamedValueSettings};
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let store = state.control.store();
    let original = original.filter(|o| !o.trim().is_empty());
    let name = match &original {
        Some(original) => original.clone(),
        None => crate::api::apis::name_from_display_name(&display_name),
    };
    let name = match NamedValueName::parse(name) {
        Ok(name) => name,
        Err(error) => return Ok(FieldErrors::one("display_name", error.message)),
    };
    let secret = secret.is_some();
    // Editing a secret without typing a new value keeps the stored one.
    let value = match (&original, value.trim().is_empty(), secret) {
        (Some(_), true, true) => match store.get_named_value(&service, &name).await {
            Ok(record) => record.settings.value().to_owned(),
            Err(error) => return crate::api::field_errors(error),
        },
        _ => value,
    };
    let tags = tags
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let settings = match NamedValueSettings::parse(display_name, value, secret, tags) {
        Ok(settings) => settings,
        Err(error) => {
            let field = match error.field.as_str() {
                "displayName" => "display_name",
                other => other,
            };
            return Ok(FieldErrors::one(field, error.message));
        }
    };
    if original.is_none() && store.get_named_value(&service, &name).await.is_ok() {
        return Ok(FieldErrors::one(
            "display_name",
            format!("A named value named '{name}' exists already."),
        ));
    }
    if let Err(error) = state
        .control
        .write(store.put_named_value(&actor, &service, &name, settings))
        .await
    {
        return crate::api::field_errors(error).map(|mut errors| {
            for error in &mut errors.0 {
                if error.field == "displayName" || error.field == "name" {
                    error.field = "display_name".to_owned();
                }
            }
            errors
        });
    }
    Ok(FieldErrors::default())
}

/// Deletes a named value; `Some(message)` when it is in use.
#[server]
pub async fn delete_named_value(
    service: String,
    name: String,
) -> Result<Option<String>, ServerFnError> {
    use portcullis_store::StoreError;
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let name = portcullis_domain::NamedValueName::parse(name)
        .map_err(|e| ServerFnError::new(e.message))?;
    match state
        .control
        .write(
            state
                .control
                .store()
                .delete_named_value(&actor, &service, &name),
        )
        .await
    {
        Ok(()) => Ok(None),
        Err(StoreError::Conflict { message, .. }) => Ok(Some(message)),
        Err(other) => Err(crate::server::internal(other)),
    }
}

/// **Show value** of a secret (the read is audited).
#[server]
pub async fn show_named_value(service: String, name: String) -> Result<String, ServerFnError> {
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let name = portcullis_domain::NamedValueName::parse(name)
        .map_err(|e| ServerFnError::new(e.message))?;
    let record = state
        .control
        .store()
        .read_named_value(&actor, &service, &name)
        .await
        .map_err(crate::server::internal)?;
    Ok(record.settings.value().to_owned())
}
