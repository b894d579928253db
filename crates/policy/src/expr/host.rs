//! `context` for the C# interpreter ([`portcullis_script`]): the same members the fast
//! subset resolves at parse time ([`FIELDS`], [`COLLECTIONS`]), reached by path at run time.
//!
//! `context.Request.Url.Host` walks `context` → `Request` → `Request.Url` → the field
//! `Request.Url.Host`: every prefix of a field's or collection's path is an object
//! ([`Value::Host`]) whose members are the next parts. A path that is a field and also has
//! members (`Request.Url`) prints as the field's text.

use super::ast::{COLLECTIONS, Collection, FIELDS, Field};
use super::eval::{Env, Value as PolicyValue};
use portcullis_script::Value;
use portcullis_script::syntax::TypeName;

/// The interpreter's view of a request's [`Env`].
pub struct EnvHost<'e> {
    pub env: &'e dyn Env,
}

/// A policy value as a script value.
pub fn to_script(value: PolicyValue<'_>) -> Value {
    match value {
        PolicyValue::Str(s) => Value::str(&*s),
        PolicyValue::Int(n) => i32::try_from(n).map_or(Value::Long(n), Value::Int),
        PolicyValue::Bool(b) => Value::Bool(b),
        PolicyValue::Null => Value::Null,
        PolicyValue::Object(object) => object.0,
    }
}

/// A script's value as a policy value (what `set-variable` keeps): text, numbers and
/// booleans as themselves, objects (a `JObject`, a list, an `IResponse`) as the object, so a
/// later script reads it with its type — `(JObject)context.Variables["profile"]`.
pub fn from_script(value: &Value) -> PolicyValue<'static> {
    match value {
        Value::Null => PolicyValue::Null,
        Value::Bool(b) => PolicyValue::Bool(*b),
        Value::Int(n) => PolicyValue::Int(i64::from(*n)),
        Value::Long(n) => PolicyValue::Int(*n),
        Value::Str(text) => PolicyValue::Str(text.to_string().into()),
        // A path into `context` (`context.Request.Url`) is kept as what it prints.
        Value::Host(path) if crate::exchange::sent_index(value).is_none() => {
            PolicyValue::Str(path.to_string().into())
        }
        other => PolicyValue::Object(super::ScriptObject(other.clone())),
    }
}

/// Which bodies a script reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BodyUse {
    pub request: bool,
    pub response: bool,
}

impl BodyUse {
    pub fn or(self, other: Self) -> Self {
        Self {
            request: self.request || other.request,
            response: self.response || other.response,
        }
    }
}

/// The bodies a script reads: `context.Request.Body` / `context.Response.Body`.
pub fn body_use(program: &portcullis_script::Program) -> BodyUse {
    use portcullis_script::syntax::walk_script;
    let mut used = BodyUse::default();
    let _ = walk_script::<()>(program.script(), &mut |expr| {
        match context_path(expr).as_deref() {
            Some("Request.Body") => used.request = true,
            Some("Response.Body") => used.response = true,
            _ => {}
        }
        Ok(())
    });
    used
}

/// The paths of bodies, objects of their own (`As<T>()`).
const BODIES: [&str; 2] = ["Request.Body", "Response.Body"];

/// Members of `context` that are values of the interpreter's own types: `Timestamp` (a
/// `DateTime`) and `Elapsed` (a `TimeSpan`); their members are the interpreter's to check.
const CLOCK_VALUES: [&str; 2] = ["Timestamp", "Elapsed"];

fn field(path: &str) -> Option<Field> {
    FIELDS.iter().find(|(p, _)| *p == path).map(|(_, f)| *f)
}

/// The members listed under `path` (`Host`, `Path`, … under `Request.Url`), with Length.
fn members_of(path: &str) -> Vec<&'static str> {
    let mut members: Vec<&'static str> = FIELDS
        .iter()
        .map(|(p, _)| *p)
        .chain(COLLECTIONS.iter().map(|(p, _)| *p))
        .filter_map(|p| p.strip_prefix(path)?.strip_prefix('.'))
        .filter(|rest| !rest.contains('.'))
        .collect();
    let mut seen = Vec::new();
    members.retain(|m| {
        let fresh = !seen.contains(m);
        seen.push(*m);
        fresh
    });
    if !members.is_empty() {
        members.push("Length");
    }
    members
}

