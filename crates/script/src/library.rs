//! The .NET library a script may call: the members of `string`, the numbers, `Math`,
//! `Convert`, `Encoding`, `Uri`, `StringBuilder`, `List<T>`, `Dictionary<K,V>`, LINQ's
//! `Enumerable` and Newtonsoft's JSON tokens — the types APIM's article lists, member by
//! member as policies use them. Every element a call visits costs a step of the budget and
//! every value it makes costs its bytes.

use crate::error::RunError;
use crate::interp::Interpreter;
use crate::json::Json;
use crate::members::text_arg as text;
use crate::members::{
    self, CallResult, Number, equals, fail, guard_insert, number, plain, to_index,
};
use crate::syntax::TypeName;
use crate::value::{Shared, Value, format_double};
use base64::Engine as _;
use std::sync::Arc;

type Args = Vec<Value>;

/// The argument at `i`, or a failure naming the method.
pub(crate) fn arg<'a>(
    args: &'a [Value],
    i: usize,
    method: &str,
    at: usize,
) -> Result<&'a Value, RunError> {
    args.get(i)
        .ok_or_else(|| fail(at, format!("{method} needs {} argument(s).", i + 1)))
}

pub(crate) fn int(value: &Value, at: usize) -> Result<i64, RunError> {
    match number(value) {
        Some(Number::Int(n)) => Ok(i64::from(n)),
        Some(Number::Long(n)) => Ok(n),
        _ => Err(fail(
            at,
            format!("expected a whole number, not {}.", value.type_name()),
        )),
    }
}

pub(crate) fn float(value: &Value, at: usize) -> Result<f64, RunError> {
    number(value)
        .map(Number::as_f64)
        .ok_or_else(|| fail(at, format!("expected a number, not {}.", value.type_name())))
}

pub(crate) fn string_value(
    interpreter: &mut Interpreter<'_>,
    s: String,
) -> Result<Value, RunError> {
    interpreter.budget.alloc(s.len())?;
    Ok(Value::str(s))
}

pub(crate) fn list_value(
    interpreter: &mut Interpreter<'_>,
    items: Vec<Value>,
) -> Result<Value, RunError> {
    interpreter.budget.alloc(items.len() * 16)?;
    Ok(Value::list(items))
}

/// Whether a `StringComparison` / `ignoreCase` argument asks to ignore case.
fn ignores_case(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        // StringComparison: CurrentCultureIgnoreCase 1, InvariantCultureIgnoreCase 3,
        // OrdinalIgnoreCase 5.
        Some(Value::Int(n)) => n % 2 == 1,
        _ => false,
    }
}

/// A character index of `s` as a byte index (C# counts UTF-16 units; scripts here count
/// characters, the same for all but astral characters).
fn byte_at(s: &str, chars: usize) -> Option<usize> {
    if chars == 0 {
        return Some(0);
    }
    s.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .nth(chars)
}

fn char_index(s: &str, byte: usize) -> i32 {
    s.get(..byte).map_or(-1, |p| p.chars().count() as i32)
}

/// A JSON property as scripts see it (`.Name`, `.Value`).
pub fn property(name: &Arc<str>, value: Json) -> Value {
    Value::Pair(Arc::new((Value::Str(name.clone()), Value::Json(value))))
}

/// The property `name` of the object `object`, by reference.
fn property_ref(object: &Json, name: &Arc<str>) -> Value {
    Value::Property(Arc::new(crate::value::PropertyRef {
        object: object.clone(),
        name: name.clone(),
    }))
}

/// A value as a JSON token (`JObject.Add`, `obj["x"] = value`, `JObject.FromObject`).
pub fn to_json(
    interpreter: &mut Interpreter<'_>,
    value: Value,
    at: usize,
) -> Result<Json, RunError> {
    to_json_at(interpreter, value, at, 0)
}

fn to_json_at(
    interpreter: &mut Interpreter<'_>,
    value: Value,
    at: usize,
    depth: usize,
) -> Result<Json, RunError> {
    if depth > crate::json::MAX_JSON_DEPTH {
        return Err(fail(
            at,
            format!(
                "the value nests more than {} levels deep to be JSON.",
                crate::json::MAX_JSON_DEPTH
            ),
        ));
    }
    interpreter.budget.alloc(32)?;
    Ok(match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(b),
        Value::Int(n) => Json::Int(i64::from(n)),
        Value::Long(n) => Json::Int(n),
        Value::Double(d) => Json::Float(d),
        Value::Char(c) => Json::Str(c.to_string().into()),
        Value::Str(s) => Json::Str(s),
        Value::Json(json) => json,
        Value::Builder(b) => Json::Str(b.lock().as_str().into()),
        Value::List(items) => {
            let items = items.lock().clone();
            let mut tokens = Vec::with_capacity(items.len());
            for item in items {
                tokens.push(to_json_at(interpreter, item, at, depth + 1)?);
            }
            Json::Array(Shared::new(tokens))
        }
        Value::Dict(pairs) => {
            let pairs = pairs.lock().clone();
            let mut members = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                members.push((
                    Arc::from(k.to_text()),
                    to_json_at(interpreter, v, at, depth + 1)?,
                ));
            }
            Json::Object(Shared::new(members))
        }
        Value::Object(fields) => {
            let fields = fields.lock().clone();
            let mut members = Vec::with_capacity(fields.len());
            for (k, v) in fields {
                members.push((Arc::from(&*k), to_json_at(interpreter, v, at, depth + 1)?));
            }
            Json::Object(Shared::new(members))
        }
        Value::Pair(pair) => {
            let name = Arc::from(pair.0.to_text());
            let value = to_json_at(interpreter, pair.1.clone(), at, depth + 1)?;
            Json::Object(Shared::new(vec![(name, value)]))
        }
        Value::Property(property) => {
            let value = property
                .object
                .property(&property.name)
                .unwrap_or(Json::Null);
            Json::Object(Shared::new(vec![(property.name.clone(), value)]))
        }
        other => match crate::native::json_text(&other) {
            Some(text) => {
                interpreter.budget.alloc(text.len())?;
                Json::Str(text.into())
            }
            None => {
                return Err(fail(
                    at,
                    format!("{} cannot be written as JSON.", other.type_name()),
                ));
            }
        },
    })
}

/// A JSON token as the value C# code works with when it converts one (`(string)token`).
fn json_to_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Int(n) => i32::try_from(*n).map_or(Value::Long(*n), Value::Int),
        Json::Float(f) => Value::Double(*f),
        Json::Str(s) => Value::Str(s.clone()),
        _ => Value::Json(json.clone()),
    }
}

