//! LINQ's `Enumerable` methods over anything a script can enumerate: lists, arrays,
//! dictionaries (as key/value pairs), strings (as characters), JSON arrays and objects, and
//! the host's collections (headers). Results are materialised lists: scripts are short and
//! their collections small, and a list is what `foreach`, `Count` and indexers want anyway.

use crate::error::RunError;
use crate::interp::Interpreter;
use crate::members::{self, equals, fail, number};
use crate::value::{Shared, Value};
use std::cmp::Ordering;

/// Calls `function` (a lambda value) with `args`.
fn apply(
    interpreter: &mut Interpreter<'_>,
    function: &Value,
    args: Vec<Value>,
    at: usize,
) -> Result<Value, RunError> {
    match function {
        Value::Lambda(lambda) => interpreter.invoke(lambda, args, at),
        other => Err(fail(
            at,
            format!("expected a lambda, not {}.", other.type_name()),
        )),
    }
}

fn predicate(
    interpreter: &mut Interpreter<'_>,
    function: &Value,
    item: &Value,
    at: usize,
) -> Result<bool, RunError> {
    match apply(interpreter, function, vec![item.clone()], at)? {
        Value::Bool(b) => Ok(b),
        other => Err(fail(
            at,
            format!("the lambda must give a bool, not {}.", other.type_name()),
        )),
    }
}

/// Orders two values as `OrderBy` does: numbers, dates and time spans by value, everything
/// else by its text.
fn compare(a: &Value, b: &Value) -> Ordering {
    if let Some(ordering) = crate::dates::compare(a, b) {
        return ordering;
    }
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        _ => a.to_text().cmp(&b.to_text()),
    }
}

fn sum(values: &[Value], at: usize) -> Result<Value, RunError> {
    let mut whole: i64 = 0;
    let mut real = 0.0;
    let mut any_real = false;
    for value in values {
        match number(value) {
            Some(members::Number::Double(d)) => {
                any_real = true;
                real += d;
            }
            Some(n) => {
                whole = whole.wrapping_add(n.as_f64() as i64);
            }
            None if value.is_null() => {}
            None => return Err(fail(at, format!("cannot add up {}.", value.type_name()))),
        }
    }
    Ok(if any_real {
        Value::Double(real + whole as f64)
    } else if values.iter().all(|v| matches!(v, Value::Int(_))) {
        Value::Int(whole as i32)
    } else {
        Value::Long(whole)
    })
}

