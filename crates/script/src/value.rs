//! What a script computes with: C#'s values as the interpreter holds them.
//!
//! Numbers keep their C# type (`int` wraps at 32 bits, `long` at 64, `double` is IEEE), as
//! arithmetic and `ToString()` differ between them. Strings are shared, immutable text.
//! Lists, dictionaries, string builders and JSON containers are *references*, as in C#: two
//! names for one list see each other's changes. They are shared behind a lock so that a value
//! can outlive one evaluation (in `context.Variables`) and move between threads.

use crate::dates::Date;
use crate::json::Json;
use crate::native::Native;
use crate::syntax::{LambdaBody, TypeName};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};

/// A mutable object shared by reference.
///
/// Dropping the last reference to a deeply nested structure (a list of lists of lists…, a
/// script can build one in a loop) must not recurse once per level: [`Teardown`] moves the
/// children of every uniquely owned container into one work list, so the whole structure is
/// freed in a loop.
#[derive(Debug)]
pub struct Shared<T: Teardown>(Arc<Mutex<T>>);

impl<T: Teardown> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: Teardown> Shared<T> {
    pub fn new(value: T) -> Self {
        Self(Arc::new(Mutex::new(value)))
    }

    /// The object, locked. A poisoned lock (a panic elsewhere) is taken over: values stay
    /// whole, as every change is one assignment.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether both name the same object (C#'s reference equality).
    pub fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The object's identity (its address), for finding it inside another.
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as *const () as usize
    }

    /// Moves the children out when this is the last reference.
    fn take_if_last(&mut self, out: &mut Vec<Node>) {
        if let Some(mutex) = Arc::get_mut(&mut self.0) {
            mutex
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take_children(out);
        }
    }
}

impl<T: Teardown> Drop for Shared<T> {
    fn drop(&mut self) {
        let mut pending = Vec::new();
        self.take_if_last(&mut pending);
        while let Some(mut node) = pending.pop() {
            node.take_children(&mut pending);
            // `node` is dropped here with its containers emptied (or still shared).
        }
    }
}

/// Something a container holds, on the way to being dropped.
pub enum Node {
    Value(Value),
    Json(Json),
}

impl Node {
    fn take_children(&mut self, out: &mut Vec<Node>) {
        match self {
            Node::Value(value) => match value {
                Value::List(items) => items.take_if_last(out),
                Value::Dict(pairs) => pairs.take_if_last(out),
                Value::Object(fields) => fields.take_if_last(out),
                Value::Json(json) => json_children(json, out),
                Value::Pair(pair) => {
                    if let Some((key, value)) = Arc::get_mut(pair) {
                        out.push(Node::Value(std::mem::replace(key, Value::Null)));
                        out.push(Node::Value(std::mem::replace(value, Value::Null)));
                    }
                }
                Value::Property(property) => {
                    if let Some(property) = Arc::get_mut(property) {
                        out.push(Node::Json(std::mem::replace(
                            &mut property.object,
                            Json::Null,
                        )));
                    }
                }
                Value::Lambda(lambda) => {
                    if let Some(lambda) = Arc::get_mut(lambda) {
                        out.extend(lambda.captured.drain(..).map(|(_, v)| Node::Value(v)));
                    }
                }
                _ => {}
            },
            Node::Json(json) => json_children(json, out),
        }
    }
}

fn json_children(json: &mut Json, out: &mut Vec<Node>) {
    match json {
        Json::Array(items) => items.take_if_last(out),
        Json::Object(members) => members.take_if_last(out),
        _ => {}
    }
}

/// What a container gives up when it is dropped.
pub trait Teardown {
    fn take_children(&mut self, out: &mut Vec<Node>);
}

impl Teardown for String {
    fn take_children(&mut self, _: &mut Vec<Node>) {}
}

impl Teardown for Vec<Value> {
    fn take_children(&mut self, out: &mut Vec<Node>) {
        out.extend(self.drain(..).map(Node::Value));
    }
}

impl Teardown for Vec<(Value, Value)> {
    fn take_children(&mut self, out: &mut Vec<Node>) {
        for (key, value) in self.drain(..) {
            out.push(Node::Value(key));
            out.push(Node::Value(value));
        }
    }
}

impl Teardown for Vec<(Box<str>, Value)> {
    fn take_children(&mut self, out: &mut Vec<Node>) {
        out.extend(self.drain(..).map(|(_, v)| Node::Value(v)));
    }
}

impl Teardown for Vec<Json> {
    fn take_children(&mut self, out: &mut Vec<Node>) {
        out.extend(self.drain(..).map(Node::Json));
    }
}

impl Teardown for Vec<(Arc<str>, Json)> {
    fn take_children(&mut self, out: &mut Vec<Node>) {
        out.extend(self.drain(..).map(|(_, v)| Node::Json(v)));
    }
}