// ---- properties ----------------------------------------------------------------------------

pub fn property_of(
    interpreter: &mut Interpreter<'_>,
    target: &Value,
    name: &str,
    at: usize,
) -> Result<Option<Value>, RunError> {
    Ok(Some(match (target, name) {
        (Value::Str(s), "Length") => Value::Int(s.chars().count() as i32),
        (Value::List(items), "Count" | "Length") => Value::Int(items.lock().len() as i32),
        (Value::Dict(pairs), "Count") => Value::Int(pairs.lock().len() as i32),
        (Value::Dict(pairs), "Keys") => {
            Value::list(pairs.lock().iter().map(|(k, _)| k.clone()).collect())
        }
        (Value::Dict(pairs), "Values") => {
            Value::list(pairs.lock().iter().map(|(_, v)| v.clone()).collect())
        }
        (Value::Builder(b), "Length") => Value::Int(b.lock().chars().count() as i32),
        (Value::Pair(pair), "Key" | "Name") => pair.0.clone(),
        (Value::Pair(pair), "Value") => pair.1.clone(),
        (Value::Property(property), "Name") => Value::Str(property.name.clone()),
        (Value::Property(property), "Value") => property
            .object
            .property(&property.name)
            .map_or(Value::Null, Value::Json),
        (Value::Json(Json::Array(items)), "Count") => Value::Int(items.lock().len() as i32),
        (Value::Json(Json::Object(members)), "Count") => Value::Int(members.lock().len() as i32),
        (Value::Json(json), "HasValues") => Value::Bool(match json {
            Json::Array(items) => !items.lock().is_empty(),
            Json::Object(members) => !members.lock().is_empty(),
            _ => false,
        }),
        (Value::Json(json), "Type") => Value::str(match json {
            Json::Null => "Null",
            Json::Bool(_) => "Boolean",
            Json::Int(_) => "Integer",
            Json::Float(_) => "Float",
            Json::Str(_) => "String",
            Json::Array(_) => "Array",
            Json::Object(_) => "Object",
        }),
        (Value::Json(json), "Value") => json_to_value(json),
        (Value::Json(Json::Array(items)), "First") => items
            .lock()
            .first()
            .cloned()
            .map_or(Value::Null, Value::Json),
        (Value::Json(Json::Array(items)), "Last") => items
            .lock()
            .last()
            .cloned()
            .map_or(Value::Null, Value::Json),
        (Value::Object(fields), _) => match fields.lock().iter().find(|(n, _)| &**n == name) {
            Some((_, v)) => v.clone(),
            None => return Ok(None),
        },
        (Value::DateTime(_) | Value::TimeSpan(_) | Value::Guid(_) | Value::Native(_), _) => {
            return crate::native::property(interpreter, target, name, at);
        }
        // `int?` and the other nullable value types, when they hold a value.
        (
            Value::Int(_) | Value::Long(_) | Value::Double(_) | Value::Bool(_) | Value::Char(_),
            _,
        ) if name == "HasValue" => Value::Bool(true),
        (
            Value::Int(_) | Value::Long(_) | Value::Double(_) | Value::Bool(_) | Value::Char(_),
            _,
        ) if name == "Value" => target.clone(),
        (Value::Type(ty), _) => {
            if let Some(value) = crate::native::static_property(interpreter, ty, name, at)? {
                return Ok(Some(value));
            }
            return static_property(ty, name, at).map(Some);
        }
        _ => return Ok(None),
    }))
}

fn static_property(ty: &TypeName, name: &str, at: usize) -> Result<Value, RunError> {
    Ok(match (&*ty.name, name) {
        ("string" | "String", "Empty") => Value::str(""),
        ("Encoding", "UTF8" | "Unicode" | "ASCII" | "Default") => {
            Value::Type(Arc::new(TypeName::simple(if name == "ASCII" {
                "ASCII"
            } else {
                "UTF8"
            })))
        }
        ("Formatting", "None") => Value::Int(0),
        ("Formatting", "Indented") => Value::Int(1),
        ("SaveOptions", "None") => Value::Int(0),
        ("SaveOptions", "DisableFormatting") => Value::Int(1),
        ("Math", "PI") => Value::Double(std::f64::consts::PI),
        ("Math", "E") => Value::Double(std::f64::consts::E),
        ("int" | "Int32", "MaxValue") => Value::Int(i32::MAX),
        ("int" | "Int32", "MinValue") => Value::Int(i32::MIN),
        ("long" | "Int64", "MaxValue") => Value::Long(i64::MAX),
        ("long" | "Int64", "MinValue") => Value::Long(i64::MIN),
        ("StringComparison", "Ordinal") => Value::Int(4),
        ("StringComparison", "OrdinalIgnoreCase") => Value::Int(5),
        ("StringComparison", "CurrentCulture") => Value::Int(0),
        ("StringComparison", "CurrentCultureIgnoreCase") => Value::Int(1),
        ("StringComparison", "InvariantCulture") => Value::Int(2),
        ("StringComparison", "InvariantCultureIgnoreCase") => Value::Int(3),
        ("StringSplitOptions", "None") => Value::Int(0),
        ("StringSplitOptions", "RemoveEmptyEntries") => Value::Int(1),
        _ => return Err(fail(at, format!("{} has no member '{name}'.", ty.name))),
    })
}

// ---- constructors --------------------------------------------------------------------------

