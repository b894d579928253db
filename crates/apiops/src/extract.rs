//! `portcullis extract`: a service as an APIOps folder.

use crate::remote::Mgmt;
use crate::{ApiOpsError, Artifacts};
use serde_json::{Map, Value, json};

/// `{"properties": {…}}` with the keys of `value` named in `keys`, in that order (absent
/// ones left out), so files are written the same way every time.
fn properties(value: &Value, keys: &[&str]) -> Value {
    let mut out = Map::new();
    for key in keys {
        if let Some(found) = value.get(*key)
            && !found.is_null()
        {
            out.insert((*key).to_owned(), found.clone());
        }
    }
    json!({ "properties": out })
}

fn name_of(item: &Value) -> Result<String, ApiOpsError> {
    item["name"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ApiOpsError::Remote(format!("an item without a name: {item}")))
}

/// The policy document at `path` (`/policy`, `/apis/x/policy`, …), if one is set.
async fn policy(remote: &Mgmt, path: &str) -> Result<Option<String>, ApiOpsError> {
    Ok(remote
        .get(path)
        .await?
        .and_then(|view| view["value"].as_str().map(str::to_owned)))
}

/// The environment variable a literal credential of backend `backend` is written as:
/// `BACKEND_ORDERS_HEADER_X_KEY`.
pub fn credential_variable(backend: &str, kind: &str, key: &str) -> String {
    format!("BACKEND_{backend}_{kind}_{key}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// A backend's credentials are secrets unless they only name `{{named values}}`: literal
/// values are written as `{#VARIABLE#}` tokens, which publish fills from the environment (as
/// APIOps pipelines hand in secrets).
fn hide_literal_credentials(backend: &str, credentials: &mut Value) {
    for kind in ["header", "query"] {
        if let Some(map) = credentials.get_mut(kind).and_then(Value::as_object_mut) {
            for (key, values) in map.iter_mut() {
                let count = values.as_array().map_or(0, Vec::len);
                for (index, value) in values.as_array_mut().into_iter().flatten().enumerate() {
                    if value.as_str().is_some_and(|v| !v.contains("{{")) {
                        let mut variable = credential_variable(backend, kind, key);
                        if count > 1 {
                            variable.push_str(&format!("_{index}"));
                        }
                        *value = Value::String(format!("{{#{variable}#}}"));
                    }
                }
            }
        }
    }
    if let Some(parameter) = credentials.pointer_mut("/authorization/parameter")
        && parameter.as_str().is_some_and(|v| !v.contains("{{"))
    {
        let variable = credential_variable(backend, "authorization", "parameter");
        *parameter = Value::String(format!("{{#{variable}#}}"));
    }
}

/// Reads the service behind `remote` into the APIOps layout.
pub async fn extract(remote: &Mgmt) -> Result<Artifacts, ApiOpsError> {
    let mut files = Artifacts::default();
    if let Some(xml) = policy(remote, "/policy").await? {
        files.insert("policy.xml", xml);
    }
    for named in remote.list("/namedValues").await? {
        let name = name_of(&named)?;
        // A secret's value is never returned here, so never written.
        files.insert_json(
            format!("named values/{name}/namedValueInformation.json"),
            &properties(&named, crate::properties_of("named values")),
        );
    }
    for backend in remote.list("/backends").await? {
        let name = name_of(&backend)?;
        let mut information = properties(&backend, crate::properties_of("backends"));
        hide_literal_credentials(&name, &mut information["properties"]["credentials"]);
        files.insert_json(
            format!("backends/{name}/backendInformation.json"),
            &information,
        );
    }
    for fragment in remote.list("/policyFragments").await? {
        let name = name_of(&fragment)?;
        files.insert_json(
            format!("policy fragments/{name}/policyFragmentInformation.json"),
            &properties(&fragment, crate::properties_of("policy fragments")),
        );
        files.insert(
            format!("policy fragments/{name}/policy.xml"),
            fragment["value"].as_str().unwrap_or_default().to_owned(),
        );
    }
    for api in remote.list("/apis").await? {
        let name = name_of(&api)?;
        let dir = format!("apis/{name}");
        // `subscriptionKeyParameterNames` is APIM's pair of the key names, made here.
        let mut information = properties(&api, crate::properties_of("apis"));
        information["properties"]["subscriptionKeyParameterNames"] = json!({
            "header": api["subscriptionKeyHeaderName"],
            "query": api["subscriptionKeyQueryParamName"],
        });
        files.insert_json(format!("{dir}/apiInformation.json"), &information);
        let specification = remote
            .get_text(&format!(
                "/apis/{name}?export=true&format=openapi&includeGateway=false"
            ))
            .await?;
        files.insert(format!("{dir}/specification.yaml"), specification);
        if let Some(xml) = policy(remote, &format!("/apis/{name}/policy")).await? {
            files.insert(format!("{dir}/policy.xml"), xml);
        }
        for operation in remote.list(&format!("/apis/{name}/operations")).await? {
            let operation = name_of(&operation)?;
            if let Some(xml) = policy(
                remote,
                &format!("/apis/{name}/operations/{operation}/policy"),
            )
            .await?
            {
                files.insert(format!("{dir}/operations/{operation}/policy.xml"), xml);
            }
        }
    }
    for product in remote.list("/products").await? {
        let name = name_of(&product)?;
        let dir = format!("products/{name}");
        files.insert_json(
            format!("{dir}/productInformation.json"),
            &properties(&product, crate::properties_of("products")),
        );
        for api in product["apis"].as_array().cloned().unwrap_or_default() {
            if let Some(api) = api.as_str() {
                files.insert_json(
                    format!("{dir}/apis/{api}/productApiInformation.json"),
                    &json!({ "properties": {} }),
                );
            }
        }
        if let Some(xml) = policy(remote, &format!("/products/{name}/policy")).await? {
            files.insert(format!("{dir}/policy.xml"), xml);
        }
    }
    for subscription in remote.list("/subscriptions").await? {
        let name = name_of(&subscription)?;
        files.insert_json(
            format!("subscriptions/{name}/subscriptionInformation.json"),
            &properties(&subscription, crate::properties_of("subscriptions")),
        );
    }
    Ok(files)
}
