//! A Liquid template once read: the tree the renderer walks.

use super::filters::Filter;
use serde_json::Value;

/// A value in a template: a literal, a variable path or a range.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Value),
    /// `body.order.items[0].id`: the root name, then the steps, at an offset.
    Path(String, Vec<Step>, usize),
    /// `(1..n)`, at an offset.
    Range(Box<Expr>, Box<Expr>, usize),
    /// `empty`: equal to `""`, `[]` and `{}`.
    Empty,
    /// `blank`: `empty`, and also nil, false and whitespace.
    Blank,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `.name` (also `["name"]` with a literal).
    Key(String),
    /// `[expression]`.
    Index(Expr),
}

/// An expression and the filters its value goes through.
#[derive(Debug, Clone, PartialEq)]
pub struct Filtered {
    pub expr: Expr,
    pub filters: Vec<FilterCall>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FilterCall {
    pub filter: Filter,
    pub args: Vec<Expr>,
    pub offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Equal,
    NotEqual,
    Less,
    Greater,
    LessOrEqual,
    GreaterOrEqual,
    Contains,
}

/// A condition of `if`, `elsif` and `unless`. Liquid reads `and` / `or` from the right:
/// `a or b and c` is `a or (b and c)`, and `a and b or c` is `a and (b or c)`.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Truthy(Expr),
    Compare(Expr, Comparison, Expr),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
}

/// One node of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(String),
    Output(Filtered),
    /// `if` / `elsif` / `else`, and `unless` (its first condition negated).
    If {
        branches: Vec<(Condition, Vec<Node>)>,
        negate_first: bool,
        otherwise: Vec<Node>,
    },
    Case {
        subject: Expr,
        whens: Vec<(Vec<Expr>, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    For(Box<ForLoop>),
    Break,
    Continue,
    Assign(String, Filtered),
    Capture(String, Vec<Node>),
    /// `increment` (+1) and `decrement` (-1) of a counter of their own.
    Counter(String, i64),
    /// `cycle 'a', 'b'` with its group name (the values' text when none is given).
    Cycle(String, Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForLoop {
    pub variable: String,
    pub source: Expr,
    pub limit: Option<Expr>,
    pub offset: Option<Expr>,
    pub reversed: bool,
    pub body: Vec<Node>,
    /// `{% else %}`: rendered when there is nothing to loop over.
    pub otherwise: Vec<Node>,
    pub at: usize,
}