/// Whether a field's value is text (the others are numbers, or null for `context.User`).
fn field_is_text(field: Field) -> bool {
    !matches!(
        field,
        Field::RequestUrlPort | Field::ResponseStatusCode | Field::UserMember
    )
}

fn collection(path: &str) -> Option<Collection> {
    COLLECTIONS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, c)| *c)
}

/// Whether some field or collection lies under `path`.
fn has_members(path: &str) -> bool {
    let under = |p: &str| {
        p.strip_prefix(path)
            .is_some_and(|rest| rest.starts_with('.'))
    };
    FIELDS.iter().any(|(p, _)| under(p)) || COLLECTIONS.iter().any(|(p, _)| under(p))
}

impl EnvHost<'_> {
    /// `Body.As<T>()`: the body as text, or read as JSON. The body is kept (as APIM keeps it
    /// with `preserveContent: true`; Portcullis always does, so the backend gets it too).
    fn body_as(
        &self,
        response: bool,
        method: &str,
        type_args: &[TypeName],
    ) -> Result<Value, String> {
        body_as(
            &self.env.body(response).unwrap_or_default(),
            method,
            type_args,
        )
    }

    /// A script's value as a variable keeps it; a path into `context` as the text it prints.
    pub fn kept(&self, value: &Value) -> PolicyValue<'static> {
        use portcullis_script::Host as _;
        match value {
            Value::Host(path) if crate::exchange::sent_index(value).is_none() => {
                PolicyValue::Str(self.text(path).unwrap_or_else(|| path.to_string()).into())
            }
            other => from_script(other),
        }
    }

    /// `IResponse.StatusCode`, `.StatusReason`, `.Headers`, `.Body` of a kept response.
    fn sent_member(&self, path: &str, member: &str) -> Option<Result<Value, String>> {
        let index: usize = path
            .strip_prefix(crate::exchange::SENT_RESPONSE_TYPE)?
            .parse()
            .ok()?;
        let response = self.env.sent_response(index)?;
        Some(Ok(match member {
            "StatusCode" => Value::Int(i32::from(response.status.as_u16())),
            "StatusReason" => Value::str(response.status.canonical_reason().unwrap_or("")),
            "Headers" => Value::Host(format!("{SENT_HEADERS}{index}").into()),
            "Body" => Value::Host(format!("{SENT_BODY}{index}").into()),
            _ => return None,
        }))
    }

    /// The kept response whose headers or body `path` names.
    fn sent_part(&self, path: &str, prefix: &str) -> Option<&crate::exchange::SentResponse> {
        let index: usize = path.strip_prefix(prefix)?.parse().ok()?;
        self.env.sent_response(index)
    }
}

/// How the headers and the body of a kept response are named in scripts.
const SENT_HEADERS: &str = "IResponseHeaders:";
const SENT_BODY: &str = "IMessageBody:";

