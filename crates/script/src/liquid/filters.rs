//! The Liquid filters APIM's `set-body` supports, under APIM's Pascal-case names
//! (`AtLeast`, not `at_least`), with Liquid's meaning (shopify.github.io/liquid) and .NET's
//! formats where APIM's "C# mode" shows through (`Date` takes a .NET date format,
//! `Currency` writes en-US currency).

use super::values::{Number, as_number, equal, number_value, text_of};
use serde_json::Value;

macro_rules! filters {
    ($($variant:ident = $name:literal ($min:literal ..= $max:literal)),* $(,)?) => {
        /// A filter, resolved by name when the template is read.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Filter { $($variant),* }

        impl Filter {
            const ALL: &'static [(Filter, &'static str, usize, usize)] =
                &[$((Filter::$variant, $name, $min, $max)),*];
        }
    };
}

filters! {
    Abs = "Abs" (0..=0),
    Append = "Append" (1..=1),
    AtLeast = "AtLeast" (1..=1),
    AtMost = "AtMost" (1..=1),
    Capitalize = "Capitalize" (0..=0),
    Compact = "Compact" (0..=0),
    Currency = "Currency" (0..=1),
    Date = "Date" (1..=1),
    Default = "Default" (1..=1),
    DividedBy = "DividedBy" (1..=1),
    Downcase = "Downcase" (0..=0),
    Escape = "Escape" (0..=0),
    First = "First" (0..=0),
    H = "H" (0..=0),
    Join = "Join" (0..=1),
    Last = "Last" (0..=0),
    Lstrip = "Lstrip" (0..=0),
    Map = "Map" (1..=1),
    Minus = "Minus" (1..=1),
    Modulo = "Modulo" (1..=1),
    NewlineToBr = "NewlineToBr" (0..=0),
    Plus = "Plus" (1..=1),
    Prepend = "Prepend" (1..=1),
    Remove = "Remove" (1..=1),
    RemoveFirst = "RemoveFirst" (1..=1),
    Replace = "Replace" (2..=2),
    ReplaceFirst = "ReplaceFirst" (2..=2),
    Round = "Round" (0..=1),
    Rstrip = "Rstrip" (0..=0),
    Size = "Size" (0..=0),
    Slice = "Slice" (1..=2),
    Sort = "Sort" (0..=1),
    Split = "Split" (1..=1),
    Strip = "Strip" (0..=0),
    StripHtml = "StripHtml" (0..=0),
    StripNewlines = "StripNewlines" (0..=0),
    Times = "Times" (1..=1),
    Truncate = "Truncate" (1..=2),
    TruncateWords = "TruncateWords" (1..=2),
    Uniq = "Uniq" (0..=0),
    Upcase = "Upcase" (0..=0),
    UrlDecode = "UrlDecode" (0..=0),
    UrlEncode = "UrlEncode" (0..=0),
}

