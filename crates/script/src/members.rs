//! The members of the types a script may use, and the operators between values: what APIM's
//! "policy expressions" article allows, dispatched on the receiver's type.
//!
//! Each function answers like .NET: a missing method is a run-time failure naming the type
//! and the member; a null receiver is C#'s `NullReferenceException`; numbers widen as C#
//! widens them (`int` + `long` is `long`, anything + `double` is `double`), and `+` with a
//! string on either side concatenates.

use crate::error::RunError;
use crate::interp::Interpreter;
use crate::json::Json;
use crate::library;
use crate::syntax::{BinaryOp, TypeName};
use crate::value::{Shared, Value};
use std::sync::Arc;

pub type CallResult = Result<(Value, Vec<Option<Value>>), RunError>;

pub fn fail(at: usize, message: impl Into<String>) -> RunError {
    RunError::failed(at, message)
}

fn null_reference(at: usize, member: &str) -> RunError {
    fail(
        at,
        format!(
            "Object reference not set to an instance of an object (reading '{member}' of null)."
        ),
    )
}

/// Refuses to put `value` into the container `id` when the container can be reached from
/// `value`: it would contain itself, and C#'s collector could free that but reference
/// counting cannot. The search costs a step per container it visits.
pub fn guard_insert(
    interpreter: &mut Interpreter<'_>,
    id: usize,
    value: &Value,
    at: usize,
) -> Result<(), RunError> {
    let (found, visited) = crate::value::reaches(value, id);
    interpreter.budget.steps(visited)?;
    if found {
        return Err(fail(at, "a collection cannot contain itself."));
    }
    Ok(())
}

/// A value answered without `out` arguments.
pub fn plain(value: Value) -> CallResult {
    Ok((value, Vec::new()))
}

// ---- equality and conversions ----------------------------------------------------------

/// C#'s `==` between two values (strings by content, numbers by value, references by
/// identity, JSON values by their value).
pub fn equals(a: &Value, b: &Value) -> bool {
    if !matches!(a, Value::Null)
        && !matches!(b, Value::Null)
        && let Some(answer) = crate::native::equals(a, b)
    {
        return answer;
    }
    match (a, b) {
        (Value::Null, other) | (other, Value::Null) => other.is_null(),
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Char(x), Value::Char(y)) => x == y,
        (Value::Json(Json::Str(x)), Value::Str(y)) | (Value::Str(y), Value::Json(Json::Str(x))) => {
            x == y
        }
        (Value::List(x), Value::List(y)) => x.same(y),
        (Value::Dict(x), Value::Dict(y)) => x.same(y),
        (Value::Builder(x), Value::Builder(y)) => x.same(y),
        (Value::Host(x), Value::Host(y)) => x == y,
        (Value::Json(x), Value::Json(y)) => json_equals(x, y),
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x.as_f64() == y.as_f64() && x.as_i128() == y.as_i128(),
            _ => false,
        },
    }
}

fn json_equals(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Array(x), Json::Array(y)) => x.same(y),
        (Json::Object(x), Json::Object(y)) => x.same(y),
        _ => match (a.to_serde(), b.to_serde()) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        },
    }
}

/// A number of any C# numeric type (and `char`, which C# treats as one in arithmetic).
#[derive(Debug, Clone, Copy)]
pub enum Number {
    Int(i32),
    Long(i64),
    Double(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Self::Int(n) => f64::from(n),
            Self::Long(n) => n as f64,
            Self::Double(d) => d,
        }
    }

    fn as_i128(self) -> i128 {
        match self {
            Self::Int(n) => i128::from(n),
            Self::Long(n) => i128::from(n),
            Self::Double(d) => d as i128,
        }
    }
}

pub fn number(value: &Value) -> Option<Number> {
    match value {
        Value::Int(n) => Some(Number::Int(*n)),
        Value::Long(n) => Some(Number::Long(*n)),
        Value::Double(d) => Some(Number::Double(*d)),
        Value::Char(c) => Some(Number::Int(*c as i32)),
        Value::Json(Json::Int(n)) => Some(Number::Long(*n)),
        Value::Json(Json::Float(f)) => Some(Number::Double(*f)),
        _ => None,
    }
}

