//! APIM's string extensions for credentials: `text.AsJwt()` / `text.TryParseJwt(out jwt)`
//! read a JSON Web Token (without checking its signature — that is `validate-jwt`'s work),
//! and `text.AsBasic()` / `text.TryParseBasic(out credentials)` read HTTP Basic
//! credentials. The `Jwt` has APIM's members: `Algorithm`, `Type`, `Subject`, `Issuer`,
//! `Audiences`, `Id`, `ExpirationTime`, `NotBefore`, `IssuedAt` and `Claims`, a read-only
//! dictionary of claim name to its values as strings.

use crate::error::RunError;
use crate::interp::Interpreter;
use crate::library::{arg, list_value, string_value};
use crate::members::{fail, text_arg};
use crate::native::{Native, Outcome};
use crate::value::Value;
use base64::Engine as _;
use std::sync::Arc;

/// The longest token or credentials text read, in bytes (larger ones are not credentials).
const MAX_TEXT: usize = 64 << 10;

/// Base64url as JWTs write it, with or without padding.
const BASE64URL: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

type JsonObject = serde_json::Map<String, serde_json::Value>;

/// A JWT's header and payload.
#[derive(Debug)]
pub struct Jwt {
    header: JsonObject,
    payload: JsonObject,
}

/// A claim name and its values as strings.
pub type Claims = Vec<(Arc<str>, Vec<Arc<str>>)>;

/// Decodes one base64url part of a token as a JSON object.
fn json_part(part: &str) -> Option<JsonObject> {
    let bytes = BASE64URL.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(object) => Some(object),
        _ => None,
    }
}

/// A compact JWS: three base64url parts, the first two JSON objects. The signature is
/// not checked, but it must be base64url (it may be empty, as an unsecured JWT's is).
pub fn parse_jwt(text: &str) -> Option<Jwt> {
    let text = text.trim();
    if text.len() > MAX_TEXT {
        return None;
    }
    let mut parts = text.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || BASE64URL.decode(signature).is_err() {
        return None;
    }
    Some(Jwt {
        header: json_part(header)?,
        payload: json_part(payload)?,
    })
}

/// `Basic dXNlcjpwYXNz` or `dXNlcjpwYXNz`: the user name and password.
pub fn parse_basic(text: &str) -> Option<(String, String)> {
    let text = text.trim();
    if text.len() > MAX_TEXT {
        return None;
    }
    let encoded = match text.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("Basic") => rest.trim(),
        Some(_) => return None,
        None => text,
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let decoded = String::from_utf8(bytes).ok()?;
    let (username, password) = decoded.split_once(':')?;
    Some((username.to_owned(), password.to_owned()))
}

/// A claim's values as text: a string as itself, each item of an array, anything else as
/// its JSON.
fn claim_strings(value: &serde_json::Value) -> Vec<Arc<str>> {
    let one = |v: &serde_json::Value| -> Arc<str> {
        match v {
            serde_json::Value::String(s) => Arc::from(s.as_str()),
            other => Arc::from(other.to_string()),
        }
    };
    match value {
        serde_json::Value::Array(items) => items.iter().map(one).collect(),
        other => vec![one(other)],
    }
}

/// A claim as a string (its first value), or null.
fn claim_text(object: &JsonObject, name: &str) -> Value {
    object
        .get(name)
        .filter(|v| !v.is_null())
        .and_then(|v| claim_strings(v).into_iter().next())
        .map_or(Value::Null, Value::Str)
}