impl Filter {
    /// The filter called `name`; a fault that names the Pascal-case spelling when `name` is
    /// Liquid's usual snake case.
    pub fn named(name: &str) -> Result<Self, String> {
        if let Some((filter, ..)) = Self::ALL.iter().find(|(_, n, ..)| *n == name) {
            return Ok(*filter);
        }
        let pascal: String = name
            .split('_')
            .map(|part| {
                let mut chars = part.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                    .unwrap_or_default()
            })
            .collect();
        match Self::ALL.iter().find(|(_, n, ..)| *n == pascal) {
            Some((_, n, ..)) => Err(format!(
                "the Liquid filter is written `{n}` in APIM's templates (Pascal case), not `{name}`."
            )),
            None => Err(format!("`{name}` is not a Liquid filter APIM supports.")),
        }
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(f, ..)| *f == self)
            .map_or("?", |(_, n, ..)| n)
    }

    pub fn check_arity(self, count: usize) -> Result<(), String> {
        let (_, name, min, max) = Self::ALL
            .iter()
            .find(|(f, ..)| *f == self)
            .copied()
            .unwrap_or((self, "?", 0, usize::MAX));
        if (min..=max).contains(&count) {
            return Ok(());
        }
        Err(match (min, max) {
            (0, 0) => format!("`{name}` takes no arguments."),
            (a, b) if a == b => format!("`{name}` takes {a} argument(s)."),
            (a, b) => format!("`{name}` takes {a} to {b} arguments."),
        })
    }

    /// Applies the filter. `max_text` bounds the length of any text it makes.
    pub fn apply(self, input: Value, args: &[Value], max_text: usize) -> Result<Value, String> {
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::Null);
        let text = || text_of(&input);
        let bound = |len: usize| {
            if len > max_text {
                Err(format!(
                    "`{}` would make a text of {len} bytes; a template's texts are bounded at {max_text}.",
                    self.name(),
                ))
            } else {
                Ok(())
            }
        };
        let checked = |s: String| bound(s.len()).map(|()| Value::String(s));
        let value = match self {
            Filter::Abs => number_value(as_number(&input).unwrap_or(Number::Int(0)).abs()),
            Filter::Append => checked(text() + &text_of(&arg(0)))?,
            Filter::Prepend => checked(text_of(&arg(0)) + &text())?,
            Filter::AtLeast | Filter::AtMost => {
                let (a, b) = (number_or_zero(&input), number_or_zero(&arg(0)));
                let a_first = (a.as_f64() >= b.as_f64()) == (self == Filter::AtLeast);
                number_value(if a_first { a } else { b })
            }
            Filter::Plus | Filter::Minus | Filter::Times | Filter::DividedBy | Filter::Modulo => {
                arithmetic(self, number_or_zero(&input), number_or_zero(&arg(0)))?
            }
            Filter::Round => {
                let places = as_number(&arg(0))
                    .map_or(0, |n| n.as_f64() as i32)
                    .clamp(0, 15);
                let x = number_or_zero(&input).as_f64();
                let scale = 10f64.powi(places);
                let rounded = (x * scale).round() / scale;
                if places == 0 {
                    Value::from(rounded as i64)
                } else {
                    Value::from(rounded)
                }
            }
            Filter::Capitalize => {
                let s = text();
                let mut chars = s.chars();
                Value::String(
                    chars
                        .next()
                        .map(|c| c.to_uppercase().chain(chars).collect())
                        .unwrap_or_default(),
                )
            }
            Filter::Downcase => Value::String(text().to_lowercase()),
            Filter::Upcase => Value::String(text().to_uppercase()),
            Filter::Escape | Filter::H => Value::String(escape_html(&text())),
            Filter::Lstrip => Value::String(text().trim_start().to_owned()),
            Filter::Rstrip => Value::String(text().trim_end().to_owned()),
            Filter::Strip => Value::String(text().trim().to_owned()),
            Filter::StripNewlines => Value::String(text().replace(['\r', '\n'], "")),
            Filter::NewlineToBr => checked(text().replace("\r\n", "\n").replace('\n', "<br />\n"))?,
            Filter::StripHtml => Value::String(strip_html(&text())),
            Filter::Remove => Value::String(text().replace(&text_of(&arg(0)), "")),
            Filter::RemoveFirst => Value::String(text().replacen(&text_of(&arg(0)), "", 1)),
            Filter::Replace | Filter::ReplaceFirst => {
                let (from, to) = (text_of(&arg(0)), text_of(&arg(1)));
                let s = text();
                let count = if self == Filter::Replace {
                    usize::MAX
                } else {
                    1
                };
                if from.is_empty() {
                    Value::String(s)
                } else {
                    let times = s.matches(from.as_str()).count().min(count);
                    let grows = to.len().saturating_sub(from.len()).saturating_mul(times);
                    bound(s.len().saturating_add(grows))?;
                    Value::String(s.replacen(from.as_str(), &to, count))
                }
            }
            Filter::Truncate => {
                let length = as_number(&arg(0)).map_or(50, |n| n.as_f64().max(0.0) as usize);
                let ellipsis = if args.len() > 1 {
                    text_of(&arg(1))
                } else {
                    "...".to_owned()
                };
                let s = text();
                if s.chars().count() <= length {
                    Value::String(s)
                } else {
                    let keep = length.saturating_sub(ellipsis.chars().count());
                    Value::String(s.chars().take(keep).collect::<String>() + &ellipsis)
                }
            }
            Filter::TruncateWords => {
                let words = as_number(&arg(0)).map_or(15, |n| n.as_f64().max(1.0) as usize);
                let ellipsis = if args.len() > 1 {
                    text_of(&arg(1))
                } else {
                    "...".to_owned()
                };
                let s = text();
                let all: Vec<&str> = s.split_whitespace().collect();
                if all.len() <= words {
                    Value::String(s)
                } else {
                    Value::String(
                        all.iter()
                            .take(words)
                            .copied()
                            .collect::<Vec<_>>()
                            .join(" ")
                            + &ellipsis,
                    )
                }
            }
            Filter::UrlEncode => {
                Value::String(url::form_urlencoded::byte_serialize(text().as_bytes()).collect())
            }
            Filter::UrlDecode => Value::String(
                url::form_urlencoded::parse(format!("x={}", text()).as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default(),
            ),
            Filter::Size => Value::from(match &input {
                Value::Array(items) => items.len(),
                Value::Object(map) => map.len(),
                Value::String(s) => s.chars().count(),
                _ => 0,
            }),
            Filter::First | Filter::Last => match input {
                Value::Array(items) => {
                    let item = if self == Filter::First {
                        items.first()
                    } else {
                        items.last()
                    };
                    item.cloned().unwrap_or(Value::Null)
                }
                Value::String(s) => {
                    let c = if self == Filter::First {
                        s.chars().next()
                    } else {
                        s.chars().last()
                    };
                    c.map_or(Value::Null, |c| Value::String(c.to_string()))
                }
                _ => Value::Null,
            },
            Filter::Join => {
                let glue = if args.is_empty() {
                    " ".to_owned()
                } else {
                    text_of(&arg(0))
                };
                let parts: Vec<String> = items_of(input).iter().map(text_of).collect();
                checked(parts.join(&glue))?
            }
            Filter::Split => {
                let s = text();
                let on = text_of(&arg(0));
                let parts: Vec<Value> = if on.is_empty() {
                    s.chars().map(|c| Value::String(c.to_string())).collect()
                } else {
                    s.split(on.as_str())
                        .map(|p| Value::String(p.to_owned()))
                        .collect()
                };
                Value::Array(parts)
            }
            Filter::Compact => Value::Array(
                items_of(input)
                    .into_iter()
                    .filter(|v| !v.is_null())
                    .collect(),
            ),
            Filter::Uniq => {
                let mut seen: Vec<Value> = Vec::new();
                for item in items_of(input) {
                    if !seen.iter().any(|s| equal(s, &item)) {
                        seen.push(item);
                    }
                }
                Value::Array(seen)
            }
            Filter::Map => {
                let key = text_of(&arg(0));
                Value::Array(
                    items_of(input)
                        .iter()
                        .map(|item| item.get(&key).cloned().unwrap_or(Value::Null))
                        .collect(),
                )
            }
            Filter::Sort => {
                let mut items = items_of(input);
                let key = (!args.is_empty()).then(|| text_of(&arg(0)));
                let pick = |v: &Value| match &key {
                    Some(k) => v.get(k).cloned().unwrap_or(Value::Null),
                    None => v.clone(),
                };
                items.sort_by(|a, b| super::values::order(&pick(a), &pick(b)));
                Value::Array(items)
            }
            Filter::Slice => {
                let start = as_number(&arg(0)).map_or(0, |n| n.as_f64() as i64);
                let length = as_number(&arg(1)).map_or(1, |n| n.as_f64().max(0.0) as usize);
                match input {
                    Value::Array(items) => {
                        let from = resolve_index(start, items.len());
                        Value::Array(items.into_iter().skip(from).take(length).collect())
                    }
                    other => {
                        let s = text_of(&other);
                        let from = resolve_index(start, s.chars().count());
                        Value::String(s.chars().skip(from).take(length).collect())
                    }
                }
            }
            Filter::Default => {
                let empty = match &input {
                    Value::Null | Value::Bool(false) => true,
                    Value::String(s) => s.is_empty(),
                    Value::Array(a) => a.is_empty(),
                    Value::Object(o) => o.is_empty(),
                    Value::Number(_) | Value::Bool(true) => false,
                };
                if empty { arg(0) } else { input }
            }
            Filter::Date => format_date(&input, &text_of(&arg(0)))?,
            Filter::Currency => currency(number_or_zero(&input).as_f64()),
        };
        Ok(value)
    }
}