pub fn to_index(value: &Value, at: usize) -> Result<usize, RunError> {
    match number(value) {
        Some(Number::Int(n)) if n >= 0 => Ok(n as usize),
        Some(Number::Long(n)) if n >= 0 => {
            usize::try_from(n).map_err(|_| fail(at, "the index is too big."))
        }
        _ => Err(fail(
            at,
            format!(
                "an index must be a non-negative whole number, not {}.",
                value.type_name()
            ),
        )),
    }
}

fn to_i64(value: &Value, at: usize) -> Result<i64, RunError> {
    match number(value) {
        Some(Number::Int(n)) => Ok(i64::from(n)),
        Some(Number::Long(n)) => Ok(n),
        _ => Err(fail(
            at,
            format!("expected a whole number, not {}.", value.type_name()),
        )),
    }
}

/// A string argument (a JSON string or a character will do); null fails as .NET's
/// `ArgumentNullException` does.
pub(crate) fn text_arg(value: &Value, at: usize) -> Result<Arc<str>, RunError> {
    match value {
        Value::Str(s) => Ok(s.clone()),
        Value::Json(Json::Str(s)) => Ok(s.clone()),
        Value::Char(c) => Ok(c.to_string().into()),
        Value::Null => Err(fail(at, "Value cannot be null.")),
        other => Err(fail(
            at,
            format!("expected a string, not {}.", other.type_name()),
        )),
    }
}

/// The value a declared but unassigned local of `ty` holds.
pub fn default_of(ty: &TypeName) -> Value {
    if ty.nullable || ty.array_rank > 0 {
        return Value::Null;
    }
    match &*ty.name {
        "int" | "Int32" | "short" | "byte" | "sbyte" | "ushort" | "uint" => Value::Int(0),
        "long" | "Int64" | "ulong" => Value::Long(0),
        "double" | "Double" | "float" | "decimal" | "Decimal" => Value::Double(0.0),
        "bool" | "Boolean" => Value::Bool(false),
        "char" => Value::Char('\0'),
        _ => crate::native::default_of(ty).unwrap_or(Value::Null),
    }
}

/// Whether `value` is of type `ty` (for `is` and `as`).
pub fn is_type(value: &Value, ty: &TypeName) -> bool {
    match (&*ty.name, value) {
        (_, Value::Null) => false,
        ("object", _) => true,
        (_, Value::DateTime(_) | Value::TimeSpan(_) | Value::Guid(_) | Value::Native(_)) => {
            crate::native::is_type(value, ty).unwrap_or(false)
        }
        ("string" | "String", Value::Str(_)) => true,
        ("int" | "Int32", Value::Int(_)) => true,
        ("long" | "Int64", Value::Long(_)) => true,
        ("double" | "Double", Value::Double(_)) => true,
        ("bool" | "Boolean", Value::Bool(_)) => true,
        ("char", Value::Char(_)) => true,
        ("JToken", Value::Json(_)) => true,
        ("JObject", Value::Json(Json::Object(_))) => true,
        ("JArray", Value::Json(Json::Array(_))) => true,
        ("JValue", Value::Json(j)) => !matches!(j, Json::Object(_) | Json::Array(_)),
        ("List" | "IList" | "IEnumerable" | "ICollection", Value::List(_)) => true,
        ("Dictionary" | "IDictionary" | "IEnumerable", Value::Dict(_)) => true,
        ("StringBuilder", Value::Builder(_)) => true,
        // An object of the host's is typed by its path: `IResponse:3` is an `IResponse`.
        (name, Value::Host(path)) => path.split_once(':').is_some_and(|(ty, _)| ty == name),
        _ => ty.array_rank > 0 && matches!(value, Value::List(_)),
    }
}

