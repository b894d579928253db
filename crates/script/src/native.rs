//! The .NET types of [`crate::dates`], [`crate::guid`], [`crate::uri`],
//! [`crate::regex_lib`], [`crate::crypto`] and [`crate::jwt`], joined to the interpreter:
//! [`Native`](crate::native::Native), the objects among them that hold no script values (so they need no
//! teardown and can never form a cycle), and the entry points `library` and `members` call
//! to find a static member, a constructor, a property, a method, an indexer, a format or a
//! type test of these types. Each entry point answers `None` when the value or type is not
//! one of these, so the caller goes on to its own.

use crate::crypto::{self, HashKind};
use crate::error::RunError;
use crate::interp::Interpreter;
use crate::jwt::{self, Claims, Jwt};
use crate::regex_lib::{self, MatchData, Pattern};
use crate::syntax::TypeName;
use crate::uri::{self, Uri};
use crate::value::Value;
use crate::{dates, guid, xml_lib};
use std::sync::Arc;

/// What a call gives: its value and the `out` arguments it sets (by argument position).
pub type Outcome = (Value, Vec<Option<Value>>);

/// An object of the library that a script can hold but not change.
#[derive(Debug)]
pub enum Native {
    Uri(Uri),
    Regex(Arc<Pattern>),
    /// A `Match` (whose `Value` is its group 0).
    Match(Arc<MatchData>),
    /// `match.Groups`.
    Groups(Arc<MatchData>),
    /// `match.Groups[n]`, by .NET's group number (past the last group: unsuccessful).
    Group(Arc<MatchData>, usize),
    /// `SHA256.Create()` and its siblings.
    Hash(HashKind),
    /// `new HMACSHA256(key)` and its siblings.
    Hmac(HashKind, Box<[u8]>),
    Jwt(Jwt),
    /// `jwt.Claims`: claim names and their values.
    Claims(Claims),
    /// `BasicAuthCredentials`.
    Basic {
        username: Arc<str>,
        password: Arc<str>,
    },
    /// `XDocument`, by its root element ([`crate::xml_lib`]).
    XDocument(Arc<xml_lib::XElement>),
    XElement(Arc<xml_lib::XElement>),
    /// `XAttribute`: its name as written and its value.
    XAttribute(Arc<str>, Arc<str>),
    /// `XName` (and `XNamespace`, a name without a local part).
    XName(xml_lib::XName),
}

impl Native {
    /// The type's name, as error messages and `GetType()` write it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Uri(_) => "Uri",
            Self::Regex(_) => "Regex",
            Self::Match(_) => "Match",
            Self::Groups(_) => "GroupCollection",
            Self::Group(..) => "Group",
            Self::Hash(kind) => kind.name(),
            Self::Hmac(kind, _) => kind.hmac_name(),
            Self::Jwt(_) => "Jwt",
            Self::Claims(_) => "IReadOnlyDictionary",
            Self::Basic { .. } => "BasicAuthCredentials",
            Self::XDocument(_) => "XDocument",
            Self::XElement(_) => "XElement",
            Self::XAttribute(..) => "XAttribute",
            Self::XName(_) => "XName",
        }
    }

    /// Whether the object is a `name` (its type, a base class or an interface of it), for
    /// `is`, `as` and casts.
    pub fn is(&self, name: &str) -> bool {
        if name == self.type_name() {
            return true;
        }
        match self {
            Self::Match(_) => matches!(name, "Group" | "Capture"),
            Self::Group(..) => name == "Capture",
            Self::Groups(_) => matches!(name, "IEnumerable" | "ICollection"),
            Self::Hash(_) => name == "HashAlgorithm",
            Self::Hmac(..) => matches!(name, "HMAC" | "KeyedHashAlgorithm" | "HashAlgorithm"),
            Self::Claims(_) => matches!(name, "IDictionary" | "IEnumerable" | "Dictionary"),
            Self::Basic { .. } => name == "Basic",
            Self::XDocument(_) | Self::XElement(_) => matches!(name, "XContainer" | "XNode"),
            Self::Uri(_)
            | Self::Regex(_)
            | Self::Jwt(_)
            | Self::XAttribute(..)
            | Self::XName(_) => false,
        }
    }

    /// What `ToString()` writes.
    pub fn write_text(&self, out: &mut String) {
        match self {
            Self::Uri(uri) => uri.write_text(out),
            Self::Regex(pattern) => out.push_str(pattern.text()),
            Self::Match(found) => found.write_text(0, out),
            Self::Group(found, group) => found.write_text(*group, out),
            Self::Groups(_) => out.push_str("System.Text.RegularExpressions.GroupCollection"),
            Self::Hash(kind) => {
                out.push_str("System.Security.Cryptography.");
                out.push_str(kind.name());
            }
            Self::Hmac(kind, _) => {
                out.push_str("System.Security.Cryptography.");
                out.push_str(kind.hmac_name());
            }
            Self::Jwt(_) => out.push_str("Jwt"),
            Self::Claims(_) => out.push_str(
                "System.Collections.Generic.IReadOnlyDictionary`2[System.String,System.String[]]",
            ),
            Self::Basic { .. } => out.push_str("BasicAuthCredentials"),
            Self::XDocument(_) | Self::XElement(_) | Self::XAttribute(..) | Self::XName(_) => {
                xml_lib::write_text(self, out);
            }
        }
    }
}

