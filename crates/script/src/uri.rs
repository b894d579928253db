//! `System.Uri`: `new Uri(text)`, `new Uri(baseUri, relative)` resolved as RFC 3986 (and
//! .NET) resolve references, `new Uri(text, UriKind.Relative)`, and the members policies
//! read — `AbsoluteUri`, `AbsolutePath`, `PathAndQuery`, `Query`, `Host`, `Port`, `Scheme`,
//! `Fragment`, `Segments`, `OriginalString`, `IsAbsoluteUri`, `Authority`, `UserInfo`,
//! `GetLeftPart`. The `url` crate parses and normalises (lowercase scheme and host, default
//! port dropped, dot segments removed, unsafe characters escaped), as .NET does.
//!
//! Enum values (`UriKind.Absolute`, `UriPartial.Path`) are held as their names, as the other
//! enums of this crate that are not flags are.

use crate::error::RunError;
use crate::interp::Interpreter;
use crate::library::{arg, list_value, string_value};
use crate::members::fail;
use crate::native::{Native, Outcome};
use crate::value::Value;
use std::sync::Arc;

const UNDETERMINED: &str = "Invalid URI: The format of the URI could not be determined.";
const RELATIVE: &str = "This operation is not supported for a relative URI.";

/// A URI: the text it was made from and, when it is absolute, its parsed form.
#[derive(Debug)]
pub struct Uri {
    original: Arc<str>,
    /// `None` for a relative reference (`UriKind.Relative`).
    url: Option<url::Url>,
}

impl Uri {
    /// The text `ToString()` writes: the URI with the escapes of characters that mean
    /// nothing special unescaped (.NET's `SafeUnescaped` form: `%20` shows as a space,
    /// `%2F` stays escaped).
    pub fn write_text(&self, out: &mut String) {
        match &self.url {
            Some(url) => out.push_str(&safe_unescape(url.as_str())),
            None => out.push_str(&self.original),
        }
    }

    /// `Uri.Equals` (and `==`): absolute URIs by their normalised text without the fragment,
    /// relative ones by their text.
    pub fn same(&self, other: &Self) -> bool {
        match (&self.url, &other.url) {
            (Some(a), Some(b)) => a.as_str().split('#').next() == b.as_str().split('#').next(),
            (None, None) => self.original == other.original,
            _ => false,
        }
    }

    /// As Newtonsoft writes a `Uri`: its original text.
    pub fn original(&self) -> &Arc<str> {
        &self.original
    }
}

/// .NET's message for a text `url` cannot read as an absolute URI.
fn parse_fault(error: url::ParseError) -> &'static str {
    use url::ParseError::*;
    match error {
        EmptyHost
        | IdnaError
        | InvalidIpv4Address
        | InvalidIpv6Address
        | InvalidDomainCharacter => "Invalid URI: The hostname could not be parsed.",
        InvalidPort => "Invalid URI: Invalid port specified.",
        _ => UNDETERMINED,
    }
}

fn absolute(text: &str, at: usize) -> Result<Uri, RunError> {
    let url = url::Url::parse(text.trim()).map_err(|e| fail(at, parse_fault(e)))?;
    Ok(Uri {
        original: text.into(),
        url: Some(url),
    })
}

fn relative(text: &str, at: usize) -> Result<Uri, RunError> {
    if url::Url::parse(text.trim()).is_ok() {
        return Err(fail(at, UNDETERMINED));
    }
    Ok(Uri {
        original: text.into(),
        url: None,
    })
}

/// A text read as `kind` says (`Absolute`, `Relative` or `RelativeOrAbsolute`).
fn with_kind(text: &str, kind: &str, at: usize) -> Result<Uri, RunError> {
    match kind {
        "Absolute" => absolute(text, at),
        "Relative" => relative(text, at),
        _ => absolute(text, at).or_else(|_| relative(text, at)),
    }
}

/// `reference` resolved against `base` (RFC 3986 §5.2).
fn resolve(base: &Uri, reference: &str, at: usize) -> Result<Uri, RunError> {
    let url = base.url.as_ref().ok_or_else(|| fail(at, RELATIVE))?;
    let joined = url
        .join(reference.trim())
        .map_err(|e| fail(at, parse_fault(e)))?;
    Ok(Uri {
        original: joined.as_str().into(),
        url: Some(joined),
    })
}

fn native(uri: Uri) -> Value {
    Value::Native(Arc::new(Native::Uri(uri)))
}

