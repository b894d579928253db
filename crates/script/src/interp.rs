//! The interpreter: walks a [`Script`] against a [`Host`] that provides `context`, within a
//! [`Budget`].
//!
//! **The sandbox.** A script can only reach what this module and the host give it: there is
//! no reflection, no I/O, no clock but the host's. Every evaluation step (an expression
//! node, a statement, a loop turn, an element a LINQ call visits) costs one step of the
//! budget; every string, list or JSON node a script makes costs its bytes; lambdas and
//! nested blocks cost depth. When a budget is spent the evaluation stops with
//! [`RunError::Budget`] — a loop that never ends is stopped, never a hang, and no script
//! can take more than its share of memory or stack.

use crate::error::RunError;
use crate::members;
use crate::syntax::*;
use crate::value::{Lambda, Shared, Value};
use std::sync::Arc;

/// What one evaluation may spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub steps: u64,
    pub bytes: u64,
    pub depth: u32,
}

impl Default for Limits {
    /// Enough for any script of APIM's documentation by two orders of magnitude; a request
    /// spends at most ~1 ms of CPU and a few MiB on one evaluation.
    fn default() -> Self {
        Self {
            steps: 200_000,
            bytes: 8 << 20,
            depth: 256,
        }
    }
}

/// `context` and whatever else the embedding provides.
pub trait Host {
    /// `path.member`, where `path` is `context` or a member path under it (`Request.Headers`):
    /// `None` when there is no such member.
    fn member(&self, path: &str, member: &str) -> Option<Result<Value, String>>;
    /// `path.method<type_args>(args)`.
    fn call(
        &self,
        path: &str,
        method: &str,
        type_args: &[TypeName],
        args: &[Value],
    ) -> Option<Result<Value, String>>;
    /// `path[key]`.
    fn index(&self, path: &str, key: &Value) -> Option<Result<Value, String>>;
    /// The items of `path` for `foreach` and LINQ (headers as key/value pairs).
    fn items(&self, path: &str) -> Option<Vec<Value>>;
    /// `path` as text (`context.Request.Url` is an object with members that prints as the
    /// URL); `None` writes the path.
    fn text(&self, path: &str) -> Option<String> {
        let _ = path;
        None
    }
    /// The time now, for `DateTime.UtcNow` and `DateTime.Now`: the system clock, unless the
    /// host keeps a clock of its own (a fixed one in tests, the request's time).
    fn now(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }
}

/// A host with no `context` (for tests and for checking scripts alone).
#[derive(Debug, Default)]
pub struct NoHost;

impl Host for NoHost {
    fn member(&self, _: &str, _: &str) -> Option<Result<Value, String>> {
        None
    }
    fn call(&self, _: &str, _: &str, _: &[TypeName], _: &[Value]) -> Option<Result<Value, String>> {
        None
    }
    fn index(&self, _: &str, _: &Value) -> Option<Result<Value, String>> {
        None
    }
    fn items(&self, _: &str) -> Option<Vec<Value>> {
        None
    }
}

/// The budget left in one evaluation.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    steps: u64,
    bytes: u64,
    depth: u32,
}