pub fn construct(
    interpreter: &mut Interpreter<'_>,
    ty: &TypeName,
    args: Args,
    at: usize,
) -> Result<Value, RunError> {
    interpreter.budget.alloc(64)?;
    if let Some(value) = crate::native::construct(interpreter, ty, &args, at)? {
        return Ok(value);
    }
    Ok(match &*ty.name {
        "List" | "HashSet" => match args.into_iter().next() {
            Some(source @ (Value::List(_) | Value::Json(Json::Array(_)) | Value::Dict(_))) => {
                let items = members::items(interpreter, source, at)?;
                list_value(interpreter, items)?
            }
            _ => Value::list(Vec::new()),
        },
        "Dictionary" => Value::Dict(Shared::new(Vec::new())),
        "StringBuilder" => {
            let initial = match args.first() {
                Some(Value::Str(s)) => s.to_string(),
                _ => String::new(),
            };
            Value::Builder(Shared::new(initial))
        }
        "JObject" => {
            let object = Json::Object(Shared::new(Vec::new()));
            for arg in args {
                add_to_json(interpreter, &object, arg, at)?;
            }
            Value::Json(object)
        }
        "JArray" => {
            let array = Json::Array(Shared::new(Vec::new()));
            for arg in args {
                match arg {
                    Value::List(_) => {
                        for item in members::items(interpreter, arg, at)? {
                            add_to_json(interpreter, &array, item, at)?;
                        }
                    }
                    other => add_to_json(interpreter, &array, other, at)?,
                }
            }
            Value::Json(array)
        }
        "JProperty" => {
            let name = text(arg(&args, 0, "new JProperty", at)?, at)?;
            let value = to_json(interpreter, args.get(1).cloned().unwrap_or(Value::Null), at)?;
            property(&name, value)
        }
        "JValue" => Value::Json(to_json(
            interpreter,
            args.into_iter().next().unwrap_or(Value::Null),
            at,
        )?),
        "Exception" | "InvalidOperationException" | "ArgumentException" => {
            members::exception(&args.first().map(Value::to_text).unwrap_or_default())
        }
        "string" | "String" => {
            // new string(c, count)
            let c = match args.first() {
                Some(Value::Char(c)) => *c,
                _ => return Err(fail(at, "new string needs a character and a count.")),
            };
            let count = usize::try_from(int(arg(&args, 1, "new string", at)?, at)?).unwrap_or(0);
            interpreter.budget.alloc(count)?;
            Value::str(std::iter::repeat_n(c, count).collect::<String>())
        }
        other => {
            return Err(fail(
                at,
                format!("'new {other}' is not allowed in policy expressions."),
            ));
        }
    })
}

/// `JObject.Add` / `JArray.Add` of any value.
fn add_to_json(
    interpreter: &mut Interpreter<'_>,
    container: &Json,
    value: Value,
    at: usize,
) -> Result<(), RunError> {
    // A property of another object adds as its name and current value.
    let value = match value {
        Value::Property(property) => {
            let current = property
                .object
                .property(&property.name)
                .map_or(Value::Null, Value::Json);
            Value::Pair(Arc::new((Value::Str(property.name.clone()), current)))
        }
        other => other,
    };
    match container {
        Json::Object(members) => match value {
            Value::Pair(pair) => {
                let name = pair.0.to_text();
                let token = to_json(interpreter, pair.1.clone(), at)?;
                guard_insert(interpreter, members.id(), &Value::Json(token.clone()), at)?;
                let mut members = members.lock();
                if members.iter().any(|(k, _)| **k == *name) {
                    return Err(fail(
                        at,
                        format!(
                            "Can not add property {name} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object."
                        ),
                    ));
                }
                members.push((name.into(), token));
                Ok(())
            }
            other => Err(fail(
                at,
                format!(
                    "Can not add {} to JObject: add a JProperty.",
                    other.type_name()
                ),
            )),
        },
        Json::Array(items) => {
            let token = to_json(interpreter, value, at)?;
            guard_insert(interpreter, items.id(), &Value::Json(token.clone()), at)?;
            items.lock().push(token);
            Ok(())
        }
        _ => Err(fail(at, "Can not add a value to a JValue.")),
    }
}

// ---- static methods ------------------------------------------------------------------------

pub fn static_call(
    interpreter: &mut Interpreter<'_>,
    ty: &TypeName,
    name: &str,
    type_args: &[TypeName],
    args: Args,
    at: usize,
) -> CallResult {
    if let Some(outcome) = crate::native::static_call(interpreter, ty, name, &args, at)? {
        return Ok(outcome);
    }
    let a = |i: usize| arg(&args, i, name, at);
    let value = match (&*ty.name, name) {
        ("string" | "String", "IsNullOrEmpty") => Value::Bool(match a(0)? {
            Value::Null => true,
            v => text(v, at).is_ok_and(|s| s.is_empty()),
        }),
        ("string" | "String", "IsNullOrWhiteSpace") => Value::Bool(match a(0)? {
            Value::Null => true,
            v => text(v, at).is_ok_and(|s| s.trim().is_empty()),
        }),
        ("string" | "String", "Join") => {
            let separator = a(0)?.to_text();
            let items = if args.len() == 2 {
                members::items(interpreter, a(1)?.clone(), at)?
            } else {
                args.get(1..).unwrap_or_default().to_vec()
            };
            let joined = items
                .iter()
                .map(Value::to_text)
                .collect::<Vec<_>>()
                .join(&separator);
            string_value(interpreter, joined)?
        }
        ("string" | "String", "Concat") => {
            let items = if args.len() == 1 && matches!(args.first(), Some(Value::List(_))) {
                members::items(interpreter, a(0)?.clone(), at)?
            } else {
                args.clone()
            };
            let joined: String = items.iter().map(Value::to_text).collect();
            string_value(interpreter, joined)?
        }
        ("string" | "String", "Format") => {
            let format = text(a(0)?, at)?;
            let formatted = composite_format(&format, args.get(1..).unwrap_or_default(), at)?;
            string_value(interpreter, formatted)?
        }
        ("string" | "String", "Equals") => {
            let (x, y) = (a(0)?, a(1)?);
            Value::Bool(if ignores_case(args.get(2)) {
                x.to_text().to_lowercase() == y.to_text().to_lowercase()
            } else {
                equals(x, y)
            })
        }
        ("string" | "String", "Compare") => {
            let (mut x, mut y) = (a(0)?.to_text(), a(1)?.to_text());
            if ignores_case(args.get(2)) {
                x = x.to_lowercase();
                y = y.to_lowercase();
            }
            Value::Int(match x.cmp(&y) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            })
        }
        (
            "int" | "Int32" | "long" | "Int64" | "double" | "Double" | "bool" | "Boolean"
            | "decimal" | "Decimal",
            "Parse",
        ) => {
            let s = text(a(0)?, at)?;
            parse_number(&ty.name, s.trim()).ok_or_else(|| {
                fail(
                    at,
                    format!("Input string '{s}' was not in a correct format."),
                )
            })?
        }
        (
            "int" | "Int32" | "long" | "Int64" | "double" | "Double" | "bool" | "Boolean"
            | "decimal" | "Decimal",
            "TryParse",
        ) => {
            let parsed = match a(0)? {
                Value::Null => None,
                v => parse_number(&ty.name, v.to_text().trim()),
            };
            let ok = parsed.is_some();
            let out = parsed.unwrap_or_else(|| members::default_of(ty));
            return Ok((Value::Bool(ok), vec![None, Some(out)]));
        }
        ("Math", _) => math(name, &args, at)?,
        ("Convert", _) => convert(interpreter, name, &args, at)?,
        ("UTF8" | "ASCII", "GetBytes") => {
            let s = text(a(0)?, at)?;
            crate::crypto::bytes_value(interpreter, &crate::crypto::encode(&ty.name, &s))?
        }
        ("UTF8" | "ASCII", "GetString") => {
            let bytes = byte_list(interpreter, a(0)?.clone(), at)?;
            string_value(interpreter, crate::crypto::decode(&ty.name, &bytes))?
        }
        // Newtonsoft's `JsonConvert.SerializeObject(value)`: the value as compact JSON text.
        ("JsonConvert", "SerializeObject") => {
            let json = to_json(interpreter, a(0)?.clone(), at)?;
            string_value(interpreter, json.to_text(false).map_err(|e| fail(at, e))?)?
        }
        ("Uri", "EscapeDataString") => {
            let s = text(a(0)?, at)?;
            let escaped =
                percent_encoding::utf8_percent_encode(&s, URI_UNRESERVED_COMPLEMENT).to_string();
            string_value(interpreter, escaped)?
        }
        ("Uri", "UnescapeDataString") => {
            let s = text(a(0)?, at)?;
            let decoded = percent_encoding::percent_decode_str(&s)
                .decode_utf8_lossy()
                .into_owned();
            string_value(interpreter, decoded)?
        }
        ("JObject" | "JToken" | "JArray", "Parse") => {
            let s = text(a(0)?, at)?;
            interpreter.budget.alloc(s.len() * 2)?;
            let json = Json::parse(&s).map_err(|e| fail(at, e))?;
            let wanted = &*ty.name;
            if (wanted == "JObject" && !matches!(json, Json::Object(_)))
                || (wanted == "JArray" && !matches!(json, Json::Array(_)))
            {
                return Err(fail(
                    at,
                    format!(
                        "Error reading {wanted} from JsonReader: the text is a {}.",
                        json.type_name()
                    ),
                ));
            }
            Value::Json(json)
        }
        ("JObject" | "JToken", "FromObject") => {
            Value::Json(to_json(interpreter, a(0)?.clone(), at)?)
        }
        ("Enumerable", "Range") => {
            let start = int(a(0)?, at)?;
            let count = usize::try_from(int(a(1)?, at)?).unwrap_or(0);
            interpreter.budget.steps(count)?;
            let items = (0..count as i64)
                .map(|i| Value::Int((start + i) as i32))
                .collect();
            list_value(interpreter, items)?
        }
        ("Enumerable", "Repeat") => {
            let count = usize::try_from(int(a(1)?, at)?).unwrap_or(0);
            interpreter.budget.steps(count)?;
            let items = vec![a(0)?.clone(); count];
            list_value(interpreter, items)?
        }
        ("Enumerable", "Empty") => Value::list(Vec::new()),
        ("Enumerable", _) if !args.is_empty() => {
            // `Enumerable.Where(items, …)`: the extension method called statically.
            let mut args = args;
            let target = args.remove(0);
            return method(interpreter, target, name, type_args, args, at);
        }
        _ => {
            return Err(fail(
                at,
                format!("{}.{name} is not allowed in policy expressions.", ty.name),
            ));
        }
    };
    plain(value)
}