fn number_or_zero(value: &Value) -> Number {
    as_number(value).unwrap_or(Number::Int(0))
}

fn arithmetic(filter: Filter, a: Number, b: Number) -> Result<Value, String> {
    if let (Number::Int(x), Number::Int(y)) = (a, b) {
        let result = match filter {
            Filter::Plus => x.checked_add(y),
            Filter::Minus => x.checked_sub(y),
            Filter::Times => x.checked_mul(y),
            Filter::DividedBy | Filter::Modulo if y == 0 => {
                return Err(format!("`{}` by zero.", filter.name()));
            }
            Filter::DividedBy => Some(x.div_euclid(y)),
            _ => x.checked_rem_euclid(y),
        };
        return result
            .map(Value::from)
            .ok_or_else(|| format!("`{}` overflows a whole number.", filter.name()));
    }
    let (x, y) = (a.as_f64(), b.as_f64());
    let result = match filter {
        Filter::Plus => x + y,
        Filter::Minus => x - y,
        Filter::Times => x * y,
        Filter::DividedBy | Filter::Modulo if y == 0.0 => {
            return Err(format!("`{}` by zero.", filter.name()));
        }
        Filter::DividedBy => x / y,
        _ => x % y,
    };
    Ok(number_value(Number::Float(result)))
}