/// `(T)value`: C#'s explicit conversions between the types scripts use.
pub fn cast(
    _: &mut Interpreter<'_>,
    value: Value,
    ty: &TypeName,
    at: usize,
) -> Result<Value, RunError> {
    if value.is_null() && !matches!(value, Value::Json(_)) {
        return match default_of(ty) {
            Value::Null => Ok(Value::Null),
            _ if ty.nullable => Ok(Value::Null),
            _ => Err(fail(
                at,
                format!(
                    "Null object cannot be converted to a value type ({}).",
                    ty.name
                ),
            )),
        };
    }
    let bad = |value: &Value| {
        fail(
            at,
            format!(
                "Unable to cast object of type '{}' to type '{}'.",
                value.type_name(),
                ty.name
            ),
        )
    };
    Ok(match &*ty.name {
        "object" | "var" | "dynamic" => value,
        "string" | "String" => match value {
            Value::Str(_) => value,
            Value::Json(Json::Str(s)) => Value::Str(s),
            Value::Json(Json::Null) => Value::Null,
            Value::Json(ref j) if !matches!(j, Json::Object(_) | Json::Array(_)) => {
                Value::str(j.to_text(false).map_err(|e| fail(at, e))?)
            }
            other => return Err(bad(&other)),
        },
        "int" | "Int32" => match value {
            Value::Json(Json::Str(ref s)) => Value::Int(
                s.trim()
                    .parse()
                    .map_err(|_| fail(at, "Input string was not in a correct format."))?,
            ),
            Value::Json(Json::Bool(b)) => Value::Int(i32::from(b)),
            ref other => match number(other) {
                Some(Number::Int(n)) => Value::Int(n),
                Some(Number::Long(n)) => Value::Int(n as i32),
                Some(Number::Double(d)) => Value::Int(d.trunc() as i32),
                None => return Err(bad(other)),
            },
        },
        "long" | "Int64" => match value {
            Value::Json(Json::Str(ref s)) => Value::Long(
                s.trim()
                    .parse()
                    .map_err(|_| fail(at, "Input string was not in a correct format."))?,
            ),
            ref other => match number(other) {
                Some(Number::Int(n)) => Value::Long(i64::from(n)),
                Some(Number::Long(n)) => Value::Long(n),
                Some(Number::Double(d)) => Value::Long(d.trunc() as i64),
                None => return Err(bad(other)),
            },
        },
        "double" | "Double" | "float" | "decimal" | "Decimal" => match number(&value) {
            Some(n) => Value::Double(n.as_f64()),
            None => match value {
                Value::Json(Json::Str(ref s)) => Value::Double(
                    s.trim()
                        .parse()
                        .map_err(|_| fail(at, "Input string was not in a correct format."))?,
                ),
                other => return Err(bad(&other)),
            },
        },
        "bool" | "Boolean" => match value {
            Value::Bool(_) => value,
            Value::Json(Json::Bool(b)) => Value::Bool(b),
            Value::Json(Json::Str(ref s)) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Value::Json(Json::Str(ref s)) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
            other => return Err(bad(&other)),
        },
        "char" => match number(&value) {
            Some(n) => Value::Char(char::from_u32(n.as_f64() as u32).unwrap_or('\u{fffd}')),
            None => return Err(bad(&value)),
        },
        "JObject" | "JArray" | "JToken" | "JValue" => match value {
            Value::Json(ref j) if is_type(&value, ty) || &*ty.name == "JToken" => {
                let _ = j;
                value
            }
            Value::Str(ref s) if &*ty.name == "JToken" || &*ty.name == "JValue" => {
                Value::Json(Json::Str(s.clone()))
            }
            other => return Err(bad(&other)),
        },
        // `(DateTime)token`: a JSON string read as the type's `Parse` reads it.
        name @ ("DateTime" | "TimeSpan" | "Guid") => match &value {
            Value::Json(Json::Str(s)) => {
                crate::native::from_text(name, s).flatten().ok_or_else(|| {
                    fail(
                        at,
                        format!("String '{s}' was not recognized as a valid {name}."),
                    )
                })?
            }
            _ if is_type(&value, ty) => value,
            other => return Err(bad(other)),
        },
        _ if is_type(&value, ty) => value,
        _ => return Err(bad(&value)),
    })
}

/// Assigning to a declared type: implicit conversions only (`int` to `long`, to `double`).
pub fn convert(
    interpreter: &mut Interpreter<'_>,
    value: Value,
    ty: &TypeName,
    at: usize,
) -> Result<Value, RunError> {
    match (&*ty.name, &value) {
        ("long" | "Int64", Value::Int(n)) => Ok(Value::Long(i64::from(*n))),
        ("double" | "Double" | "decimal" | "float", Value::Int(n)) => {
            Ok(Value::Double(f64::from(*n)))
        }
        ("double" | "Double" | "decimal" | "float", Value::Long(n)) => Ok(Value::Double(*n as f64)),
        // JSON tokens convert implicitly to the primitive types (Newtonsoft's operators).
        (_, Value::Json(_)) => cast(interpreter, value, ty, at),
        // Text converts implicitly to a namespace or a name (`XNamespace ns = "urn:x";`).
        ("XNamespace" | "XName", Value::Str(text)) => Ok(crate::xml_lib::name_from_text(
            text,
            &*ty.name == "XNamespace",
        )),
        _ => Ok(value),
    }
}