/// Characters `Uri.EscapeDataString` leaves as they are: RFC 3986's unreserved set.
const URI_UNRESERVED_COMPLEMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn parse_number(type_name: &str, s: &str) -> Option<Value> {
    match type_name {
        "int" | "Int32" => s.parse::<i32>().ok().map(Value::Int),
        "long" | "Int64" => s.parse::<i64>().ok().map(Value::Long),
        "double" | "Double" | "decimal" | "Decimal" => s.parse::<f64>().ok().map(Value::Double),
        "bool" | "Boolean" => match s.to_ascii_lowercase().as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    }
}

pub(crate) fn byte_list(
    interpreter: &mut Interpreter<'_>,
    value: Value,
    at: usize,
) -> Result<Vec<u8>, RunError> {
    members::items(interpreter, value, at)?
        .iter()
        .map(|b| match number(b) {
            Some(Number::Int(n)) => u8::try_from(n).map_err(|_| fail(at, "a byte is 0 to 255.")),
            _ => Err(fail(at, "expected a byte array.")),
        })
        .collect()
}

fn math(name: &str, args: &[Value], at: usize) -> Result<Value, RunError> {
    let a = |i: usize| arg(args, i, name, at);
    let all_ints = args.iter().all(|v| matches!(v, Value::Int(_)));
    let all_whole = args
        .iter()
        .all(|v| matches!(v, Value::Int(_) | Value::Long(_)));
    Ok(match name {
        "Abs" => match a(0)? {
            Value::Int(n) => Value::Int(n.wrapping_abs()),
            Value::Long(n) => Value::Long(n.wrapping_abs()),
            v => Value::Double(float(v, at)?.abs()),
        },
        "Max" | "Min" => {
            let (x, y) = (a(0)?, a(1)?);
            let pick_first = if name == "Max" {
                float(x, at)? >= float(y, at)?
            } else {
                float(x, at)? <= float(y, at)?
            };
            let chosen = if pick_first { x } else { y };
            if all_ints || all_whole {
                if all_ints {
                    chosen.clone()
                } else {
                    Value::Long(int(chosen, at)?)
                }
            } else {
                Value::Double(float(chosen, at)?)
            }
        }
        "Floor" => Value::Double(float(a(0)?, at)?.floor()),
        "Ceiling" => Value::Double(float(a(0)?, at)?.ceil()),
        "Truncate" => Value::Double(float(a(0)?, at)?.trunc()),
        "Sqrt" => Value::Double(float(a(0)?, at)?.sqrt()),
        "Pow" => Value::Double(float(a(0)?, at)?.powf(float(a(1)?, at)?)),
        "Log" => Value::Double(float(a(0)?, at)?.ln()),
        "Log10" => Value::Double(float(a(0)?, at)?.log10()),
        "Sign" => Value::Int(match float(a(0)?, at)? {
            x if x > 0.0 => 1,
            x if x < 0.0 => -1,
            _ => 0,
        }),
        "Round" => {
            let x = float(a(0)?, at)?;
            let digits = match args.get(1) {
                Some(d) => int(d, at)?.clamp(0, 15) as i32,
                None => 0,
            };
            // .NET rounds half to even by default.
            let scale = 10f64.powi(digits);
            Value::Double(round_half_even(x * scale) / scale)
        }
        _ => {
            return Err(fail(
                at,
                format!("Math.{name} is not allowed in policy expressions."),
            ));
        }
    })
}

fn round_half_even(x: f64) -> f64 {
    let rounded = x.round();
    if (x - x.trunc()).abs() == 0.5 && rounded % 2.0 != 0.0 {
        rounded - x.signum()
    } else {
        rounded
    }
}

