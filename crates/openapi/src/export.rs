//! The export: an API as OpenAPI 3.0 (JSON or YAML), Swagger 2.0 (JSON), or a Power Platform
//! custom connector definition (Swagger 2.0 with one `apiKey` connection parameter).
//!
//! What an export says, as APIM's exports say it: the document addresses the **gateway**
//! (`servers[0].url` is the gateway URL plus the API's suffix; Swagger's `host` and
//! `basePath`), every operation with its name as `operationId` and display name as
//! `summary`, its parameters, bodies, responses and examples, the API's schemas, and — when
//! the API requires a subscription — the key as `apiKey` security schemes in the header and
//! the query under the API's own names. Importing an export gives the same API back.

use crate::import::rewrite_refs;
use portcullis_domain::model::{ApiSettings, OperationConfig};
use portcullis_domain::operation_contract::{ApiSchemas, Parameter};
use portcullis_domain::operation_response::Representation;
use serde_json::{Map, Value, json};

/// What an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    OpenApi3Json,
    OpenApi3Yaml,
    Swagger2Json,
    /// A Power Platform custom connector (Swagger 2.0, the key as the connection's one
    /// parameter, operation ids as the connector tooling takes them).
    PowerPlatform,
}

impl ExportFormat {
    /// APIM's format names (`openapi+json`, `openapi`, `swagger`; the `-link` forms too,
    /// as the document is answered directly) and `powerplatform`.
    /// A `+` sent unescaped in a query string arrives as a space: both are read as `+`.
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim().replace(' ', "+").to_ascii_lowercase();
        Some(match name.as_str() {
            "openapi+json" | "openapi+json-link" => Self::OpenApi3Json,
            "openapi" | "openapi-link" | "openapi+yaml" => Self::OpenApi3Yaml,
            "swagger" | "swagger-json" | "swagger-link" | "swagger-link-json" => Self::Swagger2Json,
            "powerplatform" | "power-platform" => Self::PowerPlatform,
            _ => return None,
        })
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::OpenApi3Yaml => "application/yaml",
            _ => "application/json",
        }
    }

    /// A file name for a download: `<api>.openapi.yaml`, `<api>.swagger.json`, …
    pub fn file_name(self, api: &str) -> String {
        match self {
            Self::OpenApi3Json => format!("{api}.openapi.json"),
            Self::OpenApi3Yaml => format!("{api}.openapi.yaml"),
            Self::Swagger2Json => format!("{api}.swagger.json"),
            Self::PowerPlatform => format!("{api}.connector.swagger.json"),
        }
    }
}

/// An API as an export reads it.
#[derive(Debug, Clone, Copy)]
pub struct ApiToExport<'a> {
    pub settings: &'a ApiSettings,
    pub schemas: &'a ApiSchemas,
    pub operations: &'a [OperationConfig],
    /// The gateway's URL for the service: `https://flowdemo.example.com` (no suffix).
    /// Empty: a document for a configuration repository, which names neither the gateway
    /// (it differs per instance) nor the key schemes (`apiInformation.json` holds them).
    pub gateway_url: &'a str,
}

/// The document, as text.
pub fn export(api: &ApiToExport<'_>, format: ExportFormat) -> String {
    let document = match format {
        ExportFormat::OpenApi3Json | ExportFormat::OpenApi3Yaml => openapi3(api),
        ExportFormat::Swagger2Json => swagger2(api, false),
        ExportFormat::PowerPlatform => swagger2(api, true),
    };
    match format {
        ExportFormat::OpenApi3Yaml => serde_yaml_ng::to_string(&document).unwrap_or_default(),
        _ => serde_json::to_string_pretty(&document).unwrap_or_default(),
    }
}

/// The gateway URL for the API: the service's URL and the suffix.
fn api_url(api: &ApiToExport<'_>) -> String {
    let base = api.gateway_url.trim_end_matches('/');
    let suffix = api.settings.path.as_str().trim_matches('/');
    if suffix.is_empty() {
        base.to_owned()
    } else {
        format!("{base}/{suffix}")
    }
}

fn info(api: &ApiToExport<'_>) -> Value {
    let mut info = Map::new();
    info.insert("title".into(), api.settings.display_name.as_str().into());
    if !api.settings.description.is_empty() {
        info.insert(
            "description".into(),
            api.settings.description.clone().into(),
        );
    }
    info.insert("version".into(), "1.0".into());
    Value::Object(info)
}