// ---- operators ---------------------------------------------------------------------------

/// `op` between two whole numbers of one C# type (`int` or `long`, made by `$make`):
/// arithmetic wraps as C#'s unchecked arithmetic does, comparisons give booleans, division by
/// zero fails as .NET's does.
macro_rules! whole_number_op {
    ($x:expr, $y:expr, $op:expr, $at:expr, $make:path, $type_name:literal) => {{
        let (x, y) = ($x, $y);
        Ok(match $op {
            BinaryOp::Less => Value::Bool(x < y),
            BinaryOp::LessEq => Value::Bool(x <= y),
            BinaryOp::Greater => Value::Bool(x > y),
            BinaryOp::GreaterEq => Value::Bool(x >= y),
            BinaryOp::Add => $make(x.wrapping_add(y)),
            BinaryOp::Sub => $make(x.wrapping_sub(y)),
            BinaryOp::Mul => $make(x.wrapping_mul(y)),
            BinaryOp::Div | BinaryOp::Rem if y == 0 => {
                return Err(fail($at, "Attempted to divide by zero."));
            }
            BinaryOp::Div => $make(x.wrapping_div(y)),
            BinaryOp::Rem => $make(x.wrapping_rem(y)),
            BinaryOp::BitAnd => $make(x & y),
            BinaryOp::BitOr => $make(x | y),
            BinaryOp::BitXor => $make(x ^ y),
            BinaryOp::Shl => $make(x.wrapping_shl(y as u32)),
            BinaryOp::Shr => $make(x.wrapping_shr(y as u32)),
            _ => {
                return Err(fail(
                    $at,
                    concat!("this operator does not apply to ", $type_name, "."),
                ));
            }
        })
    }};
}

pub fn binary(
    interpreter: &mut Interpreter<'_>,
    op: BinaryOp,
    lhs: Value,
    rhs: Value,
    at: usize,
) -> Result<Value, RunError> {
    match op {
        BinaryOp::Eq => return Ok(Value::Bool(equals(&lhs, &rhs))),
        BinaryOp::NotEq => return Ok(Value::Bool(!equals(&lhs, &rhs))),
        _ => {}
    }
    // `ns + "local"`: an XNamespace and a local name make an XName.
    if op == BinaryOp::Add
        && let Some(name) = crate::xml_lib::namespace_plus(&lhs, &rhs)
    {
        return Ok(name);
    }
    // String concatenation: either side a string (null reads as empty).
    if op == BinaryOp::Add && (matches!(lhs, Value::Str(_)) || matches!(rhs, Value::Str(_))) {
        let mut text = interpreter.text_of(&lhs);
        text.push_str(&interpreter.text_of(&rhs));
        interpreter.budget.alloc(text.len())?;
        return Ok(Value::str(text));
    }
    if let Some(value) = crate::dates::binary(op, &lhs, &rhs, at)? {
        return Ok(value);
    }
    if let (Value::Bool(a), Value::Bool(b)) = (&lhs, &rhs) {
        return match op {
            BinaryOp::BitAnd => Ok(Value::Bool(*a & *b)),
            BinaryOp::BitOr => Ok(Value::Bool(*a | *b)),
            BinaryOp::BitXor => Ok(Value::Bool(*a ^ *b)),
            _ => Err(fail(at, "this operator does not apply to bool.")),
        };
    }
    if let (Value::Str(a), Value::Str(b)) = (&lhs, &rhs) {
        return match op {
            BinaryOp::Less | BinaryOp::Greater | BinaryOp::LessEq | BinaryOp::GreaterEq => {
                Err(fail(
                    at,
                    "strings are compared with string.Compare, not '<' or '>'.",
                ))
            }
            _ => Err(fail(
                at,
                format!("this operator does not apply to strings ('{a}', '{b}')."),
            )),
        };
    }
    let (Some(a), Some(b)) = (number(&lhs), number(&rhs)) else {
        if lhs.is_null() || rhs.is_null() {
            // Lifted operators: arithmetic with null is null, comparisons false.
            return Ok(match op {
                BinaryOp::Less | BinaryOp::LessEq | BinaryOp::Greater | BinaryOp::GreaterEq => {
                    Value::Bool(false)
                }
                _ => Value::Null,
            });
        }
        return Err(fail(
            at,
            format!(
                "the operator cannot apply to {} and {}.",
                lhs.type_name(),
                rhs.type_name()
            ),
        ));
    };
    use Number::*;
    let compare = |x: f64, y: f64| -> Option<bool> {
        Some(match op {
            BinaryOp::Less => x < y,
            BinaryOp::LessEq => x <= y,
            BinaryOp::Greater => x > y,
            BinaryOp::GreaterEq => x >= y,
            _ => return None,
        })
    };
    match (a, b) {
        (Double(_), _) | (_, Double(_)) => {
            let (x, y) = (a.as_f64(), b.as_f64());
            if let Some(result) = compare(x, y) {
                return Ok(Value::Bool(result));
            }
            Ok(Value::Double(match op {
                BinaryOp::Add => x + y,
                BinaryOp::Sub => x - y,
                BinaryOp::Mul => x * y,
                BinaryOp::Div => x / y,
                BinaryOp::Rem => x % y,
                _ => return Err(fail(at, "this operator does not apply to double.")),
            }))
        }
        (Int(x), Int(y)) => whole_number_op!(x, y, op, at, Value::Int, "int"),
        _ => {
            let (x, y) = (to_i64(&lhs, at)?, to_i64(&rhs, at)?);
            whole_number_op!(x, y, op, at, Value::Long, "long")
        }
    }
}

