//! Evaluation of an [`Expr`] against one request.

use super::ast::{BinaryOp, Cast, Collection, Expr, Field, StringMethod};
use std::borrow::Cow;

/// What an expression can read. The gateway's per-request exchange implements it.
pub trait Env {
    fn field(&self, field: Field) -> Value<'_>;
    fn lookup(&self, collection: Collection, name: &str) -> Option<Value<'_>>;
    /// Every entry of a collection, for scripts that enumerate it (`foreach` over headers).
    fn entries(&self, collection: Collection) -> Vec<(String, Value<'_>)> {
        let _ = collection;
        Vec::new()
    }
    /// The request's body (`response: false`) or the response's, when it was read (the
    /// gateway reads it before the policies of a document whose scripts use it).
    fn body(&self, response: bool) -> Option<bytes::Bytes> {
        let _ = response;
        None
    }
    /// When the request arrived (`context.Timestamp`) and how long ago (`context.Elapsed`).
    fn clock(&self) -> Option<(std::time::SystemTime, std::time::Duration)> {
        None
    }
    /// A response that `send-request` kept (`IResponse` in scripts), by its number.
    fn sent_response(&self, index: usize) -> Option<&crate::exchange::SentResponse> {
        let _ = index;
        None
    }
}

/// A runtime value: text (borrowed from the request when possible), an integer, a boolean
/// or null — or an object a script made (a `JObject`, a list, a `send-request` response),
/// kept as the script's value so that a later script reads it with its type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Bool(bool),
    Null,
    Object(ScriptObject),
}

/// A script's value that is not text, a number or a boolean. Two are equal as C#'s `==`
/// says (containers when they are the same object).
#[derive(Debug, Clone)]
pub struct ScriptObject(pub portcullis_script::Value);

impl PartialEq for ScriptObject {
    fn eq(&self, other: &Self) -> bool {
        portcullis_script::members::equals(&self.0, &other.0)
    }
}

impl<'a> Value<'a> {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Str(_) => "a string",
            Self::Int(_) => "a number",
            Self::Bool(_) => "a boolean",
            Self::Null => "null",
            Self::Object(_) => "an object",
        }
    }

    /// The value as C#'s `ToString()` would write it (null as empty text).
    pub fn into_text(self) -> Cow<'a, str> {
        match self {
            Self::Str(s) => s,
            Self::Int(i) => Cow::Owned(i.to_string()),
            Self::Bool(true) => Cow::Borrowed("True"),
            Self::Bool(false) => Cow::Borrowed("False"),
            Self::Null => Cow::Borrowed(""),
            Self::Object(object) => Cow::Owned(object.0.to_text()),
        }
    }

    pub fn into_owned(self) -> Value<'static> {
        match self {
            Self::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Self::Int(i) => Value::Int(i),
            Self::Bool(b) => Value::Bool(b),
            Self::Null => Value::Null,
            Self::Object(object) => Value::Object(object),
        }
    }

    fn as_str(&self) -> Result<&str> {
        match self {
            Self::Str(s) => Ok(s),
            other => Err(format!("expected a string but got {}", other.kind())),
        }
    }
}

type Result<T> = std::result::Result<T, String>;

impl Expr {
    pub fn eval<'e>(&'e self, env: &'e dyn Env) -> Result<Value<'e>> {
        Ok(match self {
            Self::Str(s) => Value::Str(Cow::Borrowed(s)),
            Self::Int(i) => Value::Int(*i),
            Self::Bool(b) => Value::Bool(*b),
            Self::Null => Value::Null,
            Self::Field(field) => env.field(*field),
            Self::Lookup {
                collection,
                name,
                default,
                required,
            } => {
                let name = name.eval(env)?.into_text();
                match env.lookup(*collection, &name) {
                    Some(value) => value,
                    None if *required => {
                        return Err(format!("'{name}' is not in the collection"));
                    }
                    None => match default {
                        Some(default) => default.eval(env)?,
                        None => Value::Null,
                    },
                }
            }
            Self::ContainsKey { collection, name } => {
                let name = name.eval(env)?.into_text();
                Value::Bool(env.lookup(*collection, &name).is_some())
            }
            Self::Method {
                target,
                method,
                args,
            } => string_method(target.eval(env)?, *method, args, env)?,
            Self::IsNullOrEmpty(inner) => Value::Bool(match inner.eval(env)? {
                Value::Null => true,
                Value::Str(s) => s.is_empty(),
                other => {
                    return Err(format!(
                        "IsNullOrEmpty needs a string, not {}",
                        other.kind()
                    ));
                }
            }),
            Self::ParseInt(inner) => {
                let value = inner.eval(env)?;
                let text = value.as_str()?;
                Value::Int(
                    text.trim()
                        .parse()
                        .map_err(|_| format!("int.Parse cannot read '{text}'"))?,
                )
            }
            Self::Cast(cast, inner) => {
                let value = inner.eval(env)?;
                match (cast, value) {
                    (Cast::String, v @ (Value::Str(_) | Value::Null)) => v,
                    (Cast::Int, v @ Value::Int(_)) => v,
                    (Cast::Bool, v @ Value::Bool(_)) => v,
                    (_, other) => return Err(format!("cannot cast {} to {cast:?}", other.kind())),
                }
            }
            Self::Not(inner) => match inner.eval(env)? {
                Value::Bool(b) => Value::Bool(!b),
                other => return Err(format!("'!' needs a boolean, not {}", other.kind())),
            },
            Self::Binary { op, lhs, rhs } => binary(*op, lhs, rhs, env)?,
            Self::Conditional {
                condition,
                then,
                otherwise,
            } => match condition.eval(env)? {
                Value::Bool(true) => then.eval(env)?,
                Value::Bool(false) => otherwise.eval(env)?,
                other => return Err(format!("'?' needs a boolean, not {}", other.kind())),
            },
        })
    }
}