/// A time claim (seconds since the Unix epoch) as a UTC `DateTime`, or null.
fn claim_time(object: &JsonObject, name: &str) -> Value {
    let seconds = match object.get(name) {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    seconds
        .and_then(crate::dates::from_unix_seconds)
        .map_or(Value::Null, Value::DateTime)
}

fn native(value: Native) -> Value {
    Value::Native(Arc::new(value))
}

/// `AsJwt`, `TryParseJwt`, `AsBasic`, `TryParseBasic` on a string; `None` for other names.
pub fn string_extension(
    interpreter: &mut Interpreter<'_>,
    text: &str,
    name: &str,
    at: usize,
) -> Result<Option<Outcome>, RunError> {
    let _ = at;
    let made = match name {
        "AsJwt" | "TryParseJwt" => parse_jwt(text).map(|jwt| native(Native::Jwt(jwt))),
        "AsBasic" | "TryParseBasic" => parse_basic(text).map(|(username, password)| {
            native(Native::Basic {
                username: username.into(),
                password: password.into(),
            })
        }),
        _ => return Ok(None),
    };
    interpreter.budget.alloc(text.len() * 2)?;
    Ok(Some(match name {
        "TryParseJwt" | "TryParseBasic" => (
            Value::Bool(made.is_some()),
            vec![Some(made.unwrap_or(Value::Null))],
        ),
        _ => (made.unwrap_or(Value::Null), Vec::new()),
    }))
}

/// The extensions called on a null string: C# passes the null to them, and they answer
/// null (or false).
pub fn on_null(name: &str) -> Option<Outcome> {
    match name {
        "AsJwt" | "AsBasic" => Some((Value::Null, Vec::new())),
        "TryParseJwt" | "TryParseBasic" => Some((Value::Bool(false), vec![Some(Value::Null)])),
        _ => None,
    }
}

/// A member of a `Jwt`.
pub fn property(
    interpreter: &mut Interpreter<'_>,
    jwt: &Jwt,
    name: &str,
) -> Result<Option<Value>, RunError> {
    Ok(Some(match name {
        "Algorithm" => claim_text(&jwt.header, "alg"),
        "Type" => claim_text(&jwt.header, "typ"),
        "Subject" => claim_text(&jwt.payload, "sub"),
        "Issuer" => claim_text(&jwt.payload, "iss"),
        "Id" => claim_text(&jwt.payload, "jti"),
        "Audiences" => {
            let audiences = jwt
                .payload
                .get("aud")
                .filter(|v| !v.is_null())
                .map(claim_strings)
                .unwrap_or_default();
            list_value(interpreter, audiences.into_iter().map(Value::Str).collect())?
        }
        "ExpirationTime" => claim_time(&jwt.payload, "exp"),
        "NotBefore" => claim_time(&jwt.payload, "nbf"),
        "IssuedAt" => claim_time(&jwt.payload, "iat"),
        "Claims" => {
            let mut claims: Claims = Vec::with_capacity(jwt.payload.len());
            let mut size = 0;
            for (name, value) in &jwt.payload {
                let values = claim_strings(value);
                size += name.len() + values.iter().map(|v| v.len() + 16).sum::<usize>() + 32;
                claims.push((Arc::from(name.as_str()), values));
            }
            interpreter.budget.alloc(size)?;
            native(Native::Claims(claims))
        }
        _ => return Ok(None),
    }))
}

/// A member of `BasicAuthCredentials`.
pub fn basic_property(username: &Arc<str>, password: &Arc<str>, name: &str) -> Option<Value> {
    match name {
        "Username" => Some(Value::Str(username.clone())),
        "Password" => Some(Value::Str(password.clone())),
        _ => None,
    }
}

fn values_of(values: &[Arc<str>]) -> Value {
    Value::list(values.iter().cloned().map(Value::Str).collect())
}

fn find<'c>(claims: &'c Claims, name: &str) -> Option<&'c [Arc<str>]> {
    claims
        .iter()
        .find(|(n, _)| &**n == name)
        .map(|(_, values)| values.as_slice())
}

/// `Claims.Count`, `Claims.Keys`, `Claims.Values`.
pub fn claims_property(
    interpreter: &mut Interpreter<'_>,
    claims: &Claims,
    name: &str,
) -> Result<Option<Value>, RunError> {
    Ok(Some(match name {
        "Count" => Value::Int(i32::try_from(claims.len()).unwrap_or(i32::MAX)),
        "Keys" => list_value(
            interpreter,
            claims.iter().map(|(n, _)| Value::Str(n.clone())).collect(),
        )?,
        "Values" => list_value(
            interpreter,
            claims.iter().map(|(_, v)| values_of(v)).collect(),
        )?,
        _ => return Ok(None),
    }))
}

