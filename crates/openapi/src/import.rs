//! The import walk: document → [`ImportedApi`].
//!
//! Per path and method, one operation (see [`crate::naming`] for its name):
//! * the URL template is the path, with the **required** query parameters appended as
//!   `?name={name}` (APIM's default; [`ImportOptions::required_query_in_template`] `false`
//!   keeps them as query parameters) — so a call without them does not match, as in APIM;
//! * path parameters become template parameters; query and header parameters are listed
//!   with their types, defaults and enumerations; cookie and form parameters are skipped;
//! * request and response bodies become representations (content type, examples, and the
//!   schema by type name — an inline schema is added to the API's schemas under a name made
//!   from the operation's);
//! * the backend URL is the first `https` server (else the first `http` one), its variables
//!   filled with their defaults; Swagger's `schemes` + `host` + `basePath`.
//!
//! Schemas (`components.schemas`, `definitions`) are kept with their references written
//! `#/definitions/<name>` whatever the version, so an export can write either form.

use crate::naming;
use crate::refs::{self, RefFault};
use crate::source::{self, Version};
use portcullis_domain::model::{OperationConfig, OperationSettings};
use portcullis_domain::operation_contract::{ApiSchemas, OperationRequest, Parameter};
use portcullis_domain::operation_response::{OperationResponse, Representation};
use portcullis_domain::{DisplayName, HttpMethod, OperationName, UrlTemplate};
use serde_json::{Map, Value, json};
use std::collections::HashSet;

/// A document describes at most this many operations.
pub const MAX_OPERATIONS: usize = 1000;
/// The methods OpenAPI names, in the order operations are read.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Why a document cannot be imported at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the document has {bytes} bytes; at most {max} are imported")]
    TooLarge { bytes: usize, max: usize },
    #[error("the document cannot be read as {0}")]
    Unreadable(String),
    #[error("only Swagger 2.0 and OpenAPI 3.0 and 3.1 are imported, not {0}")]
    Version(String),
    #[error("the document refers to other files, which are not imported: {}", list_refs(.0))]
    ExternalReferences(Vec<(String, String)>),
    #[error("the document describes {0} operations; at most {MAX_OPERATIONS} are imported")]
    TooManyOperations(usize),
}

fn list_refs(found: &[(String, String)]) -> String {
    found
        .iter()
        .map(|(at, reference)| format!("{reference} (at {at})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Required query parameters go into the URL template (APIM's `template`, the default);
    /// `false`: they stay query parameters (APIM's `query`).
    pub required_query_in_template: bool,
    /// Where the document was fetched from, for relative server URLs.
    pub base_url: Option<url::Url>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            required_query_in_template: true,
            base_url: None,
        }
    }
}

/// What an import makes of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedApi {
    pub display_name: String,
    pub description: String,
    /// The backend URL the document names, if it names an absolute one.
    pub service_url: Option<String>,
    pub schemas: ApiSchemas,
    /// The operations, as the store keeps them.
    pub operations: Vec<OperationConfig>,
    /// What the document says that was not imported, item by item.
    pub skipped: Vec<Skipped>,
}

/// One thing not imported: where it is in the document, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub location: String,
    pub reason: String,
}

