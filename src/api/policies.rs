//! Policy documents at the four scopes, for the policy editor: read, save (with every fault
//! at its line and column), reset to the default, and the effective policy of an operation.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Which document: empty strings leave a level out. `api` + `operation` is an operation,
/// `api` alone an API, `product` a product, nothing at all the service's All APIs scope.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeRef {
    pub product: String,
    pub api: String,
    pub operation: String,
}

/// A fault in a document, where the editor marks it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDiagnostic {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// An operation the effective policy can be calculated for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationChoice {
    pub api: String,
    pub operation: String,
    /// `Echo API › Sum (POST /)`.
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductChoice {
    pub name: String,
    pub display_name: String,
    /// APIs the product contains.
    pub apis: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyPageData {
    /// `All APIs`, `Product: Calculator`, `API: Echo`, `Operation: Echo › Sum`.
    pub title: String,
    /// Where the scope's own page is (for the breadcrumb and "Back").
    pub back_href: String,
    pub back_label: String,
    pub xml: String,
    /// No document was written at this scope: `xml` is the default.
    pub is_default: bool,
    pub operations: Vec<OperationChoice>,
    pub products: Vec<ProductChoice>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::ScopeRef;
    use leptos::prelude::ServerFnError;
    use portcullis_domain::{ApiName, OperationName, PolicyScope, ProductName};

    fn parse<T>(
        value: &str,
        parse: impl FnOnce(String) -> Result<T, portcullis_domain::ValidationError>,
    ) -> Result<T, ServerFnError> {
        parse(value.to_owned()).map_err(|e| ServerFnError::new(e.message))
    }

    pub fn scope(scope: &ScopeRef) -> Result<PolicyScope, ServerFnError> {
        Ok(
            match (
                scope.product.as_str(),
                scope.api.as_str(),
                scope.operation.as_str(),
            ) {
                ("", "", "") => PolicyScope::Global,
                (product, "", "") => PolicyScope::Product(parse(product, ProductName::parse)?),
                ("", api, "") => PolicyScope::Api(parse(api, ApiName::parse)?),
                ("", api, operation) => PolicyScope::Operation(
                    parse(api, ApiName::parse)?,
                    parse(operation, OperationName::parse)?,
                ),
                _ => {
                    return Err(ServerFnError::new(
                        "A policy scope is a product, an API or an operation, not several.",
                    ));
                }
            },
        )
    }
}

#[server]
pub async fn policy_page(
    service: String,
    scope: ScopeRef,
) -> Result<PolicyPageData, ServerFnError> {
    use portcullis_domain::{PolicyScope, PolicyXml};
    let (state, _) = crate::server::require_admin().await?;
    let service_name = crate::server::parse_service(service.clone())?;
    let policy_scope = ssr::scope(&scope)?;
    let store = state.control.store();
    let internal = crate::server::internal;
    let apis = store.list_apis(&service_name).await.map_err(internal)?;
    let mut operations = Vec::new();
    for api in &apis {
        for operation in store
            .list_operations(&service_name, &api.name)
            .await
            .map_err(internal)?
        {
            operations.push(OperationChoice {
                api: api.name.to_string(),
                operation: operation.name.to_string(),
                label: format!(
                    "{} › {} ({} {})",
                    api.settings.display_name,
                    operation.settings.display_name,
                    operation.settings.method.as_str(),
                    operation.settings.url_template.as_str()
                ),
            });
        }
    }
    let products = store
        .list_products(&service_name)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|p| ProductChoice {
            name: p.name.to_string(),
            display_name: p.settings.display_name.to_string(),
            apis: p.apis.iter().map(ToString::to_string).collect(),
        })
        .collect::<Vec<_>>();
    let api_display = |name: &str| {
        apis.iter()
            .find(|a| a.name.as_str() == name)
            .map_or_else(|| name.to_owned(), |a| a.settings.display_name.to_string())
    };
    let base = format!("/services/{service}");
    let (title, back_href, back_label) = match &policy_scope {
        PolicyScope::Global => (
            "All APIs".to_owned(),
            format!("{base}/apis"),
            "APIs".to_owned(),
        ),
        PolicyScope::Product(product) => {
            let display = products
                .iter()
                .find(|p| p.name == product.as_str())
                .map_or_else(|| product.to_string(), |p| p.display_name.clone());
            store
                .get_product(&service_name, product)
                .await
                .map_err(internal)?;
            (
                format!("Product: {display}"),
                format!("{base}/products"),
                "Products".to_owned(),
            )
        }
        PolicyScope::Api(api) => {
            store.get_api(&service_name, api).await.map_err(internal)?;
            let display = api_display(api.as_str());
            (
                format!("API: {display}"),
                format!("{base}/apis/{api}"),
                display,
            )
        }
        PolicyScope::Operation(api, operation) => {
            let record = store
                .get_operation(&service_name, api, operation)
                .await
                .map_err(internal)?;
            let display = api_display(api.as_str());
            (
                format!("Operation: {display} › {}", record.settings.display_name),
                format!("{base}/apis/{api}"),
                display,
            )
        }
    };
    let stored = store
        .get_policy(&service_name, &policy_scope)
        .await
        .map_err(internal)?;
    let is_default = stored.is_none();
    let xml = stored.unwrap_or_else(|| PolicyXml::default_for(&policy_scope));
    Ok(PolicyPageData {
        title,
        back_href,
        back_label,
        xml: xml.as_str().to_owned(),
        is_default,
        operations,
        products,
    })
}