/// The path of a URL template (`/pets/{id}` of `/pets/{id}?q={q}`) and its query names.
fn split_template(template: &str) -> (String, Vec<String>) {
    match template.split_once('?') {
        None => (template.to_owned(), Vec::new()),
        Some((path, query)) => (
            path.to_owned(),
            query
                .split('&')
                .filter_map(|pair| pair.split_once('=').map(|(name, _)| name.to_owned()))
                .collect(),
        ),
    }
}

/// A parameter's schema part (`type`, `enum`, `default`).
fn parameter_schema(parameter: &Parameter) -> Map<String, Value> {
    let mut schema = Map::new();
    schema.insert("type".into(), parameter.kind.clone().into());
    if parameter.kind == "array" {
        schema.insert("items".into(), json!({ "type": "string" }));
    }
    if !parameter.values.is_empty() {
        schema.insert(
            "enum".into(),
            parameter
                .values
                .iter()
                .map(|v| typed(v, &parameter.kind))
                .collect(),
        );
    }
    if let Some(default) = &parameter.default_value {
        schema.insert("default".into(), typed(default, &parameter.kind));
    }
    schema
}

/// A value kept as text, written as the type says (`20` for an integer).
fn typed(text: &str, kind: &str) -> Value {
    match kind {
        "integer" | "number" | "boolean" => serde_json::from_str(text).unwrap_or(text.into()),
        _ => text.into(),
    }
}

/// Every parameter of an operation with where it goes: the URL template's (path, or query
/// when the template names it after `?`), then the request's query parameters and headers.
fn parameters_of(operation: &OperationConfig) -> Vec<(&'static str, &Parameter, bool)> {
    let settings = &operation.settings;
    let (_, query_names) = split_template(settings.url_template.as_str());
    let mut out = Vec::new();
    for parameter in &settings.template_parameters {
        let in_query = query_names.iter().any(|q| q == &parameter.name);
        out.push((if in_query { "query" } else { "path" }, parameter, true));
    }
    for parameter in &settings.request.query_parameters {
        out.push(("query", parameter, parameter.required));
    }
    for parameter in &settings.request.headers {
        out.push(("header", parameter, parameter.required));
    }
    out
}

fn schema_ref(type_name: &str, openapi3: bool) -> Value {
    let prefix = if openapi3 {
        "#/components/schemas/"
    } else {
        "#/definitions/"
    };
    json!({ "$ref": format!("{prefix}{type_name}") })
}

/// OpenAPI 3's `content` for representations.
fn content(representations: &[Representation]) -> Value {
    let mut content = Map::new();
    for representation in representations {
        let mut media = Map::new();
        if let Some(type_name) = &representation.type_name {
            media.insert("schema".into(), schema_ref(type_name, true));
        }
        if !representation.examples.is_empty() {
            media.insert(
                "examples".into(),
                Value::Object(representation.examples.clone()),
            );
        }
        content.insert(representation.content_type.clone(), Value::Object(media));
    }
    Value::Object(content)
}