impl Budget {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            steps: 0,
            bytes: 0,
            depth: 0,
        }
    }

    pub fn step(&mut self) -> Result<(), RunError> {
        self.steps += 1;
        if self.steps > self.limits.steps {
            return Err(RunError::Budget(format!(
                "the expression took more than {} steps.",
                self.limits.steps
            )));
        }
        Ok(())
    }

    /// Counts `n` steps at once (an element-by-element library call).
    pub fn steps(&mut self, n: usize) -> Result<(), RunError> {
        self.steps = self.steps.saturating_add(n as u64);
        if self.steps > self.limits.steps {
            return Err(RunError::Budget(format!(
                "the expression took more than {} steps.",
                self.limits.steps
            )));
        }
        Ok(())
    }

    pub fn alloc(&mut self, bytes: usize) -> Result<(), RunError> {
        self.bytes = self.bytes.saturating_add(bytes as u64);
        if self.bytes > self.limits.bytes {
            return Err(RunError::Budget(format!(
                "the expression made more than {} bytes of values.",
                self.limits.bytes
            )));
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), RunError> {
        self.depth += 1;
        if self.depth > self.limits.depth {
            return Err(RunError::Budget(format!(
                "the expression nested calls more than {} deep.",
                self.limits.depth
            )));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

/// How a statement ended.
enum Flow {
    Normal,
    Return(Value),
    Break,
    Continue,
}

/// Runs `script` and gives its value (`@{ }` without a `return` gives null).
pub fn run(script: &Script, host: &dyn Host, limits: Limits) -> Result<Value, RunError> {
    let mut interpreter = Interpreter {
        host,
        budget: Budget::new(limits),
        locals: Vec::new(),
        patterns: Vec::new(),
    };
    match script {
        Script::Expr(expr) => interpreter.eval(expr),
        Script::Block(statements) => match interpreter.block(statements)? {
            Flow::Return(value) => Ok(value),
            _ => Ok(Value::Null),
        },
    }
}

pub struct Interpreter<'h> {
    pub host: &'h dyn Host,
    pub budget: Budget,
    /// Locals in scope, innermost last.
    locals: Vec<(Box<str>, Value)>,
    /// The regular expressions this evaluation compiled, so that a pattern used in a loop
    /// compiles (and costs) once ([`crate::regex_lib::compile`]).
    pub(crate) patterns: crate::regex_lib::PatternCache,
}

/// The .NET type names that [`Value::Type`] stands for when a script names them.
const STATIC_TYPES: &[&str] = &[
    "string",
    "String",
    "int",
    "Int32",
    "long",
    "Int64",
    "double",
    "Double",
    "bool",
    "Boolean",
    "char",
    "Char",
    "decimal",
    "Decimal",
    "Math",
    "Convert",
    "Encoding",
    "JObject",
    "JArray",
    "JToken",
    "JValue",
    "JProperty",
    "JsonConvert",
    "Formatting",
    "XDocument",
    "XElement",
    "XAttribute",
    "XName",
    "XNamespace",
    "SaveOptions",
    "StringBuilder",
    "List",
    "Dictionary",
    "Enumerable",
    "Uri",
    "UriKind",
    "UriPartial",
    "Regex",
    "RegexOptions",
    "Match",
    "Group",
    "Guid",
    "DateTime",
    "DateTimeKind",
    "DayOfWeek",
    "TimeSpan",
    "MD5",
    "SHA1",
    "SHA256",
    "SHA384",
    "SHA512",
    "HMACMD5",
    "HMACSHA1",
    "HMACSHA256",
    "HMACSHA384",
    "HMACSHA512",
    "BitConverter",
    "Jwt",
    "BasicAuthCredentials",
    "StringComparison",
    "Exception",
    "object",
];

fn fail(offset: usize, message: impl Into<String>) -> RunError {
    RunError::failed(offset, message)
}

impl<'h> Interpreter<'h> {
    fn local(&self, name: &str) -> Option<&Value> {
        self.locals
            .iter()
            .rev()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v)
    }

    fn local_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.locals
            .iter_mut()
            .rev()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v)
    }

    fn declare(&mut self, name: &str, value: Value) {
        self.locals.push((name.into(), value));
    }

    // ---- statements --------------------------------------------------------------------

    fn block(&mut self, statements: &[Stmt]) -> Result<Flow, RunError> {
        let mark = self.locals.len();
        let flow = self.statements(statements);
        self.locals.truncate(mark);
        flow
    }

    fn statements(&mut self, statements: &[Stmt]) -> Result<Flow, RunError> {
        for statement in statements {
            match self.statement(statement)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn statement(&mut self, statement: &Stmt) -> Result<Flow, RunError> {
        self.budget.step()?;
        self.budget.enter()?;
        let flow = self.statement_inner(statement);
        self.budget.leave();
        flow
    }

    fn statement_inner(&mut self, statement: &Stmt) -> Result<Flow, RunError> {
        match &statement.kind {
            StmtKind::Expr(expr) => {
                self.eval(expr)?;
            }
            StmtKind::Local { ty, name, init } => {
                let value = match init {
                    Some(init) => {
                        let value = self.eval(init)?;
                        match ty {
                            Some(ty) => members::convert(self, value, ty, init.offset)?,
                            None => value,
                        }
                    }
                    None => ty.as_ref().map_or(Value::Null, members::default_of),
                };
                self.declare(name, value);
            }
            StmtKind::Block(statements) => {
                // A block of locals only (`int a = 1, b = 2;`) declares into this scope.
                if statements
                    .iter()
                    .all(|s| matches!(s.kind, StmtKind::Local { .. }))
                {
                    return self.statements(statements);
                }
                return self.block(statements);
            }
            StmtKind::If {
                condition,
                then,
                otherwise,
            } => {
                if self.truth(condition)? {
                    return self.scoped(then);
                } else if let Some(otherwise) = otherwise {
                    return self.scoped(otherwise);
                }
            }
            StmtKind::While { condition, body } => {
                while self.truth(condition)? {
                    match self.scoped(body)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Normal | Flow::Continue => {}
                    }
                }
            }
            StmtKind::DoWhile { body, condition } => loop {
                match self.scoped(body)? {
                    Flow::Break => break,
                    Flow::Return(v) => return Ok(Flow::Return(v)),
                    Flow::Normal | Flow::Continue => {}
                }
                if !self.truth(condition)? {
                    break;
                }
            },
            StmtKind::For {
                init,
                condition,
                step,
                body,
            } => {
                let mark = self.locals.len();
                let flow = self.for_loop(init, condition.as_ref(), step, body);
                self.locals.truncate(mark);
                return flow;
            }
            StmtKind::Foreach { name, items, body } => {
                let items = self.eval(items)?;
                let items = members::items(self, items, statement.offset)?;
                for item in items {
                    self.budget.step()?;
                    let mark = self.locals.len();
                    self.declare(name, item);
                    let flow = self.scoped(body);
                    self.locals.truncate(mark);
                    match flow? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Normal | Flow::Continue => {}
                    }
                }
            }
            StmtKind::Switch { subject, sections } => {
                let subject = self.eval(subject)?;
                let mut chosen = None;
                'find: for (index, (labels, _)) in sections.iter().enumerate() {
                    for label in labels.iter().flatten() {
                        let label = self.eval(label)?;
                        if members::equals(&subject, &label) {
                            chosen = Some(index);
                            break 'find;
                        }
                    }
                }
                let chosen = chosen.or_else(|| {
                    sections
                        .iter()
                        .position(|(labels, _)| labels.iter().any(Option::is_none))
                });
                if let Some((_, body)) = chosen.and_then(|i| sections.get(i)) {
                    return match self.block(body)? {
                        Flow::Break => Ok(Flow::Normal),
                        other => Ok(other),
                    };
                }
            }
            StmtKind::Return(value) => {
                let value = match value {
                    Some(value) => self.eval(value)?,
                    None => Value::Null,
                };
                return Ok(Flow::Return(value));
            }
            StmtKind::Break => return Ok(Flow::Break),
            StmtKind::Continue => return Ok(Flow::Continue),
            StmtKind::Throw(value) => {
                let message = match value {
                    Some(value) => {
                        let value = self.eval(value)?;
                        members::exception_message(&value)
                    }
                    None => "the exception was thrown again.".to_owned(),
                };
                return Err(fail(statement.offset, message));
            }
            StmtKind::Try {
                body,
                catches,
                finally,
            } => {
                let outcome = self.block(body);
                let outcome = match outcome {
                    Err(RunError::Failed { message, .. }) if !catches.is_empty() => {
                        let catch = catches.first().map(|c| (&c.binding, &c.body));
                        match catch {
                            Some((binding, body)) => {
                                let mark = self.locals.len();
                                if let Some(name) = binding {
                                    self.declare(name, members::exception(&message));
                                }
                                let flow = self.block(body);
                                self.locals.truncate(mark);
                                flow
                            }
                            None => Ok(Flow::Normal),
                        }
                    }
                    other => other,
                };
                if let Some(finally) = finally {
                    match self.block(finally)? {
                        Flow::Normal => {}
                        other => return Ok(other),
                    }
                }
                return outcome;
            }
            StmtKind::Empty => {}
        }
        Ok(Flow::Normal)
    }

    /// A loop or branch body: a block of its own.
    fn scoped(&mut self, statement: &Stmt) -> Result<Flow, RunError> {
        let mark = self.locals.len();
        let flow = self.statement(statement);
        self.locals.truncate(mark);
        flow
    }

    fn for_loop(
        &mut self,
        init: &[Stmt],
        condition: Option<&Expr>,
        step: &[Expr],
        body: &Stmt,
    ) -> Result<Flow, RunError> {
        for statement in init {
            self.statement(statement)?;
        }
        loop {
            if let Some(condition) = condition
                && !self.truth(condition)?
            {
                break;
            }
            match self.scoped(body)? {
                Flow::Break => break,
                Flow::Return(v) => return Ok(Flow::Return(v)),
                Flow::Normal | Flow::Continue => {}
            }
            for expr in step {
                self.eval(expr)?;
            }
        }
        Ok(Flow::Normal)
    }

    pub fn truth(&mut self, expr: &Expr) -> Result<bool, RunError> {
        match self.eval(expr)? {
            Value::Bool(b) => Ok(b),
            other => Err(fail(
                expr.offset,
                format!("a condition must be a bool, not {}.", other.type_name()),
            )),
        }
    }

    // ---- expressions -------------------------------------------------------------------

    pub fn eval(&mut self, expr: &Expr) -> Result<Value, RunError> {
        self.budget.step()?;
        self.budget.enter()?;
        let value = self.eval_inner(expr);
        self.budget.leave();
        value
    }

    fn eval_inner(&mut self, expr: &Expr) -> Result<Value, RunError> {
        let at = expr.offset;
        match &expr.kind {
            ExprKind::Literal(literal) => Ok(match literal {
                Literal::Null => Value::Null,
                Literal::Bool(b) => Value::Bool(*b),
                Literal::Int(n) => Value::Int(*n),
                Literal::Long(n) => Value::Long(*n),
                Literal::Double(d) => Value::Double(*d),
                // Decimals compute as doubles here (their text is exact for what policies
                // write: prices, ratios).
                Literal::Decimal(text) => Value::Double(text.parse().unwrap_or(f64::NAN)),
                Literal::Char(c) => Value::Char(*c),
                Literal::Str(s) => Value::str(&**s),
            }),
            ExprKind::Interpolated(pieces) => {
                let mut out = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Text(text) => out.push_str(text),
                        Piece::Hole {
                            value,
                            align,
                            format,
                        } => {
                            let value = self.eval(value)?;
                            let text = match format {
                                Some(format) => members::format_value(&value, format, at)?,
                                None => self.text_of(&value),
                            };
                            members::pad_into(&mut out, &text, *align);
                        }
                    }
                }
                self.budget.alloc(out.len())?;
                Ok(Value::str(out))
            }
            ExprKind::Name(name) => self.name(name, at),
            ExprKind::Member {
                target,
                name,
                conditional,
            } => {
                let target = self.eval(target)?;
                if *conditional && target.is_null() {
                    return Ok(Value::Null);
                }
                members::member(self, target, name, at)
            }
            ExprKind::Call {
                target,
                name,
                type_args,
                args,
                conditional,
            } => self.call(target.as_deref(), name, type_args, args, *conditional, at),
            ExprKind::Index {
                target,
                args,
                conditional,
            } => {
                let target = self.eval(target)?;
                if *conditional && target.is_null() {
                    return Ok(Value::Null);
                }
                let Some(key) = args.first() else {
                    return Err(fail(at, "an indexer needs an argument."));
                };
                let key = self.eval(key)?;
                members::index(self, target, key, at)
            }
            ExprKind::Unary { op, operand } => self.unary(*op, operand, at),
            ExprKind::Binary { op, lhs, rhs } => match op {
                BinaryOp::And => Ok(Value::Bool(self.truth(lhs)? && self.truth(rhs)?)),
                BinaryOp::Or => Ok(Value::Bool(self.truth(lhs)? || self.truth(rhs)?)),
                BinaryOp::Coalesce => {
                    let lhs = self.eval(lhs)?;
                    if lhs.is_null() {
                        self.eval(rhs)
                    } else {
                        Ok(lhs)
                    }
                }
                _ => {
                    let lhs = self.eval(lhs)?;
                    let rhs = self.eval(rhs)?;
                    members::binary(self, *op, lhs, rhs, at)
                }
            },
            ExprKind::Assign { op, target, value } => {
                let value = match op {
                    None => self.eval(value)?,
                    Some(BinaryOp::Coalesce) => {
                        let current = self.eval(target)?;
                        if !current.is_null() {
                            return Ok(current);
                        }
                        self.eval(value)?
                    }
                    Some(op) => {
                        let current = self.eval(target)?;
                        let value = self.eval(value)?;
                        members::binary(self, *op, current, value, at)?
                    }
                };
                self.assign(target, value.clone())?;
                Ok(value)
            }
            ExprKind::Conditional {
                condition,
                then,
                otherwise,
            } => {
                if self.truth(condition)? {
                    self.eval(then)
                } else {
                    self.eval(otherwise)
                }
            }
            ExprKind::Cast { ty, operand } => {
                let value = self.eval(operand)?;
                members::cast(self, value, ty, at)
            }
            ExprKind::Is {
                operand,
                ty,
                binding,
                negated,
            } => {
                let value = self.eval(operand)?;
                let matches = match ty {
                    None => value.is_null(),
                    Some(ty) => members::is_type(&value, ty),
                };
                if matches && let Some(name) = binding {
                    self.declare(name, value);
                }
                Ok(Value::Bool(matches != *negated))
            }
            ExprKind::As { operand, ty } => {
                let value = self.eval(operand)?;
                Ok(if members::is_type(&value, ty) {
                    value
                } else {
                    Value::Null
                })
            }
            ExprKind::New {
                ty,
                args,
                initializer,
            } => {
                let args = self.arguments(args)?;
                let value = match ty {
                    Some(ty) => members::construct(self, ty, args, at)?,
                    None => Value::Object(Shared::new(Vec::new())),
                };
                if let Some(initializer) = initializer {
                    self.initialize(&value, initializer, at)?;
                }
                Ok(value)
            }
            ExprKind::NewArray { size, items, .. } => {
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(self.eval(item)?);
                }
                if let Some(size) = size
                    && items.is_empty()
                {
                    let size = members::to_index(&self.eval(size)?, at)?;
                    self.budget.alloc(size * 16)?;
                    values = vec![Value::Null; size];
                }
                self.budget.alloc(values.len() * 16)?;
                Ok(Value::list(values))
            }
            ExprKind::Lambda { params, body } => {
                // Captures every local in scope by value: enough for LINQ predicates, which
                // read them (C# captures by reference; scripts here cannot observe the
                // difference unless a lambda assigns to a captured local, which is refused).
                self.budget.alloc(self.locals.len() * 16)?;
                Ok(Value::Lambda(Arc::new(Lambda {
                    params: params.clone(),
                    body: body.clone(),
                    captured: self.locals.clone(),
                })))
            }
            ExprKind::Default(ty) => Ok(ty.as_ref().map_or(Value::Null, members::default_of)),
            ExprKind::TypeOf(ty) => Ok(Value::Type(Arc::new(ty.clone()))),
            ExprKind::NameOf(name) => Ok(Value::str(&**name)),
        }
    }

    /// `value` as text, asking the host for its objects' text.
    pub fn text_of(&self, value: &Value) -> String {
        match value {
            Value::Host(path) => self.host.text(path).unwrap_or_else(|| path.to_string()),
            other => other.to_text(),
        }
    }

    fn name(&mut self, name: &str, at: usize) -> Result<Value, RunError> {
        if let Some(value) = self.local(name) {
            return Ok(value.clone());
        }
        if name == "context" {
            return Ok(Value::Host("context".into()));
        }
        if STATIC_TYPES.contains(&name) {
            return Ok(Value::Type(Arc::new(TypeName::simple(name))));
        }
        Err(fail(at, format!("the name '{name}' does not exist here.")))
    }

    pub fn arguments(&mut self, args: &[Arg]) -> Result<Vec<Value>, RunError> {
        let mut values = Vec::with_capacity(args.len());
        for arg in args {
            values.push(self.eval(&arg.value).or_else(|e| {
                // `out var x`: the name does not exist yet.
                if arg.out.is_some() {
                    Ok(Value::Null)
                } else {
                    Err(e)
                }
            })?);
        }
        Ok(values)
    }

    fn call(
        &mut self,
        target: Option<&Expr>,
        name: &str,
        type_args: &[TypeName],
        args: &[Arg],
        conditional: bool,
        at: usize,
    ) -> Result<Value, RunError> {
        let Some(target) = target else {
            // A call without a target: a local lambda (`Func<…> f = …; f(x)`).
            if let Some(Value::Lambda(lambda)) = self.local(name).cloned() {
                let values = self.arguments(args)?;
                return self.invoke(&lambda, values, at);
            }
            return Err(fail(at, format!("there is no method '{name}' here.")));
        };
        let target = self.eval(target)?;
        if conditional && target.is_null() {
            return Ok(Value::Null);
        }
        let values = self.arguments(args)?;
        let named: Vec<Option<&str>> = args.iter().map(|a| a.name.as_deref()).collect();
        let (result, outs) = members::call(self, target, name, type_args, values, &named, at)?;
        // Methods with `out` parameters (`TryParse`, `TryGetValue`) hand back their values.
        for (arg, out) in args.iter().zip(outs) {
            if let (Some(local), Some(value)) = (&arg.out, out) {
                match self.local_mut(local) {
                    Some(slot) => *slot = value,
                    None => self.declare(local, value),
                }
            }
        }
        Ok(result)
    }

    /// Calls a lambda with `args`.
    pub fn invoke(
        &mut self,
        lambda: &Lambda,
        args: Vec<Value>,
        at: usize,
    ) -> Result<Value, RunError> {
        self.budget.enter()?;
        let saved = std::mem::replace(&mut self.locals, lambda.captured.clone());
        for (name, value) in lambda.params.iter().zip(args) {
            self.declare(name, value);
        }
        let result = match &lambda.body {
            LambdaBody::Expr(expr) => self.eval(expr),
            LambdaBody::Block(statements) => match self.block(statements) {
                Ok(Flow::Return(value)) => Ok(value),
                Ok(_) => Ok(Value::Null),
                Err(e) => Err(e),
            },
        };
        self.locals = saved;
        self.budget.leave();
        result.map_err(|e| match e {
            RunError::Failed { message, .. } if message.is_empty() => {
                fail(at, "the lambda failed.")
            }
            other => other,
        })
    }

    fn unary(&mut self, op: UnaryOp, operand: &Expr, at: usize) -> Result<Value, RunError> {
        match op {
            UnaryOp::Not => Ok(Value::Bool(!self.truth(operand)?)),
            UnaryOp::Neg => match self.eval(operand)? {
                Value::TimeSpan(ticks) => crate::dates::negate(ticks, at),
                value => members::binary(self, BinaryOp::Sub, Value::Int(0), value, at),
            },
            UnaryOp::Plus => self.eval(operand),
            UnaryOp::BitNot => match self.eval(operand)? {
                Value::Int(n) => Ok(Value::Int(!n)),
                Value::Long(n) => Ok(Value::Long(!n)),
                other => Err(fail(
                    at,
                    format!("'~' cannot apply to {}.", other.type_name()),
                )),
            },
            UnaryOp::PreIncrement
            | UnaryOp::PreDecrement
            | UnaryOp::PostIncrement
            | UnaryOp::PostDecrement => {
                let before = self.eval(operand)?;
                let delta = if matches!(op, UnaryOp::PreIncrement | UnaryOp::PostIncrement) {
                    BinaryOp::Add
                } else {
                    BinaryOp::Sub
                };
                let after = members::binary(self, delta, before.clone(), Value::Int(1), at)?;
                self.assign(operand, after.clone())?;
                Ok(
                    if matches!(op, UnaryOp::PreIncrement | UnaryOp::PreDecrement) {
                        after
                    } else {
                        before
                    },
                )
            }
        }
    }

    fn assign(&mut self, target: &Expr, value: Value) -> Result<(), RunError> {
        let at = target.offset;
        match &target.kind {
            ExprKind::Name(name) => match self.local_mut(name) {
                Some(slot) => {
                    *slot = value;
                    Ok(())
                }
                None => Err(fail(at, format!("the name '{name}' does not exist here."))),
            },
            ExprKind::Index {
                target: container,
                args,
                ..
            } => {
                let container = self.eval(container)?;
                let Some(key) = args.first() else {
                    return Err(fail(at, "an indexer needs an argument."));
                };
                let key = self.eval(key)?;
                members::set_index(self, &container, key, value, at)
            }
            ExprKind::Member {
                target: owner,
                name,
                ..
            } => {
                let owner = self.eval(owner)?;
                members::set_member(self, &owner, name, value, at)
            }
            _ => Err(fail(
                at,
                "only a variable, a member or an element can be assigned.",
            )),
        }
    }

    fn initialize(
        &mut self,
        value: &Value,
        initializer: &Initializer,
        at: usize,
    ) -> Result<(), RunError> {
        match initializer {
            Initializer::Items(items) => {
                for item in items {
                    let item = self.eval(item)?;
                    members::call(self, value.clone(), "Add", &[], vec![item], &[], at)?;
                }
            }
            Initializer::Keyed(pairs) => {
                for (key, item) in pairs {
                    let key = self.eval(key)?;
                    let item = self.eval(item)?;
                    members::set_index(self, value, key, item, at)?;
                }
            }
            Initializer::Members(pairs) => {
                for (name, item) in pairs {
                    let item = self.eval(item)?;
                    members::set_member(self, value, name, item, at)?;
                }
            }
        }
        Ok(())
    }
}