/// Saves the document if it compiles; otherwise returns every fault and saves nothing.
#[server]
pub async fn save_policy(
    service: String,
    scope: ScopeRef,
    xml: String,
) -> Result<Vec<PolicyDiagnostic>, ServerFnError> {
    use portcullis_domain::PolicyXml;
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let scope = ssr::scope(&scope)?;
    let named = state
        .control
        .store()
        .named_value_map(&service)
        .await
        .map_err(crate::server::internal)?;
    let library = state
        .control
        .store()
        .policy_library(&service)
        .await
        .map_err(crate::server::internal)?;
    if let Err(diagnostics) = portcullis_domain::policy::compile_in(&xml, &scope, &named, &library)
    {
        return Ok(diagnostics
            .0
            .into_iter()
            .map(|d| PolicyDiagnostic {
                line: d.line,
                column: d.column,
                message: d.message,
            })
            .collect());
    }
    let xml = match PolicyXml::parse_in(xml, &scope, &named, &library) {
        Ok(xml) => xml,
        Err(error) => {
            return Ok(vec![PolicyDiagnostic {
                line: 1,
                column: 1,
                message: error.message,
            }]);
        }
    };
    state
        .control
        .write(
            state
                .control
                .store()
                .put_policy(&actor, &service, &scope, xml),
        )
        .await
        .map_err(crate::server::internal)?;
    Ok(Vec::new())
}

/// Removes the scope's document: it inherits again (All APIs gets the default back).
#[server]
pub async fn reset_policy(service: String, scope: ScopeRef) -> Result<(), ServerFnError> {
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let scope = ssr::scope(&scope)?;
    match state
        .control
        .write(
            state
                .control
                .store()
                .delete_policy(&actor, &service, &scope),
        )
        .await
    {
        Ok(_) | Err(portcullis_store::StoreError::NotFound(_)) => Ok(()),
        Err(error) => Err(crate::server::internal(error)),
    }
}

/// The merged document an operation runs, for a caller whose key is for `product` (empty:
/// a key for the API or all APIs).
#[server]
pub async fn effective_policy(
    service: String,
    api: String,
    operation: String,
    product: String,
) -> Result<String, ServerFnError> {
    use portcullis_domain::{ApiName, OperationName, PolicyScope, ProductName};
    use portcullis_policy::PolicyDocument;
    let (state, _) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let store = state.control.store();
    let api = ApiName::parse(api).map_err(|e| ServerFnError::new(e.message))?;
    let operation = OperationName::parse(operation).map_err(|e| ServerFnError::new(e.message))?;
    let mut scopes = vec![
        PolicyScope::Operation(api.clone(), operation),
        PolicyScope::Api(api),
    ];
    if !product.is_empty() {
        scopes.push(PolicyScope::Product(
            ProductName::parse(product).map_err(|e| ServerFnError::new(e.message))?,
        ));
    }
    scopes.push(PolicyScope::Global);
    // Secrets stay `{{name}}` in what the portal shows.
    let named = store
        .named_value_map_masked(&service)
        .await
        .map_err(crate::server::internal)?;
    let library = store
        .policy_library(&service)
        .await
        .map_err(crate::server::internal)?;
    let mut documents = Vec::new();
    for scope in &scopes {
        let stored = store
            .get_policy(&service, scope)
            .await
            .map_err(crate::server::internal)?;
        let document = match stored {
            Some(xml) => {
                portcullis_domain::policy::compile_in(xml.as_str(), scope, &named, &library)
                    .map_err(|d| {
                        ServerFnError::new(format!("The policy at {scope} does not compile: {d}"))
                    })?
            }
            None if *scope == PolicyScope::Global => {
                PolicyDocument::default_for(scope.kind(), &scope.label())
            }
            None => continue,
        };
        documents.push(document);
    }
    let chain: Vec<&PolicyDocument> = documents.iter().collect();
    Ok(portcullis_policy::effective::effective_xml(&chain))
}
