//! What Liquid does with values: how each is written out, which are true, how two compare.
//! Values are JSON's (`serde_json::Value`): a template's data is the message body and
//! `context`, both JSON-shaped.

use serde_json::Value;
use std::cmp::Ordering;

/// A number as Liquid computes with it: whole numbers stay whole.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(n) => n as f64,
            Number::Float(x) => x,
        }
    }

    pub fn abs(self) -> Number {
        match self {
            Number::Int(n) => n
                .checked_abs()
                .map_or(Number::Float((n as f64).abs()), Number::Int),
            Number::Float(x) => Number::Float(x.abs()),
        }
    }
}

/// A number, or a text that reads as one.
pub fn as_number(value: &Value) -> Option<Number> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .map(Number::Int)
            .or_else(|| n.as_f64().map(Number::Float)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().map(Number::Int).ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .map(Number::Float)
            })
        }
        _ => None,
    }
}

pub fn number_value(number: Number) -> Value {
    match number {
        Number::Int(n) => Value::from(n),
        Number::Float(x) => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
    }
}

/// The text a value writes: nil nothing, a list its items one after another, an object its
/// JSON — except an object with a `ToString` member (a URL of `context`), which writes that.
pub fn text_of(value: &Value) -> String {
    let mut out = String::new();
    write_text(value, &mut out);
    out
}

pub fn write_text(value: &Value, out: &mut String) {
    match value {
        Value::Null => {}
        Value::String(s) => out.push_str(s),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::Array(items) => items.iter().for_each(|item| write_text(item, out)),
        Value::Object(map) => match map.get("ToString") {
            Some(Value::String(s)) => out.push_str(s),
            _ => out.push_str(&value.to_string()),
        },
    }
}

/// Liquid's truth: only nil and false are false.
pub fn truthy(value: &Value) -> bool {
    !matches!(value, Value::Null | Value::Bool(false))
}

/// `==`: numbers by value (`1 == 1.0`), everything else as JSON.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => {
            as_number(a).map(Number::as_f64) == as_number(b).map(Number::as_f64)
        }
        _ => a == b,
    }
}

/// `<`, `>`… between numbers or between texts; `None` between anything else.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => {
            as_number(a)?.as_f64().partial_cmp(&as_number(b)?.as_f64())
        }
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// A total order for `Sort`: nil first, then numbers, then texts, then the rest as written.
pub fn order(a: &Value, b: &Value) -> Ordering {
    let rank = |v: &Value| match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    };
    compare(a, b).unwrap_or_else(|| rank(a).cmp(&rank(b)))
}

/// `contains`: a text holds a text, a list holds an item.
pub fn contains(haystack: &Value, needle: &Value) -> bool {
    match haystack {
        Value::String(s) => s.contains(&text_of(needle)),
        Value::Array(items) => items.iter().any(|item| equal(item, needle)),
        Value::Object(map) => map.contains_key(&text_of(needle)),
        _ => false,
    }
}

/// `== empty`.
pub fn is_empty(value: &Value) -> bool {
    match value {
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// `== blank`.
pub fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.trim().is_empty(),
        other => is_empty(other),
    }
}