fn convert(
    interpreter: &mut Interpreter<'_>,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Value, RunError> {
    let a = |i: usize| arg(args, i, name, at);
    Ok(match name {
        "ToBase64String" => {
            let bytes = byte_list(interpreter, a(0)?.clone(), at)?;
            string_value(
                interpreter,
                base64::engine::general_purpose::STANDARD.encode(bytes),
            )?
        }
        "FromBase64String" => {
            let s = text(a(0)?, at)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .map_err(|_| fail(at, "The input is not a valid Base-64 string."))?;
            let items = bytes
                .into_iter()
                .map(|b| Value::Int(i32::from(b)))
                .collect();
            list_value(interpreter, items)?
        }
        "ToString" => string_value(interpreter, a(0)?.to_text())?,
        "ToInt32" | "ToInt64" | "ToDouble" | "ToBoolean" | "ToDecimal" => {
            let target = match name {
                "ToInt32" => "int",
                "ToInt64" => "long",
                "ToBoolean" => "bool",
                _ => "double",
            };
            match a(0)? {
                Value::Null => members::default_of(&TypeName::simple(target)),
                v @ (Value::Str(_) | Value::Json(Json::Str(_))) => {
                    let s = v.to_text();
                    parse_number(target, s.trim()).ok_or_else(|| {
                        fail(
                            at,
                            format!("Input string '{s}' was not in a correct format."),
                        )
                    })?
                }
                Value::Double(d) if target == "int" => Value::Int(round_half_even(*d) as i32),
                Value::Double(d) if target == "long" => Value::Long(round_half_even(*d) as i64),
                Value::Bool(b) if target != "bool" => {
                    parse_number(target, if *b { "1" } else { "0" }).unwrap_or(Value::Null)
                }
                v => members::cast(interpreter, v.clone(), &TypeName::simple(target), at)?,
            }
        }
        _ => {
            return Err(fail(
                at,
                format!("Convert.{name} is not allowed in policy expressions."),
            ));
        }
    })
}

/// `string.Format("{0} and {1:N2}", a, b)`.
fn composite_format(format: &str, args: &[Value], at: usize) -> Result<String, RunError> {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut spec = String::new();
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    spec.push(c);
                }
                let (head, fmt) = spec
                    .split_once(':')
                    .map_or((spec.as_str(), None), |(h, f)| (h, Some(f)));
                let (index, align) = head
                    .split_once(',')
                    .map_or((head, None), |(i, a)| (i, a.trim().parse::<i64>().ok()));
                let index: usize = index
                    .trim()
                    .parse()
                    .map_err(|_| fail(at, "Input string was not in a correct format."))?;
                let value = args.get(index).ok_or_else(|| {
                    fail(
                        at,
                        "Index (zero based) must be less than the size of the argument list.",
                    )
                })?;
                let text = match fmt {
                    Some(f) => members::format_value(value, f, at)?,
                    None => value.to_text(),
                };
                members::pad_into(&mut out, &text, align);
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// .NET's standard numeric formats (`N2`, `F1`, `D3`, `X`, `P0`, `G`) and simple custom
/// ones (`0.00`, `#.##`, `000`).
pub fn format(value: &Value, format: &str) -> Option<String> {
    if let Some(text) = crate::native::format(value, format) {
        return text;
    }
    let n = number(value)?;
    let mut chars = format.chars();
    let kind = chars.next()?;
    let precision: Option<usize> = {
        let rest: String = chars.collect();
        if rest.is_empty() {
            None
        } else {
            rest.parse().ok()
        }
    };
    let whole = matches!(n, Number::Int(_) | Number::Long(_));
    let x = n.as_f64();
    Some(match kind.to_ascii_uppercase() {
        'N' if format.len() <= 3 => group_thousands(&format!("{:.*}", precision.unwrap_or(2), x)),
        'F' if format.len() <= 3 => format!("{:.*}", precision.unwrap_or(2), x),
        'P' if format.len() <= 3 => format!("{:.*} %", precision.unwrap_or(2), x * 100.0),
        'D' if whole && format.len() <= 3 => {
            let digits = format!("{}", x.abs() as i128);
            let padded = format!("{digits:0>width$}", width = precision.unwrap_or(0));
            if x < 0.0 {
                format!("-{padded}")
            } else {
                padded
            }
        }
        'X' if whole && format.len() <= 3 => {
            let v = match n {
                Number::Int(i) => format!("{:x}", i as u32),
                Number::Long(l) => format!("{l:x}"),
                Number::Double(_) => return None,
            };
            let v = format!("{v:0>width$}", width = precision.unwrap_or(0));
            if kind == 'X' { v.to_uppercase() } else { v }
        }
        'G' if format.len() <= 3 => match n {
            Number::Double(d) => format_double(d),
            _ => value.to_text(),
        },
        _ if format.chars().all(|c| matches!(c, '0' | '#' | '.' | ',')) => {
            let decimals = format.split_once('.').map_or(0, |(_, d)| d.len());
            let min_decimals = format
                .split_once('.')
                .map_or(0, |(_, d)| d.chars().filter(|c| *c == '0').count());
            let mut s = format!("{x:.decimals$}");
            if decimals > min_decimals && s.contains('.') {
                while s.ends_with('0')
                    && s.split_once('.')
                        .is_some_and(|(_, d)| d.len() > min_decimals)
                {
                    s.pop();
                }
                if s.ends_with('.') {
                    s.pop();
                }
            }
            let int_zeros = format
                .split('.')
                .next()
                .map_or(0, |i| i.chars().filter(|c| *c == '0').count());
            let (int_part, rest) = s
                .split_once('.')
                .map_or((s.clone(), String::new()), |(i, d)| {
                    (i.to_owned(), format!(".{d}"))
                });
            let negative = int_part.starts_with('-');
            let digits = int_part.trim_start_matches('-');
            let digits = format!("{digits:0>int_zeros$}");
            let digits = if format.contains(',') {
                group_thousands(&digits)
            } else {
                digits
            };
            format!("{}{digits}{rest}", if negative { "-" } else { "" })
        }
        _ => return None,
    })
}

fn group_thousands(number: &str) -> String {
    let (int_part, rest) = number.split_once('.').map_or((number, ""), |(i, d)| (i, d));
    let negative = int_part.starts_with('-');
    let digits: Vec<char> = int_part.trim_start_matches('-').chars().collect();
    let mut out = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(*c);
    }
    let sign = if negative { "-" } else { "" };
    if rest.is_empty() {
        format!("{sign}{out}")
    } else {
        format!("{sign}{out}.{rest}")
    }
}

// ---- instance methods ----------------------------------------------------------------------