// ---- text formatting ---------------------------------------------------------------------

/// `{value:format}` and `ToString(format)` for the common .NET numeric formats (`N2`, `F1`,
/// `D3`, `X`, `0.00`) and dates are left to the library; anything else is written plainly.
pub fn format_value(value: &Value, format: &str, at: usize) -> Result<String, RunError> {
    library::format(value, format).ok_or_else(|| {
        fail(
            at,
            format!(
                "the format '{format}' is not supported for {}.",
                value.type_name()
            ),
        )
    })
}

/// Appends `text` padded to `align` (positive: right-aligned; negative: left-aligned).
pub fn pad_into(out: &mut String, text: &str, align: Option<i64>) {
    let width = align.map_or(0, |a| a.unsigned_abs() as usize).min(1 << 16);
    let len = text.chars().count();
    let padding = width.saturating_sub(len);
    if align.is_some_and(|a| a > 0) {
        out.extend(std::iter::repeat_n(' ', padding));
        out.push_str(text);
    } else {
        out.push_str(text);
        out.extend(std::iter::repeat_n(' ', padding));
    }
}

// ---- exceptions --------------------------------------------------------------------------

pub fn exception(message: &str) -> Value {
    Value::Object(Shared::new(vec![("Message".into(), Value::str(message))]))
}

pub fn exception_message(value: &Value) -> String {
    match value {
        Value::Object(members) => members
            .lock()
            .iter()
            .find(|(name, _)| &**name == "Message")
            .map_or_else(
                || "an exception was thrown.".to_owned(),
                |(_, v)| v.to_text(),
            ),
        other => other.to_text(),
    }
}

// ---- dispatch ------------------------------------------------------------------------------

/// The items of a collection, for `foreach` and LINQ.
pub fn items(
    interpreter: &mut Interpreter<'_>,
    value: Value,
    at: usize,
) -> Result<Vec<Value>, RunError> {
    let items = match value {
        Value::List(list) => list.lock().clone(),
        Value::Dict(dict) => dict
            .lock()
            .iter()
            .map(|(k, v)| Value::Pair(Arc::new((k.clone(), v.clone()))))
            .collect(),
        Value::Str(s) => s.chars().map(Value::Char).collect(),
        Value::Json(Json::Array(items)) => items.lock().iter().cloned().map(Value::Json).collect(),
        Value::Json(Json::Object(members)) => members
            .lock()
            .iter()
            .map(|(k, v)| library::property(k, v.clone()))
            .collect(),
        Value::Host(path) => interpreter
            .host
            .items(&path)
            .ok_or_else(|| fail(at, format!("context.{path} cannot be enumerated.")))?,
        Value::Native(native) => crate::native::items(&native)
            .ok_or_else(|| fail(at, format!("{} cannot be enumerated.", native.type_name())))?,
        Value::Null => return Err(null_reference(at, "GetEnumerator")),
        other => {
            return Err(fail(
                at,
                format!("{} cannot be enumerated.", other.type_name()),
            ));
        }
    };
    interpreter.budget.steps(items.len())?;
    Ok(items)
}