/// Reads `text` (JSON or YAML) and makes the API it describes.
pub fn import(text: &str, options: &ImportOptions) -> Result<ImportedApi, ImportError> {
    let (document, version) = source::read(text)?;
    let external = refs::external_refs(&document, 20);
    if !external.is_empty() {
        return Err(ImportError::ExternalReferences(external));
    }
    let mut walk = Walk {
        document: &document,
        version,
        options,
        schemas: schemas_of(&document, version),
        skipped: Vec::new(),
        names: HashSet::new(),
        shapes: HashSet::new(),
    };
    let info = document.get("info");
    let text_of = |key: &str| {
        info.and_then(|i| i.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let title = text_of("title");
    let display_name = if title.is_empty() {
        "API".to_owned()
    } else {
        title.chars().take(DisplayName::MAX_CHARS).collect()
    };
    let service_url = walk.service_url();
    let operations = walk.operations()?;
    walk.note_unsupported_parts();
    Ok(ImportedApi {
        display_name,
        description: text_of("description"),
        service_url,
        schemas: walk.schemas,
        operations,
        skipped: walk.skipped,
    })
}

/// The document's schemas by name, references rewritten to `#/definitions/<name>`.
fn schemas_of(document: &Value, version: Version) -> ApiSchemas {
    let found = if version.is_swagger() {
        document.get("definitions")
    } else {
        document.pointer("/components/schemas")
    };
    let mut schemas = Map::new();
    if let Some(Value::Object(map)) = found {
        for (name, schema) in map {
            schemas.insert(name.clone(), canonical_refs(schema.clone()));
        }
    }
    schemas
}

/// `schema` with every `#/components/schemas/X` reference written `#/definitions/X`.
pub fn canonical_refs(mut schema: Value) -> Value {
    rewrite_refs(&mut schema, "#/components/schemas/", "#/definitions/");
    schema
}

/// Rewrites the prefix of every `$ref` in `value` (without recursion: its own stack).
pub fn rewrite_refs(value: &mut Value, from: &str, to: &str) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get_mut("$ref")
                    && let Some(rest) = reference.strip_prefix(from)
                {
                    *reference = format!("{to}{rest}");
                }
                stack.extend(map.values_mut());
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            _ => {}
        }
    }
}

struct Walk<'d> {
    document: &'d Value,
    version: Version,
    options: &'d ImportOptions,
    schemas: ApiSchemas,
    skipped: Vec<Skipped>,
    /// Operation names given so far.
    names: HashSet<String>,
    /// `METHOD shape` of the operations so far: two that match the same calls cannot both be.
    shapes: HashSet<String>,
}