pub fn method(
    interpreter: &mut Interpreter<'_>,
    target: Value,
    name: &str,
    type_args: &[TypeName],
    args: Args,
    at: usize,
) -> CallResult {
    if let Some(outcome) = crate::native::method(interpreter, &target, name, &args, at)? {
        return Ok(outcome);
    }
    match &target {
        Value::Str(s) => {
            if let Some(value) = string_method(interpreter, s, name, &args, at)? {
                return plain(value);
            }
            if let Some(outcome) = crate::jwt::string_extension(interpreter, s, name, at)? {
                return Ok(outcome);
            }
        }
        Value::Property(property) if name == "Remove" => {
            // `obj.Property("a").Remove()`: out of its object.
            if let Json::Object(members) = &property.object {
                members.lock().retain(|(key, _)| **key != *property.name);
            }
            return plain(Value::Null);
        }
        Value::Builder(b) => {
            if let Some(value) = builder_method(interpreter, &target, b, name, &args, at)? {
                return plain(value);
            }
        }
        Value::List(list) => {
            if let Some(value) = list_method(interpreter, list, name, &args, at)? {
                return plain(value);
            }
        }
        Value::Dict(dict) => {
            if name == "TryGetValue" {
                let key = arg(&args, 0, name, at)?;
                let found = dict
                    .lock()
                    .iter()
                    .find(|(k, _)| equals(k, key))
                    .map(|(_, v)| v.clone());
                return Ok((
                    Value::Bool(found.is_some()),
                    vec![None, Some(found.unwrap_or(Value::Null))],
                ));
            }
            if let Some(value) = dict_method(interpreter, dict, name, &args, at)? {
                return plain(value);
            }
        }
        Value::Json(json) => {
            if name == "TryGetValue" {
                let key = text(arg(&args, 0, name, at)?, at)?;
                let found = json.property(&key);
                return Ok((
                    Value::Bool(found.is_some()),
                    vec![None, Some(found.map_or(Value::Null, Value::Json))],
                ));
            }
            if let Some(value) = json_method(interpreter, json, name, type_args, &args, at)? {
                return plain(value);
            }
        }
        _ => {}
    }
    if let Some(value) = common_method(interpreter, &target, name, &args, at)? {
        return plain(value);
    }
    if let Some(value) = crate::linq::call(interpreter, &target, name, &args, at)? {
        return plain(value);
    }
    Err(fail(
        at,
        format!(
            "{} has no method '{name}' in policy expressions.",
            target.type_name()
        ),
    ))
}

/// Methods every value has.
fn common_method(
    interpreter: &mut Interpreter<'_>,
    target: &Value,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    Ok(Some(match name {
        "ToString" => match (target, args.first()) {
            (Value::Json(json), Some(formatting)) => {
                let indented = !matches!(formatting, Value::Int(0));
                let text = json.to_text(indented).map_err(|e| fail(at, e))?;
                string_value(interpreter, text)?
            }
            (_, Some(Value::Str(format))) => {
                string_value(interpreter, members::format_value(target, format, at)?)?
            }
            (Value::Json(json), None) => {
                let text = json.to_text(true).map_err(|e| fail(at, e))?;
                string_value(interpreter, text)?
            }
            _ => string_value(interpreter, target.to_text())?,
        },
        "Equals" => Value::Bool(equals(target, arg(args, 0, name, at)?)),
        "GetType" => Value::Type(Arc::new(TypeName::simple(target.type_name()))),
        "CompareTo" => {
            let other = arg(args, 0, name, at)?;
            let ordering = match (number(target), number(other)) {
                (Some(a), Some(b)) => a.as_f64().partial_cmp(&b.as_f64()),
                _ => crate::dates::compare(target, other)
                    .or_else(|| Some(target.to_text().cmp(&other.to_text()))),
            };
            Value::Int(match ordering {
                Some(std::cmp::Ordering::Less) => -1,
                Some(std::cmp::Ordering::Greater) => 1,
                _ => 0,
            })
        }
        _ => return Ok(None),
    }))
}