/// A start index of `slice`: negative counts from the end.
fn resolve_index(start: i64, len: usize) -> usize {
    if start >= 0 {
        usize::try_from(start).unwrap_or(usize::MAX)
    } else {
        len.saturating_sub(usize::try_from(start.unsigned_abs()).unwrap_or(usize::MAX))
    }
}

/// The items of an array; a single value is a list of one, nil none.
fn items_of(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn strip_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            other if !in_tag => out.push(other),
            _ => {}
        }
    }
    out
}

/// `Date: "format"` with a .NET format; the input is a date text (ISO 8601 and the other
/// forms `DateTime.Parse` reads), `"now"` / `"today"`, or Unix seconds.
fn format_date(input: &Value, format: &str) -> Result<Value, String> {
    let date = match input {
        Value::String(s) if s.eq_ignore_ascii_case("now") || s.eq_ignore_ascii_case("today") => {
            crate::dates::from_unix_seconds(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64()),
            )
        }
        Value::String(s) => crate::dates::parse_date(s),
        Value::Number(n) => n.as_f64().and_then(crate::dates::from_unix_seconds),
        _ => None,
    };
    let Some(date) = date else {
        // Liquid leaves what is not a date as it was.
        return Ok(input.clone());
    };
    crate::dates::format_date(date, format)
        .map(Value::String)
        .ok_or_else(|| format!("`{format}` is not a .NET date format."))
}