/// `==` where either side is a value of these types: dates, spans and guids by value, URIs
/// as `Uri.Equals`, the other objects by reference. `None` when neither side is one.
pub fn equals(a: &Value, b: &Value) -> Option<bool> {
    Some(match (a, b) {
        (Value::DateTime(x), Value::DateTime(y)) => x.ticks == y.ticks,
        (Value::TimeSpan(x), Value::TimeSpan(y)) => x == y,
        (Value::Guid(x), Value::Guid(y)) => x == y,
        (Value::Native(x), Value::Native(y)) => match (&**x, &**y) {
            (Native::Uri(x), Native::Uri(y)) => x.same(y),
            _ => Arc::ptr_eq(x, y),
        },
        (Value::DateTime(_) | Value::TimeSpan(_) | Value::Guid(_) | Value::Native(_), _)
        | (_, Value::DateTime(_) | Value::TimeSpan(_) | Value::Guid(_) | Value::Native(_)) => false,
        _ => return None,
    })
}

/// `value is ty` for these types; `None` when `value` is not one of them.
pub fn is_type(value: &Value, ty: &TypeName) -> Option<bool> {
    let name = &*ty.name;
    Some(match value {
        Value::DateTime(_) => name == "DateTime" || name == "IComparable",
        Value::TimeSpan(_) => name == "TimeSpan" || name == "IComparable",
        Value::Guid(_) => name == "Guid",
        Value::Native(native) => ty.array_rank == 0 && native.is(name),
        _ => return None,
    })
}

/// `(T)jsonString` for `DateTime`, `TimeSpan` and `Guid`; `None` for other types.
pub fn from_text(type_name: &str, text: &str) -> Option<Option<Value>> {
    match type_name {
        "DateTime" | "TimeSpan" => Some(dates::from_text(type_name, text)),
        "Guid" => Some(guid::parse(text).map(Value::Guid)),
        _ => None,
    }
}

/// The value a declared but unassigned local of `ty` holds, for these value types.
pub fn default_of(ty: &TypeName) -> Option<Value> {
    Some(match &*ty.name {
        "DateTime" => Value::DateTime(dates::Date {
            ticks: 0,
            kind: dates::DateKind::Unspecified,
        }),
        "TimeSpan" => Value::TimeSpan(0),
        "Guid" => Value::Guid([0; 16]),
        _ => return None,
    })
}

/// The text JSON writes for these values (Newtonsoft writes them as strings).
pub fn json_text(value: &Value) -> Option<String> {
    Some(match value {
        Value::DateTime(date) => dates::json_text(*date),
        Value::TimeSpan(ticks) => dates::span_text(*ticks),
        Value::Guid(bytes) => guid::text(bytes),
        Value::Native(native) => match &**native {
            Native::Uri(uri) => uri.original().to_string(),
            _ => return None,
        },
        _ => return None,
    })
}

/// `value.ToString(format)` and `{value:format}`; `None` when `value` is not one of these.
/// The inner `None` is a format .NET refuses.
pub fn format(value: &Value, format: &str) -> Option<Option<String>> {
    Some(match value {
        Value::DateTime(date) => dates::format_date(*date, format),
        Value::TimeSpan(ticks) => dates::format_span(*ticks, format),
        Value::Guid(bytes) => guid::format(bytes, format),
        _ => return None,
    })
}