fn string_method(
    interpreter: &mut Interpreter<'_>,
    s: &Arc<str>,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    let a = |i: usize| arg(args, i, name, at);
    let fold = |x: &str, ignore: bool| {
        if ignore {
            x.to_lowercase()
        } else {
            x.to_owned()
        }
    };
    Ok(Some(match name {
        "ToUpper" | "ToUpperInvariant" => string_value(interpreter, s.to_uppercase())?,
        "ToLower" | "ToLowerInvariant" => string_value(interpreter, s.to_lowercase())?,
        "Trim" | "TrimStart" | "TrimEnd" => {
            let set: Vec<char> = args
                .iter()
                .flat_map(|v| match v {
                    Value::Char(c) => vec![*c],
                    other => other.to_text().chars().collect(),
                })
                .collect();
            let keep = |c: char| {
                if set.is_empty() {
                    c.is_whitespace()
                } else {
                    set.contains(&c)
                }
            };
            let trimmed = match name {
                "Trim" => s.trim_matches(keep),
                "TrimStart" => s.trim_start_matches(keep),
                _ => s.trim_end_matches(keep),
            };
            Value::str(trimmed)
        }
        "Contains" | "StartsWith" | "EndsWith" => {
            let needle = text(a(0)?, at)?;
            let ignore = ignores_case(args.get(1));
            let (hay, needle) = (fold(s, ignore), fold(&needle, ignore));
            Value::Bool(match name {
                "Contains" => hay.contains(&needle),
                "StartsWith" => hay.starts_with(&needle),
                _ => hay.ends_with(&needle),
            })
        }
        "IndexOf" | "LastIndexOf" => {
            let needle = text(a(0)?, at)?;
            let ignore = ignores_case(args.get(1));
            let (hay, needle) = (fold(s, ignore), fold(&needle, ignore));
            let found = if name == "IndexOf" {
                hay.find(&needle)
            } else {
                hay.rfind(&needle)
            };
            Value::Int(found.map_or(-1, |b| char_index(&hay, b)))
        }
        "Substring" => {
            let start = usize::try_from(int(a(0)?, at)?)
                .map_err(|_| fail(at, "startIndex cannot be negative."))?;
            let from = byte_at(s, start)
                .ok_or_else(|| fail(at, "startIndex cannot be larger than length of string."))?;
            let rest = s.get(from..).unwrap_or_default();
            let taken = match args.get(1) {
                Some(length) => {
                    let length = usize::try_from(int(length, at)?)
                        .map_err(|_| fail(at, "Length cannot be less than zero."))?;
                    let to = byte_at(rest, length).ok_or_else(|| {
                        fail(
                            at,
                            "Index and length must refer to a location within the string.",
                        )
                    })?;
                    rest.get(..to).unwrap_or_default()
                }
                None => rest,
            };
            Value::str(taken)
        }
        "Replace" => {
            let from = text(a(0)?, at)?;
            if from.is_empty() {
                return Err(fail(at, "String cannot be of zero length."));
            }
            let to = match a(1)? {
                Value::Null => String::new(),
                v => v.to_text(),
            };
            string_value(interpreter, s.replace(&*from, &to))?
        }
        "Split" => {
            let separators: Vec<String> = args
                .iter()
                .filter(|v| !matches!(v, Value::Int(_)))
                .flat_map(|v| match v {
                    Value::Char(c) => vec![c.to_string()],
                    Value::List(items) => items.lock().iter().map(Value::to_text).collect(),
                    other => vec![other.to_text()],
                })
                .collect();
            let remove_empty = args.iter().any(|v| matches!(v, Value::Int(1)));
            let mut parts = vec![s.to_string()];
            let separators = if separators.is_empty() {
                vec![" ".to_owned()]
            } else {
                separators
            };
            for separator in separators.iter().filter(|s| !s.is_empty()) {
                parts = parts
                    .iter()
                    .flat_map(|p| {
                        p.split(separator.as_str())
                            .map(str::to_owned)
                            .collect::<Vec<_>>()
                    })
                    .collect();
            }
            let items = parts
                .into_iter()
                .filter(|p| !remove_empty || !p.is_empty())
                .map(Value::str)
                .collect();
            list_value(interpreter, items)?
        }
        "PadLeft" | "PadRight" => {
            let width = usize::try_from(int(a(0)?, at)?).unwrap_or(0).min(1 << 20);
            let pad = match args.get(1) {
                Some(Value::Char(c)) => *c,
                _ => ' ',
            };
            let missing = width.saturating_sub(s.chars().count());
            interpreter.budget.alloc(missing + s.len())?;
            let padding: String = std::iter::repeat_n(pad, missing).collect();
            Value::str(if name == "PadLeft" {
                format!("{padding}{s}")
            } else {
                format!("{s}{padding}")
            })
        }
        "Insert" => {
            let index = to_index(a(0)?, at)?;
            let at_byte = byte_at(s, index).ok_or_else(|| fail(at, "Index was out of range."))?;
            let inserted = text(a(1)?, at)?;
            let mut out = s.to_string();
            out.insert_str(at_byte, &inserted);
            string_value(interpreter, out)?
        }
        "Remove" => {
            let start = to_index(a(0)?, at)?;
            let from = byte_at(s, start).ok_or_else(|| fail(at, "Index was out of range."))?;
            let to = match args.get(1) {
                Some(count) => {
                    from + byte_at(s.get(from..).unwrap_or_default(), to_index(count, at)?)
                        .ok_or_else(|| fail(at, "Index was out of range."))?
                }
                None => s.len(),
            };
            let mut out = s.to_string();
            out.replace_range(from..to, "");
            Value::str(out)
        }
        "ToCharArray" => list_value(interpreter, s.chars().map(Value::Char).collect())?,
        _ => return Ok(None),
    }))
}

fn builder_method(
    interpreter: &mut Interpreter<'_>,
    target: &Value,
    b: &Shared<String>,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    let addition = match name {
        "Append" => args.first().map(Value::to_text).unwrap_or_default(),
        "AppendLine" => format!("{}\n", args.first().map(Value::to_text).unwrap_or_default()),
        "AppendFormat" => {
            let format = text(arg(args, 0, name, at)?, at)?;
            composite_format(&format, args.get(1..).unwrap_or_default(), at)?
        }
        "Clear" => {
            b.lock().clear();
            return Ok(Some(target.clone()));
        }
        "ToString" => return Ok(Some(Value::str(b.lock().as_str()))),
        _ => return Ok(None),
    };
    interpreter.budget.alloc(addition.len())?;
    b.lock().push_str(&addition);
    Ok(Some(target.clone()))
}

fn list_method(
    interpreter: &mut Interpreter<'_>,
    list: &Shared<Vec<Value>>,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    let a = |i: usize| arg(args, i, name, at);
    Ok(Some(match name {
        "Add" => {
            interpreter.budget.alloc(16)?;
            guard_insert(interpreter, list.id(), a(0)?, at)?;
            list.lock().push(a(0)?.clone());
            Value::Null
        }
        "AddRange" => {
            let items = members::items(interpreter, a(0)?.clone(), at)?;
            interpreter.budget.alloc(items.len() * 16)?;
            for item in &items {
                guard_insert(interpreter, list.id(), item, at)?;
            }
            list.lock().extend(items);
            Value::Null
        }
        "Insert" => {
            let index = to_index(a(0)?, at)?;
            guard_insert(interpreter, list.id(), a(1)?, at)?;
            let mut list = list.lock();
            if index > list.len() {
                return Err(fail(at, "Index must be within the bounds of the List."));
            }
            list.insert(index, a(1)?.clone());
            Value::Null
        }
        "Remove" => {
            let item = a(0)?;
            let mut list = list.lock();
            let found = list.iter().position(|v| equals(v, item));
            if let Some(i) = found {
                list.remove(i);
            }
            Value::Bool(found.is_some())
        }
        "RemoveAt" => {
            let index = to_index(a(0)?, at)?;
            let mut list = list.lock();
            if index >= list.len() {
                return Err(fail(at, "Index was out of range."));
            }
            list.remove(index);
            Value::Null
        }
        "Clear" => {
            list.lock().clear();
            Value::Null
        }
        "IndexOf" => {
            let item = a(0)?;
            Value::Int(
                list.lock()
                    .iter()
                    .position(|v| equals(v, item))
                    .map_or(-1, |i| i as i32),
            )
        }
        _ => return Ok(None),
    }))
}