/// `Body.As<T>()` over `bytes`: the body as text, or read as JSON or XML.
fn body_as(bytes: &[u8], method: &str, type_args: &[TypeName]) -> Result<Value, String> {
    {
        use portcullis_script::json::Json;
        if method == "AsFormUrlEncodedContent" {
            return Ok(form_content(bytes));
        }
        if method != "As" {
            return Err(format!(
                "the body has no method '{method}' (use As<T>() or AsFormUrlEncodedContent())."
            ));
        }
        let text = String::from_utf8_lossy(bytes);
        match type_args.first().map(|t| &*t.name) {
            None | Some("string" | "String") => Ok(Value::str(&*text)),
            Some(wanted @ ("JObject" | "JToken" | "JArray")) => {
                let json = Json::parse(&text)
                    .map_err(|e| format!("the body cannot be read as {wanted}: {e}"))?;
                let fits = matches!(
                    (wanted, &json),
                    ("JObject", Json::Object(_)) | ("JArray", Json::Array(_)) | ("JToken", _)
                );
                if fits {
                    Ok(Value::Json(json))
                } else {
                    Err(format!("the body is {}, not a {wanted}.", json.type_name()))
                }
            }
            Some(wanted @ ("XDocument" | "XElement")) => {
                use portcullis_script::native::Native;
                let root = portcullis_script::xml_lib::parse(&text)
                    .map_err(|e| format!("the body cannot be read as {wanted}: {e}"))?;
                Ok(Value::Native(std::sync::Arc::new(
                    if wanted == "XDocument" {
                        Native::XDocument(root)
                    } else {
                        Native::XElement(root)
                    },
                )))
            }
            Some(other) => Err(format!("the body cannot be read as {other} here.")),
        }
    }
}

impl EnvHost<'_> {
    fn lookup(&self, collection: Collection, name: &str) -> Value {
        self.env
            .lookup(collection, name)
            .map_or(Value::Null, to_script)
    }
}