/// `Type.Member`: `DateTime.UtcNow`, `TimeSpan.Zero`, `Guid.Empty`, `RegexOptions.IgnoreCase`,
/// `UriKind.Absolute`…
pub fn static_property(
    interpreter: &Interpreter<'_>,
    ty: &TypeName,
    name: &str,
    at: usize,
) -> Result<Option<Value>, RunError> {
    let ty = &*ty.name;
    if let Some(value) = dates::static_property(interpreter, ty, name, at)? {
        return Ok(Some(value));
    }
    if ty == "Guid" && name == "Empty" {
        return Ok(Some(Value::Guid([0; 16])));
    }
    Ok(uri::static_property(ty, name).or_else(|| regex_lib::static_property(ty, name)))
}

/// `Type.Method(args)` for these types.
pub fn static_call(
    interpreter: &mut Interpreter<'_>,
    ty: &TypeName,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Outcome>, RunError> {
    let ty = &*ty.name;
    type StaticCall =
        fn(&mut Interpreter<'_>, &str, &str, &[Value], usize) -> Result<Option<Outcome>, RunError>;
    if let Some(value) = xml_lib::static_call(ty, name, args, at)? {
        return Ok(Some((value, Vec::new())));
    }
    const CALLS: [StaticCall; 5] = [
        dates::static_call,
        guid::static_call,
        uri::static_call,
        regex_lib::static_call,
        crypto::static_call,
    ];
    for call in CALLS {
        if let Some(outcome) = call(interpreter, ty, name, args, at)? {
            return Ok(Some(outcome));
        }
    }
    Ok(None)
}

/// `new T(args)` for these types.
pub fn construct(
    interpreter: &mut Interpreter<'_>,
    ty: &TypeName,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    let name = &*ty.name;
    if ty.array_rank > 0 {
        return Ok(None);
    }
    match name {
        "Uri" => uri::construct(interpreter, args, at).map(Some),
        "Regex" => regex_lib::construct(interpreter, args, at).map(Some),
        "Guid" => guid::construct(interpreter, args, at).map(Some),
        _ => match dates::construct(name, args, at)? {
            Some(value) => Ok(Some(value)),
            None => crypto::construct(interpreter, name, args, at),
        },
    }
}

/// `value.Name` for these types. Dates, spans and guids also answer `HasValue` and `Value`,
/// as the `Nullable<T>` they often come in (`jwt.ExpirationTime.Value`).
pub fn property(
    interpreter: &mut Interpreter<'_>,
    target: &Value,
    name: &str,
    at: usize,
) -> Result<Option<Value>, RunError> {
    match (target, name) {
        (Value::DateTime(_) | Value::TimeSpan(_) | Value::Guid(_), "HasValue") => {
            return Ok(Some(Value::Bool(true)));
        }
        (Value::DateTime(_) | Value::TimeSpan(_) | Value::Guid(_), "Value") => {
            return Ok(Some(target.clone()));
        }
        _ => {}
    }
    let native = match target {
        Value::DateTime(date) => return Ok(dates::date_property(*date, name)),
        Value::TimeSpan(ticks) => return Ok(dates::span_property(*ticks, name)),
        Value::Native(native) => native,
        _ => return Ok(None),
    };
    match &**native {
        Native::Uri(uri) => uri::property(interpreter, uri, name, at),
        Native::Regex(_) => Ok(None),
        Native::Match(found) => regex_lib::group_property(interpreter, found, 0, true, name),
        Native::Group(found, group) => {
            regex_lib::group_property(interpreter, found, *group, false, name)
        }
        Native::Groups(found) => Ok((name == "Count")
            .then(|| Value::Int(i32::try_from(regex_lib::group_count(found)).unwrap_or(i32::MAX)))),
        Native::Hash(kind) => crypto::property(interpreter, *kind, None, name),
        Native::Hmac(kind, key) => crypto::property(interpreter, *kind, Some(key), name),
        Native::Jwt(token) => jwt::property(interpreter, token, name),
        Native::Claims(claims) => jwt::claims_property(interpreter, claims, name),
        Native::Basic { username, password } => Ok(jwt::basic_property(username, password, name)),
        Native::XDocument(_) | Native::XElement(_) | Native::XAttribute(..) | Native::XName(_) => {
            Ok(xml_lib::property(native, name))
        }
    }
}

/// `value.Method(args)` for these types; `None` leaves the call to the methods every value
/// has (`ToString`, `Equals`, `CompareTo`) and to LINQ.
pub fn method(
    interpreter: &mut Interpreter<'_>,
    target: &Value,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Outcome>, RunError> {
    let plain = |value: Option<Value>| value.map(|v| (v, Vec::new()));
    if name == "GetValueOrDefault"
        && args.is_empty()
        && matches!(
            target,
            Value::DateTime(_) | Value::TimeSpan(_) | Value::Guid(_)
        )
    {
        return Ok(Some((target.clone(), Vec::new())));
    }
    let native = match target {
        Value::DateTime(date) => {
            return dates::date_method(interpreter, *date, name, args, at).map(plain);
        }
        Value::TimeSpan(ticks) => return dates::span_method(*ticks, name, args, at).map(plain),
        Value::Native(native) => native,
        _ => return Ok(None),
    };
    match &**native {
        Native::Uri(uri) => uri::method(interpreter, uri, name, args, at).map(plain),
        Native::Regex(pattern) => {
            regex_lib::regex_method(interpreter, pattern, name, args, at).map(plain)
        }
        Native::Match(found) => {
            regex_lib::match_method(interpreter, found, name, args, at).map(plain)
        }
        Native::Hash(kind) => crypto::method(interpreter, *kind, None, name, args, at).map(plain),
        Native::Hmac(kind, key) => {
            crypto::method(interpreter, *kind, Some(key), name, args, at).map(plain)
        }
        Native::Claims(claims) => jwt::claims_method(interpreter, claims, name, args, at),
        Native::XDocument(_) | Native::XElement(_) | Native::XAttribute(..) | Native::XName(_) => {
            xml_lib::method(native, name, args, at).map(plain)
        }
        Native::Groups(_) | Native::Group(..) | Native::Jwt(_) | Native::Basic { .. } => Ok(None),
    }
}

/// `target[key]` for the collections among these types (`Groups`, `Claims`).
pub fn index(native: &Native, key: &Value, at: usize) -> Option<Result<Value, RunError>> {
    match native {
        Native::Groups(found) => Some(regex_lib::group_index(found, key, at)),
        Native::Claims(claims) => Some(jwt::claims_index(claims, key, at)),
        _ => None,
    }
}

/// The items of the collections among these types, for `foreach` and LINQ.
pub fn items(native: &Native) -> Option<Vec<Value>> {
    match native {
        Native::Groups(found) => Some(regex_lib::group_items(found)),
        Native::Claims(claims) => Some(jwt::claims_items(claims)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::eval;

    #[test]
    fn values_work_with_the_rest_of_the_language() {
        assert_eq!(
            eval(
                "new JObject(new JProperty(\"at\", new DateTime(2024, 5, 1, 0, 0, 0, DateTimeKind.Utc))).ToString(Formatting.None)"
            ),
            r#"{"at":"2024-05-01T00:00:00Z"}"#
        );
        assert_eq!(
            eval(
                "new List<DateTime> { new DateTime(2024, 3, 1), new DateTime(2023, 1, 1) }.OrderBy(d => d).First().Year"
            ),
            "2023"
        );
        assert_eq!(
            eval("new DateTime(2024, 3, 1).CompareTo(new DateTime(2023, 1, 1))"),
            "1"
        );
        assert_eq!(eval("new DateTime(2024, 3, 1).GetType()"), "DateTime");
        assert_eq!(eval("(object)TimeSpan.Zero is TimeSpan"), "True");
        assert_eq!(eval("TimeSpan.Zero as Uri == null"), "True");
        assert_eq!(
            eval("(DateTime)JToken.Parse(\"\\\"2024-05-01T00:00:00Z\\\"\")"),
            "05/01/2024 00:00:00"
        );
        assert_eq!(eval("default(TimeSpan).Ticks"), "0");
        assert_eq!(
            eval("new Uri(\"https://h/\").Equals(new Uri(\"https://h\"))"),
            "True"
        );
    }
}
