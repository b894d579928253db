//! Walks a template's tree against its data and writes the text, within a budget: every
//! node, loop turn and filter spends steps (a filter that makes a list spends one per item),
//! and no text — the output, a `capture`, a filter's result — grows past a bound. Spent,
//! rendering stops with [`RunError::Budget`]; a template never hangs and never takes more
//! memory than its bounds allow, whatever the body it reads.

use super::Limits;
use super::syntax::{Comparison, Condition, Expr, Filtered, ForLoop, Node, Step};
use super::values::{
    as_number, compare, contains, equal, is_blank, is_empty, text_of, truthy, write_text,
};
use crate::error::RunError;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashMap;

/// What a run of nodes asks of the loop around it.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

pub struct Renderer<'d> {
    data: &'d Map<String, Value>,
    assigned: HashMap<String, Value>,
    counters: HashMap<String, i64>,
    cycles: HashMap<String, usize>,
    /// Loop variables, innermost last.
    locals: Vec<(String, Value)>,
    /// The turn and length of each loop running, innermost last: `forloop` is made from
    /// the last only when a template reads it.
    loops: Vec<(u64, u64)>,
    steps_left: u64,
    /// Bytes of data a template may still copy out of the body and its variables (a loop
    /// copies its list, an output its value): bounds the work of loops inside loops.
    copy_left: u64,
    limits: Limits,
}

impl<'d> Renderer<'d> {
    pub fn new(data: &'d Map<String, Value>, limits: Limits) -> Self {
        Self {
            data,
            assigned: HashMap::new(),
            counters: HashMap::new(),
            cycles: HashMap::new(),
            locals: Vec::new(),
            loops: Vec::new(),
            steps_left: limits.steps,
            copy_left: limits.copy_bytes,
            limits,
        }
    }

    pub fn render(&mut self, nodes: &[Node]) -> Result<String, RunError> {
        let mut out = String::new();
        self.nodes(nodes, &mut out)?;
        Ok(out)
    }

    fn spend(&mut self, steps: u64) -> Result<(), RunError> {
        self.steps_left = self.steps_left.checked_sub(steps).ok_or_else(|| {
            RunError::Budget(format!(
                "the Liquid template used up its budget of {} steps.",
                self.limits.steps
            ))
        })?;
        Ok(())
    }

    fn bounded(&self, out: &str) -> Result<(), RunError> {
        if out.len() > self.limits.max_text {
            return Err(RunError::Budget(format!(
                "the Liquid template wrote more than its bound of {} bytes.",
                self.limits.max_text
            )));
        }
        Ok(())
    }