/// `target.name` (a property).
pub fn member(
    interpreter: &mut Interpreter<'_>,
    target: Value,
    name: &str,
    at: usize,
) -> Result<Value, RunError> {
    if let Value::Host(path) = &target {
        return match interpreter.host.member(path, name) {
            Some(result) => result.map_err(|message| fail(at, message)),
            None if &**path == "context" && name == "Variables" => {
                Ok(Value::Host("Variables".into()))
            }
            None => Err(fail(at, format!("context.{path} has no member '{name}'."))),
        };
    }
    // `nullable.HasValue` of a null `DateTime?` (a JWT's missing `exp`).
    if name == "HasValue" && matches!(target, Value::Null) {
        return Ok(Value::Bool(false));
    }
    if target.is_null() && !matches!(target, Value::Json(_)) {
        return Err(null_reference(at, name));
    }
    library::property_of(interpreter, &target, name, at)?.ok_or_else(|| {
        fail(
            at,
            format!("{} has no member '{name}'.", target.type_name()),
        )
    })
}

/// `target.name<type_args>(args)`.
pub fn call(
    interpreter: &mut Interpreter<'_>,
    target: Value,
    name: &str,
    type_args: &[TypeName],
    args: Vec<Value>,
    named: &[Option<&str>],
    at: usize,
) -> CallResult {
    if let Value::Host(path) = &target {
        if name == "ToString" && args.is_empty() {
            return plain(Value::str(interpreter.text_of(&target)));
        }
        if name == "TryGetValue" {
            // `context.Request.Headers.TryGetValue("name", out value)`: the indexer, without
            // the failure when the key is missing.
            let key = args.first().cloned().unwrap_or(Value::Null);
            let found = interpreter.host.index(path, &key).and_then(Result::ok);
            return Ok((
                Value::Bool(found.is_some()),
                vec![None, Some(found.unwrap_or(Value::Null))],
            ));
        }
        return match interpreter.host.call(path, name, type_args, &args) {
            Some(result) => result.map(|v| (v, Vec::new())).map_err(|m| fail(at, m)),
            // LINQ over the host's collections (`context.Request.Headers.Where(…)`).
            None => match crate::linq::call(interpreter, &target, name, &args, at)? {
                Some(value) => plain(value),
                None => Err(fail(at, format!("context.{path} has no method '{name}'."))),
            },
        };
    }
    if let Value::Type(ty) = &target {
        return library::static_call(interpreter, ty, name, type_args, args, at);
    }
    if target.is_null() && !matches!(target, Value::Json(_)) {
        // APIM's extension methods take a null string and answer null (or false).
        return match crate::jwt::on_null(name) {
            Some(outcome) => Ok(outcome),
            None => Err(null_reference(at, name)),
        };
    }
    let _ = named;
    library::method(interpreter, target, name, type_args, args, at)
}