/// Whether the container `id` can be reached from `value`, and how many containers the
/// search visited (the caller pays for them). A container put inside itself would never be
/// freed; so is refused.
pub fn reaches(value: &Value, id: usize) -> (bool, usize) {
    let mut pending: Vec<Node> = vec![Node::Value(value.clone())];
    let mut seen = std::collections::HashSet::new();
    let mut visited = 0;
    let mut visit = |node_id: usize, seen: &mut std::collections::HashSet<usize>| {
        visited += 1;
        seen.insert(node_id)
    };
    while let Some(node) = pending.pop() {
        match &node {
            Node::Value(Value::List(items)) => {
                if items.id() == id {
                    return (true, visited);
                }
                if visit(items.id(), &mut seen) {
                    pending.extend(items.lock().iter().cloned().map(Node::Value));
                }
            }
            Node::Value(Value::Dict(pairs)) => {
                if pairs.id() == id {
                    return (true, visited);
                }
                if visit(pairs.id(), &mut seen) {
                    for (k, v) in pairs.lock().iter() {
                        pending.push(Node::Value(k.clone()));
                        pending.push(Node::Value(v.clone()));
                    }
                }
            }
            Node::Value(Value::Object(fields)) => {
                if fields.id() == id {
                    return (true, visited);
                }
                if visit(fields.id(), &mut seen) {
                    pending.extend(fields.lock().iter().map(|(_, v)| Node::Value(v.clone())));
                }
            }
            Node::Value(Value::Pair(pair)) => {
                pending.push(Node::Value(pair.0.clone()));
                pending.push(Node::Value(pair.1.clone()));
            }
            Node::Value(Value::Property(property)) => {
                pending.push(Node::Json(property.object.clone()));
            }
            Node::Value(Value::Json(json)) | Node::Json(json) => match json {
                Json::Array(items) => {
                    if items.id() == id {
                        return (true, visited);
                    }
                    if visit(items.id(), &mut seen) {
                        pending.extend(items.lock().iter().cloned().map(Node::Json));
                    }
                }
                Json::Object(members) => {
                    if members.id() == id {
                        return (true, visited);
                    }
                    if visit(members.id(), &mut seen) {
                        pending.extend(members.lock().iter().map(|(_, v)| Node::Json(v.clone())));
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    (false, visited)
}

/// A lambda with the locals it captured (by value, at the time it was made).
#[derive(Debug)]
pub struct Lambda {
    pub params: Vec<Box<str>>,
    pub body: LambdaBody,
    pub captured: Vec<(Box<str>, Value)>,
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(f64),
    Char(char),
    Str(Arc<str>),
    /// `List<T>`, arrays and the results of LINQ (`IEnumerable<T>`).
    List(Shared<Vec<Value>>),
    /// `Dictionary<K, V>`, in insertion order.
    Dict(Shared<Vec<(Value, Value)>>),
    /// An anonymous object `new { a = 1 }`.
    Object(Shared<Vec<(Box<str>, Value)>>),
    Builder(Shared<String>),
    /// A Newtonsoft `JToken`.
    Json(Json),
    Lambda(Arc<Lambda>),
    /// A type named in code (`Math`, `JObject`, `string`): the target of static calls.
    Type(Arc<TypeName>),
    /// A member of the `context` the host provides, by its path (`Request.Headers`), or an
    /// object the host keeps, by its type and number (`IResponse:3`).
    Host(Arc<str>),
    /// A `KeyValuePair` from enumerating a dictionary or headers.
    Pair(Arc<(Value, Value)>),
    /// A `JProperty` of a JSON object, by reference (`obj.Property("a").Remove()`).
    Property(Arc<PropertyRef>),
    /// A `DateTime`: ticks of 100 ns since 0001-01-01 and the kind ([`crate::dates`]).
    DateTime(Date),
    /// A `TimeSpan`: a signed count of 100 ns ticks.
    TimeSpan(i64),
    /// A `Guid`, as its 16 bytes in RFC 4122 order ([`crate::guid`]).
    Guid([u8; 16]),
    /// An object of the .NET library that holds no script values: a `Uri`, a `Regex` and its
    /// matches, a hash algorithm, a `Jwt` ([`crate::native`]).
    Native(Arc<Native>),
}

/// The property `name` of the JSON object `object`.
#[derive(Debug)]
pub struct PropertyRef {
    pub object: Json,
    pub name: Arc<str>,
}

impl Value {
    pub fn str(text: impl Into<Arc<str>>) -> Self {
        Self::Str(text.into())
    }

    pub fn list(items: Vec<Value>) -> Self {
        Self::List(Shared::new(items))
    }

    /// The C# type of the value, as an error message names it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "bool",
            Self::Int(_) => "int",
            Self::Long(_) => "long",
            Self::Double(_) => "double",
            Self::Char(_) => "char",
            Self::Str(_) => "string",
            Self::List(_) => "List",
            Self::Dict(_) => "Dictionary",
            Self::Object(_) => "object",
            Self::Builder(_) => "StringBuilder",
            Self::Json(json) => json.type_name(),
            Self::Lambda(_) => "lambda",
            Self::Type(_) => "type",
            Self::Host(_) => "context object",
            Self::Pair(_) => "KeyValuePair",
            Self::Property(_) => "JProperty",
            Self::DateTime(_) => "DateTime",
            Self::TimeSpan(_) => "TimeSpan",
            Self::Guid(_) => "Guid",
            Self::Native(native) => native.type_name(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null) || matches!(self, Self::Json(j) if j.is_null_token())
    }

    /// The value as C#'s `ToString()` writes it (`null` as empty text, booleans as `True`).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out);
        out
    }

    pub fn write_text(&self, out: &mut String) {
        match self {
            Self::Null => {}
            Self::Bool(true) => out.push_str("True"),
            Self::Bool(false) => out.push_str("False"),
            Self::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Self::Long(n) => {
                let _ = write!(out, "{n}");
            }
            Self::Double(d) => out.push_str(&format_double(*d)),
            Self::Char(c) => out.push(*c),
            Self::Str(s) => out.push_str(s),
            Self::List(_) => out.push_str("System.Collections.Generic.List`1[System.Object]"),
            Self::Dict(_) => {
                out.push_str("System.Collections.Generic.Dictionary`2[System.Object,System.Object]")
            }
            Self::Object(members) => {
                out.push_str("{ ");
                for (i, (name, value)) in members.lock().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(name);
                    out.push_str(" = ");
                    // Nested objects are written by their type, as .NET writes them: no
                    // recursion however deep a script nests them.
                    match value {
                        Self::Object(_) => out.push_str("{ … }"),
                        other => other.write_text(out),
                    }
                }
                out.push_str(" }");
            }
            Self::Builder(text) => out.push_str(&text.lock()),
            Self::Json(json) => match json.to_text(true) {
                Ok(text) => out.push_str(&text),
                Err(fault) => out.push_str(&fault),
            },
            Self::Lambda(_) => out.push_str("System.Func"),
            Self::Type(ty) => out.push_str(&ty.name),
            Self::Host(path) => out.push_str(path),
            Self::Property(property) => {
                let value = property
                    .object
                    .property(&property.name)
                    .unwrap_or(Json::Null);
                let written = serde_json::to_string(&*property.name).unwrap_or_default();
                out.push_str(&written);
                out.push_str(": ");
                match value.to_serde().map(|v| v.to_string()) {
                    Ok(text) => out.push_str(&text),
                    Err(fault) => out.push_str(&fault),
                }
            }
            Self::Pair(pair) => {
                out.push('[');
                for (i, part) in [&pair.0, &pair.1].into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    match part {
                        Self::Pair(_) | Self::Object(_) => out.push_str(part.type_name()),
                        other => other.write_text(out),
                    }
                }
                out.push(']');
            }
            Self::DateTime(date) => crate::dates::write_date(*date, out),
            Self::TimeSpan(ticks) => out.push_str(&crate::dates::span_text(*ticks)),
            Self::Guid(bytes) => out.push_str(&crate::guid::text(bytes)),
            Self::Native(native) => native.write_text(out),
        }
    }
}

/// A double as .NET's `ToString()` writes it: the shortest text that reads back the same,
/// `1E+20` style for large exponents, `NaN`, `∞`.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "∞" } else { "-∞" }.to_owned();
    }
    let abs = d.abs();
    if abs != 0.0 && !(1e-5..1e15).contains(&abs) {
        // Rust writes `1e20`; .NET `1E+20`.
        let text = format!("{d:e}");
        return match text.split_once('e') {
            Some((mantissa, exponent)) if exponent.starts_with('-') => {
                format!("{mantissa}E-{:0>2}", exponent.trim_start_matches('-'))
            }
            Some((mantissa, exponent)) => format!("{mantissa}E+{exponent:0>2}"),
            None => text,
        };
    }
    format!("{d}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dates, spans and guids are held inline without making every value larger.
    #[test]
    fn values_stay_three_words() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }

    #[test]
    fn text_as_dotnet_writes_it() {
        assert_eq!(Value::Bool(true).to_text(), "True");
        assert_eq!(Value::Double(1.5).to_text(), "1.5");
        assert_eq!(Value::Double(2.0).to_text(), "2");
        assert_eq!(Value::Double(1e20).to_text(), "1E+20");
        assert_eq!(Value::Double(1.5e-7).to_text(), "1.5E-07");
        assert_eq!(Value::Null.to_text(), "");
    }

    /// A million levels of nesting are freed in a loop: on a 256 KiB stack, where freeing
    /// them by recursion would overflow many times over.
    #[test]
    fn deep_structures_drop_without_recursion() {
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| {
                let mut list = Value::list(Vec::new());
                let mut json = Json::Array(Shared::new(Vec::new()));
                for _ in 0..1_000_000 {
                    list = Value::list(vec![list]);
                    json = Json::Object(Shared::new(vec![("a".into(), json)]));
                }
                let pair = Value::Pair(Arc::new((list, Value::Json(json))));
                drop(pair);
            })
            .unwrap()
            .join()
            .expect("no stack overflow");
    }

    #[test]
    fn shared_values_are_references() {
        let list = Value::list(vec![Value::Int(1)]);
        let alias = list.clone();
        if let Value::List(items) = &alias {
            items.lock().push(Value::Int(2));
        }
        let Value::List(items) = &list else { panic!() };
        assert_eq!(items.lock().len(), 2);
    }
}