impl portcullis_script::Host for EnvHost<'_> {
    fn member(&self, path: &str, member: &str) -> Option<Result<Value, String>> {
        if path.starts_with(crate::exchange::SENT_RESPONSE_TYPE) {
            return self.sent_member(path, member);
        }
        if let Some(response) = self.sent_part(path, SENT_HEADERS) {
            return match member {
                "Count" => Some(Ok(Value::Int(response.headers.keys_len() as i32))),
                "Keys" => Some(Ok(Value::list(
                    response
                        .headers
                        .keys()
                        .map(|name| Value::str(name.as_str()))
                        .collect(),
                ))),
                _ => None,
            };
        }
        let full = if path == "context" {
            member.to_owned()
        } else {
            format!("{path}.{member}")
        };
        if BODIES.contains(&full.as_str()) {
            return Some(Ok(Value::Host(full.into())));
        }
        if CLOCK_VALUES.contains(&full.as_str()) {
            let (received, elapsed) = self.env.clock()?;
            return Some(Ok(if full == "Elapsed" {
                Value::TimeSpan(i64::try_from(elapsed.as_nanos() / 100).unwrap_or(i64::MAX))
            } else {
                let seconds = received
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                match portcullis_script::dates::from_unix_seconds(seconds) {
                    Some(date) => Value::DateTime(date),
                    None => Value::Null,
                }
            }));
        }
        if collection(&full).is_some() || has_members(&full) {
            // `context.Subscription` is null when the call came without a key.
            if full == "Subscription"
                && matches!(self.env.field(Field::SubscriptionId), PolicyValue::Null)
            {
                return Some(Ok(Value::Null));
            }
            return Some(Ok(Value::Host(full.into())));
        }
        if let Some(field) = field(&full) {
            return Some(Ok(to_script(self.env.field(field))));
        }
        match (collection(path), member) {
            (Some(collection), "Count") => {
                Some(Ok(Value::Int(self.env.entries(collection).len() as i32)))
            }
            (Some(collection), "Keys") => Some(Ok(Value::list(
                self.env
                    .entries(collection)
                    .into_iter()
                    .map(|(name, _)| Value::str(name))
                    .collect(),
            ))),
            _ => None,
        }
    }

    fn call(
        &self,
        path: &str,
        method: &str,
        type_args: &[TypeName],
        args: &[Value],
    ) -> Option<Result<Value, String>> {
        if BODIES.contains(&path) {
            return Some(self.body_as(path == "Response.Body", method, type_args));
        }
        if let Some(response) = self.sent_part(path, SENT_BODY) {
            return Some(body_as(&response.body, method, type_args));
        }
        if let Some(response) = self.sent_part(path, SENT_HEADERS) {
            let name = args.first().map(Value::to_text).unwrap_or_default();
            let found = crate::exchange::Exchange::header_text(&response.headers, &name);
            return match method {
                "GetValueOrDefault" => Some(Ok(
                    found.map_or_else(|| args.get(1).cloned().unwrap_or(Value::Null), to_script)
                )),
                "ContainsKey" => Some(Ok(Value::Bool(found.is_some()))),
                _ => None,
            };
        }
        let collection = collection(path)?;
        let name = args.first().map(Value::to_text).unwrap_or_default();
        let value = match method {
            "GetValueOrDefault" => {
                let found = self.lookup(collection, &name);
                let found = if found.is_null() {
                    args.get(1).cloned().unwrap_or(Value::Null)
                } else {
                    found
                };
                // `GetValueOrDefault<int>("n")` reads a stored number as the type asked.
                match (type_args.first().map(|t| &*t.name), &found) {
                    (Some("int" | "Int32"), Value::Long(n)) => {
                        Value::Int(i32::try_from(*n).unwrap_or(i32::MAX))
                    }
                    (Some("long" | "Int64"), Value::Int(n)) => Value::Long(i64::from(*n)),
                    _ => found,
                }
            }
            "ContainsKey" => Value::Bool(!self.lookup(collection, &name).is_null()),
            _ => return None,
        };
        Some(Ok(value))
    }

    fn index(&self, path: &str, key: &Value) -> Option<Result<Value, String>> {
        if let Some(response) = self.sent_part(path, SENT_HEADERS) {
            let name = key.to_text();
            return Some(
                match crate::exchange::Exchange::header_text(&response.headers, &name) {
                    Some(found) => Ok(header_values(&found.into_text())),
                    None => Err(format!(
                        "The given key '{name}' was not present in the dictionary."
                    )),
                },
            );
        }
        let collection = collection(path)?;
        let name = key.to_text();
        let found = self.lookup(collection, &name);
        if found.is_null() {
            return Some(Err(format!(
                "The given key '{name}' was not present in the dictionary."
            )));
        }
        Some(Ok(match collection {
            // Headers and query parameters are string arrays in APIM.
            Collection::RequestHeaders
            | Collection::ResponseHeaders
            | Collection::QueryParameters => header_values(&found.to_text()),
            _ => found,
        }))
    }

    fn items(&self, path: &str) -> Option<Vec<Value>> {
        if let Some(response) = self.sent_part(path, SENT_HEADERS) {
            return Some(
                response
                    .headers
                    .keys()
                    .filter_map(|name| {
                        let value = crate::exchange::Exchange::header_text(
                            &response.headers,
                            name.as_str(),
                        )?;
                        let pair = (Value::str(name.as_str()), header_values(&value.into_text()));
                        Some(Value::Pair(std::sync::Arc::new(pair)))
                    })
                    .collect(),
            );
        }
        let collection = collection(path)?;
        Some(
            self.env
                .entries(collection)
                .into_iter()
                .map(|(name, value)| {
                    let value = match collection {
                        Collection::Variables => to_script(value),
                        _ => Value::list(vec![to_script(value)]),
                    };
                    Value::Pair(std::sync::Arc::new((Value::str(name), value)))
                })
                .collect(),
        )
    }

    fn text(&self, path: &str) -> Option<String> {
        field(path).map(|f| self.env.field(f).into_text().into_owned())
    }
}

/// `Body.AsFormUrlEncodedContent()`: an `application/x-www-form-urlencoded` body as a
/// dictionary of each name to the list of its values, in the order they came.
fn form_content(bytes: &[u8]) -> Value {
    let mut pairs: Vec<(Value, Value)> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(bytes) {
        let value = Value::str(value.as_ref());
        match pairs.iter().find(|(key, _)| key.to_text() == name) {
            Some((_, Value::List(values))) => values.lock().push(value),
            _ => pairs.push((Value::str(name.as_ref()), Value::list(vec![value]))),
        }
    }
    Value::Dict(portcullis_script::value::Shared::new(pairs))
}

/// A header's values as APIM gives them: a string array, split at commas.
fn header_values(joined: &str) -> Value {
    Value::list(joined.split(',').map(|v| Value::str(v.trim())).collect())
}