fn openapi3(api: &ApiToExport<'_>) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for operation in api.operations {
        let settings = &operation.settings;
        let (path, _) = split_template(settings.url_template.as_str());
        let mut op = Map::new();
        op.insert("summary".into(), settings.display_name.as_str().into());
        if !settings.description.is_empty() {
            op.insert("description".into(), settings.description.clone().into());
        }
        op.insert("operationId".into(), operation.name.as_str().into());
        let parameters: Vec<Value> = parameters_of(operation)
            .into_iter()
            .map(|(place, parameter, required)| {
                let mut p = Map::new();
                p.insert("name".into(), parameter.name.clone().into());
                p.insert("in".into(), place.into());
                if !parameter.description.is_empty() {
                    p.insert("description".into(), parameter.description.clone().into());
                }
                p.insert("required".into(), required.into());
                p.insert("schema".into(), Value::Object(parameter_schema(parameter)));
                Value::Object(p)
            })
            .collect();
        if !parameters.is_empty() {
            op.insert("parameters".into(), parameters.into());
        }
        let request = &settings.request;
        if !request.representations.is_empty() {
            let mut body = Map::new();
            if !request.description.is_empty() {
                body.insert("description".into(), request.description.clone().into());
            }
            body.insert("content".into(), content(&request.representations));
            op.insert("requestBody".into(), Value::Object(body));
        }
        let mut responses = Map::new();
        for response in &settings.responses {
            let mut r = Map::new();
            r.insert("description".into(), response.description.clone().into());
            if !response.headers.is_empty() {
                let headers: Map<String, Value> = response
                    .headers
                    .iter()
                    .map(|h| {
                        let mut header = Map::new();
                        if !h.description.is_empty() {
                            header.insert("description".into(), h.description.clone().into());
                        }
                        header.insert("schema".into(), Value::Object(parameter_schema(h)));
                        (h.name.clone(), Value::Object(header))
                    })
                    .collect();
                r.insert("headers".into(), Value::Object(headers));
            }
            if !response.representations.is_empty() {
                r.insert("content".into(), content(&response.representations));
            }
            responses.insert(response.status_code.to_string(), Value::Object(r));
        }
        op.insert("responses".into(), Value::Object(responses));
        let item = paths
            .entry(path)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(
                settings.method.as_str().to_ascii_lowercase(),
                Value::Object(op),
            );
        }
    }
    let mut schemas = Map::new();
    for (name, schema) in api.schemas {
        let mut schema = schema.clone();
        rewrite_refs(&mut schema, "#/definitions/", "#/components/schemas/");
        schemas.insert(name.clone(), schema);
    }
    let mut components = Map::new();
    if !schemas.is_empty() {
        components.insert("schemas".into(), Value::Object(schemas));
    }
    let mut document = Map::new();
    document.insert("openapi".into(), "3.0.1".into());
    document.insert("info".into(), info(api));
    let addressed = !api.gateway_url.is_empty();
    if addressed {
        document.insert("servers".into(), json!([{ "url": api_url(api) }]));
    }
    document.insert("paths".into(), Value::Object(paths));
    if addressed && api.settings.subscription_required {
        components.insert(
            "securitySchemes".into(),
            json!({
                "apiKeyHeader": { "type": "apiKey", "name": api.settings.key_header_name.as_str(), "in": "header" },
                "apiKeyQuery": { "type": "apiKey", "name": api.settings.key_query_param_name.as_str(), "in": "query" }
            }),
        );
        document.insert(
            "security".into(),
            json!([{ "apiKeyHeader": [] }, { "apiKeyQuery": [] }]),
        );
    }
    if !components.is_empty() {
        document.insert("components".into(), Value::Object(components));
    }
    Value::Object(document)
}