fn string_method<'e>(
    target: Value<'e>,
    method: StringMethod,
    args: &'e [Expr],
    env: &'e dyn Env,
) -> Result<Value<'e>> {
    if method == StringMethod::ToString {
        return Ok(Value::Str(target.into_text()));
    }
    let text = match target {
        Value::Str(s) => s,
        Value::Null => return Err(format!("{method:?} was called on null")),
        other => return Err(format!("{method:?} needs a string, not {}", other.kind())),
    };
    let arg = |i: usize| -> Result<Cow<'e, str>> {
        let expr = args.get(i).ok_or("missing argument")?;
        Ok(expr.eval(env)?.into_text())
    };
    Ok(match method {
        StringMethod::ToString => Value::Str(text),
        StringMethod::ToUpper => Value::Str(
            if text.bytes().any(|b| b.is_ascii_lowercase()) || !text.is_ascii() {
                Cow::Owned(text.to_uppercase())
            } else {
                text
            },
        ),
        StringMethod::ToLower => Value::Str(
            if text.bytes().any(|b| b.is_ascii_uppercase()) || !text.is_ascii() {
                Cow::Owned(text.to_lowercase())
            } else {
                text
            },
        ),
        StringMethod::Trim => Value::Str(match text {
            Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
            Cow::Owned(s) => Cow::Owned(s.trim().to_owned()),
        }),
        StringMethod::Contains => Value::Bool(text.contains(arg(0)?.as_ref())),
        StringMethod::StartsWith => Value::Bool(text.starts_with(arg(0)?.as_ref())),
        StringMethod::EndsWith => Value::Bool(text.ends_with(arg(0)?.as_ref())),
        StringMethod::Equals => Value::Bool(text == arg(0)?),
        StringMethod::Replace => {
            let from = arg(0)?;
            if from.is_empty() {
                return Err("Replace cannot replace an empty string".into());
            }
            let to = arg(1)?;
            // Sized before it is made: one Replace of a long text by a long literal could
            // otherwise ask for gigabytes.
            let occurrences = text.matches(from.as_ref()).count();
            let length = (text.len() - occurrences * from.len())
                .saturating_add(occurrences.saturating_mul(to.len()));
            within_text_limit(length)?;
            Value::Str(Cow::Owned(text.replace(from.as_ref(), to.as_ref())))
        }
        StringMethod::Length => Value::Int(i64::try_from(text.chars().count()).unwrap_or(i64::MAX)),
    })
}

/// The longest text an expression may make (1 MiB): a chain of `Replace` or `+` grows text
/// geometrically, and a request must not be able to exhaust the gateway's memory.
pub const MAX_TEXT_LEN: usize = 1024 * 1024;

fn within_text_limit(length: usize) -> Result<()> {
    if length > MAX_TEXT_LEN {
        return Err(format!(
            "the expression would make a text of {length} bytes; at most {MAX_TEXT_LEN} are allowed"
        ));
    }
    Ok(())
}

fn binary<'e>(op: BinaryOp, lhs: &'e Expr, rhs: &'e Expr, env: &'e dyn Env) -> Result<Value<'e>> {
    // && and || short-circuit, as in C#.
    match op {
        BinaryOp::And | BinaryOp::Or => {
            let left = truth(lhs.eval(env)?)?;
            if left == (op == BinaryOp::Or) {
                return Ok(Value::Bool(left));
            }
            return Ok(Value::Bool(truth(rhs.eval(env)?)?));
        }
        _ => {}
    }
    let left = lhs.eval(env)?;
    let right = rhs.eval(env)?;
    Ok(match op {
        BinaryOp::Add => match (left, right) {
            (Value::Int(a), Value::Int(b)) => {
                Value::Int(a.checked_add(b).ok_or("the sum overflows")?)
            }
            (a, b) => {
                let (a, b) = (a.into_text(), b.into_text());
                within_text_limit(a.len().saturating_add(b.len()))?;
                let mut text = a.into_owned();
                text.push_str(&b);
                Value::Str(Cow::Owned(text))
            }
        },
        BinaryOp::Eq => Value::Bool(equal(&left, &right)?),
        BinaryOp::NotEq => Value::Bool(!equal(&left, &right)?),
        BinaryOp::Less | BinaryOp::LessEq | BinaryOp::Greater | BinaryOp::GreaterEq => {
            let (Value::Int(a), Value::Int(b)) = (&left, &right) else {
                return Err(format!(
                    "comparing {} with {} needs two numbers",
                    left.kind(),
                    right.kind()
                ));
            };
            Value::Bool(match op {
                BinaryOp::Less => a < b,
                BinaryOp::LessEq => a <= b,
                BinaryOp::Greater => a > b,
                _ => a >= b,
            })
        }
        BinaryOp::And | BinaryOp::Or => unreachable!("handled above"),
    })
}