/// The `context` members a script names, checked at save time: `context.Tenant.Name` is a
/// fault where it is written, not a failure on every request. A chain of members from
/// `context` must stay on the paths [`FIELDS`] and [`COLLECTIONS`] spell (or their
/// prefixes); what follows a field or a collection (`.Length`, `.GetValueOrDefault(…)`) is
/// the interpreter's to check.
pub fn check_context(program: &portcullis_script::Program) -> Result<(), super::ExprError> {
    use portcullis_script::syntax::{ExprKind, walk_script};
    walk_script(program.script(), &mut |expr| {
        // The bodies have `As<T>()` only, so far.
        if let ExprKind::Call {
            target: Some(target),
            name,
            ..
        } = &expr.kind
            && let Some(path) = context_path(target)
            && BODIES.contains(&path.as_str())
            && !matches!(&**name, "As" | "AsFormUrlEncodedContent")
        {
            return Err(super::ExprError::new(
                expr.offset,
                format!(
                    "context.{path}.{name} is not supported yet; read the body with As<string>(), As<JObject>() or AsFormUrlEncodedContent()."
                ),
            ));
        }
        let ExprKind::Member { .. } = &expr.kind else {
            return Ok(());
        };
        let Some(path) = context_path(expr) else {
            return Ok(());
        };
        // Only the first part that leaves the known paths is reported (the walk visits the
        // outermost member first, so look at every prefix).
        let mut prefix = String::new();
        for part in path.split('.') {
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(part);
            let known = field(&prefix).is_some()
                || collection(&prefix).is_some()
                || has_members(&prefix)
                || BODIES.contains(&prefix.as_str())
                || CLOCK_VALUES.contains(&prefix.as_str());
            if !known {
                let parent = prefix.rsplit_once('.').map(|(p, _)| p);
                // A property of a field whose type is known: a text has only Length, a
                // number none (methods are the interpreter's to check, as they run).
                if let Some(parent_field) = parent.and_then(field)
                    && !(field_is_text(parent_field) && part == "Length")
                {
                    let at = expr.offset + "context.".len() + prefix.len() - part.len();
                    let parent_path = parent.unwrap_or_default();
                    let members = members_of(parent_path);
                    let kind = if !members.is_empty() {
                        format!("a URL whose members are {}", members.join(", "))
                    } else if field_is_text(parent_field) {
                        "a string; its only property is Length".to_owned()
                    } else if parent_field == Field::UserMember {
                        "always null in Portcullis (there are no developer accounts)".to_owned()
                    } else {
                        "a number, which has no properties".to_owned()
                    };
                    return Err(super::ExprError::new(
                        at,
                        format!("context.{parent_path} is {kind}: {part} is not one of them."),
                    ));
                }
                if parent.is_some_and(|p| {
                    field(p).is_some()
                        || collection(p).is_some()
                        || BODIES.contains(&p)
                        || CLOCK_VALUES.contains(&p)
                }) {
                    return Ok(());
                }
                // Placed at the part that is unknown (as written without spaces, as chains
                // of members are).
                let at = expr.offset + "context.".len() + prefix.len() - part.len();
                return Err(super::ExprError::new(
                    at,
                    format!(
                        "context.{prefix} is not available in Portcullis (known: Request, Response, Subscription, Product, Api, Operation, User, Variables, RequestId, Timestamp, Elapsed, Deployment, LastError)."
                    ),
                ));
            }
        }
        Ok(())
    })
}

/// `context.A.B.C` as `A.B.C`, when `expr` is such a chain of plain members.
fn context_path(expr: &portcullis_script::syntax::Expr) -> Option<String> {
    use portcullis_script::syntax::ExprKind;
    let mut parts = Vec::new();
    let mut current = expr;
    loop {
        match &current.kind {
            ExprKind::Member { target, name, .. } => {
                parts.push(&**name);
                current = target;
            }
            ExprKind::Name(name) if &**name == "context" => break,
            _ => return None,
        }
    }
    parts.reverse();
    Some(parts.join("."))
}