impl<'d> Walk<'d> {
    fn skip(&mut self, location: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            location: location.into(),
            reason: reason.into(),
        });
    }

    fn resolve(&mut self, location: &str, value: &'d Value) -> Option<&'d Value> {
        match refs::resolve(self.document, value) {
            Ok(found) => Some(found),
            Err(RefFault::Missing(reference)) => {
                self.skip(location, format!("$ref {reference} points at nothing"));
                None
            }
            Err(RefFault::TooDeep(reference)) => {
                self.skip(location, format!("$ref {reference} loops"));
                None
            }
            Err(RefFault::External(reference)) => {
                self.skip(location, format!("$ref {reference} is in another file"));
                None
            }
        }
    }

    /// The backend URL: OpenAPI 3's first https server (else http), Swagger's scheme + host
    /// + basePath.
    fn service_url(&mut self) -> Option<String> {
        if self.version.is_swagger() {
            let host = self.document.get("host").and_then(Value::as_str)?;
            let schemes: Vec<&str> = self
                .document
                .get("schemes")
                .and_then(Value::as_array)
                .map(|s| s.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let scheme = if schemes.contains(&"https") || schemes.is_empty() {
                "https"
            } else {
                "http"
            };
            let base = self
                .document
                .get("basePath")
                .and_then(Value::as_str)
                .unwrap_or("");
            return Some(
                format!("{scheme}://{host}{base}")
                    .trim_end_matches('/')
                    .to_owned(),
            );
        }
        let servers = self.document.get("servers").and_then(Value::as_array)?;
        let urls: Vec<String> = servers
            .iter()
            .filter_map(|s| server_url(s, self.options))
            .collect();
        urls.iter()
            .find(|u| u.starts_with("https://"))
            .or_else(|| urls.iter().find(|u| u.starts_with("http://")))
            .map(|u| u.trim_end_matches('/').to_owned())
    }

    fn operations(&mut self) -> Result<Vec<OperationConfig>, ImportError> {
        let mut operations = Vec::new();
        let mut path_sets: Vec<(&str, &'d Map<String, Value>)> = Vec::new();
        for key in ["paths", "x-ms-paths"] {
            if let Some(Value::Object(paths)) = self.document.get(key) {
                path_sets.push((key, paths));
            }
        }
        let count: usize = path_sets
            .iter()
            .flat_map(|(_, paths)| paths.values())
            .filter_map(Value::as_object)
            .map(|item| METHODS.iter().filter(|m| item.contains_key(**m)).count())
            .sum();
        if count > MAX_OPERATIONS {
            return Err(ImportError::TooManyOperations(count));
        }
        for (key, paths) in path_sets {
            for (path, item) in paths {
                let location = format!("{key}.{path}");
                let Some(item) = self.resolve(&location, item) else {
                    continue;
                };
                let shared: Vec<&'d Value> = item
                    .get("parameters")
                    .and_then(Value::as_array)
                    .map(|p| p.iter().collect())
                    .unwrap_or_default();
                for method in METHODS {
                    let Some(operation) = item.get(method) else {
                        continue;
                    };
                    let location = format!("{location}.{method}");
                    if method == "trace" {
                        self.skip(
                            location,
                            "TRACE operations are not imported (APIM does not take them either)",
                        );
                        continue;
                    }
                    if let Some(imported) =
                        self.operation(&location, path, method, operation, &shared)
                    {
                        operations.push(imported);
                    }
                }
                if item.get("servers").is_some() {
                    self.skip(
                        format!("{location}.servers"),
                        "servers of a single path are not imported; the API has one backend URL",
                    );
                }
            }
        }
        Ok(operations)
    }

    fn operation(
        &mut self,
        location: &str,
        path: &str,
        method: &str,
        operation: &'d Value,
        shared: &[&'d Value],
    ) -> Option<OperationConfig> {
        let text = |key: &str| operation.get(key).and_then(Value::as_str);
        let operation_id = text("operationId");
        let name = naming::operation_name(operation_id, method, path);
        let Some(name) = naming::unique(name, &mut self.names) else {
            self.skip(location, "no free name is left for this operation");
            return None;
        };
        let name = match OperationName::parse(&name) {
            Ok(name) => name,
            Err(error) => {
                self.skip(
                    location,
                    format!("its name '{name}' is not valid: {}", error.message),
                );
                return None;
            }
        };
        let display_name = naming::display_name(text("summary"), operation_id, method, path);
        let display_name = DisplayName::parse(&display_name)
            .or_else(|_| DisplayName::parse(format!("{} {path}", method.to_ascii_uppercase())))
            .ok()?;
        let parameters = self.parameters(location, operation, shared);
        let mut template_parameters = Vec::new();
        let mut request = OperationRequest::default();
        let mut query_template = Vec::new();
        let path_names: HashSet<String> = parameters
            .iter()
            .filter(|(place, _)| place == "path")
            .map(|(_, p)| p.name.to_ascii_lowercase())
            .collect();
        for (place, parameter) in parameters {
            match place.as_str() {
                "path" => template_parameters.push(Parameter {
                    required: true,
                    ..parameter
                }),
                "query"
                    if parameter.required
                        && self.options.required_query_in_template
                        && !path_names.contains(&parameter.name.to_ascii_lowercase())
                        && is_template_name(&parameter.name) =>
                {
                    query_template.push(parameter.name.clone());
                    template_parameters.push(parameter);
                }
                "query" => request.query_parameters.push(parameter),
                "header" => request.headers.push(parameter),
                _ => {}
            }
        }
        let mut template = path.to_owned();
        for (i, query) in query_template.iter().enumerate() {
            template.push(if i == 0 { '?' } else { '&' });
            template.push_str(&format!("{query}={{{query}}}"));
        }
        // Parameters the path names but the document does not describe are still
        // parameters of the template.
        if let Ok(parsed) = UrlTemplate::parse(path) {
            for segment in parsed.segments() {
                if let portcullis_domain::TemplateSegment::Param(param) = segment
                    && !template_parameters
                        .iter()
                        .any(|p| p.name.eq_ignore_ascii_case(param))
                {
                    template_parameters.push(Parameter {
                        name: param.clone(),
                        kind: "string".to_owned(),
                        required: true,
                        description: String::new(),
                        default_value: None,
                        values: Vec::new(),
                        schema_id: None,
                        type_name: None,
                    });
                }
            }
        }
        let url_template = match UrlTemplate::parse(&template) {
            Ok(template) => template,
            Err(error) => {
                self.skip(
                    location,
                    format!("its path cannot be a URL template: {}", error.message),
                );
                return None;
            }
        };
        let shape = format!("{} {}", method.to_ascii_uppercase(), url_template.shape());
        if !self.shapes.insert(shape) {
            self.skip(
                location,
                format!(
                    "another operation already answers {} {path}",
                    method.to_ascii_uppercase()
                ),
            );
            return None;
        }
        let method_upper = method.to_ascii_uppercase();
        let method_parsed = HttpMethod::parse(&method_upper).ok()?;
        request.representations = self.request_bodies(location, name.as_str(), method, operation);
        if let Some(description) = operation
            .get("requestBody")
            .and_then(|b| refs::resolve(self.document, b).ok())
            .and_then(|b| b.get("description"))
            .and_then(Value::as_str)
        {
            request.description = description.to_owned();
        }
        let responses = self.responses(location, name.as_str(), operation);
        for (key, reason) in [
            (
                "callbacks",
                "callbacks are requests the API sends, not calls it answers",
            ),
            (
                "security",
                "security requirements are not imported: subscription keys (and validate-jwt) protect the API",
            ),
            (
                "servers",
                "servers of a single operation are not imported; the API has one backend URL",
            ),
        ] {
            if operation.get(key).is_some() {
                self.skip(format!("{location}.{key}"), reason);
            }
        }
        Some(OperationConfig {
            name,
            settings: OperationSettings {
                display_name,
                method: method_parsed,
                url_template,
                description: text("description").unwrap_or_default().to_owned(),
                template_parameters,
                request,
                responses,
            },
        })
    }

    /// The operation's parameters with where they go (`path`, `query`, `header`), the
    /// path item's first and the operation's replacing them (by name and place).
    fn parameters(
        &mut self,
        location: &str,
        operation: &'d Value,
        shared: &[&'d Value],
    ) -> Vec<(String, Parameter)> {
        let own: Vec<&'d Value> = operation
            .get("parameters")
            .and_then(Value::as_array)
            .map(|p| p.iter().collect())
            .unwrap_or_default();
        let mut found: Vec<(String, Parameter)> = Vec::new();
        for (index, raw) in shared.iter().chain(own.iter()).enumerate() {
            let at = format!("{location}.parameters[{index}]");
            let Some(raw) = self.resolve(&at, raw) else {
                continue;
            };
            let place = raw.get("in").and_then(Value::as_str).unwrap_or_default();
            let Some(name) = raw.get("name").and_then(Value::as_str) else {
                self.skip(at, "a parameter without a name");
                continue;
            };
            match place {
                "path" | "query" | "header" => {}
                "body" => continue, // a Swagger body: see request_bodies
                "cookie" => {
                    self.skip(
                        at,
                        format!("cookie parameter '{name}': cookie parameters are not imported"),
                    );
                    continue;
                }
                "formData" => {
                    self.skip(
                        at,
                        format!("form parameter '{name}': form parameters are not imported"),
                    );
                    continue;
                }
                other => {
                    self.skip(
                        at,
                        format!("parameter '{name}' in '{other}' is not a place parameters go"),
                    );
                    continue;
                }
            }
            let schema = if self.version.is_swagger() {
                Some(raw)
            } else {
                raw.get("schema")
                    .and_then(|s| refs::resolve(self.document, s).ok())
            };
            let parameter = Parameter {
                name: name.to_owned(),
                kind: schema
                    .map(schema_type)
                    .unwrap_or_else(|| "string".to_owned()),
                required: raw
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(place == "path"),
                description: raw
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                default_value: schema.and_then(|s| s.get("default")).map(scalar_text),
                values: schema
                    .and_then(|s| s.get("enum"))
                    .and_then(Value::as_array)
                    .map(|values| values.iter().map(scalar_text).collect())
                    .unwrap_or_default(),
                schema_id: None,
                type_name: None,
            };
            found.retain(|(p, existing)| !(p == place && existing.name == parameter.name));
            found.push((place.to_owned(), parameter));
        }
        found
    }

    /// The request bodies: OpenAPI 3's `requestBody`, Swagger's `in: body` parameter.
    fn request_bodies(
        &mut self,
        location: &str,
        name: &str,
        method: &str,
        operation: &'d Value,
    ) -> Vec<Representation> {
        let bodiless = matches!(method, "get" | "head" | "options");
        if self.version.is_swagger() {
            let body = operation
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| refs::resolve(self.document, p).ok())
                .find(|p| p.get("in").and_then(Value::as_str) == Some("body"));
            let Some(body) = body else {
                return Vec::new();
            };
            if bodiless {
                self.skip(
                    format!("{location}.parameters.body"),
                    "a request body of a GET, HEAD or OPTIONS is dropped, as APIM drops it",
                );
                return Vec::new();
            }
            let type_name = body
                .get("schema")
                .and_then(|schema| self.type_name(schema, &format!("{name}-request")));
            return self
                .media_types(operation, "consumes")
                .into_iter()
                .map(|content_type| Representation {
                    content_type,
                    examples: Map::new(),
                    schema_id: None,
                    type_name: type_name.clone(),
                })
                .collect();
        }
        let Some(body) = operation.get("requestBody") else {
            return Vec::new();
        };
        let at = format!("{location}.requestBody");
        let Some(body) = self.resolve(&at, body) else {
            return Vec::new();
        };
        if bodiless {
            self.skip(
                at,
                "a request body of a GET, HEAD or OPTIONS is dropped, as APIM drops it",
            );
            return Vec::new();
        }
        self.content(&at, body, &format!("{name}-request"))
    }

    /// OpenAPI 3's `content` of a body or response: one representation per media type.
    fn content(
        &mut self,
        location: &str,
        holder: &'d Value,
        schema_name: &str,
    ) -> Vec<Representation> {
        let Some(Value::Object(content)) = holder.get("content") else {
            return Vec::new();
        };
        let mut representations = Vec::new();
        for (index, (content_type, media)) in content.iter().enumerate() {
            let suffix = if index == 0 {
                String::new()
            } else {
                format!("-{index}")
            };
            let type_name = media
                .get("schema")
                .and_then(|schema| self.type_name(schema, &format!("{schema_name}{suffix}")));
            let mut examples = Map::new();
            if let Some(example) = media.get("example") {
                examples.insert("default".to_owned(), json!({ "value": example }));
            }
            if let Some(Value::Object(named)) = media.get("examples") {
                for (example_name, example) in named {
                    let at = format!("{location}.content.{content_type}.examples.{example_name}");
                    let Some(example) = self.resolve(&at, example) else {
                        continue;
                    };
                    if example.get("value").is_none() {
                        self.skip(
                            at,
                            "an example without a value (externalValue is not fetched)",
                        );
                        continue;
                    }
                    let mut kept = Map::new();
                    for key in ["summary", "description", "value"] {
                        if let Some(v) = example.get(key) {
                            kept.insert(key.to_owned(), v.clone());
                        }
                    }
                    examples.insert(example_name.clone(), Value::Object(kept));
                }
            }
            if !content_type.contains('/') {
                self.skip(
                    format!("{location}.content.{content_type}"),
                    "not a media type (type/subtype)",
                );
                continue;
            }
            representations.push(Representation {
                content_type: content_type.clone(),
                examples,
                schema_id: None,
                type_name,
            });
        }
        representations
    }

    fn responses(
        &mut self,
        location: &str,
        name: &str,
        operation: &'d Value,
    ) -> Vec<OperationResponse> {
        let Some(Value::Object(responses)) = operation.get("responses") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (status, response) in responses {
            let at = format!("{location}.responses.{status}");
            let Ok(code) = status.parse::<u16>() else {
                self.skip(
                    at,
                    format!("response '{status}': only responses for one status code are imported"),
                );
                continue;
            };
            if !(100..=599).contains(&code) {
                self.skip(at, format!("{code} is not an HTTP status"));
                continue;
            }
            let Some(response) = self.resolve(&at, response) else {
                continue;
            };
            let representations = if self.version.is_swagger() {
                let type_name = response
                    .get("schema")
                    .and_then(|schema| self.type_name(schema, &format!("{name}-response-{code}")));
                let examples: Option<&Map<String, Value>> =
                    response.get("examples").and_then(Value::as_object);
                let mut types = self.media_types(operation, "produces");
                if let Some(examples) = examples {
                    for content_type in examples.keys() {
                        if !types.contains(content_type) {
                            types.push(content_type.clone());
                        }
                    }
                }
                if type_name.is_none() && examples.is_none() {
                    Vec::new()
                } else {
                    types
                        .into_iter()
                        .map(|content_type| {
                            let mut named = Map::new();
                            if let Some(example) = examples.and_then(|e| e.get(&content_type)) {
                                named.insert("default".to_owned(), json!({ "value": example }));
                            }
                            Representation {
                                content_type,
                                examples: named,
                                schema_id: None,
                                type_name: type_name.clone(),
                            }
                        })
                        .collect()
                }
            } else {
                self.content(&at, response, &format!("{name}-response-{code}"))
            };
            let headers = response
                .get("headers")
                .and_then(Value::as_object)
                .map(|headers| {
                    headers
                        .iter()
                        .map(|(header, spec)| {
                            let spec = refs::resolve(self.document, spec).unwrap_or(spec);
                            let schema = if self.version.is_swagger() {
                                Some(spec)
                            } else {
                                spec.get("schema")
                                    .and_then(|s| refs::resolve(self.document, s).ok())
                            };
                            Parameter {
                                name: header.clone(),
                                kind: schema
                                    .map(schema_type)
                                    .unwrap_or_else(|| "string".to_owned()),
                                required: spec
                                    .get("required")
                                    .and_then(Value::as_bool)
                                    .unwrap_or(false),
                                description: spec
                                    .get("description")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_owned(),
                                default_value: None,
                                values: Vec::new(),
                                schema_id: None,
                                type_name: None,
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(OperationResponse {
                status_code: code,
                description: response
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                representations,
                headers,
            });
        }
        // The bounds the management API applies hold for imports too.
        match portcullis_domain::operation_response::parse_responses(
            serde_json::to_value(&out).unwrap_or_default(),
        ) {
            Ok(responses) => responses,
            Err(error) => {
                self.skip(
                    format!("{location}.responses"),
                    format!("not imported: {}", error.message),
                );
                Vec::new()
            }
        }
    }

    /// Swagger's media types for an operation (`consumes`/`produces`, the operation's or
    /// the document's), JSON when none is named.
    fn media_types(&self, operation: &Value, key: &str) -> Vec<String> {
        let listed = operation
            .get(key)
            .or_else(|| self.document.get(key))
            .and_then(Value::as_array)
            .map(|types| {
                types
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if listed.is_empty() {
            vec!["application/json".to_owned()]
        } else {
            listed
        }
    }

    /// The type name of a body's schema: a reference's target name, or — for an inline
    /// schema — `fallback`, under which it is added to the API's schemas.
    fn type_name(&mut self, schema: &Value, fallback: &str) -> Option<String> {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let is_schema = reference.starts_with("#/components/schemas/")
                || reference.starts_with("#/definitions/");
            if is_schema {
                return refs::type_name(reference);
            }
            let resolved = refs::resolve(self.document, schema).ok()?.clone();
            return self.type_name(&resolved, fallback);
        }
        if schema.as_object().is_none_or(Map::is_empty) {
            return None;
        }
        let mut name = fallback.to_owned();
        let mut n = 1;
        while self.schemas.contains_key(&name) {
            name = format!("{fallback}-{n}");
            n += 1;
        }
        self.schemas
            .insert(name.clone(), canonical_refs(schema.clone()));
        Some(name)
    }

    /// Parts of the document Portcullis does not keep, noted once each.
    fn note_unsupported_parts(&mut self) {
        let document = self.document;
        let parts: [(&str, Option<&Value>, &str); 4] = [
            (
                "webhooks",
                document.get("webhooks"),
                "webhooks are requests the API sends, not calls it answers",
            ),
            (
                "securityDefinitions",
                document.get("securityDefinitions"),
                "security schemes are not imported: subscription keys (and validate-jwt) protect the API",
            ),
            (
                "components.securitySchemes",
                document.pointer("/components/securitySchemes"),
                "security schemes are not imported: subscription keys (and validate-jwt) protect the API",
            ),
            (
                "security",
                document.get("security"),
                "security requirements are not imported: subscription keys (and validate-jwt) protect the API",
            ),
        ];
        for (location, found, reason) in parts {
            let empty = match found {
                Some(Value::Object(map)) => map.is_empty(),
                Some(Value::Array(items)) => items.is_empty(),
                Some(_) => false,
                None => true,
            };
            if !empty {
                self.skip(location, reason);
            }
        }
    }
}

/// A server's absolute URL: variables filled with their defaults, a relative URL resolved
/// against where the document came from.
fn server_url(server: &Value, options: &ImportOptions) -> Option<String> {
    let mut url = server.get("url").and_then(Value::as_str)?.to_owned();
    if let Some(Value::Object(variables)) = server.get("variables") {
        for (name, variable) in variables {
            let value = variable.get("default").map(scalar_text).unwrap_or_default();
            url = url.replace(&format!("{{{name}}}"), &value);
        }
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        return Some(url);
    }
    let base = options.base_url.as_ref()?;
    base.join(&url).ok().map(|u| u.to_string())
}

/// A parameter's type from its schema: `type` (OpenAPI 3.1 may list several: the first that
/// is not `null`), `array`/`object` as such, `string` when none is given.
fn schema_type(schema: &Value) -> String {
    match schema.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .unwrap_or("string")
            .to_owned(),
        _ => "string".to_owned(),
    }
}

/// A default or enumerated value as text.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Whether a query parameter's name can stand in a URL template (`?name={name}`).
fn is_template_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_openapi_3_operation_with_its_parameters_bodies_and_examples() {
        let api = import(
            r##"
openapi: 3.0.3
info: { title: Pets, description: All the pets }
servers:
  - url: http://pets.example.com/v1
  - url: https://{region}.pets.example.com/v1
    variables: { region: { default: eu } }
paths:
  /pets/{petId}:
    parameters:
      - { name: petId, in: path, required: true, schema: { type: integer } }
    get:
      operationId: showPetById
      summary: Info for a specific pet
      parameters:
        - { name: fields, in: query, required: true, schema: { type: string, enum: [a, b] } }
        - { name: limit, in: query, schema: { type: integer, default: 20 } }
        - { name: x-trace, in: header, schema: { type: string } }
        - { name: session, in: cookie, schema: { type: string } }
      responses:
        '200':
          description: A pet
          content:
            application/json:
              schema: { $ref: '#/components/schemas/Pet' }
              example: { id: 7, name: Rex }
        default:
          description: unexpected error
    put:
      requestBody:
        content:
          application/json:
            schema: { type: object, properties: { name: { $ref: '#/components/schemas/Name' } } }
      responses: { '204': { description: done } }
components:
  schemas:
    Name: { type: string }
    Pet: { type: object, properties: { id: { type: integer }, name: { $ref: '#/components/schemas/Name' } } }
  securitySchemes: { key: { type: apiKey, in: header, name: k } }
"##,
            &ImportOptions::default(),
        )
        .unwrap();
        assert_eq!(api.display_name, "Pets");
        assert_eq!(api.description, "All the pets");
        assert_eq!(
            api.service_url.as_deref(),
            Some("https://eu.pets.example.com/v1")
        );
        let get = &api.operations[0];
        assert_eq!(get.name.as_str(), "showpetbyid");
        assert_eq!(
            get.settings.display_name.as_str(),
            "Info for a specific pet"
        );
        assert_eq!(
            get.settings.url_template.as_str(),
            "/pets/{petId}?fields={fields}"
        );
        let names: Vec<_> = get
            .settings
            .template_parameters
            .iter()
            .map(|p| (p.name.as_str(), p.kind.as_str()))
            .collect();
        assert_eq!(names, [("petId", "integer"), ("fields", "string")]);
        assert_eq!(get.settings.template_parameters[1].values, ["a", "b"]);
        assert_eq!(
            get.settings.request.query_parameters[0]
                .default_value
                .as_deref(),
            Some("20")
        );
        assert_eq!(get.settings.request.headers[0].name, "x-trace");
        let ok = &get.settings.responses[0];
        assert_eq!(ok.status_code, 200);
        assert_eq!(ok.representations[0].type_name.as_deref(), Some("Pet"));
        assert_eq!(
            ok.representations[0].examples["default"]["value"]["name"],
            "Rex"
        );
        let put = &api.operations[1];
        assert_eq!(put.name.as_str(), "put-pets-petid");
        assert_eq!(put.settings.display_name.as_str(), "PUT /pets/{petId}");
        let body = &put.settings.request.representations[0];
        assert_eq!(body.type_name.as_deref(), Some("put-pets-petid-request"));
        assert_eq!(
            api.schemas["put-pets-petid-request"]["properties"]["name"]["$ref"],
            "#/definitions/Name"
        );
        assert_eq!(
            api.schemas["Pet"]["properties"]["name"]["$ref"],
            "#/definitions/Name"
        );
        let skipped: Vec<_> = api.skipped.iter().map(|s| s.location.as_str()).collect();
        assert!(
            skipped.iter().any(|s| s.ends_with("parameters[4]")),
            "{skipped:?}"
        );
        assert!(
            skipped.iter().any(|s| s.ends_with("responses.default")),
            "{skipped:?}"
        );
        assert!(
            skipped.contains(&"components.securitySchemes"),
            "{skipped:?}"
        );
    }

    #[test]
    fn swagger_2_bodies_media_types_and_the_backend_url() {
        let api = import(
            r##"{
  "swagger": "2.0",
  "info": { "title": "Store", "version": "1" },
  "host": "store.example.com", "basePath": "/api", "schemes": ["http", "https"],
  "consumes": ["application/json"], "produces": ["application/json", "application/xml"],
  "paths": { "/orders": {
    "post": {
      "parameters": [
        { "name": "order", "in": "body", "schema": { "$ref": "#/definitions/Order" } },
        { "name": "note", "in": "formData", "type": "string" }
      ],
      "responses": { "201": { "description": "made", "schema": { "$ref": "#/definitions/Order" },
        "examples": { "application/json": { "id": 1 } } } }
    },
    "get": { "parameters": [ { "name": "q", "in": "body", "schema": { "type": "string" } } ],
      "responses": { "200": { "description": "all" } } }
  } },
  "definitions": { "Order": { "type": "object" } }
}"##,
            &ImportOptions::default(),
        )
        .unwrap();
        assert_eq!(
            api.service_url.as_deref(),
            Some("https://store.example.com/api")
        );
        let post = api
            .operations
            .iter()
            .find(|o| o.name.as_str() == "post-orders")
            .unwrap();
        assert_eq!(
            post.settings.request.representations[0]
                .type_name
                .as_deref(),
            Some("Order")
        );
        let created = &post.settings.responses[0];
        assert_eq!(created.representations.len(), 2);
        assert_eq!(
            created.representations[0].examples["default"]["value"]["id"],
            1
        );
        let reasons: Vec<_> = api.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert!(
            reasons.iter().any(|r| r.contains("form parameter 'note'")),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|r| r.contains("GET, HEAD or OPTIONS")),
            "{reasons:?}"
        );
    }

    #[test]
    fn external_references_refuse_the_document_and_collisions_are_reported() {
        let error = import(
            r#"{"swagger": "2.0", "paths": {"/a": {"get": {"responses": {"200": {"description": "x", "schema": {"$ref": "Pet.json"}}}}}}}"#,
            &ImportOptions::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("Pet.json"), "{error}");
        let api = import(
            "openapi: 3.1.0\ninfo: {title: t}\npaths:\n  /a/{x}: {get: {operationId: one}}\n  /a/{y}: {get: {operationId: one}}\n  /b: {trace: {}}\nwebhooks: {newPet: {post: {}}}\n",
            &ImportOptions::default(),
        )
        .unwrap();
        assert_eq!(api.operations.len(), 1);
        assert_eq!(api.service_url, None);
        let reasons: Vec<_> = api.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("already answers GET /a/{y}")),
            "{reasons:?}"
        );
        assert!(reasons.iter().any(|r| r.contains("TRACE")), "{reasons:?}");
        assert!(
            reasons.iter().any(|r| r.contains("webhooks")),
            "{reasons:?}"
        );
    }
}