/// The text of a string argument (or of a `context` object that prints as a URL).
fn text_of(interpreter: &Interpreter<'_>, value: &Value, at: usize) -> Result<String, RunError> {
    match value {
        Value::Null => Err(fail(at, "Value cannot be null. (Parameter 'uriString')")),
        Value::Str(s) => Ok(s.to_string()),
        other => Ok(interpreter.text_of(other)),
    }
}

/// `new Uri(text)`, `new Uri(text, UriKind)`, `new Uri(baseUri, relative)`.
pub fn construct(
    interpreter: &mut Interpreter<'_>,
    args: &[Value],
    at: usize,
) -> Result<Value, RunError> {
    let first = arg(args, 0, "new Uri", at)?;
    let uri = match (first, args.get(1)) {
        (Value::Native(base), Some(second)) => {
            let Native::Uri(base) = &**base else {
                return Err(fail(
                    at,
                    "new Uri needs a base Uri and a relative reference.",
                ));
            };
            let reference = match second {
                Value::Native(other) => match &**other {
                    Native::Uri(other) => other.original.to_string(),
                    _ => return Err(fail(at, "new Uri needs a relative reference.")),
                },
                other => text_of(interpreter, other, at)?,
            };
            resolve(base, &reference, at)?
        }
        (text, Some(Value::Str(kind))) => with_kind(&text_of(interpreter, text, at)?, kind, at)?,
        (text, _) => absolute(&text_of(interpreter, text, at)?, at)?,
    };
    interpreter.budget.alloc(uri.original.len() * 2 + 64)?;
    Ok(native(uri))
}