    fn nodes(&mut self, nodes: &[Node], out: &mut String) -> Result<Flow, RunError> {
        for node in nodes {
            self.spend(1)?;
            let flow = self.node(node, out)?;
            self.bounded(out)?;
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn node(&mut self, node: &Node, out: &mut String) -> Result<Flow, RunError> {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Output(filtered) => {
                let value = self.filtered(filtered)?;
                write_text(&value, out);
            }
            Node::If {
                branches,
                negate_first,
                otherwise,
            } => {
                for (i, (condition, body)) in branches.iter().enumerate() {
                    let holds = self.condition(condition)? != (i == 0 && *negate_first);
                    if holds {
                        return self.nodes(body, out);
                    }
                }
                return self.nodes(otherwise, out);
            }
            Node::Case {
                subject,
                whens,
                otherwise,
            } => {
                let subject = self.eval(subject)?;
                for (values, body) in whens {
                    for value in values {
                        if self.matches(&subject, Comparison::Equal, value)? {
                            return self.nodes(body, out);
                        }
                    }
                }
                return self.nodes(otherwise, out);
            }
            Node::For(looped) => return self.for_loop(looped, out),
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
            Node::Assign(name, filtered) => {
                let value = self.filtered(filtered)?;
                self.assigned.insert(name.clone(), value);
            }
            Node::Capture(name, body) => {
                let mut captured = String::new();
                self.nodes(body, &mut captured)?;
                self.assigned.insert(name.clone(), Value::String(captured));
            }
            Node::Counter(name, by) => {
                let counter = self.counters.entry(name.clone()).or_insert(0);
                if *by < 0 {
                    *counter = counter.saturating_add(*by);
                    out.push_str(&counter.to_string());
                } else {
                    out.push_str(&counter.to_string());
                    *counter = counter.saturating_add(*by);
                }
            }
            Node::Cycle(group, values) => {
                let turn = self.cycles.entry(group.clone()).or_insert(0);
                let index = *turn % values.len().max(1);
                *turn = turn.wrapping_add(1);
                if let Some(expr) = values.get(index) {
                    let value = self.eval(expr)?;
                    write_text(&value, out);
                }
            }
        }
        Ok(Flow::Normal)
    }

    fn for_loop(&mut self, looped: &ForLoop, out: &mut String) -> Result<Flow, RunError> {
        let offset = self.whole(looped.offset.as_ref())?.unwrap_or(0);
        let limit = self.whole(looped.limit.as_ref())?;
        // A range is walked without being made into a list.
        let (items, range) = match &looped.source {
            Expr::Range(start, end, _) => {
                let (start, end) = (self.eval_whole(start)?, self.eval_whole(end)?);
                (Vec::new(), Some((start, end)))
            }
            source => {
                let items = match self.eval(source)? {
                    Value::Array(items) => items,
                    Value::Object(map) => map
                        .into_iter()
                        .map(|(k, v)| Value::Array(vec![Value::String(k), v]))
                        .collect(),
                    Value::Null => Vec::new(),
                    other => vec![other],
                };
                (items, None)
            }
        };
        let total = match range {
            Some((start, end)) => {
                u64::try_from(end.saturating_sub(start).saturating_add(1)).unwrap_or(0)
            }
            None => items.len() as u64,
        };
        let skip = u64::try_from(offset).unwrap_or(0).min(total);
        let count = limit.map_or(total - skip, |l| {
            u64::try_from(l).unwrap_or(0).min(total - skip)
        });
        if count == 0 {
            return self.nodes(&looped.otherwise, out);
        }
        let mut items = items;
        // Each position is visited once: its item is moved out, not copied.
        let mut item_at = |i: u64| -> Value {
            match range {
                Some((start, _)) => {
                    Value::from(start.saturating_add(i64::try_from(i).unwrap_or(i64::MAX)))
                }
                None => usize::try_from(i)
                    .ok()
                    .and_then(|i| items.get_mut(i))
                    .map(std::mem::take)
                    .unwrap_or(Value::Null),
            }
        };
        for turn in 0..count {
            self.spend(1)?;
            let position = if looped.reversed {
                skip + count - 1 - turn
            } else {
                skip + turn
            };
            self.loops.push((turn, count));
            self.locals
                .push((looped.variable.clone(), item_at(position)));
            let flow = self.nodes(&looped.body, out);
            self.locals.pop();
            self.loops.pop();
            self.bounded(out)?;
            if flow? == Flow::Break {
                break;
            }
        }
        Ok(Flow::Normal)
    }

    fn whole(&mut self, expr: Option<&Expr>) -> Result<Option<i64>, RunError> {
        expr.map(|e| self.eval_whole(e)).transpose()
    }

    fn eval_whole(&mut self, expr: &Expr) -> Result<i64, RunError> {
        let value = self.eval(expr)?;
        as_number(&value).map(|n| n.as_f64() as i64).ok_or_else(|| {
            RunError::failed(
                offset_of(expr),
                format!("{} is not a number.", text_of(&value)),
            )
        })
    }

    fn filtered(&mut self, filtered: &Filtered) -> Result<Value, RunError> {
        let mut value = self.eval(&filtered.expr)?;
        for call in &filtered.filters {
            let mut args = Vec::with_capacity(call.args.len());
            for arg in &call.args {
                args.push(self.eval(arg)?);
            }
            value = call
                .filter
                .apply(value, &args, self.limits.max_text)
                .map_err(|message| RunError::failed(call.offset, message))?;
            let size = match &value {
                Value::Array(items) => items.len() as u64,
                Value::String(s) => s.len() as u64 / 1024,
                _ => 0,
            };
            self.spend(1 + size)?;
        }
        Ok(value)
    }

    fn condition(&mut self, condition: &Condition) -> Result<bool, RunError> {
        Ok(match condition {
            Condition::Truthy(expr) => truthy(&self.eval(expr)?),
            Condition::Compare(left, op, right) => {
                let left = self.eval(left)?;
                self.matches(&left, *op, right)?
            }
            Condition::And(a, b) => self.condition(a)? && self.condition(b)?,
            Condition::Or(a, b) => self.condition(a)? || self.condition(b)?,
        })
    }

    /// `left op right`, with `empty` and `blank` on the right.
    fn matches(&mut self, left: &Value, op: Comparison, right: &Expr) -> Result<bool, RunError> {
        let special = match right {
            Expr::Empty => Some(is_empty(left)),
            Expr::Blank => Some(is_blank(left)),
            _ => None,
        };
        if let Some(is) = special {
            return Ok(match op {
                Comparison::Equal => is,
                Comparison::NotEqual => !is,
                _ => false,
            });
        }
        let right = self.eval(right)?;
        use std::cmp::Ordering::{Equal, Greater, Less};
        Ok(match op {
            Comparison::Equal => equal(left, &right),
            Comparison::NotEqual => !equal(left, &right),
            Comparison::Contains => contains(left, &right),
            Comparison::Less => compare(left, &right) == Some(Less),
            Comparison::Greater => compare(left, &right) == Some(Greater),
            Comparison::LessOrEqual => matches!(compare(left, &right), Some(Less | Equal)),
            Comparison::GreaterOrEqual => matches!(compare(left, &right), Some(Greater | Equal)),
        })
    }

    fn eval(&mut self, expr: &Expr) -> Result<Value, RunError> {
        match expr {
            Expr::Literal(value) => Ok(value.clone()),
            Expr::Empty | Expr::Blank => Ok(Value::String(String::new())),
            Expr::Range(start, end, at) => {
                let (start, end) = (self.eval_whole(start)?, self.eval_whole(end)?);
                let len = u64::try_from(end.saturating_sub(start).saturating_add(1)).unwrap_or(0);
                self.spend(len).map_err(|_| {
                    RunError::failed(
                        *at,
                        format!("the range ({start}..{end}) is too long to make into a list."),
                    )
                })?;
                Ok(Value::Array((start..=end).map(Value::from).collect()))
            }
            Expr::Path(root, steps, _) => {
                // Keys first (an index may be an expression), then a walk by reference: only
                // the value found is copied, never the body it is found in.
                let mut keys = Vec::with_capacity(steps.len());
                for step in steps {
                    keys.push(match step {
                        Step::Key(key) => Value::String(key.clone()),
                        Step::Index(index) => self.eval(index)?,
                    });
                }
                let forloop = self.forloop(root);
                let mut value = match &forloop {
                    Some(forloop) => Cow::Borrowed(forloop),
                    None => Cow::Borrowed(self.root(root)),
                };
                for key in &keys {
                    value = match value {
                        Cow::Borrowed(v) => member(v, key),
                        Cow::Owned(v) => Cow::Owned(member(&v, key).into_owned()),
                    };
                }
                let (found, weight) = match value {
                    Cow::Borrowed(found) => (found.clone(), weight(found, self.copy_left)),
                    Cow::Owned(found) => (found, 0),
                };
                self.copy_left = self.copy_left.checked_sub(weight).ok_or_else(|| {
                    RunError::Budget(format!(
                        "the Liquid template copied more than its bound of {} bytes of data.",
                        self.limits.copy_bytes
                    ))
                })?;
                Ok(found)
            }
        }
    }

    /// `forloop` of the innermost loop, unless a variable of that name hides it.
    fn forloop(&self, name: &str) -> Option<Value> {
        if name != "forloop" || self.locals.iter().any(|(n, _)| n == name) {
            return None;
        }
        let &(turn, count) = self.loops.last()?;
        Some(serde_json::json!({
            "index": turn + 1,
            "index0": turn,
            "rindex": count - turn,
            "rindex0": count - turn - 1,
            "first": turn == 0,
            "last": turn + 1 == count,
            "length": count,
        }))
    }

    fn root(&self, name: &str) -> &Value {
        if let Some((_, value)) = self.locals.iter().rev().find(|(n, _)| n == name) {
            return value;
        }
        self.assigned
            .get(name)
            .or_else(|| self.data.get(name))
            .unwrap_or(&Value::Null)
    }
}

/// `value.key` / `value[key]`: an object's member (by its exact name, else one that differs
/// only in case), a list's item (negative from the end), and `size`, `first`, `last` of
/// lists and texts. What is missing is nil.
fn member<'v>(value: &'v Value, key: &Value) -> Cow<'v, Value> {
    const NIL: &Value = &Value::Null;
    let size = |k: &str| k == "size" || k == "Size";
    match (value, key) {
        (Value::Object(map), Value::String(k)) => match map.get(k).or_else(|| {
            // `context.Request.Headers["content-type"]`: names that differ only in case
            // are found when the exact one is missing.
            map.iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(k))
                .map(|(_, v)| v)
        }) {
            Some(found) => Cow::Borrowed(found),
            None if size(k) => Cow::Owned(Value::from(map.len())),
            None => Cow::Borrowed(NIL),
        },
        (Value::Array(items), Value::Number(n)) => {
            let len = items.len() as i64;
            let i = n.as_i64().unwrap_or(i64::MAX);
            let i = if i < 0 { len.saturating_add(i) } else { i };
            Cow::Borrowed(
                usize::try_from(i)
                    .ok()
                    .and_then(|i| items.get(i))
                    .unwrap_or(NIL),
            )
        }
        (Value::Array(items), Value::String(k)) => match k.as_str() {
            k if size(k) => Cow::Owned(Value::from(items.len())),
            "first" | "First" => Cow::Borrowed(items.first().unwrap_or(NIL)),
            "last" | "Last" => Cow::Borrowed(items.last().unwrap_or(NIL)),
            _ => Cow::Borrowed(NIL),
        },
        (Value::String(s), Value::String(k)) if size(k) => {
            Cow::Owned(Value::from(s.chars().count()))
        }
        _ => Cow::Borrowed(NIL),
    }
}

/// About how many bytes `value` takes, counted up to `limit` (and a little past it).
fn weight(value: &Value, limit: u64) -> u64 {
    let mut total = 0u64;
    let mut pending = vec![value];
    while let Some(v) = pending.pop() {
        total = total.saturating_add(16);
        match v {
            Value::String(s) => total = total.saturating_add(s.len() as u64),
            Value::Array(items) => pending.extend(items.iter()),
            Value::Object(map) => {
                for (k, item) in map {
                    total = total.saturating_add(k.len() as u64);
                    pending.push(item);
                }
            }
            _ => {}
        }
        if total > limit {
            break;
        }
    }
    total
}

fn offset_of(expr: &Expr) -> usize {
    match expr {
        Expr::Path(_, _, at) | Expr::Range(_, _, at) => *at,
        _ => 0,
    }
}