/// `Claims.GetValueOrDefault(name[, default])` (the values joined with `,`, as APIM joins
/// them), `ContainsKey`, `TryGetValue`.
pub fn claims_method(
    interpreter: &mut Interpreter<'_>,
    claims: &Claims,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Outcome>, RunError> {
    let key = || -> Result<Arc<str>, RunError> { text_arg(arg(args, 0, name, at)?, at) };
    Ok(Some(match name {
        "GetValueOrDefault" => {
            let value = match find(claims, &key()?) {
                Some(values) => string_value(interpreter, values.join(","))?,
                None => args.get(1).cloned().unwrap_or(Value::Null),
            };
            (value, Vec::new())
        }
        "ContainsKey" => (Value::Bool(find(claims, &key()?).is_some()), Vec::new()),
        "TryGetValue" => {
            let found = find(claims, &key()?);
            (
                Value::Bool(found.is_some()),
                vec![None, Some(found.map_or(Value::Null, values_of))],
            )
        }
        _ => return Ok(None),
    }))
}

/// `Claims["name"]`: the values, or .NET's `KeyNotFoundException`.
pub fn claims_index(claims: &Claims, key: &Value, at: usize) -> Result<Value, RunError> {
    let key = text_arg(key, at)?;
    find(claims, &key).map(values_of).ok_or_else(|| {
        fail(
            at,
            format!("The given key '{key}' was not present in the dictionary."),
        )
    })
}

/// The claims as key/value pairs, for `foreach` and LINQ.
pub fn claims_items(claims: &Claims) -> Vec<Value> {
    claims
        .iter()
        .map(|(name, values)| Value::Pair(Arc::new((Value::Str(name.clone()), values_of(values)))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::BASE64URL;
    use crate::testing::{block, eval};
    use base64::Engine as _;

    /// A token with `header` and `payload`, signed with nonsense.
    fn token(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            BASE64URL.encode(header),
            BASE64URL.encode(payload)
        )
    }

    fn sample() -> String {
        token(
            r#"{"alg":"RS256","typ":"JWT"}"#,
            r#"{"sub":"ada@contoso.com","iss":"https://login.contoso.com","aud":["api://one","api://two"],"jti":"id-1","exp":1714557600,"iat":1714554000,"roles":["admin","reader"],"scp":"read write","n":7}"#,
        )
    }

    #[test]
    fn the_articles_jwt_example() {
        // APIM docs: `context.Request.Headers.GetValueOrDefault("Authorization")` with the
        // scheme split off, read as a JWT.
        let source = format!("\"Bearer {}\".Split(' ')[1].AsJwt()?.Subject", sample());
        assert_eq!(eval(&source), "ada@contoso.com");
        assert_eq!(eval("\"Bearer nope\".Split(' ')[1].AsJwt()?.Subject"), "");
        assert_eq!(
            eval("\"Bearer nope\".Split(' ')[1].AsJwt() == null"),
            "True"
        );
    }

    #[test]
    fn members_of_a_jwt() {
        let jwt = format!("\"{}\".AsJwt()", sample());
        let member = |name: &str| eval(&format!("{jwt}.{name}"));
        assert_eq!(member("Algorithm"), "RS256");
        assert_eq!(member("Type"), "JWT");
        assert_eq!(member("Issuer"), "https://login.contoso.com");
        assert_eq!(member("Id"), "id-1");
        assert_eq!(
            eval(&format!("string.Join(\" \", {jwt}.Audiences)")),
            "api://one api://two"
        );
        assert_eq!(
            member("ExpirationTime.Value.ToString(\"o\")"),
            "2024-05-01T10:00:00.0000000Z"
        );
        assert_eq!(
            eval(&format!(
                "({jwt}.ExpirationTime - {jwt}.IssuedAt).Value.TotalMinutes"
            )),
            "60"
        );
        assert_eq!(member("NotBefore == null"), "True");
        assert_eq!(member("NotBefore.HasValue"), "False");
        assert_eq!(member("ExpirationTime.HasValue"), "True");
        assert_eq!(
            eval(&format!("{jwt}.ExpirationTime < DateTime.UtcNow")),
            "True"
        );
        assert_eq!(
            member("Claims.GetValueOrDefault(\"roles\", \"none\")"),
            "admin,reader"
        );
        assert_eq!(member("Claims.GetValueOrDefault(\"x\", \"none\")"), "none");
        assert_eq!(member("Claims[\"scp\"][0]"), "read write");
        assert_eq!(member("Claims[\"n\"][0]"), "7");
        assert_eq!(member("Claims.ContainsKey(\"roles\")"), "True");
        assert_eq!(member("Claims.Keys.Count()"), "9");
        assert_eq!(
            eval(&format!(
                "{jwt}.Claims.Where(c => c.Key.StartsWith(\"s\")).Select(c => c.Key).First()"
            )),
            "sub"
        );
        assert_eq!(eval(&format!("{jwt} is Jwt")), "True");
        assert_eq!(
            block(&format!(
                "Jwt jwt; if (\"{}\".TryParseJwt(out jwt)) {{ return jwt.Claims[\"roles\"].Length; }} return -1;",
                sample()
            )),
            "2"
        );
        assert_eq!(
            block("return \"a.b.c\".TryParseJwt(out var jwt) + \"/\" + (jwt == null);"),
            "False/True"
        );
        // A JWT without a signature (`alg: none`) still reads.
        let unsigned = token(r#"{"alg":"none"}"#, r#"{"sub":"x"}"#);
        let unsigned = unsigned.trim_end_matches("c2lnbmF0dXJl");
        assert_eq!(eval(&format!("\"{unsigned}\".AsJwt().Subject")), "x");
    }

    #[test]
    fn basic_credentials() {
        // "user:secret"
        assert_eq!(
            eval("\"Basic dXNlcjpzZWNyZXQ=\".AsBasic().Username"),
            "user"
        );
        assert_eq!(eval("\"dXNlcjpzZWNyZXQ=\".AsBasic().Password"), "secret");
        assert_eq!(eval("\"Basic !!!\".AsBasic() == null"), "True");
        // "nocolon"
        assert_eq!(eval("\"Basic bm9jb2xvbg==\".AsBasic() == null"), "True");
        assert_eq!(
            eval("\"Bearer dXNlcjpzZWNyZXQ=\".AsBasic() == null"),
            "True"
        );
        assert_eq!(
            block(
                r#"
                string header = "Basic dXNlcjpzZWNyZXQ=";
                if (header.TryParseBasic(out BasicAuthCredentials c)) { return c.Username + "/" + c.Password; }
                return "none";
                "#
            ),
            "user/secret"
        );
        assert_eq!(
            block("string h = null; return h.AsBasic() == null && !h.TryParseBasic(out var c);"),
            "True"
        );
        assert_eq!(
            eval("\"Basic dXNlcjpzZWNyZXQ=\".AsBasic() is BasicAuthCredentials"),
            "True"
        );
    }
}