/// `target[key]`.
pub fn index(
    interpreter: &mut Interpreter<'_>,
    target: Value,
    key: Value,
    at: usize,
) -> Result<Value, RunError> {
    match &target {
        Value::Host(path) => match interpreter.host.index(path, &key) {
            Some(result) => result.map_err(|message| fail(at, message)),
            None => Err(fail(at, format!("context.{path} cannot be indexed."))),
        },
        Value::List(list) => {
            let i = to_index(&key, at)?;
            list.lock()
                .get(i)
                .cloned()
                .ok_or_else(|| fail(at, "Index was out of range."))
        }
        Value::Str(s) => {
            let i = to_index(&key, at)?;
            s.chars()
                .nth(i)
                .map(Value::Char)
                .ok_or_else(|| fail(at, "Index was outside the bounds of the array."))
        }
        Value::Dict(dict) => dict
            .lock()
            .iter()
            .find(|(k, _)| equals(k, &key))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                fail(
                    at,
                    format!(
                        "The given key '{}' was not present in the dictionary.",
                        key.to_text()
                    ),
                )
            }),
        Value::Json(json) => Ok(match (json, &key) {
            (Json::Object(_), _) => json
                .property(&text_arg(&key, at)?)
                .map_or(Value::Null, Value::Json),
            (Json::Array(items), _) => {
                let i = to_index(&key, at)?;
                items
                    .lock()
                    .get(i)
                    .cloned()
                    .map(Value::Json)
                    .ok_or_else(|| fail(at, "Index was out of range."))?
            }
            _ => {
                return Err(fail(
                    at,
                    format!("Cannot access child value on {}.", json.type_name()),
                ));
            }
        }),
        Value::Native(native) => crate::native::index(native, &key, at).unwrap_or_else(|| {
            Err(fail(
                at,
                format!("{} cannot be indexed.", native.type_name()),
            ))
        }),
        Value::Null => Err(null_reference(at, "[]")),
        other => Err(fail(
            at,
            format!("{} cannot be indexed.", other.type_name()),
        )),
    }
}

pub fn set_index(
    interpreter: &mut Interpreter<'_>,
    target: &Value,
    key: Value,
    value: Value,
    at: usize,
) -> Result<(), RunError> {
    interpreter.budget.alloc(32)?;
    match target {
        Value::List(list) => {
            let i = to_index(&key, at)?;
            guard_insert(interpreter, list.id(), &value, at)?;
            let mut list = list.lock();
            let slot = list
                .get_mut(i)
                .ok_or_else(|| fail(at, "Index was out of range."))?;
            *slot = value;
            Ok(())
        }
        Value::Dict(dict) => {
            guard_insert(interpreter, dict.id(), &key, at)?;
            guard_insert(interpreter, dict.id(), &value, at)?;
            let mut dict = dict.lock();
            match dict.iter_mut().find(|(k, _)| equals(k, &key)) {
                Some((_, slot)) => *slot = value,
                None => dict.push((key, value)),
            }
            Ok(())
        }
        Value::Json(json @ Json::Object(members)) => {
            let token = library::to_json(interpreter, value, at)?;
            guard_insert(interpreter, members.id(), &Value::Json(token.clone()), at)?;
            json.set_property(&text_arg(&key, at)?, token);
            Ok(())
        }
        Value::Json(Json::Array(items)) => {
            let i = to_index(&key, at)?;
            let token = library::to_json(interpreter, value, at)?;
            guard_insert(interpreter, items.id(), &Value::Json(token.clone()), at)?;
            let mut items = items.lock();
            let slot = items
                .get_mut(i)
                .ok_or_else(|| fail(at, "Index was out of range."))?;
            *slot = token;
            Ok(())
        }
        Value::Host(path) => Err(fail(at, format!("context.{path} cannot be changed here."))),
        Value::Null => Err(null_reference(at, "[]")),
        other => Err(fail(
            at,
            format!("{} cannot be indexed.", other.type_name()),
        )),
    }
}

pub fn set_member(
    interpreter: &mut Interpreter<'_>,
    target: &Value,
    name: &str,
    value: Value,
    at: usize,
) -> Result<(), RunError> {
    interpreter.budget.alloc(32)?;
    match target {
        Value::Object(members) => {
            guard_insert(interpreter, members.id(), &value, at)?;
            let mut members = members.lock();
            match members.iter_mut().find(|(n, _)| &**n == name) {
                Some((_, slot)) => *slot = value,
                None => members.push((name.into(), value)),
            }
            Ok(())
        }
        Value::Null => Err(null_reference(at, name)),
        other => Err(fail(
            at,
            format!(
                "the member '{name}' of {} cannot be assigned.",
                other.type_name()
            ),
        )),
    }
}

/// `new T(args)`.
pub fn construct(
    interpreter: &mut Interpreter<'_>,
    ty: &TypeName,
    args: Vec<Value>,
    at: usize,
) -> Result<Value, RunError> {
    library::construct(interpreter, ty, args, at)
}