fn truth(value: Value<'_>) -> Result<bool> {
    match value {
        Value::Bool(b) => Ok(b),
        other => Err(format!("&& and || need booleans, not {}", other.kind())),
    }
}

fn equal(a: &Value<'_>, b: &Value<'_>) -> Result<bool> {
    Ok(match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (x, y) => return Err(format!("cannot compare {} with {}", x.kind(), y.kind())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse;

    struct Fixed;

    impl Env for Fixed {
        fn field(&self, field: Field) -> Value<'_> {
            match field {
                Field::RequestIpAddress => Value::Str(Cow::Borrowed("10.0.0.7")),
                Field::RequestMethod => Value::Str(Cow::Borrowed("GET")),
                Field::ResponseStatusCode => Value::Int(503),
                _ => Value::Null,
            }
        }
        fn lookup(&self, collection: Collection, name: &str) -> Option<Value<'_>> {
            match (collection, name) {
                (Collection::RequestHeaders, "x-count") => Some(Value::Str(Cow::Borrowed("41"))),
                (Collection::Variables, "flag") => Some(Value::Bool(true)),
                _ => None,
            }
        }
    }

    fn eval(source: &str) -> std::result::Result<Value<'static>, String> {
        let expr = parse(source).map_err(|e| e.message)?;
        expr.eval(&Fixed).map(Value::into_owned)
    }

    fn text(s: &str) -> Value<'static> {
        Value::Str(Cow::Owned(s.to_owned()))
    }

    #[test]
    fn evaluates_the_subset() {
        assert_eq!(eval("context.Request.IpAddress"), Ok(text("10.0.0.7")));
        assert_eq!(
            eval("\"ip-\" + context.Request.IpAddress"),
            Ok(text("ip-10.0.0.7"))
        );
        assert_eq!(
            eval("int.Parse(context.Request.Headers.GetValueOrDefault(\"x-count\", \"0\")) + 1"),
            Ok(Value::Int(42))
        );
        assert_eq!(
            eval("context.Request.Headers.GetValueOrDefault(\"missing\", \"dflt\")"),
            Ok(text("dflt"))
        );
        assert_eq!(
            eval("context.Request.Headers.GetValueOrDefault(\"missing\")"),
            Ok(Value::Null)
        );
        assert_eq!(eval("context.Request.Method.ToLower()"), Ok(text("get")));
        assert_eq!(
            eval("context.Request.Method != \"GET\" || context.Variables[\"flag\"]"),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            eval("context.Response.StatusCode >= 500 ? \"retry\" : \"ok\""),
            Ok(text("retry"))
        );
        assert_eq!(eval("\"a\" + 1 + true"), Ok(text("a1True")));
        assert_eq!(
            eval("string.IsNullOrEmpty(context.Request.Headers.GetValueOrDefault(\"none\"))"),
            Ok(Value::Bool(true))
        );
        assert_eq!(eval("context.Request.Method.Length"), Ok(Value::Int(3)));
    }

    #[test]
    fn text_that_would_grow_past_the_limit_is_an_error_not_an_allocation() {
        let ten = "\"aaaaaaaaaa\"";
        let mut source = ten.to_owned();
        for _ in 0..8 {
            source.push_str(".Replace(\"a\", \"aaaaaaaaaa\")");
        }
        // 10^9 bytes if it were made.
        let error = eval(&source).unwrap_err();
        assert!(error.contains("at most 1048576"), "{error}");
        // Five steps make 1,000,000 bytes: under the limit.
        let mut source = ten.to_owned();
        for _ in 0..5 {
            source.push_str(".Replace(\"a\", \"aaaaaaaaaa\")");
        }
        assert!(eval(&source).is_ok());
    }

    #[test]
    fn runtime_faults_are_errors_not_panics() {
        assert!(eval("int.Parse(context.Request.IpAddress)").is_err());
        assert!(eval("context.Variables[\"missing\"]").is_err());
        assert!(eval("context.Request.Method && true").is_err());
        assert!(eval("9223372036854775807 + 1").is_err());
        assert!(eval("context.Product.Name.ToUpper()").is_err());
    }

    #[test]
    fn false_and_short_circuits() {
        assert_eq!(
            eval("false && int.Parse(\"x\") == 1"),
            Ok(Value::Bool(false))
        );
        assert_eq!(eval("true || int.Parse(\"x\") == 1"), Ok(Value::Bool(true)));
    }
}