/// The LINQ method `name` on `target`; `None` when `name` is not one.
pub fn call(
    interpreter: &mut Interpreter<'_>,
    target: &Value,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    const METHODS: &[&str] = &[
        "Select",
        "Where",
        "Any",
        "All",
        "First",
        "FirstOrDefault",
        "Last",
        "LastOrDefault",
        "Single",
        "SingleOrDefault",
        "Count",
        "Sum",
        "Min",
        "Max",
        "Average",
        "OrderBy",
        "OrderByDescending",
        "Skip",
        "Take",
        "Distinct",
        "Contains",
        "Concat",
        "ToArray",
        "ToList",
        "ToDictionary",
        "Aggregate",
        "Reverse",
        "ElementAt",
        "ElementAtOrDefault",
        "SelectMany",
        "Cast",
        "OfType",
        "AsEnumerable",
        "SequenceEqual",
        "DefaultIfEmpty",
        "LongCount",
        "TakeWhile",
        "SkipWhile",
        "GroupBy",
    ];
    if !METHODS.contains(&name) {
        return Ok(None);
    }
    let items = members::items(interpreter, target.clone(), at)?;
    let function = args.first();
    let list = |interpreter: &mut Interpreter<'_>, items: Vec<Value>| -> Result<Value, RunError> {
        interpreter.budget.alloc(items.len() * 16)?;
        Ok(Value::list(items))
    };
    let filtered =
        |interpreter: &mut Interpreter<'_>, items: &[Value]| -> Result<Vec<Value>, RunError> {
            match function {
                Some(f) => {
                    let mut kept = Vec::new();
                    for item in items {
                        if predicate(interpreter, f, item, at)? {
                            kept.push(item.clone());
                        }
                    }
                    Ok(kept)
                }
                None => Ok(items.to_vec()),
            }
        };
    let empty = || fail(at, "Sequence contains no matching element");
    Ok(Some(match name {
        "Select" => {
            let f = function.ok_or_else(|| fail(at, "Select needs a lambda."))?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let args = match f {
                    Value::Lambda(l) if l.params.len() == 2 => vec![item, Value::Int(i as i32)],
                    _ => vec![item],
                };
                out.push(apply(interpreter, f, args, at)?);
            }
            list(interpreter, out)?
        }
        "SelectMany" => {
            let f = function.ok_or_else(|| fail(at, "SelectMany needs a lambda."))?;
            let mut out = Vec::new();
            for item in items {
                let inner = apply(interpreter, f, vec![item], at)?;
                out.extend(members::items(interpreter, inner, at)?);
            }
            list(interpreter, out)?
        }
        "Where" => {
            let kept = filtered(interpreter, &items)?;
            list(interpreter, kept)?
        }
        "Any" => Value::Bool(!filtered(interpreter, &items)?.is_empty()),
        "All" => {
            let f = function.ok_or_else(|| fail(at, "All needs a lambda."))?;
            let mut all = true;
            for item in &items {
                if !predicate(interpreter, f, item, at)? {
                    all = false;
                    break;
                }
            }
            Value::Bool(all)
        }
        "Count" | "LongCount" => {
            let n = filtered(interpreter, &items)?.len();
            if name == "Count" {
                Value::Int(n as i32)
            } else {
                Value::Long(n as i64)
            }
        }
        "First" | "FirstOrDefault" | "Single" | "SingleOrDefault" => {
            let kept = filtered(interpreter, &items)?;
            if name.starts_with("Single") && kept.len() > 1 {
                return Err(fail(at, "Sequence contains more than one element"));
            }
            match kept.into_iter().next() {
                Some(v) => v,
                None if name.ends_with("OrDefault") => Value::Null,
                None => return Err(empty()),
            }
        }
        "Last" | "LastOrDefault" => match filtered(interpreter, &items)?.pop() {
            Some(v) => v,
            None if name == "LastOrDefault" => Value::Null,
            None => return Err(empty()),
        },
        "ElementAt" | "ElementAtOrDefault" => {
            let index = members::to_index(args.first().unwrap_or(&Value::Null), at)?;
            match items.get(index) {
                Some(v) => v.clone(),
                None if name == "ElementAtOrDefault" => Value::Null,
                None => return Err(fail(at, "Index was out of range.")),
            }
        }
        "Sum" | "Average" | "Min" | "Max" => {
            let values = match function {
                Some(f) => {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(apply(interpreter, f, vec![item], at)?);
                    }
                    out
                }
                None => items,
            };
            match name {
                "Sum" => sum(&values, at)?,
                "Average" => {
                    if values.is_empty() {
                        return Err(fail(at, "Sequence contains no elements"));
                    }
                    let total = sum(&values, at)?;
                    let total = number(&total).map_or(0.0, members::Number::as_f64);
                    Value::Double(total / values.len() as f64)
                }
                _ => {
                    let wanted = if name == "Min" {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    };
                    let mut best: Option<Value> = None;
                    for value in values {
                        if best.as_ref().is_none_or(|b| compare(&value, b) == wanted) {
                            best = Some(value);
                        }
                    }
                    best.ok_or_else(|| fail(at, "Sequence contains no elements"))?
                }
            }
        }
        "OrderBy" | "OrderByDescending" => {
            let f = function.ok_or_else(|| fail(at, "OrderBy needs a lambda."))?;
            let mut keyed = Vec::with_capacity(items.len());
            for item in items {
                let key = apply(interpreter, f, vec![item.clone()], at)?;
                keyed.push((key, item));
            }
            interpreter.budget.steps(keyed.len() * 8)?;
            keyed.sort_by(|(a, _), (b, _)| compare(a, b));
            if name == "OrderByDescending" {
                keyed.reverse();
            }
            list(interpreter, keyed.into_iter().map(|(_, v)| v).collect())?
        }
        "GroupBy" => {
            let f = function.ok_or_else(|| fail(at, "GroupBy needs a lambda."))?;
            let mut groups: Vec<(Value, Vec<Value>)> = Vec::new();
            for item in items {
                let key = apply(interpreter, f, vec![item.clone()], at)?;
                match groups.iter_mut().find(|(k, _)| equals(k, &key)) {
                    Some((_, members)) => members.push(item),
                    None => groups.push((key, vec![item])),
                }
            }
            let groups = groups
                .into_iter()
                .map(|(key, members)| Value::Pair(std::sync::Arc::new((key, Value::list(members)))))
                .collect();
            list(interpreter, groups)?
        }
        "Skip" | "Take" => {
            let n = members::to_index(args.first().unwrap_or(&Value::Null), at).unwrap_or(0);
            let out: Vec<Value> = if name == "Skip" {
                items.into_iter().skip(n).collect()
            } else {
                items.into_iter().take(n).collect()
            };
            list(interpreter, out)?
        }
        "TakeWhile" | "SkipWhile" => {
            let f = function.ok_or_else(|| fail(at, "needs a lambda."))?;
            let mut cut = items.len();
            for (i, item) in items.iter().enumerate() {
                if !predicate(interpreter, f, item, at)? {
                    cut = i;
                    break;
                }
            }
            let (head, tail) = items.split_at(cut);
            list(
                interpreter,
                if name == "TakeWhile" {
                    head.to_vec()
                } else {
                    tail.to_vec()
                },
            )?
        }
        "Distinct" => {
            let mut out: Vec<Value> = Vec::new();
            interpreter.budget.steps(items.len() * items.len() / 8)?;
            for item in items {
                if !out.iter().any(|v| equals(v, &item)) {
                    out.push(item);
                }
            }
            list(interpreter, out)?
        }
        "Contains" => {
            let wanted = args.first().unwrap_or(&Value::Null);
            Value::Bool(items.iter().any(|v| equals(v, wanted)))
        }
        "Concat" => {
            let mut out = items;
            out.extend(members::items(
                interpreter,
                args.first().cloned().unwrap_or(Value::Null),
                at,
            )?);
            list(interpreter, out)?
        }
        "ToArray" | "ToList" | "AsEnumerable" | "Cast" | "OfType" => list(interpreter, items)?,
        "Reverse" => {
            let mut out = items;
            out.reverse();
            list(interpreter, out)?
        }
        "DefaultIfEmpty" => {
            if items.is_empty() {
                list(
                    interpreter,
                    vec![args.first().cloned().unwrap_or(Value::Null)],
                )?
            } else {
                list(interpreter, items)?
            }
        }
        "SequenceEqual" => {
            let other = members::items(
                interpreter,
                args.first().cloned().unwrap_or(Value::Null),
                at,
            )?;
            Value::Bool(
                items.len() == other.len() && items.iter().zip(&other).all(|(a, b)| equals(a, b)),
            )
        }
        "ToDictionary" => {
            let key_of = function.ok_or_else(|| fail(at, "ToDictionary needs a key lambda."))?;
            let mut pairs: Vec<(Value, Value)> = Vec::with_capacity(items.len());
            for item in items {
                let key = apply(interpreter, key_of, vec![item.clone()], at)?;
                let value = match args.get(1) {
                    Some(value_of) => apply(interpreter, value_of, vec![item], at)?,
                    None => item,
                };
                if pairs.iter().any(|(k, _)| equals(k, &key)) {
                    return Err(fail(
                        at,
                        format!(
                            "An item with the same key has already been added. Key: {}",
                            key.to_text()
                        ),
                    ));
                }
                pairs.push((key, value));
            }
            interpreter.budget.alloc(pairs.len() * 32)?;
            Value::Dict(Shared::new(pairs))
        }
        "Aggregate" => {
            let (seed, f) = match args {
                [f] => (None, f),
                [seed, f, ..] => (Some(seed.clone()), f),
                [] => return Err(fail(at, "Aggregate needs a lambda.")),
            };
            let mut iter = items.into_iter();
            let mut acc = match seed {
                Some(seed) => seed,
                None => iter
                    .next()
                    .ok_or_else(|| fail(at, "Sequence contains no elements"))?,
            };
            for item in iter {
                acc = apply(interpreter, f, vec![acc, item], at)?;
            }
            acc
        }
        _ => return Ok(None),
    }))
}
