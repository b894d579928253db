//! `Guid`: `Guid.NewGuid()` (a random version 4 UUID), `Guid.Parse`, `Guid.Empty` and the
//! formats `ToString` writes (`D` by default, `N`, `B`, `P`; always lowercase, as .NET).
//! A guid is a value: two with the same 16 bytes are equal.

use crate::error::RunError;
use crate::interp::Interpreter;
use crate::library::arg;
use crate::members::fail;
use crate::native::Outcome;
use crate::value::Value;

/// The `D` format: `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn text(bytes: &[u8; 16]) -> String {
    uuid::Uuid::from_bytes(*bytes).hyphenated().to_string()
}

/// `ToString(format)`; `None` for a format .NET refuses.
pub fn format(bytes: &[u8; 16], format: &str) -> Option<String> {
    let id = uuid::Uuid::from_bytes(*bytes);
    Some(match format {
        "" | "D" | "d" => id.hyphenated().to_string(),
        "N" | "n" => id.simple().to_string(),
        "B" | "b" => id.braced().to_string(),
        "P" | "p" => format!("({})", id.hyphenated()),
        _ => return None,
    })
}

/// `Guid.Parse`: the `D`, `N`, `B` and `P` forms (and `urn:uuid:`), any case.
pub fn parse(text: &str) -> Option<[u8; 16]> {
    let s = text.trim();
    let s = s
        .strip_prefix('(')
        .and_then(|inner| inner.strip_suffix(')'))
        .unwrap_or(s);
    uuid::Uuid::parse_str(s).ok().map(uuid::Uuid::into_bytes)
}

/// `Guid.NewGuid()`, `Guid.Parse`, `Guid.TryParse`; `None` for other types.
pub fn static_call(
    interpreter: &mut Interpreter<'_>,
    ty: &str,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Outcome>, RunError> {
    if ty != "Guid" {
        return Ok(None);
    }
    let value = match name {
        "NewGuid" => {
            interpreter.budget.alloc(16)?;
            Value::Guid(uuid::Uuid::new_v4().into_bytes())
        }
        "Parse" => {
            let text = interpreter.text_of(arg(args, 0, name, at)?);
            parse(&text)
                .map(Value::Guid)
                .ok_or_else(|| fail(at, format!("Unrecognized Guid format: '{text}'.")))?
        }
        "TryParse" => {
            let parsed = match arg(args, 0, name, at)? {
                Value::Null => None,
                text => parse(&interpreter.text_of(text)),
            };
            let out = Value::Guid(parsed.unwrap_or_default());
            return Ok(Some((Value::Bool(parsed.is_some()), vec![None, Some(out)])));
        }
        _ => {
            return Err(fail(
                at,
                format!("Guid.{name} is not allowed in policy expressions."),
            ));
        }
    };
    Ok(Some((value, Vec::new())))
}

/// `new Guid("…")` (and `new Guid()`, the empty guid).
pub fn construct(
    interpreter: &Interpreter<'_>,
    args: &[Value],
    at: usize,
) -> Result<Value, RunError> {
    match args.first() {
        None => Ok(Value::Guid([0; 16])),
        Some(value) => {
            let text = interpreter.text_of(value);
            parse(&text)
                .map(Value::Guid)
                .ok_or_else(|| fail(at, format!("Unrecognized Guid format: '{text}'.")))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{eval, eval_err};

    #[test]
    fn new_parse_and_formats() {
        let made = eval("Guid.NewGuid().ToString()");
        assert_eq!(made.len(), 36);
        assert_eq!(made.chars().nth(14), Some('4'), "a version 4 guid: {made}");
        assert_ne!(made, eval("Guid.NewGuid().ToString()"));
        assert_eq!(eval("Guid.NewGuid().ToString(\"N\").Length"), "32");
        let parsed = "Guid.Parse(\"{6F9619FF-8B86-D011-B42D-00C04FC964FF}\")";
        assert_eq!(eval(parsed), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
        assert_eq!(
            eval(&format!("{parsed}.ToString(\"N\")")),
            "6f9619ff8b86d011b42d00c04fc964ff"
        );
        assert_eq!(
            eval(&format!("{parsed}.ToString(\"B\")")),
            "{6f9619ff-8b86-d011-b42d-00c04fc964ff}"
        );
        assert_eq!(
            eval(&format!(
                "{parsed} == Guid.Parse(\"6f9619ff8b86d011b42d00c04fc964ff\")"
            )),
            "True"
        );
        assert_eq!(
            eval("Guid.Empty.ToString()"),
            "00000000-0000-0000-0000-000000000000"
        );
        assert_eq!(eval("Guid.NewGuid() is Guid"), "True");
        assert!(eval_err("Guid.Parse(\"nope\")").contains("Unrecognized Guid format"));
    }
}
