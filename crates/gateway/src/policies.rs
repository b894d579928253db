//! A service's policy documents compiled into ready pipelines, one per operation (and per
//! product whose document adds to it), for the snapshot.
//!
//! Each document is compiled once and shared: a pipeline only holds the chain of documents
//! (operation → API → product → global) and the flattened order of their steps. Operations
//! and products without documents of their own share their parent's pipeline.

use portcullis_domain::model::ServiceConfig;
use portcullis_domain::{ApiName, OperationName, PolicyScope, ProductName};
use portcullis_policy::PolicyDocument;
use portcullis_policy::catalogue::cors::Cors;
use portcullis_policy::engine::Pipeline;
use std::collections::HashMap;
use std::sync::Arc;

/// The pipelines of one operation: without a product, and for each product that has a
/// document of its own.
#[derive(Debug)]
pub struct OperationPipelines {
    default: Arc<Pipeline>,
    by_product: Vec<(usize, Arc<Pipeline>)>,
}

impl OperationPipelines {
    /// The pipeline for a call accounted to `product` (the caller's product subscription, or
    /// the open product).
    pub fn for_product(&self, product: Option<usize>) -> &Arc<Pipeline> {
        product
            .and_then(|p| self.by_product.iter().find(|(i, _)| *i == p))
            .map_or(&self.default, |(_, pipeline)| pipeline)
    }
}

/// A service's documents by scope, compiled.
pub struct ServicePolicies {
    global: Arc<PolicyDocument>,
    products: HashMap<ProductName, Arc<PolicyDocument>>,
    apis: HashMap<ApiName, Arc<PolicyDocument>>,
    operations: HashMap<(ApiName, OperationName), Arc<PolicyDocument>>,
    /// The pipeline of every call that only the global document applies to.
    global_only: Arc<Pipeline>,
}

/// Compiles a stored document; one that no longer compiles fails every call through its
/// scope (fail closed) rather than silently dropping the protection it held.
fn compile(
    scope: &PolicyScope,
    text: &str,
    service: &str,
    named: &portcullis_domain::NamedValueMap,
    library: &portcullis_domain::PolicyLibrary,
) -> Arc<PolicyDocument> {
    match portcullis_domain::policy::compile_in(text, scope, named, library) {
        Ok(document) => Arc::new(document),
        Err(diagnostics) => {
            tracing::error!(%service, %scope, %diagnostics, "stored policy does not compile; calls through it are refused");
            Arc::new(PolicyDocument::refusing(
                scope.kind(),
                &scope.label(),
                format!("the policy at {scope} does not compile: {diagnostics}"),
            ))
        }
    }
}

impl ServicePolicies {
    pub fn compile(service: &ServiceConfig) -> Self {
        let name = service.name.as_str();
        let mut global = None;
        let mut products = HashMap::new();
        let mut apis = HashMap::new();
        let mut operations = HashMap::new();
        for policy in &service.policies {
            let document = compile(
                &policy.scope,
                policy.xml.as_str(),
                name,
                &service.named_values,
                &service.library,
            );
            match &policy.scope {
                PolicyScope::Global => global = Some(document),
                PolicyScope::Product(product) => {
                    products.insert(product.clone(), document);
                }
                PolicyScope::Api(api) => {
                    apis.insert(api.clone(), document);
                }
                PolicyScope::Operation(api, operation) => {
                    operations.insert((api.clone(), operation.clone()), document);
                }
            }
        }
        let global = global.unwrap_or_else(|| {
            Arc::new(PolicyDocument::default_for(
                PolicyScope::Global.kind(),
                &PolicyScope::Global.label(),
            ))
        });
        Self {
            global_only: Arc::new(Pipeline::new(vec![global.clone()])),
            global,
            products,
            apis,
            operations,
        }
    }

    fn chain(
        &self,
        operation: Option<&Arc<PolicyDocument>>,
        api: Option<&Arc<PolicyDocument>>,
        product: Option<&Arc<PolicyDocument>>,
    ) -> Arc<Pipeline> {
        if operation.is_none() && api.is_none() && product.is_none() {
            return self.global_only.clone();
        }
        let chain = [operation, api, product]
            .into_iter()
            .flatten()
            .cloned()
            .chain(std::iter::once(self.global.clone()))
            .collect();
        Arc::new(Pipeline::new(chain))
    }

    /// The `cors` policy that answers preflights for an API: API and global scope only (a
    /// preflight carries no key, so neither product nor operation is known yet).
    pub fn preflight_cors(&self, api: &ApiName) -> Option<Arc<Cors>> {
        self.chain(None, self.apis.get(api), None)
            .preflight_cors()
            .cloned()
    }

    /// The pipelines of one operation; `products` are the service's products (index, name)
    /// that contain the API.
    pub fn operation<'a>(
        &self,
        api: &ApiName,
        operation: &OperationName,
        products: impl Iterator<Item = (usize, &'a ProductName)>,
    ) -> OperationPipelines {
        let operation_doc = self.operations.get(&(api.clone(), operation.clone()));
        let api_doc = self.apis.get(api);
        let by_product = products
            .filter_map(|(index, name)| {
                let product_doc = self.products.get(name)?;
                Some((index, self.chain(operation_doc, api_doc, Some(product_doc))))
            })
            .collect();
        OperationPipelines {
            default: self.chain(operation_doc, api_doc, None),
            by_product,
        }
    }

    /// The documents that apply to an operation and product, innermost first, for the
    /// effective-policy view.
    pub fn documents(
        &self,
        api: &ApiName,
        operation: &OperationName,
        product: Option<&ProductName>,
    ) -> Vec<Arc<PolicyDocument>> {
        [
            self.operations.get(&(api.clone(), operation.clone())),
            self.apis.get(api),
            product.and_then(|p| self.products.get(p)),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .chain(std::iter::once(self.global.clone()))
        .collect()
    }
}