/// `Uri.TryCreate(text, UriKind, out uri)` and `Uri.TryCreate(baseUri, relative, out uri)`,
/// and the scheme names; `None` for the static members the library keeps
/// (`EscapeDataString`) and for other types.
pub fn static_call(
    interpreter: &mut Interpreter<'_>,
    ty: &str,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Outcome>, RunError> {
    if ty != "Uri" || name != "TryCreate" {
        return Ok(None);
    }
    let made = match (arg(args, 0, name, at)?, arg(args, 1, name, at)?) {
        (Value::Null, _) => None,
        (Value::Native(base), reference) => match (&**base, reference) {
            (Native::Uri(base), Value::Str(reference)) => resolve(base, reference, at).ok(),
            _ => None,
        },
        (text, Value::Str(kind)) => with_kind(&interpreter.text_of(text), kind, at).ok(),
        _ => None,
    };
    if let Some(uri) = &made {
        interpreter.budget.alloc(uri.original.len() * 2 + 64)?;
    }
    let ok = made.is_some();
    let out = made.map_or(Value::Null, native);
    Ok(Some((Value::Bool(ok), vec![None, None, Some(out)])))
}

/// `Uri.UriSchemeHttps` and friends, `UriKind.*`, `UriPartial.*`.
pub fn static_property(ty: &str, name: &str) -> Option<Value> {
    Some(match (ty, name) {
        ("Uri", "UriSchemeHttp") => Value::str("http"),
        ("Uri", "UriSchemeHttps") => Value::str("https"),
        ("Uri", "SchemeDelimiter") => Value::str("://"),
        ("UriKind", "Absolute" | "Relative" | "RelativeOrAbsolute") => Value::str(name),
        ("UriPartial", "Scheme" | "Authority" | "Path" | "Query") => Value::str(name),
        _ => return None,
    })
}

/// `host[:port]`, the port only when it is not the scheme's default.
fn authority(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// A member of a URI; `None` when it has no such member.
pub fn property(
    interpreter: &mut Interpreter<'_>,
    uri: &Uri,
    name: &str,
    at: usize,
) -> Result<Option<Value>, RunError> {
    match name {
        "OriginalString" => return Ok(Some(Value::Str(uri.original.clone()))),
        "IsAbsoluteUri" => return Ok(Some(Value::Bool(uri.url.is_some()))),
        _ => {}
    }
    let Some(url) = &uri.url else {
        return if ABSOLUTE_MEMBERS.contains(&name) {
            Err(fail(at, RELATIVE))
        } else {
            Ok(None)
        };
    };
    property_of_absolute(interpreter, url, name)
}

/// The members only an absolute URI has (a relative one fails reading them, as in .NET).
const ABSOLUTE_MEMBERS: &[&str] = &[
    "AbsoluteUri",
    "AbsolutePath",
    "PathAndQuery",
    "Query",
    "Fragment",
    "Host",
    "DnsSafeHost",
    "IdnHost",
    "Scheme",
    "Authority",
    "UserInfo",
    "LocalPath",
    "Port",
    "IsDefaultPort",
    "Segments",
];

fn property_of_absolute(
    interpreter: &mut Interpreter<'_>,
    url: &url::Url,
    name: &str,
) -> Result<Option<Value>, RunError> {
    let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
    let text = match name {
        "AbsoluteUri" => url.as_str().to_owned(),
        "AbsolutePath" => url.path().to_owned(),
        "PathAndQuery" => format!("{}{query}", url.path()),
        "Query" => query,
        "Fragment" => url.fragment().map(|f| format!("#{f}")).unwrap_or_default(),
        "Host" | "DnsSafeHost" | "IdnHost" => url.host_str().unwrap_or_default().to_owned(),
        "Scheme" => url.scheme().to_owned(),
        "Authority" => authority(url),
        "UserInfo" => match url.password() {
            Some(password) => format!("{}:{password}", url.username()),
            None => url.username().to_owned(),
        },
        "LocalPath" => percent_encoding::percent_decode_str(url.path())
            .decode_utf8_lossy()
            .into_owned(),
        "Port" => {
            let port = url.port_or_known_default().map_or(-1, i32::from);
            return Ok(Some(Value::Int(port)));
        }
        "IsDefaultPort" => return Ok(Some(Value::Bool(url.port().is_none()))),
        "Segments" => {
            let segments = url
                .path()
                .split_inclusive('/')
                .map(Value::str)
                .collect::<Vec<_>>();
            interpreter.budget.alloc(url.path().len())?;
            return list_value(interpreter, segments).map(Some);
        }
        _ => return Ok(None),
    };
    string_value(interpreter, text).map(Some)
}

/// A URI's methods: `GetLeftPart(UriPartial)`; `ToString` and `Equals` are every value's.
pub fn method(
    interpreter: &mut Interpreter<'_>,
    uri: &Uri,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    if name != "GetLeftPart" {
        return Ok(None);
    }
    let url = uri.url.as_ref().ok_or_else(|| fail(at, RELATIVE))?;
    let part = match arg(args, 0, name, at)? {
        Value::Str(part) => part.clone(),
        other => {
            return Err(fail(
                at,
                format!("expected a UriPartial, not {}.", other.type_name()),
            ));
        }
    };
    let scheme = format!("{}://", url.scheme());
    let mut text = match &*part {
        "Scheme" => scheme,
        _ => format!("{scheme}{}", authority(url)),
    };
    if matches!(&*part, "Path" | "Query") {
        text.push_str(url.path());
    }
    if &*part == "Query"
        && let Some(query) = url.query()
    {
        text.push('?');
        text.push_str(query);
    }
    string_value(interpreter, text).map(Some)
}

/// The value of one hexadecimal digit.
fn hex(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// The byte `%XY` at `i` of `bytes` stands for.
fn escaped_byte(bytes: &[u8], i: usize) -> Option<u8> {
    match bytes.get(i..i + 3)? {
        [b'%', high, low] => Some(hex(*high)? << 4 | hex(*low)?),
        _ => None,
    }
}

/// Unescapes `%XY` sequences whose characters have no meaning in a URI: unreserved ASCII,
/// spaces, and whole UTF-8 characters. Reserved characters (`/`, `?`, `#`, `%`, `&`…) and
/// control characters stay escaped, so the text still reads back as the same URI.
fn safe_unescape(text: &str) -> String {
    const KEEP_ESCAPED: &[u8] = b":/?#[]@!$&'()*+,;=%\\\"<>^`{|}";
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    // Every turn moves `i` forward.
    while let Some(&byte) = bytes.get(i) {
        let Some(decoded) = escaped_byte(bytes, i) else {
            out.push(byte);
            i += 1;
            continue;
        };
        if decoded.is_ascii() {
            let keep = KEEP_ESCAPED.contains(&decoded) || decoded.is_ascii_control();
            out.extend_from_slice(if keep {
                bytes.get(i..i + 3).unwrap_or_default()
            } else {
                std::slice::from_ref(&decoded)
            });
            i += 3;
            continue;
        }
        // A run of escaped non-ASCII bytes: unescaped when it is valid UTF-8.
        let mut run = Vec::new();
        let mut end = i;
        while let Some(b) = escaped_byte(bytes, end).filter(|b| !b.is_ascii()) {
            run.push(b);
            end += 3;
        }
        if std::str::from_utf8(&run).is_ok() {
            out.extend_from_slice(&run);
        } else {
            out.extend_from_slice(bytes.get(i..end).unwrap_or_default());
        }
        i = end;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use crate::testing::{eval, eval_err};

    #[test]
    fn relative_references_resolve_against_a_base() {
        // APIM docs (policy expressions article, and the send-request examples).
        assert_eq!(
            eval(
                "new Uri(new Uri(\"https://apimairlineapi.azurewebsites.net/UserProfile/\"), \"ada\").AbsoluteUri"
            ),
            "https://apimairlineapi.azurewebsites.net/UserProfile/ada"
        );
        assert_eq!(
            eval("new Uri(new Uri(\"https://h/a/b/c\"), \"../d?x=1\").ToString()"),
            "https://h/a/d?x=1"
        );
        assert_eq!(
            eval("new Uri(new Uri(\"https://h/a/b\"), \"/root\").AbsoluteUri"),
            "https://h/root"
        );
        assert_eq!(
            eval("new Uri(new Uri(\"https://h/a\"), \"https://other/x\").Host"),
            "other"
        );
    }

    #[test]
    fn members_of_an_absolute_uri() {
        let uri = "new Uri(\"HTTPS://Example.com:8443/api/v1/items/?q=a%20b&n=1#top\")";
        let member = |name: &str| eval(&format!("{uri}.{name}"));
        assert_eq!(
            member("AbsoluteUri"),
            "https://example.com:8443/api/v1/items/?q=a%20b&n=1#top"
        );
        assert_eq!(member("AbsolutePath"), "/api/v1/items/");
        assert_eq!(member("PathAndQuery"), "/api/v1/items/?q=a%20b&n=1");
        assert_eq!(member("Query"), "?q=a%20b&n=1");
        assert_eq!(member("Fragment"), "#top");
        assert_eq!(member("Host"), "example.com");
        assert_eq!(member("Port"), "8443");
        assert_eq!(member("Scheme"), "https");
        assert_eq!(member("Authority"), "example.com:8443");
        assert_eq!(
            member("OriginalString"),
            "HTTPS://Example.com:8443/api/v1/items/?q=a%20b&n=1#top"
        );
        assert_eq!(member("IsAbsoluteUri"), "True");
        assert_eq!(member("Segments.Length"), "4");
        assert_eq!(
            eval(&format!("string.Join(\"|\", {uri}.Segments)")),
            "/|api/|v1/|items/"
        );
        assert_eq!(
            eval(&format!("{uri}.ToString()")),
            "https://example.com:8443/api/v1/items/?q=a b&n=1#top"
        );
        assert_eq!(
            eval(&format!("{uri}.GetLeftPart(UriPartial.Path)")),
            "https://example.com:8443/api/v1/items/"
        );
        assert_eq!(eval("new Uri(\"https://h/p\").Port"), "443");
        assert_eq!(eval("new Uri(\"http://h\").Port"), "80");
        assert_eq!(eval("new Uri(\"http://h\").Query"), "");
        assert_eq!(eval("new Uri(\"http://h\").PathAndQuery"), "/");
        assert_eq!(
            eval("\"at \" + new Uri(\"http://h/a%2Fb\")"),
            "at http://h/a%2Fb"
        );
        assert_eq!(
            eval("new Uri(\"http://h/x\") == new Uri(\"HTTP://H/x#f\")"),
            "True"
        );
        assert_eq!(eval("new Uri(\"http://h/x\") is Uri"), "True");
    }

    #[test]
    fn relative_and_invalid_uris() {
        assert_eq!(
            eval_err("new Uri(\"not a uri\")"),
            "Invalid URI: The format of the URI could not be determined."
        );
        assert_eq!(
            eval_err("new Uri(\"/relative/path\")"),
            "Invalid URI: The format of the URI could not be determined."
        );
        assert_eq!(
            eval_err("new Uri(\"http://h:99999/\")"),
            "Invalid URI: Invalid port specified."
        );
        assert_eq!(
            eval("new Uri(\"a/b\", UriKind.Relative).IsAbsoluteUri"),
            "False"
        );
        assert_eq!(
            eval("new Uri(\"a/b\", UriKind.RelativeOrAbsolute).OriginalString"),
            "a/b"
        );
        assert_eq!(
            eval_err("new Uri(\"a/b\", UriKind.Relative).Host"),
            "This operation is not supported for a relative URI."
        );
        assert_eq!(
            crate::testing::block(
                "Uri u; return Uri.TryCreate(\"https://h/x\", UriKind.Absolute, out u) ? u.Host : \"no\";"
            ),
            "h"
        );
        assert_eq!(
            crate::testing::block(
                "return Uri.TryCreate(\"::\", UriKind.Absolute, out var u) + \"\" + (u == null);"
            ),
            "FalseTrue"
        );
    }
}