/// en-US currency, as .NET's `ToString("C")`: `$1,234.50`, `-$3.00`.
fn currency(amount: f64) -> Value {
    let cents = (amount.abs() * 100.0).round();
    let whole = (cents / 100.0).trunc() as u64;
    let fraction = (cents % 100.0) as u64;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if amount < 0.0 && cents > 0.0 { "-" } else { "" };
    Value::String(format!("{sign}${grouped}.{fraction:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(filter: &str, input: Value, args: &[Value]) -> Value {
        Filter::named(filter)
            .unwrap()
            .apply(input, args, 1 << 20)
            .unwrap()
    }

    #[test]
    fn names_are_pascal_case_and_snake_case_is_explained() {
        assert_eq!(Filter::named("AtLeast"), Ok(Filter::AtLeast));
        let fault = Filter::named("at_least").unwrap_err();
        assert!(fault.contains("`AtLeast`"), "{fault}");
        assert!(Filter::named("Frobnicate").is_err());
        assert!(Filter::Replace.check_arity(1).is_err());
    }

    #[test]
    fn text_filters() {
        assert_eq!(run("Upcase", json!("abc"), &[]), json!("ABC"));
        assert_eq!(run("Append", json!("a"), &[json!(1)]), json!("a1"));
        assert_eq!(
            run("Replace", json!("a-b-c"), &[json!("-"), json!("+")]),
            json!("a+b+c")
        );
        assert_eq!(
            run("ReplaceFirst", json!("a-b-c"), &[json!("-"), json!("")]),
            json!("ab-c")
        );
        assert_eq!(
            run("Truncate", json!("Ground control"), &[json!(8)]),
            json!("Groun...")
        );
        assert_eq!(
            run("TruncateWords", json!("a b c d"), &[json!(2)]),
            json!("a b...")
        );
        assert_eq!(
            run("Escape", json!("<a&'>"), &[]),
            json!("&lt;a&amp;&#39;&gt;")
        );
        assert_eq!(run("StripHtml", json!("<b>x</b>y"), &[]), json!("xy"));
        assert_eq!(run("UrlEncode", json!("a b&c"), &[]), json!("a+b%26c"));
        assert_eq!(run("UrlDecode", json!("a+b%26c"), &[]), json!("a b&c"));
        assert_eq!(
            run("Slice", json!("Liquid"), &[json!(-3), json!(2)]),
            json!("ui")
        );
    }

    #[test]
    fn number_filters() {
        assert_eq!(run("Plus", json!(4), &[json!(2)]), json!(6));
        assert_eq!(run("DividedBy", json!(7), &[json!(2)]), json!(3));
        assert_eq!(run("DividedBy", json!(7), &[json!(2.0)]), json!(3.5));
        assert_eq!(run("Times", json!("3"), &[json!(2)]), json!(6));
        assert_eq!(run("Round", json!(2.567), &[json!(2)]), json!(2.57));
        assert_eq!(run("AtLeast", json!(1), &[json!(5)]), json!(5));
        assert_eq!(run("Currency", json!(1234.5), &[]), json!("$1,234.50"));
        assert!(Filter::DividedBy.apply(json!(1), &[json!(0)], 100).is_err());
        assert!(
            Filter::Plus
                .apply(json!(i64::MAX), &[json!(1)], 100)
                .is_err()
        );
    }

    #[test]
    fn list_filters() {
        let items = json!([{"n": "b"}, {"n": "a"}, {"n": "b"}]);
        assert_eq!(
            run("Map", items.clone(), &[json!("n")]),
            json!(["b", "a", "b"])
        );
        assert_eq!(
            run("Sort", items.clone(), &[json!("n")])[0],
            json!({"n": "a"})
        );
        assert_eq!(run("Uniq", json!([1, 1, 2]), &[]), json!([1, 2]));
        assert_eq!(run("Join", json!([1, 2]), &[json!(", ")]), json!("1, 2"));
        assert_eq!(run("Split", json!("a,b"), &[json!(",")]), json!(["a", "b"]));
        assert_eq!(run("Compact", json!([1, null, 2]), &[]), json!([1, 2]));
        assert_eq!(run("Size", json!([1, 2, 3]), &[]), json!(3));
        assert_eq!(run("First", json!([7, 8]), &[]), json!(7));
        assert_eq!(run("Default", json!(""), &[json!("x")]), json!("x"));
    }

    #[test]
    fn dates_use_dotnet_formats() {
        assert_eq!(
            run(
                "Date",
                json!("2024-03-05T07:08:09Z"),
                &[json!("yyyyMMddTHH:mm:ssZ")]
            ),
            json!("20240305T07:08:09Z")
        );
        assert_eq!(
            run("Date", json!("not a date"), &[json!("yyyy")]),
            json!("not a date")
        );
    }

    #[test]
    fn texts_are_bounded() {
        assert!(
            Filter::Append
                .apply(json!("ab"), &[json!("cd")], 3)
                .is_err()
        );
        let fault = Filter::Replace
            .apply(json!("aaaa"), &[json!("a"), json!("bbbb")], 10)
            .unwrap_err();
        assert!(fault.contains("bounded"), "{fault}");
    }
}
