//! APIs and their operations.

#[cfg(feature = "ssr")]
use crate::api::FieldError;
use crate::api::FieldErrors;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiSummary {
    pub name: String,
    pub display_name: String,
    pub service_url: String,
    pub path: String,
    pub subscription_required: bool,
    /// The full URL callers use: the service's gateway URL + `/` + the URL suffix.
    pub api_url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationSummary {
    pub name: String,
    pub display_name: String,
    pub method: String,
    pub url_template: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiDetail {
    pub api: ApiSummary,
    pub operations: Vec<OperationSummary>,
    /// Subscriptions whose scope is this API: they go when the API goes.
    pub scoped_subscriptions: usize,
}

/// The methods offered in the operation form.
pub const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// A name derived from a display name: `Calculator Flow API` → `calculator-flow-api`.
pub fn name_from_display_name(display_name: &str) -> String {
    let mut name = String::new();
    for c in display_name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    name.trim_end_matches('-').chars().take(80).collect()
}

/// Domain errors as the API forms' field errors.
#[cfg(feature = "ssr")]
pub(crate) fn field_errors_of(
    list: impl IntoIterator<Item = portcullis_domain::ValidationError>,
) -> FieldErrors {
    convert::errors(list)
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;
    use portcullis_domain::ValidationError;

    /// Field names of the domain's errors, as the portal's forms name their inputs.
    pub fn field_of(error: &ValidationError) -> &'static str {
        match error.field.as_str() {
            "displayName" => "display_name",
            "serviceUrl" => "service_url",
            "path" => "path",
            "method" => "method",
            "urlTemplate" => "url_template",
            _ => "name",
        }
    }

    pub fn errors(list: impl IntoIterator<Item = ValidationError>) -> FieldErrors {
        FieldErrors(
            list.into_iter()
                .map(|error| FieldError {
                    field: field_of(&error).to_owned(),
                    message: error.message,
                })
                .collect(),
        )
    }

    pub fn store_errors(error: portcullis_store::StoreError) -> Result<FieldErrors, ServerFnError> {
        match error {
            portcullis_store::StoreError::Invalid(invalid) => Ok(errors([invalid])),
            other => crate::api::field_errors(other),
        }
    }
}

#[server]
pub async fn list_apis(service: String) -> Result<Vec<ApiSummary>, ServerFnError> {
    let (state, _) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let gateway = state.gateway_url(&service);
    let apis = state
        .control
        .store()
        .list_apis(&service)
        .await
        .map_err(crate::server::internal)?;
    Ok(apis
        .into_iter()
        .map(|api| api_summary(&gateway, api))
        .collect())
}

#[server]
pub async fn get_api(service: String, api: String) -> Result<ApiDetail, ServerFnError> {
    use portcullis_domain::{ApiName, SubscriptionScope};
    let (state, _) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let api = ApiName::parse(api).map_err(|e| ServerFnError::new(e.message))?;
    let store = state.control.store();
    let record = store
        .get_api(&service, &api)
        .await
        .map_err(crate::server::internal)?;
    let operations = store
        .list_operations(&service, &api)
        .await
        .map_err(crate::server::internal)?;
    let subscriptions = store
        .list_subscriptions(&service)
        .await
        .map_err(crate::server::internal)?;
    let scoped_subscriptions = subscriptions
        .iter()
        .filter(|s| s.settings.scope == SubscriptionScope::Api(api.clone()))
        .count();
    Ok(ApiDetail {
        api: api_summary(&state.gateway_url(&service), record),
        operations: operations
            .into_iter()
            .map(|op| OperationSummary {
                name: op.name.to_string(),
                display_name: op.settings.display_name.to_string(),
                method: op.settings.method.to_string(),
                url_template: op.settings.url_template.to_string(),
            })
            .collect(),
        scoped_subscriptions,
    })
}

/// **Blank API** → Create. `subscription_required` is the checkbox (`Some` when ticked).
#[server]
pub async fn create_api(
    service: String,
    display_name: String,
    name: String,
    service_url: String,
    path: String,
    subscription_required: Option<String>,
) -> Result<FieldErrors, ServerFnError> {
    use portcullis_domain::model::ApiSettings;
    use portcullis_domain::*;
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let name = if name.trim().is_empty() {
        name_from_display_name(&display_name)
    } else {
        name.trim().to_owned()
    };
    let parsed = (
        DisplayName::parse(&display_name),
        ApiName::parse(name),
        ServiceUrl::parse(&service_url),
        ApiSuffix::parse(&path),
    );
    let (display_name, name, service_url, path) = match parsed {
        (Ok(d), Ok(n), Ok(u), Ok(p)) => (d, n, u, p),
        (d, n, u, p) => {
            return Ok(convert::errors(
                [d.err(), n.err(), u.err(), p.err()].into_iter().flatten(),
            ));
        }
    };
    let store = state.control.store();
    let settings = ApiSettings {
        display_name,
        service_url,
        path,
        subscription_required: subscription_required.is_some(),
        key_header_name: KeyHeaderName::default(),
        key_query_param_name: KeyQueryParamName::default(),
        forward_subscription_key: false,
        description: String::new(),
    };
    if let Err(error) = state
        .control
        .write(store.create_api(&actor, &service, &name, settings))
        .await
    {
        return convert::store_errors(error);
    }
    leptos_axum::redirect(&format!("/services/{service}/apis/{name}?saved=1"));
    Ok(FieldErrors::default())
}

/// Deletes an API with everything that hangs off it, then shows the list.
#[server]
pub async fn delete_api(service: String, api: String) -> Result<(), ServerFnError> {
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let api = portcullis_domain::ApiName::parse(api).map_err(|e| ServerFnError::new(e.message))?;
    let store = state.control.store();
    state
        .control
        .write(store.delete_api(&actor, &service, &api))
        .await
        .map_err(crate::server::internal)?;
    leptos_axum::redirect(&format!("/services/{service}/apis"));
    Ok(())
}

/// **Add operation** / edit → Save. `original` is the operation being edited, if any; a
/// rename deletes the old name after saving the new one.
#[server]
pub async fn save_operation(
    service: String,
    api: String,
    original: Option<String>,
    display_name: String,
    name: String,
    method: String,
    url_template: String,
) -> Result<FieldErrors, ServerFnError> {
    use portcullis_domain::model::OperationSettings;
    use portcullis_domain::*;
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let api = ApiName::parse(api).map_err(|e| ServerFnError::new(e.message))?;
    let name = if name.trim().is_empty() {
        name_from_display_name(&display_name)
    } else {
        name.trim().to_owned()
    };
    let parsed = (
        DisplayName::parse(&display_name),
        OperationName::parse(name),
        HttpMethod::parse(&method),
        UrlTemplate::parse(&url_template),
    );
    let (display_name, name, method, url_template) = match parsed {
        (Ok(d), Ok(n), Ok(m), Ok(t)) => (d, n, m, t),
        (d, n, m, t) => {
            return Ok(convert::errors(
                [d.err(), n.err(), m.err(), t.err()].into_iter().flatten(),
            ));
        }
    };
    let original = match original.filter(|o| !o.trim().is_empty()) {
        Some(original) => {
            Some(OperationName::parse(original).map_err(|e| ServerFnError::new(e.message))?)
        }
        None => None,
    };
    let store = state.control.store();
    // The portal does not edit what an operation documents (responses, parameters, bodies)
    // yet: an edit keeps it.
    let documented = match &original {
        Some(original) => store
            .get_operation(&service, &api, original)
            .await
            .map(|existing| existing.settings)
            .ok(),
        None => None,
    };
    let settings = match documented {
        Some(documented) => OperationSettings {
            display_name,
            method,
            url_template,
            ..documented
        },
        None => OperationSettings {
            display_name,
            method,
            url_template,
            description: String::new(),
            template_parameters: Vec::new(),
            request: Default::default(),
            responses: Vec::new(),
        },
    };
    // One store transaction each: a new name is checked free where it is written (a
    // concurrent create is refused, not replaced), and a rename keeps the operation's row, so
    // its policy stays with it.
    let written = match &original {
        None => {
            state
                .control
                .write(store.create_operation(&actor, &service, &api, &name, settings))
                .await
        }
        Some(original) => {
            state
                .control
                .write(store.rename_operation(&actor, &service, &api, original, &name, settings))
                .await
        }
    };
    if let Err(error) = written {
        return convert::store_errors(error);
    }
    Ok(FieldErrors::default())
}

#[server]
pub async fn delete_operation(
    service: String,
    api: String,
    operation: String,
) -> Result<(), ServerFnError> {
    use portcullis_domain::{ApiName, OperationName};
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let api = ApiName::parse(api).map_err(|e| ServerFnError::new(e.message))?;
    let operation = OperationName::parse(operation).map_err(|e| ServerFnError::new(e.message))?;
    let store = state.control.store();
    state
        .control
        .write(store.delete_operation(&actor, &service, &api, &operation))
        .await
        .map_err(crate::server::internal)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_follow_display_names() {
        assert_eq!(
            super::name_from_display_name("Calculator Flow API"),
            "calculator-flow-api"
        );
        assert_eq!(
            super::name_from_display_name("  Add2Numbers! "),
            "add2numbers"
        );
        assert_eq!(super::name_from_display_name("Über -- API"), "ber-api");
        assert_eq!(super::name_from_display_name(""), "");
    }
}

/// Edit an API's settings (its name stays). `subscription_required` is the checkbox.
#[server]
pub async fn update_api(
    service: String,
    api: String,
    display_name: String,
    service_url: String,
    path: String,
    subscription_required: Option<String>,
) -> Result<FieldErrors, ServerFnError> {
    use portcullis_domain::*;
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let api = ApiName::parse(api).map_err(|e| ServerFnError::new(e.message))?;
    let store = state.control.store();
    let mut settings = store
        .get_api(&service, &api)
        .await
        .map_err(crate::server::internal)?
        .settings;
    let parsed = (
        DisplayName::parse(&display_name),
        ServiceUrl::parse(&service_url),
        ApiSuffix::parse(&path),
    );
    let (display_name, service_url, path) = match parsed {
        (Ok(d), Ok(u), Ok(p)) => (d, u, p),
        (d, u, p) => {
            return Ok(convert::errors(
                [d.err(), u.err(), p.err()].into_iter().flatten(),
            ));
        }
    };
    settings.display_name = display_name;
    settings.service_url = service_url;
    settings.path = path;
    settings.subscription_required = subscription_required.is_some();
    if let Err(error) = state
        .control
        .write(store.put_api(&actor, &service, &api, settings))
        .await
    {
        return convert::store_errors(error);
    }
    Ok(FieldErrors::default())
}

/// What the API list shows of one API, with the URL callers use for it.
#[cfg(feature = "ssr")]
pub(crate) fn api_summary(gateway_url: &str, record: portcullis_store::ApiRecord) -> ApiSummary {
    let settings = record.settings;
    let api_url = if settings.path.is_root() {
        gateway_url.to_owned()
    } else {
        format!("{gateway_url}/{}", settings.path)
    };
    ApiSummary {
        name: record.name.to_string(),
        display_name: settings.display_name.to_string(),
        service_url: settings.service_url.to_string(),
        path: settings.path.to_string(),
        subscription_required: settings.subscription_required,
        api_url,
    }
}
