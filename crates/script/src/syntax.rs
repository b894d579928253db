//! The syntax tree of a script: what the parser builds and the interpreter walks.
//!
//! Every node keeps the byte offset it started at, so a failure at run time names the place
//! as well as a fault at save time does.

/// A type as written: `string`, `JObject`, `List<string>`, `int[]`, `int?`,
/// `System.Text.StringBuilder`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeName {
    /// The dotted name, namespace dropped (`System.Text.StringBuilder` → `StringBuilder`).
    pub name: Box<str>,
    pub args: Vec<TypeName>,
    /// `[]` suffixes.
    pub array_rank: u8,
    /// `?` suffix.
    pub nullable: bool,
}

impl TypeName {
    pub fn simple(name: &str) -> Self {
        Self {
            name: name.into(),
            args: Vec::new(),
            array_rank: 0,
            nullable: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(f64),
    Decimal(Box<str>),
    Char(char),
    Str(Box<str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Plus,
    Not,
    BitNot,
    PreIncrement,
    PreDecrement,
    PostIncrement,
    PostDecrement,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    NotEq,
    Less,
    LessEq,
    Greater,
    GreaterEq,
    And,
    Or,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Coalesce,
}

/// One argument of a call: `preserveContent: true` has a name.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: Option<Box<str>>,
    pub value: Expr,
    /// `out var x` / `out x`: the name the method writes back to.
    pub out: Option<Box<str>>,
}

/// A hole of an interpolated string, or its text.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(Box<str>),
    Hole {
        value: Expr,
        align: Option<i64>,
        format: Option<Box<str>>,
    },
}

/// What follows `new T(...)`: `{ a, b }` for collections, `{ ["k"] = v }` or `{ Name = v }`.
#[derive(Debug, Clone, PartialEq)]
pub enum Initializer {
    Items(Vec<Expr>),
    /// `{ "k", v }` pairs of a dictionary written `{ { "k", v } }`, or `["k"] = v`.
    Keyed(Vec<(Expr, Expr)>),
    /// `{ Name = v }` (also anonymous objects' members).
    Members(Vec<(Box<str>, Expr)>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum LambdaBody {
    Expr(Box<Expr>),
    Block(Vec<Stmt>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    Interpolated(Vec<Piece>),
    /// A local, `context`, or a type's name (`Math`, `JObject`) — told apart when run.
    Name(Box<str>),
    /// `target.name` or `target?.name`.
    Member {
        target: Box<Expr>,
        name: Box<str>,
        conditional: bool,
    },
    /// `target.name<T>(args)`, `name(args)`, `target?.name(args)`.
    Call {
        target: Option<Box<Expr>>,
        name: Box<str>,
        type_args: Vec<TypeName>,
        args: Vec<Arg>,
        conditional: bool,
    },
    /// `target[args]`, `target?[args]`.
    Index {
        target: Box<Expr>,
        args: Vec<Expr>,
        conditional: bool,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `target = value`, `target += value`, `target ??= value`.
    Assign {
        op: Option<BinaryOp>,
        target: Box<Expr>,
        value: Box<Expr>,
    },
    Conditional {
        condition: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Cast {
        ty: TypeName,
        operand: Box<Expr>,
    },
    /// `x is T`, `x is T name`, `x is null`.
    Is {
        operand: Box<Expr>,
        ty: Option<TypeName>,
        binding: Option<Box<str>>,
        /// `x is not …`.
        negated: bool,
    },
    As {
        operand: Box<Expr>,
        ty: TypeName,
    },
    /// `new T(args) { … }`; `ty` is `None` for `new { … }` (an anonymous object).
    New {
        ty: Option<TypeName>,
        args: Vec<Arg>,
        initializer: Option<Initializer>,
    },
    /// `new T[n]`, `new T[] { … }`, `new[] { … }`.
    NewArray {
        element: Option<TypeName>,
        size: Option<Box<Expr>>,
        items: Vec<Expr>,
    },
    Lambda {
        params: Vec<Box<str>>,
        body: LambdaBody,
    },
    Default(Option<TypeName>),
    TypeOf(TypeName),
    NameOf(Box<str>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CatchClause {
    /// `catch (Exception e)`: the name the exception's message is bound to.
    pub binding: Option<Box<str>>,
    pub body: Vec<Stmt>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    Expr(Expr),
    /// `var x = …;` or `T x = …;` (`ty` `None` for `var`).
    Local {
        ty: Option<TypeName>,
        name: Box<str>,
        init: Option<Expr>,
    },
    Block(Vec<Stmt>),
    If {
        condition: Expr,
        then: Box<Stmt>,
        otherwise: Option<Box<Stmt>>,
    },
    While {
        condition: Expr,
        body: Box<Stmt>,
    },
    DoWhile {
        body: Box<Stmt>,
        condition: Expr,
    },
    For {
        init: Vec<Stmt>,
        condition: Option<Expr>,
        step: Vec<Expr>,
        body: Box<Stmt>,
    },
    Foreach {
        name: Box<str>,
        items: Expr,
        body: Box<Stmt>,
    },
    Switch {
        subject: Expr,
        /// Each section: its labels (`None` for `default`) and statements.
        sections: Vec<(Vec<Option<Expr>>, Vec<Stmt>)>,
    },
    Return(Option<Expr>),
    Break,
    Continue,
    Throw(Option<Expr>),
    Try {
        body: Vec<Stmt>,
        catches: Vec<CatchClause>,
        finally: Option<Vec<Stmt>>,
    },
    Empty,
}

/// A whole script: `@( expr )` is one expression, `@{ … }` a block that returns a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Script {
    Expr(Expr),
    Block(Vec<Stmt>),
}

/// Calls `f` on every expression of a script, outermost first (for checks at save time).
/// Recursive, within the parser's nesting bound.
pub fn walk_script<E>(
    script: &Script,
    f: &mut impl FnMut(&Expr) -> Result<(), E>,
) -> Result<(), E> {
    match script {
        Script::Expr(expr) => walk_expr(expr, f),
        Script::Block(statements) => walk_statements(statements, f),
    }
}

fn walk_statements<E>(
    statements: &[Stmt],
    f: &mut impl FnMut(&Expr) -> Result<(), E>,
) -> Result<(), E> {
    statements.iter().try_for_each(|s| walk_statement(s, f))
}

fn walk_statement<E>(
    statement: &Stmt,
    f: &mut impl FnMut(&Expr) -> Result<(), E>,
) -> Result<(), E> {
    match &statement.kind {
        StmtKind::Expr(expr) => walk_expr(expr, f),
        StmtKind::Local { init, .. } => init.iter().try_for_each(|e| walk_expr(e, f)),
        StmtKind::Block(statements) => walk_statements(statements, f),
        StmtKind::If {
            condition,
            then,
            otherwise,
        } => {
            walk_expr(condition, f)?;
            walk_statement(then, f)?;
            otherwise.iter().try_for_each(|s| walk_statement(s, f))
        }
        StmtKind::While { condition, body } | StmtKind::DoWhile { body, condition } => {
            walk_expr(condition, f)?;
            walk_statement(body, f)
        }
        StmtKind::For {
            init,
            condition,
            step,
            body,
        } => {
            walk_statements(init, f)?;
            condition.iter().try_for_each(|e| walk_expr(e, f))?;
            step.iter().try_for_each(|e| walk_expr(e, f))?;
            walk_statement(body, f)
        }
        StmtKind::Foreach { items, body, .. } => {
            walk_expr(items, f)?;
            walk_statement(body, f)
        }
        StmtKind::Switch { subject, sections } => {
            walk_expr(subject, f)?;
            for (labels, body) in sections {
                labels.iter().flatten().try_for_each(|e| walk_expr(e, f))?;
                walk_statements(body, f)?;
            }
            Ok(())
        }
        StmtKind::Return(value) | StmtKind::Throw(value) => {
            value.iter().try_for_each(|e| walk_expr(e, f))
        }
        StmtKind::Try {
            body,
            catches,
            finally,
        } => {
            walk_statements(body, f)?;
            for catch in catches {
                walk_statements(&catch.body, f)?;
            }
            finally.iter().try_for_each(|s| walk_statements(s, f))
        }
        StmtKind::Break | StmtKind::Continue | StmtKind::Empty => Ok(()),
    }
}

fn walk_expr<E>(expr: &Expr, f: &mut impl FnMut(&Expr) -> Result<(), E>) -> Result<(), E> {
    f(expr)?;
    match &expr.kind {
        ExprKind::Literal(_)
        | ExprKind::Name(_)
        | ExprKind::Default(_)
        | ExprKind::TypeOf(_)
        | ExprKind::NameOf(_) => Ok(()),
        ExprKind::Interpolated(pieces) => pieces.iter().try_for_each(|piece| match piece {
            Piece::Hole { value, .. } => walk_expr(value, f),
            Piece::Text(_) => Ok(()),
        }),
        ExprKind::Member { target, .. } => walk_expr(target, f),
        ExprKind::Call { target, args, .. } => {
            target.iter().try_for_each(|t| walk_expr(t, f))?;
            args.iter().try_for_each(|a| walk_expr(&a.value, f))
        }
        ExprKind::Index { target, args, .. } => {
            walk_expr(target, f)?;
            args.iter().try_for_each(|a| walk_expr(a, f))
        }
        ExprKind::Unary { operand, .. }
        | ExprKind::Cast { operand, .. }
        | ExprKind::Is { operand, .. }
        | ExprKind::As { operand, .. } => walk_expr(operand, f),
        ExprKind::Binary { lhs, rhs, .. } => {
            walk_expr(lhs, f)?;
            walk_expr(rhs, f)
        }
        ExprKind::Assign { target, value, .. } => {
            walk_expr(target, f)?;
            walk_expr(value, f)
        }
        ExprKind::Conditional {
            condition,
            then,
            otherwise,
        } => {
            walk_expr(condition, f)?;
            walk_expr(then, f)?;
            walk_expr(otherwise, f)
        }
        ExprKind::New {
            args, initializer, ..
        } => {
            args.iter().try_for_each(|a| walk_expr(&a.value, f))?;
            match initializer {
                Some(Initializer::Items(items)) => items.iter().try_for_each(|e| walk_expr(e, f)),
                Some(Initializer::Keyed(pairs)) => pairs.iter().try_for_each(|(k, v)| {
                    walk_expr(k, f)?;
                    walk_expr(v, f)
                }),
                Some(Initializer::Members(members)) => {
                    members.iter().try_for_each(|(_, v)| walk_expr(v, f))
                }
                None => Ok(()),
            }
        }
        ExprKind::NewArray { size, items, .. } => {
            size.iter().try_for_each(|s| walk_expr(s, f))?;
            items.iter().try_for_each(|e| walk_expr(e, f))
        }
        ExprKind::Lambda { body, .. } => match body {
            LambdaBody::Expr(expr) => walk_expr(expr, f),
            LambdaBody::Block(statements) => walk_statements(statements, f),
        },
    }
}