fn dict_method(
    interpreter: &mut Interpreter<'_>,
    dict: &Shared<Vec<(Value, Value)>>,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    let a = |i: usize| arg(args, i, name, at);
    Ok(Some(match name {
        "Add" => {
            let key = a(0)?.clone();
            guard_insert(interpreter, dict.id(), &key, at)?;
            guard_insert(interpreter, dict.id(), a(1)?, at)?;
            let mut dict = dict.lock();
            if dict.iter().any(|(k, _)| equals(k, &key)) {
                return Err(fail(
                    at,
                    format!(
                        "An item with the same key has already been added. Key: {}",
                        key.to_text()
                    ),
                ));
            }
            interpreter.budget.alloc(32)?;
            dict.push((key, a(1)?.clone()));
            Value::Null
        }
        "ContainsKey" => {
            let key = a(0)?;
            Value::Bool(dict.lock().iter().any(|(k, _)| equals(k, key)))
        }
        "GetValueOrDefault" => {
            let key = a(0)?;
            let found = dict
                .lock()
                .iter()
                .find(|(k, _)| equals(k, key))
                .map(|(_, v)| v.clone());
            found.unwrap_or_else(|| args.get(1).cloned().unwrap_or(Value::Null))
        }
        "ContainsValue" => {
            let value = a(0)?;
            Value::Bool(dict.lock().iter().any(|(_, v)| equals(v, value)))
        }
        "Remove" => {
            let key = a(0)?;
            let mut dict = dict.lock();
            let found = dict.iter().position(|(k, _)| equals(k, key));
            if let Some(i) = found {
                dict.remove(i);
            }
            Value::Bool(found.is_some())
        }
        "Clear" => {
            dict.lock().clear();
            Value::Null
        }
        // APIM's extension on form content (`Body.AsFormUrlEncodedContent()`): every key
        // with each of its values, `application/x-www-form-urlencoded`.
        "ToFormUrlEncodedContent" => {
            let mut out = String::new();
            for (key, values) in dict.lock().iter() {
                let values = match values {
                    Value::List(items) => items.lock().clone(),
                    other => vec![other.clone()],
                };
                for value in values {
                    if !out.is_empty() {
                        out.push('&');
                    }
                    out.extend(percent_encoding::utf8_percent_encode(
                        &key.to_text(),
                        URI_UNRESERVED_COMPLEMENT,
                    ));
                    out.push('=');
                    out.extend(percent_encoding::utf8_percent_encode(
                        &value.to_text(),
                        URI_UNRESERVED_COMPLEMENT,
                    ));
                }
            }
            string_value(interpreter, out)?
        }
        _ => return Ok(None),
    }))
}

fn json_method(
    interpreter: &mut Interpreter<'_>,
    json: &Json,
    name: &str,
    type_args: &[TypeName],
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    let a = |i: usize| arg(args, i, name, at);
    Ok(Some(match name {
        "Value" => {
            // token.Value<T>("key") or token.Value<T>() for a JValue.
            let token = match args.first() {
                Some(key) => match json {
                    Json::Object(_) => json.property(&text(key, at)?),
                    Json::Array(items) => items.lock().get(to_index(key, at)?).cloned(),
                    _ => return Err(fail(at, "Cannot access child value on a JValue.")),
                },
                None => Some(json.clone()),
            };
            match (token, type_args.first()) {
                (None, _) => Value::Null,
                (Some(token), Some(ty)) => members::cast(interpreter, Value::Json(token), ty, at)?,
                (Some(token), None) => json_to_value(&token),
            }
        }
        "ToObject" => match type_args.first() {
            Some(ty) => members::cast(interpreter, Value::Json(json.clone()), ty, at)?,
            None => json_to_value(json),
        },
        "Properties" => match json {
            Json::Object(members) => {
                let props = members
                    .lock()
                    .iter()
                    .map(|(name, _)| property_ref(json, name))
                    .collect();
                list_value(interpreter, props)?
            }
            _ => return Err(fail(at, "Properties() needs a JObject.")),
        },
        "Property" => match json {
            Json::Object(_) => {
                let name = text(a(0)?, at)?;
                match json.property(&name) {
                    Some(_) => property_ref(json, &name),
                    None => Value::Null,
                }
            }
            _ => return Err(fail(at, "Property() needs a JObject.")),
        },
        "Children" | "Values" => {
            let items = members::items(interpreter, Value::Json(json.clone()), at)?;
            let items = if name == "Values" || matches!(json, Json::Array(_)) {
                items
                    .into_iter()
                    .map(|item| match item {
                        Value::Pair(pair) => pair.1.clone(),
                        other => other,
                    })
                    .collect()
            } else {
                items
            };
            list_value(interpreter, items)?
        }
        "Add" => {
            match (json, args.len()) {
                (Json::Object(_), 2) => {
                    let name = text(a(0)?, at)?;
                    let value = a(1)?.clone();
                    add_to_json(
                        interpreter,
                        json,
                        Value::Pair(Arc::new((Value::Str(name), value))),
                        at,
                    )?;
                }
                _ => add_to_json(interpreter, json, a(0)?.clone(), at)?,
            }
            Value::Null
        }
        "Remove" => match json {
            Json::Object(members) => {
                let key = text(a(0)?, at)?;
                let mut members = members.lock();
                let found = members.iter().position(|(k, _)| **k == *key);
                if let Some(i) = found {
                    members.remove(i);
                }
                Value::Bool(found.is_some())
            }
            Json::Array(items) => {
                let item = a(0)?;
                let mut items = items.lock();
                let found = items
                    .iter()
                    .position(|t| equals(&Value::Json(t.clone()), item));
                if let Some(i) = found {
                    items.remove(i);
                }
                Value::Bool(found.is_some())
            }
            _ => return Err(fail(at, "Remove needs a JObject or a JArray.")),
        },
        "ContainsKey" => Value::Bool(json.property(&text(a(0)?, at)?).is_some()),
        "DeepClone" => {
            let copy = json.to_serde().map_err(|e| fail(at, e))?;
            interpreter.budget.alloc(copy.to_string().len())?;
            Value::Json(Json::from_serde(copy))
        }
        "SelectToken" => {
            let path = text(a(0)?, at)?;
            select_token(json, &path).map_or(Value::Null, Value::Json)
        }
        _ => return Ok(None),
    }))
}

/// `SelectToken("a.b[0].c")`: the dotted and indexed paths policies use (not full JSONPath).
fn select_token(json: &Json, path: &str) -> Option<Json> {
    let mut current = json.clone();
    let path = path
        .strip_prefix("$.")
        .or_else(|| path.strip_prefix('$'))
        .unwrap_or(path);
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, indexes) = match part.find('[') {
            Some(i) => (
                part.get(..i).unwrap_or_default(),
                part.get(i..).unwrap_or_default(),
            ),
            None => (part, ""),
        };
        if !name.is_empty() {
            current = current.property(name.trim_matches(|c| c == '\'' || c == '"'))?;
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            let index = index.trim_end_matches(']');
            current = match &current {
                Json::Array(items) => items.lock().get(index.parse::<usize>().ok()?)?.clone(),
                Json::Object(_) => {
                    current.property(index.trim_matches(|c| c == '\'' || c == '"'))?
                }
                _ => return None,
            };
        }
    }
    Some(current)
}
