//! Services: the list, creation, and one service's overview.

use crate::api::FieldErrors;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub name: String,
    pub display_name: String,
    pub is_default: bool,
    /// Where callers reach this service: `http://<name>.localhost:<gateway port>`.
    pub gateway_url: String,
}

#[server(endpoint = "list_services")]
pub async fn list_services() -> Result<Vec<ServiceSummary>, ServerFnError> {
    let (state, _) = crate::server::require_admin().await?;
    let services = state
        .control
        .store()
        .list_services()
        .await
        .map_err(crate::server::internal)?;
    Ok(services
        .into_iter()
        .map(|record| service_summary(&state, record))
        .collect())
}

#[server]
pub async fn get_service(name: String) -> Result<ServiceSummary, ServerFnError> {
    let (state, _) = crate::server::require_admin().await?;
    let name =
        portcullis_domain::ServiceName::parse(name).map_err(|e| ServerFnError::new(e.message))?;
    let record = state
        .control
        .store()
        .get_service(&name)
        .await
        .map_err(crate::server::internal)?;
    Ok(service_summary(&state, record))
}

/// Creates a service and opens its overview. A name in use is a field error, not an update.
#[server]
pub async fn create_service(
    name: String,
    display_name: String,
) -> Result<FieldErrors, ServerFnError> {
    use portcullis_domain::{DisplayName, ServiceName};
    let (state, actor) = crate::server::require_admin().await?;
    let parsed = (
        ServiceName::parse(name.trim()),
        DisplayName::parse(&display_name),
    );
    let (name, display_name) = match parsed {
        (Ok(name), Ok(display_name)) => (name, display_name),
        (name, display_name) => {
            let mut errors = FieldErrors::default();
            for error in [name.err(), display_name.err()].into_iter().flatten() {
                let field = if error.field == "displayName" {
                    "display_name"
                } else {
                    "name"
                };
                errors.0.push(crate::api::FieldError {
                    field: field.into(),
                    message: error.message,
                });
            }
            return Ok(errors);
        }
    };
    let store = state.control.store();
    if let Err(error) = state
        .control
        .write(store.create_service(&actor, &name, display_name, None))
        .await
    {
        return crate::api::field_errors(error);
    }
    leptos_axum::redirect(&format!("/services/{name}?saved=1"));
    Ok(FieldErrors::default())
}

/// What the services list shows of one service, with the URL callers reach it at.
#[cfg(feature = "ssr")]
pub(crate) fn service_summary(
    state: &crate::server::PortalState,
    record: portcullis_store::ServiceRecord,
) -> ServiceSummary {
    ServiceSummary {
        gateway_url: state.gateway_url(&record.name),
        name: record.name.to_string(),
        display_name: record.settings.display_name.to_string(),
        is_default: record.settings.is_default,
    }
}