/// `show-pet-by-id` → `ShowPetById`: connector operation ids are letters and digits.
fn connector_operation_id(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn swagger2(api: &ApiToExport<'_>, connector: bool) -> Value {
    let url = url::Url::parse(&api_url(api)).ok();
    let host = url
        .as_ref()
        .and_then(|u| {
            u.host_str()
                .map(|h| u.port().map_or(h.to_owned(), |p| format!("{h}:{p}")))
        })
        .unwrap_or_default();
    let scheme = url
        .as_ref()
        .map_or("https".to_owned(), |u| u.scheme().to_owned());
    let base_path = url
        .as_ref()
        .map(|u| u.path().to_owned())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/".to_owned());
    let mut paths: Map<String, Value> = Map::new();
    for operation in api.operations {
        let settings = &operation.settings;
        let (path, _) = split_template(settings.url_template.as_str());
        let mut op = Map::new();
        op.insert("summary".into(), settings.display_name.as_str().into());
        if !settings.description.is_empty() {
            op.insert("description".into(), settings.description.clone().into());
        }
        let id = if connector {
            connector_operation_id(operation.name.as_str())
        } else {
            operation.name.as_str().to_owned()
        };
        op.insert("operationId".into(), id.into());
        let mut parameters: Vec<Value> = parameters_of(operation)
            .into_iter()
            .map(|(place, parameter, required)| {
                let mut p = Map::new();
                p.insert("name".into(), parameter.name.clone().into());
                p.insert("in".into(), place.into());
                if !parameter.description.is_empty() {
                    p.insert("description".into(), parameter.description.clone().into());
                }
                p.insert("required".into(), required.into());
                p.extend(parameter_schema(parameter));
                if connector {
                    p.insert("x-ms-summary".into(), parameter.name.clone().into());
                }
                Value::Object(p)
            })
            .collect();
        let request = &settings.request;
        if let Some(first) = request.representations.first() {
            let mut body = Map::new();
            body.insert("name".into(), "body".into());
            body.insert("in".into(), "body".into());
            if !request.description.is_empty() {
                body.insert("description".into(), request.description.clone().into());
            }
            body.insert(
                "schema".into(),
                first
                    .type_name
                    .as_deref()
                    .map_or_else(|| json!({}), |t| schema_ref(t, false)),
            );
            parameters.push(Value::Object(body));
            op.insert(
                "consumes".into(),
                request
                    .representations
                    .iter()
                    .map(|r| Value::from(r.content_type.clone()))
                    .collect(),
            );
        }
        if !parameters.is_empty() {
            op.insert("parameters".into(), parameters.into());
        }
        let mut produces: Vec<String> = Vec::new();
        let mut responses = Map::new();
        for response in &settings.responses {
            let mut r = Map::new();
            r.insert("description".into(), response.description.clone().into());
            if let Some(type_name) = response
                .representations
                .iter()
                .find_map(|rep| rep.type_name.as_deref())
            {
                r.insert("schema".into(), schema_ref(type_name, false));
            }
            let mut examples = Map::new();
            for representation in &response.representations {
                if !produces.contains(&representation.content_type) {
                    produces.push(representation.content_type.clone());
                }
                if let Some(value) = representation.example_values().next() {
                    examples.insert(representation.content_type.clone(), value.clone());
                }
            }
            if !examples.is_empty() {
                r.insert("examples".into(), Value::Object(examples));
            }
            if !response.headers.is_empty() {
                let headers: Map<String, Value> = response
                    .headers
                    .iter()
                    .map(|h| {
                        let mut header = parameter_schema(h);
                        if !h.description.is_empty() {
                            header.insert("description".into(), h.description.clone().into());
                        }
                        (h.name.clone(), Value::Object(header))
                    })
                    .collect();
                r.insert("headers".into(), Value::Object(headers));
            }
            responses.insert(response.status_code.to_string(), Value::Object(r));
        }
        if connector && responses.is_empty() {
            // The connector tooling wants every operation to say what it answers.
            responses.insert(
                "default".into(),
                json!({ "description": "The backend's answer" }),
            );
        }
        if !produces.is_empty() {
            op.insert("produces".into(), produces.into());
        }
        op.insert("responses".into(), Value::Object(responses));
        let item = paths
            .entry(path)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(
                settings.method.as_str().to_ascii_lowercase(),
                Value::Object(op),
            );
        }
    }
    let mut document = Map::new();
    document.insert("swagger".into(), "2.0".into());
    document.insert("info".into(), info(api));
    document.insert("host".into(), host.into());
    document.insert("basePath".into(), base_path.into());
    document.insert("schemes".into(), json!([scheme]));
    let key_header = api.settings.key_header_name.as_str();
    if connector {
        // The connection asks for the key once; every action sends it in the header.
        document.insert(
            "securityDefinitions".into(),
            json!({ "apiKeyHeader": { "type": "apiKey", "name": key_header, "in": "header" } }),
        );
        document.insert("security".into(), json!([{ "apiKeyHeader": [] }]));
    } else if api.settings.subscription_required {
        document.insert(
            "securityDefinitions".into(),
            json!({
                "apiKeyHeader": { "type": "apiKey", "name": key_header, "in": "header" },
                "apiKeyQuery": { "type": "apiKey", "name": api.settings.key_query_param_name.as_str(), "in": "query" }
            }),
        );
        document.insert(
            "security".into(),
            json!([{ "apiKeyHeader": [] }, { "apiKeyQuery": [] }]),
        );
    }
    document.insert("paths".into(), Value::Object(paths));
    if !api.schemas.is_empty() {
        document.insert("definitions".into(), Value::Object(api.schemas.clone()));
    }
    Value::Object(document)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{ImportOptions, import};
    use portcullis_domain::{ApiSuffix, DisplayName, KeyHeaderName, KeyQueryParamName, ServiceUrl};

    fn settings() -> ApiSettings {
        ApiSettings {
            display_name: DisplayName::parse("Pets").unwrap(),
            description: "All the pets".into(),
            service_url: ServiceUrl::parse("https://backend.example.com/v1").unwrap(),
            path: ApiSuffix::parse("pets").unwrap(),
            subscription_required: true,
            key_header_name: KeyHeaderName::default(),
            key_query_param_name: KeyQueryParamName::default(),
            forward_subscription_key: false,
        }
    }

    const DOCUMENT: &str = r##"
openapi: 3.0.3
info: { title: Pets }
paths:
  /pets/{petId}:
    get:
      operationId: showPetById
      summary: Info for a pet
      parameters:
        - { name: petId, in: path, required: true, schema: { type: integer } }
        - { name: fields, in: query, required: true, schema: { type: string } }
        - { name: limit, in: query, schema: { type: integer, default: 20 } }
      responses:
        '200':
          description: A pet
          content: { application/json: { schema: { $ref: '#/components/schemas/Pet' }, example: { id: 7 } } }
    put:
      operationId: updatePet
      requestBody: { content: { application/json: { schema: { $ref: '#/components/schemas/Pet' } } } }
      responses: { '204': { description: done } }
components:
  schemas:
    Pet: { type: object, properties: { id: { type: integer }, friend: { $ref: '#/components/schemas/Pet' } } }
"##;

    #[test]
    fn every_format_reimports_as_the_same_operations() {
        let imported = import(DOCUMENT, &ImportOptions::default()).unwrap();
        let operations: Vec<OperationConfig> = imported.operations.clone();
        let settings = settings();
        let api = ApiToExport {
            settings: &settings,
            schemas: &imported.schemas,
            operations: &operations,
            gateway_url: "https://svc.example.com",
        };
        for format in [
            ExportFormat::OpenApi3Json,
            ExportFormat::OpenApi3Yaml,
            ExportFormat::Swagger2Json,
        ] {
            let text = export(&api, format);
            let again = import(&text, &ImportOptions::default()).unwrap();
            assert_eq!(
                again.service_url.as_deref(),
                Some("https://svc.example.com/pets"),
                "{format:?}"
            );
            assert_eq!(again.schemas, imported.schemas, "{format:?}");
            for (a, b) in again.operations.iter().zip(&imported.operations) {
                assert_eq!(a.name, b.name, "{format:?}");
                let mut expected = b.settings.clone();
                if format == ExportFormat::Swagger2Json {
                    // Swagger keeps one example per content type, under no name.
                    for response in &mut expected.responses {
                        for representation in &mut response.representations {
                            let first = representation.example_values().next().cloned();
                            representation.examples = first
                                .map(|v| {
                                    [("default".to_owned(), json!({ "value": v }))]
                                        .into_iter()
                                        .collect()
                                })
                                .unwrap_or_default();
                        }
                    }
                }
                assert_eq!(a.settings, expected, "{format:?}\n{text}");
            }
            assert_eq!(again.operations.len(), imported.operations.len());
        }
    }

    #[test]
    fn addresses_the_gateway_with_the_key_as_api_key_schemes() {
        let settings = settings();
        let schemas = ApiSchemas::new();
        let api = ApiToExport {
            settings: &settings,
            schemas: &schemas,
            operations: &[],
            gateway_url: "http://svc.localhost:8080/",
        };
        let oas3: Value = serde_json::from_str(&export(&api, ExportFormat::OpenApi3Json)).unwrap();
        assert_eq!(oas3["servers"][0]["url"], "http://svc.localhost:8080/pets");
        assert_eq!(
            oas3["components"]["securitySchemes"]["apiKeyHeader"]["name"],
            "Ocp-Apim-Subscription-Key"
        );
        assert_eq!(
            oas3["components"]["securitySchemes"]["apiKeyQuery"]["in"],
            "query"
        );
        let swagger: Value =
            serde_json::from_str(&export(&api, ExportFormat::Swagger2Json)).unwrap();
        assert_eq!(swagger["host"], "svc.localhost:8080");
        assert_eq!(swagger["basePath"], "/pets");
        assert_eq!(swagger["schemes"][0], "http");
        let connector: Value =
            serde_json::from_str(&export(&api, ExportFormat::PowerPlatform)).unwrap();
        assert_eq!(
            connector["securityDefinitions"].as_object().unwrap().len(),
            1
        );
        assert_eq!(connector_operation_id("show-pet-by-id"), "ShowPetById");
    }
}
