//! Tokens read into a [`Script`]: C#'s expression grammar by precedence climbing, and the
//! statements policy scripts use.
//!
//! C# has two famous ambiguities, settled here as the C# compiler settles them:
//! * `a < b > (c)`: after a name, `<` starts type arguments when a list of types closed by
//!   `>` follows and the token after it is one that cannot continue an expression
//!   (`(`, `)`, `.`, `;`, …) — so `As<JObject>()` is a generic call and `a < b` a comparison;
//! * `(T)x`: a parenthesised type is a cast when what follows can start an operand (a name, a
//!   literal, `(`, `!`, `~`), or whatever follows when `T` is a keyword type (`(int)-1`).
//!
//! Nesting is bounded ([`MAX_NESTING`]): every recursive step counts, and a script nested
//! deeper is refused with its place.

use crate::error::ScriptError;
use crate::lexer::{Part, RealKind, Tok, Token};
use crate::syntax::*;

/// Expressions and statements nest at most this deep.
pub const MAX_NESTING: usize = 64;

/// Parses a whole `@( … )` expression (the text between the parentheses).
pub fn parse_expression(tokens: &[Token]) -> Result<Expr, ScriptError> {
    let mut parser = Parser::new(tokens);
    let expr = parser.expression()?;
    parser.expect_end()?;
    Ok(expr)
}

/// Parses the statements of a `@{ … }` block (the text between the braces).
pub fn parse_block(tokens: &[Token]) -> Result<Vec<Stmt>, ScriptError> {
    let mut parser = Parser::new(tokens);
    let mut statements = Vec::new();
    while !parser.at_end() {
        statements.push(parser.statement()?);
    }
    Ok(statements)
}

/// Names that are types when they stand where a type may (casts always read them so).
const KEYWORD_TYPES: &[&str] = &[
    "string", "int", "long", "double", "decimal", "bool", "char", "object", "float", "byte",
    "short", "uint", "ulong", "sbyte", "ushort", "var", "dynamic",
];

const RESERVED: &[&str] = &[
    "if",
    "else",
    "while",
    "for",
    "foreach",
    "in",
    "do",
    "return",
    "break",
    "continue",
    "new",
    "true",
    "false",
    "null",
    "is",
    "as",
    "switch",
    "case",
    "default",
    "throw",
    "try",
    "catch",
    "finally",
    "typeof",
    "nameof",
    "out",
    "ref",
    "this",
    "base",
    "class",
    "using",
    "static",
    "void",
    "await",
    "async",
    "lock",
    "goto",
    "unsafe",
    "fixed",
    "checked",
    "unchecked",
];

struct Parser<'t> {
    tokens: &'t [Token],
    at: usize,
    depth: usize,
}

impl<'t> Parser<'t> {
    fn new(tokens: &'t [Token]) -> Self {
        Self {
            tokens,
            at: 0,
            depth: 0,
        }
    }

    // ---- tokens ------------------------------------------------------------------------

    fn token(&self, ahead: usize) -> Option<&'t Token> {
        self.tokens.get(self.at + ahead)
    }

    fn tok(&self, ahead: usize) -> &'t Tok {
        self.token(ahead).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn offset(&self) -> usize {
        self.token(0)
            .or_else(|| self.tokens.last())
            .map_or(0, |t| t.offset)
    }

    fn at_end(&self) -> bool {
        matches!(self.tok(0), Tok::Eof)
    }

    fn is_punct(&self, ahead: usize, punct: &str) -> bool {
        matches!(self.tok(ahead), Tok::Punct(p) if *p == punct)
    }

    fn is_word(&self, ahead: usize, word: &str) -> bool {
        matches!(self.tok(ahead), Tok::Ident(w) if &**w == word)
    }

    fn eat_punct(&mut self, punct: &str) -> bool {
        let found = self.is_punct(0, punct);
        if found {
            self.at += 1;
        }
        found
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let found = self.is_word(0, word);
        if found {
            self.at += 1;
        }
        found
    }

    fn fault(&self, message: impl Into<String>) -> ScriptError {
        ScriptError::syntax(self.offset(), message)
    }

    fn describe(&self) -> String {
        match self.tok(0) {
            Tok::Ident(name) => format!("'{name}'"),
            Tok::Punct(p) => format!("'{p}'"),
            Tok::Eof => "the end".to_owned(),
            Tok::Str(_) | Tok::Interpolated(_) => "a string".to_owned(),
            Tok::Char(_) => "a character".to_owned(),
            Tok::Int { .. } | Tok::Real { .. } => "a number".to_owned(),
        }
    }

    fn expect_punct(&mut self, punct: &str) -> Result<(), ScriptError> {
        if self.eat_punct(punct) {
            return Ok(());
        }
        Err(self.fault(format!("expected '{punct}' but found {}.", self.describe())))
    }

    fn expect_end(&self) -> Result<(), ScriptError> {
        if self.at_end() {
            return Ok(());
        }
        Err(self.fault(format!(
            "expected the end of the expression but found {}.",
            self.describe()
        )))
    }

    /// A name that is not a reserved word.
    fn name(&mut self) -> Result<Box<str>, ScriptError> {
        match self.tok(0) {
            Tok::Ident(name) if !RESERVED.contains(&&**name) => {
                self.at += 1;
                Ok(name.clone())
            }
            _ => Err(self.fault(format!("expected a name but found {}.", self.describe()))),
        }
    }

    fn nested<T>(
        &mut self,
        step: impl FnOnce(&mut Self) -> Result<T, ScriptError>,
    ) -> Result<T, ScriptError> {
        if self.depth >= MAX_NESTING {
            return Err(self.fault(format!(
                "the script nests more than {MAX_NESTING} levels deep."
            )));
        }
        self.depth += 1;
        let result = step(self);
        self.depth -= 1;
        result
    }

    // ---- types -------------------------------------------------------------------------

    /// Reads a type at the cursor, or moves nothing and answers `None`.
    fn try_type(&mut self) -> Option<TypeName> {
        let start = self.at;
        let parsed = self.type_name();
        if parsed.is_none() {
            self.at = start;
        }
        parsed
    }

    fn type_name(&mut self) -> Option<TypeName> {
        if self.depth >= MAX_NESTING {
            return None;
        }
        let Tok::Ident(first) = self.tok(0) else {
            return None;
        };
        if RESERVED.contains(&&**first) {
            return None;
        }
        self.at += 1;
        let mut name: Box<str> = first.clone();
        // A dotted name: keep the last part (`System.Text.StringBuilder`), unless a part has
        // type arguments of its own.
        while self.is_punct(0, ".") && matches!(self.tok(1), Tok::Ident(_)) {
            let Tok::Ident(part) = self.tok(1) else {
                break;
            };
            self.at += 2;
            name = part.clone();
        }
        let mut args = Vec::new();
        if self.is_punct(0, "<") {
            self.at += 1;
            self.depth += 1;
            loop {
                let arg = self.type_name();
                let Some(arg) = arg else {
                    self.depth -= 1;
                    return None;
                };
                args.push(arg);
                if self.eat_punct(",") {
                    continue;
                }
                break;
            }
            self.depth -= 1;
            if self.eat_punct(">>") {
                // `List<List<int>>`: the lexer saw a shift.
                return None;
            }
            if !self.eat_punct(">") {
                return None;
            }
        }
        let mut nullable = false;
        if self.is_punct(0, "?") && !self.starts_operand(1) {
            self.at += 1;
            nullable = true;
        }
        let mut array_rank = 0u8;
        while self.is_punct(0, "[") && self.is_punct(1, "]") {
            self.at += 2;
            array_rank = array_rank.saturating_add(1);
        }
        Some(TypeName {
            name,
            args,
            array_rank,
            nullable,
        })
    }

    /// Whether the token `ahead` can start an operand (used to tell `T?` from `c ? a : b`).
    fn starts_operand(&self, ahead: usize) -> bool {
        match self.tok(ahead) {
            Tok::Ident(_)
            | Tok::Int { .. }
            | Tok::Real { .. }
            | Tok::Str(_)
            | Tok::Char(_)
            | Tok::Interpolated(_) => true,
            Tok::Punct(p) => matches!(*p, "(" | "!" | "~" | "-" | "+" | "++" | "--" | "@"),
            Tok::Eof => false,
        }
    }

    /// Type arguments after a name, when what follows them shows they are types.
    fn try_type_args(&mut self) -> Vec<TypeName> {
        if !self.is_punct(0, "<") {
            return Vec::new();
        }
        let start = self.at;
        self.at += 1;
        let mut args = Vec::new();
        loop {
            match self.type_name() {
                Some(arg) => args.push(arg),
                None => {
                    self.at = start;
                    return Vec::new();
                }
            }
            if !self.eat_punct(",") {
                break;
            }
        }
        let closes = self.eat_punct(">");
        let follows = matches!(
            self.tok(0),
            Tok::Punct(
                "(" | ")"
                    | "]"
                    | "}"
                    | ":"
                    | ";"
                    | ","
                    | "."
                    | "?."
                    | "=="
                    | "!="
                    | "|"
                    | "^"
                    | "&&"
                    | "||"
                    | "&"
                    | "["
            ) | Tok::Eof
        );
        if closes && follows {
            return args;
        }
        self.at = start;
        Vec::new()
    }

    // ---- statements --------------------------------------------------------------------

    fn statement(&mut self) -> Result<Stmt, ScriptError> {
        self.nested(Self::statement_inner)
    }

    fn statement_inner(&mut self) -> Result<Stmt, ScriptError> {
        let offset = self.offset();
        let kind = match self.tok(0) {
            Tok::Punct("{") => {
                self.at += 1;
                StmtKind::Block(self.block_rest()?)
            }
            Tok::Punct(";") => {
                self.at += 1;
                StmtKind::Empty
            }
            Tok::Ident(word) => match &**word {
                "if" => {
                    self.at += 1;
                    let condition = self.parenthesised()?;
                    let then = Box::new(self.statement()?);
                    let otherwise = if self.eat_word("else") {
                        Some(Box::new(self.statement()?))
                    } else {
                        None
                    };
                    StmtKind::If {
                        condition,
                        then,
                        otherwise,
                    }
                }
                "while" => {
                    self.at += 1;
                    let condition = self.parenthesised()?;
                    StmtKind::While {
                        condition,
                        body: Box::new(self.statement()?),
                    }
                }
                "do" => {
                    self.at += 1;
                    let body = Box::new(self.statement()?);
                    if !self.eat_word("while") {
                        return Err(self.fault("expected 'while' after the body of 'do'."));
                    }
                    let condition = self.parenthesised()?;
                    self.expect_punct(";")?;
                    StmtKind::DoWhile { body, condition }
                }
                "for" => self.for_statement()?,
                "foreach" => {
                    self.at += 1;
                    self.expect_punct("(")?;
                    if !self.eat_word("var") && self.try_type().is_none() {
                        return Err(self.fault("expected the type of the loop variable, or 'var'."));
                    }
                    let name = self.name()?;
                    if !self.eat_word("in") {
                        return Err(self.fault("expected 'in'."));
                    }
                    let items = self.expression()?;
                    self.expect_punct(")")?;
                    StmtKind::Foreach {
                        name,
                        items,
                        body: Box::new(self.statement()?),
                    }
                }
                "switch" => self.switch_statement()?,
                "return" => {
                    self.at += 1;
                    let value = if self.is_punct(0, ";") {
                        None
                    } else {
                        Some(self.expression()?)
                    };
                    self.expect_punct(";")?;
                    StmtKind::Return(value)
                }
                "break" => {
                    self.at += 1;
                    self.expect_punct(";")?;
                    StmtKind::Break
                }
                "continue" => {
                    self.at += 1;
                    self.expect_punct(";")?;
                    StmtKind::Continue
                }
                "throw" => {
                    self.at += 1;
                    let value = if self.is_punct(0, ";") {
                        None
                    } else {
                        Some(self.expression()?)
                    };
                    self.expect_punct(";")?;
                    StmtKind::Throw(value)
                }
                "try" => self.try_statement()?,
                _ => {
                    if let Some(locals) = self.try_declaration()? {
                        self.expect_punct(";")?;
                        return Ok(locals);
                    }
                    let expr = self.expression()?;
                    self.expect_punct(";")?;
                    StmtKind::Expr(expr)
                }
            },
            _ => {
                let expr = self.expression()?;
                self.expect_punct(";")?;
                StmtKind::Expr(expr)
            }
        };
        Ok(Stmt { kind, offset })
    }

    /// The statements up to the `}` that closes a block whose `{` was read.
    fn block_rest(&mut self) -> Result<Vec<Stmt>, ScriptError> {
        let mut statements = Vec::new();
        while !self.eat_punct("}") {
            if self.at_end() {
                return Err(self.fault("a '{' is never closed."));
            }
            statements.push(self.statement()?);
        }
        Ok(statements)
    }

    fn braced_block(&mut self) -> Result<Vec<Stmt>, ScriptError> {
        self.expect_punct("{")?;
        self.block_rest()
    }

    fn parenthesised(&mut self) -> Result<Expr, ScriptError> {
        self.expect_punct("(")?;
        let expr = self.expression()?;
        self.expect_punct(")")?;
        Ok(expr)
    }

    /// `var x = …` or `T x = …, y = …` at the cursor (without the `;`): a block of locals, or
    /// `None` (cursor unmoved) when this is not a declaration.
    fn try_declaration(&mut self) -> Result<Option<Stmt>, ScriptError> {
        let start = self.at;
        let offset = self.offset();
        let ty = if self.eat_word("var") {
            None
        } else {
            match self.try_type() {
                Some(ty) => Some(ty),
                None => return Ok(None),
            }
        };
        let declares = matches!(self.tok(0), Tok::Ident(n) if !RESERVED.contains(&&**n))
            && matches!(self.tok(1), Tok::Punct("=" | ";" | ","));
        if !declares {
            self.at = start;
            return Ok(None);
        }
        let mut locals = Vec::new();
        loop {
            let offset = self.offset();
            let name = self.name()?;
            let init = if self.eat_punct("=") {
                Some(self.expression()?)
            } else {
                None
            };
            locals.push(Stmt {
                kind: StmtKind::Local {
                    ty: ty.clone(),
                    name,
                    init,
                },
                offset,
            });
            if !self.eat_punct(",") {
                break;
            }
        }
        Ok(Some(if locals.len() == 1 {
            locals.remove(0)
        } else {
            // Several declarators share the enclosing scope: a block would hide them, so
            // they are spliced by the interpreter (a block of locals only).
            Stmt {
                kind: StmtKind::Block(locals),
                offset,
            }
        }))
    }

    fn for_statement(&mut self) -> Result<StmtKind, ScriptError> {
        self.at += 1;
        self.expect_punct("(")?;
        let mut init = Vec::new();
        if !self.is_punct(0, ";") {
            if let Some(locals) = self.try_declaration()? {
                init.push(locals);
            } else {
                loop {
                    let offset = self.offset();
                    init.push(Stmt {
                        kind: StmtKind::Expr(self.expression()?),
                        offset,
                    });
                    if !self.eat_punct(",") {
                        break;
                    }
                }
            }
        }
        self.expect_punct(";")?;
        let condition = if self.is_punct(0, ";") {
            None
        } else {
            Some(self.expression()?)
        };
        self.expect_punct(";")?;
        let mut step = Vec::new();
        if !self.is_punct(0, ")") {
            loop {
                step.push(self.expression()?);
                if !self.eat_punct(",") {
                    break;
                }
            }
        }
        self.expect_punct(")")?;
        Ok(StmtKind::For {
            init,
            condition,
            step,
            body: Box::new(self.statement()?),
        })
    }

    fn switch_statement(&mut self) -> Result<StmtKind, ScriptError> {
        self.at += 1;
        let subject = self.parenthesised()?;
        self.expect_punct("{")?;
        let mut sections = Vec::new();
        while !self.eat_punct("}") {
            let mut labels = Vec::new();
            loop {
                if self.eat_word("case") {
                    labels.push(Some(self.expression()?));
                    self.expect_punct(":")?;
                } else if self.is_word(0, "default") && self.is_punct(1, ":") {
                    self.at += 2;
                    labels.push(None);
                } else {
                    break;
                }
            }
            if labels.is_empty() {
                return Err(self.fault("expected 'case' or 'default' in a switch."));
            }
            let mut body = Vec::new();
            while !self.at_section_end() {
                if self.at_end() {
                    return Err(self.fault("a switch's '{' is never closed."));
                }
                body.push(self.statement()?);
            }
            sections.push((labels, body));
        }
        Ok(StmtKind::Switch { subject, sections })
    }

    /// Whether the cursor is at the next `case`, `default:` or the switch's `}`.
    fn at_section_end(&self) -> bool {
        let default_label = self.is_word(0, "default") && self.is_punct(1, ":");
        self.is_word(0, "case") || default_label || self.is_punct(0, "}")
    }

    fn try_statement(&mut self) -> Result<StmtKind, ScriptError> {
        self.at += 1;
        let body = self.braced_block()?;
        let mut catches = Vec::new();
        while self.eat_word("catch") {
            let mut binding = None;
            if self.eat_punct("(") {
                if self.try_type().is_none() {
                    return Err(self.fault("expected an exception type."));
                }
                if matches!(self.tok(0), Tok::Ident(_)) {
                    binding = Some(self.name()?);
                }
                self.expect_punct(")")?;
            }
            if self.eat_word("when") {
                return Err(self.fault("exception filters ('when') are not supported."));
            }
            catches.push(CatchClause {
                binding,
                body: self.braced_block()?,
            });
        }
        let finally = if self.eat_word("finally") {
            Some(self.braced_block()?)
        } else {
            None
        };
        if catches.is_empty() && finally.is_none() {
            return Err(self.fault("a 'try' needs a 'catch' or a 'finally'."));
        }
        Ok(StmtKind::Try {
            body,
            catches,
            finally,
        })
    }

    // ---- expressions -------------------------------------------------------------------

    fn expression(&mut self) -> Result<Expr, ScriptError> {
        self.nested(Self::assignment)
    }

    fn assignment(&mut self) -> Result<Expr, ScriptError> {
        if let Some(lambda) = self.try_lambda()? {
            return Ok(lambda);
        }
        let target = self.conditional()?;
        let op = match self.tok(0) {
            Tok::Punct("=") => None,
            Tok::Punct("+=") => Some(BinaryOp::Add),
            Tok::Punct("-=") => Some(BinaryOp::Sub),
            Tok::Punct("*=") => Some(BinaryOp::Mul),
            Tok::Punct("/=") => Some(BinaryOp::Div),
            Tok::Punct("%=") => Some(BinaryOp::Rem),
            Tok::Punct("&=") => Some(BinaryOp::BitAnd),
            Tok::Punct("|=") => Some(BinaryOp::BitOr),
            Tok::Punct("^=") => Some(BinaryOp::BitXor),
            Tok::Punct("??=") => Some(BinaryOp::Coalesce),
            _ => return Ok(target),
        };
        if !matches!(
            target.kind,
            ExprKind::Name(_) | ExprKind::Member { .. } | ExprKind::Index { .. }
        ) {
            return Err(self.fault("only a variable, a member or an element can be assigned."));
        }
        self.at += 1;
        let value = self.expression()?;
        Ok(Expr {
            offset: target.offset,
            kind: ExprKind::Assign {
                op,
                target: Box::new(target),
                value: Box::new(value),
            },
        })
    }

    /// `x => …`, `(x, y) => …`, `() => …`, `(string x) => …`.
    fn try_lambda(&mut self) -> Result<Option<Expr>, ScriptError> {
        let offset = self.offset();
        let params = if matches!(self.tok(0), Tok::Ident(_)) && self.is_punct(1, "=>") {
            let name = self.name()?;
            vec![name]
        } else if self.is_punct(0, "(") {
            // Find the matching ')' and look for '=>' after it.
            let mut depth = 0usize;
            let mut end = None;
            for (i, token) in self.tokens.iter().enumerate().skip(self.at) {
                match token.tok {
                    Tok::Punct("(") => depth += 1,
                    Tok::Punct(")") => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i);
                            break;
                        }
                    }
                    Tok::Eof => break,
                    _ => {}
                }
            }
            let Some(end) = end else {
                return Ok(None);
            };
            if !matches!(
                self.tokens.get(end + 1).map(|t| &t.tok),
                Some(Tok::Punct("=>"))
            ) {
                return Ok(None);
            }
            self.at += 1;
            let mut params = Vec::new();
            while !self.eat_punct(")") {
                // A typed parameter: `string x`.
                if matches!(self.tok(1), Tok::Ident(_) | Tok::Punct("<" | "[" | "?")) {
                    let _ = self.try_type();
                }
                params.push(self.name()?);
                if !self.eat_punct(",") {
                    self.expect_punct(")")?;
                    break;
                }
            }
            params
        } else {
            return Ok(None);
        };
        self.expect_punct("=>")?;
        let body = if self.eat_punct("{") {
            LambdaBody::Block(self.block_rest()?)
        } else {
            LambdaBody::Expr(Box::new(self.expression()?))
        };
        Ok(Some(Expr {
            kind: ExprKind::Lambda { params, body },
            offset,
        }))
    }

    fn conditional(&mut self) -> Result<Expr, ScriptError> {
        let condition = self.binary(0)?;
        if !self.is_punct(0, "?") {
            return Ok(condition);
        }
        self.at += 1;
        let then = self.expression()?;
        self.expect_punct(":")?;
        let otherwise = self.expression()?;
        Ok(Expr {
            offset: condition.offset,
            kind: ExprKind::Conditional {
                condition: Box::new(condition),
                then: Box::new(then),
                otherwise: Box::new(otherwise),
            },
        })
    }

    /// The binary operator at the cursor and its precedence level (higher binds tighter);
    /// `is` and `as` sit with the relational operators.
    fn binary_operator(&self) -> Option<(usize, Option<BinaryOp>)> {
        const LEVELS: &[&[(&str, BinaryOp)]] = &[
            &[("??", BinaryOp::Coalesce)],
            &[("||", BinaryOp::Or)],
            &[("&&", BinaryOp::And)],
            &[("|", BinaryOp::BitOr)],
            &[("^", BinaryOp::BitXor)],
            &[("&", BinaryOp::BitAnd)],
            &[("==", BinaryOp::Eq), ("!=", BinaryOp::NotEq)],
            &[
                ("<=", BinaryOp::LessEq),
                (">=", BinaryOp::GreaterEq),
                ("<", BinaryOp::Less),
                (">", BinaryOp::Greater),
            ],
            &[("<<", BinaryOp::Shl), (">>", BinaryOp::Shr)],
            &[("+", BinaryOp::Add), ("-", BinaryOp::Sub)],
            &[
                ("*", BinaryOp::Mul),
                ("/", BinaryOp::Div),
                ("%", BinaryOp::Rem),
            ],
        ];
        const RELATIONAL: usize = 7;
        if self.is_word(0, "is") || self.is_word(0, "as") {
            return Some((RELATIONAL, None));
        }
        LEVELS.iter().enumerate().find_map(|(level, operators)| {
            operators
                .iter()
                .find(|(symbol, _)| self.is_punct(0, symbol))
                .map(|(_, op)| (level, Some(*op)))
        })
    }

    /// Precedence climbing: operands joined by operators of level `min_level` or tighter.
    /// Operators of one level associate to the left (`??` to the right).
    fn binary(&mut self, min_level: usize) -> Result<Expr, ScriptError> {
        let mut lhs = self.unary()?;
        // Each operator of `a + b + c` nests the (left-leaning) tree one level deeper.
        let mut links = 0;
        loop {
            links += 1;
            if self.depth + links > MAX_NESTING {
                return Err(self.fault(format!(
                    "the script nests more than {MAX_NESTING} levels deep."
                )));
            }
            let Some((level, op)) = self.binary_operator() else {
                return Ok(lhs);
            };
            if level < min_level {
                return Ok(lhs);
            }
            let Some(op) = op else {
                if self.is_word(0, "is") {
                    lhs = self.is_pattern(lhs)?;
                    continue;
                }
                self.at += 1;
                let Some(ty) = self.try_type() else {
                    return Err(self.fault("expected a type after 'as'."));
                };
                lhs = Expr {
                    offset: lhs.offset,
                    kind: ExprKind::As {
                        operand: Box::new(lhs),
                        ty,
                    },
                };
                continue;
            };
            self.at += 1;
            let rhs = if op == BinaryOp::Coalesce {
                self.nested(|p| p.binary(level))?
            } else {
                self.nested(|p| p.binary(level + 1))?
            };
            lhs = Expr {
                offset: lhs.offset,
                kind: ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
            };
        }
    }

    fn is_pattern(&mut self, operand: Expr) -> Result<Expr, ScriptError> {
        self.at += 1;
        let negated = self.eat_word("not");
        let (ty, binding) = if self.eat_word("null") {
            (None, None)
        } else {
            let Some(ty) = self.try_type() else {
                return Err(self.fault("expected a type or 'null' after 'is'."));
            };
            let binding = match self.tok(0) {
                Tok::Ident(name) if !RESERVED.contains(&&**name) && !negated => {
                    let name = name.clone();
                    self.at += 1;
                    Some(name)
                }
                _ => None,
            };
            (Some(ty), binding)
        };
        Ok(Expr {
            offset: operand.offset,
            kind: ExprKind::Is {
                operand: Box::new(operand),
                ty,
                binding,
                negated,
            },
        })
    }

    fn unary(&mut self) -> Result<Expr, ScriptError> {
        let offset = self.offset();
        let op = match self.tok(0) {
            Tok::Punct("-") => Some(UnaryOp::Neg),
            Tok::Punct("+") => Some(UnaryOp::Plus),
            Tok::Punct("!") => Some(UnaryOp::Not),
            Tok::Punct("~") => Some(UnaryOp::BitNot),
            Tok::Punct("++") => Some(UnaryOp::PreIncrement),
            Tok::Punct("--") => Some(UnaryOp::PreDecrement),
            _ => None,
        };
        if let Some(op) = op {
            self.at += 1;
            let operand = self.nested(Self::unary)?;
            return Ok(Expr {
                kind: ExprKind::Unary {
                    op,
                    operand: Box::new(operand),
                },
                offset,
            });
        }
        if let Some(cast) = self.try_cast()? {
            return Ok(cast);
        }
        self.postfix()
    }

    fn try_cast(&mut self) -> Result<Option<Expr>, ScriptError> {
        if !self.is_punct(0, "(") {
            return Ok(None);
        }
        let offset = self.offset();
        let start = self.at;
        self.at += 1;
        let Some(ty) = self.try_type() else {
            self.at = start;
            return Ok(None);
        };
        if !self.eat_punct(")") {
            self.at = start;
            return Ok(None);
        }
        let keyword = KEYWORD_TYPES.contains(&&*ty.name) && ty.args.is_empty();
        let operand_follows = match self.tok(0) {
            Tok::Ident(word) => !matches!(&**word, "is" | "as"),
            Tok::Int { .. }
            | Tok::Real { .. }
            | Tok::Str(_)
            | Tok::Char(_)
            | Tok::Interpolated(_) => true,
            Tok::Punct(p) => matches!(*p, "(" | "!" | "~") || (keyword && matches!(*p, "-" | "+")),
            Tok::Eof => false,
        };
        if !operand_follows {
            self.at = start;
            return Ok(None);
        }
        let operand = self.nested(Self::unary)?;
        Ok(Some(Expr {
            kind: ExprKind::Cast {
                ty,
                operand: Box::new(operand),
            },
            offset,
        }))
    }

    fn postfix(&mut self) -> Result<Expr, ScriptError> {
        let mut expr = self.primary()?;
        // Each link of `a.b[c].d()` nests the tree one level deeper.
        let mut links = 0;
        loop {
            links += 1;
            if self.depth + links > MAX_NESTING {
                return Err(self.fault(format!(
                    "the script nests more than {MAX_NESTING} levels deep."
                )));
            }
            let offset = self.offset();
            match self.tok(0) {
                Tok::Punct(dot @ ("." | "?.")) => {
                    let conditional = *dot == "?.";
                    self.at += 1;
                    let name = match self.tok(0) {
                        // Keywords are fine as member names after a dot (`x.Value`, `x.@class`).
                        Tok::Ident(name) => {
                            let name = name.clone();
                            self.at += 1;
                            name
                        }
                        _ => {
                            return Err(self.fault(format!(
                                "expected a member name but found {}.",
                                self.describe()
                            )));
                        }
                    };
                    let type_args = self.try_type_args();
                    if self.is_punct(0, "(") {
                        let args = self.arguments()?;
                        expr = Expr {
                            offset: expr.offset,
                            kind: ExprKind::Call {
                                target: Some(Box::new(expr)),
                                name,
                                type_args,
                                args,
                                conditional,
                            },
                        };
                    } else {
                        if !type_args.is_empty() {
                            return Err(self.fault("type arguments need a call."));
                        }
                        expr = Expr {
                            offset: expr.offset,
                            kind: ExprKind::Member {
                                target: Box::new(expr),
                                name,
                                conditional,
                            },
                        };
                    }
                }
                Tok::Punct(open @ ("[" | "?[")) => {
                    let conditional = *open == "?[";
                    self.at += 1;
                    let mut args = Vec::new();
                    loop {
                        args.push(self.expression()?);
                        if !self.eat_punct(",") {
                            break;
                        }
                    }
                    self.expect_punct("]")?;
                    expr = Expr {
                        offset: expr.offset,
                        kind: ExprKind::Index {
                            target: Box::new(expr),
                            args,
                            conditional,
                        },
                    };
                }
                Tok::Punct(op @ ("++" | "--")) => {
                    let op = if *op == "++" {
                        UnaryOp::PostIncrement
                    } else {
                        UnaryOp::PostDecrement
                    };
                    self.at += 1;
                    expr = Expr {
                        offset,
                        kind: ExprKind::Unary {
                            op,
                            operand: Box::new(expr),
                        },
                    };
                }
                // `x!` (null-forgiving) changes nothing at run time.
                Tok::Punct("!") if !self.is_punct(1, "=") && !self.starts_operand(1) => {
                    self.at += 1;
                }
                _ => return Ok(expr),
            }
        }
    }

    /// `( args )` of a call.
    fn arguments(&mut self) -> Result<Vec<Arg>, ScriptError> {
        self.expect_punct("(")?;
        let mut args = Vec::new();
        if self.eat_punct(")") {
            return Ok(args);
        }
        loop {
            let name = if matches!(self.tok(0), Tok::Ident(_)) && self.is_punct(1, ":") {
                let name = self.name()?;
                self.at += 1;
                Some(name)
            } else {
                None
            };
            if self.eat_word("out") {
                let offset = self.offset();
                // `out var x`, `out T x` or `out x`.
                if !self.eat_word("var")
                    && matches!(self.tok(1), Tok::Ident(_) | Tok::Punct("<" | "["))
                {
                    let _ = self.try_type();
                }
                let target = self.name()?;
                args.push(Arg {
                    name,
                    value: Expr {
                        kind: ExprKind::Name(target.clone()),
                        offset,
                    },
                    out: Some(target),
                });
            } else {
                args.push(Arg {
                    name,
                    value: self.expression()?,
                    out: None,
                });
            }
            if self.eat_punct(")") {
                return Ok(args);
            }
            self.expect_punct(",")?;
        }
    }

    fn primary(&mut self) -> Result<Expr, ScriptError> {
        let offset = self.offset();
        let literal = |kind| Ok(Expr { kind, offset });
        match self.tok(0).clone() {
            Tok::Int { value, long } => {
                self.at += 1;
                let literal_value = if long || value > i32::MAX as u64 {
                    Literal::Long(i64::try_from(value).map_err(|_| {
                        ScriptError::syntax(offset, "the number is too big for a long.")
                    })?)
                } else {
                    Literal::Int(value as i32)
                };
                literal(ExprKind::Literal(literal_value))
            }
            Tok::Real { value, text, kind } => {
                self.at += 1;
                literal(ExprKind::Literal(match kind {
                    RealKind::Decimal => Literal::Decimal(text),
                    RealKind::Double | RealKind::Float => Literal::Double(value),
                }))
            }
            Tok::Str(text) => {
                self.at += 1;
                literal(ExprKind::Literal(Literal::Str(text)))
            }
            Tok::Char(c) => {
                self.at += 1;
                literal(ExprKind::Literal(Literal::Char(c)))
            }
            Tok::Interpolated(parts) => {
                self.at += 1;
                let mut pieces = Vec::new();
                for part in parts {
                    pieces.push(match part {
                        Part::Text(text) => Piece::Text(text),
                        Part::Hole {
                            tokens,
                            align,
                            format,
                        } => {
                            let mut inner = Parser::new(&tokens);
                            inner.depth = self.depth + 1;
                            let value = inner.expression()?;
                            inner.expect_end()?;
                            Piece::Hole {
                                value,
                                align,
                                format,
                            }
                        }
                    });
                }
                literal(ExprKind::Interpolated(pieces))
            }
            Tok::Punct("(") => {
                self.at += 1;
                let inner = self.expression()?;
                self.expect_punct(")")?;
                Ok(inner)
            }
            Tok::Ident(word) => self.word(&word, offset),
            _ => Err(self.fault(format!("expected a value but found {}.", self.describe()))),
        }
    }

    fn word(&mut self, word: &str, offset: usize) -> Result<Expr, ScriptError> {
        let kind = match word {
            "true" | "false" => {
                self.at += 1;
                ExprKind::Literal(Literal::Bool(word == "true"))
            }
            "null" => {
                self.at += 1;
                ExprKind::Literal(Literal::Null)
            }
            "new" => {
                self.at += 1;
                self.new_expression()?
            }
            "typeof" => {
                self.at += 1;
                self.expect_punct("(")?;
                let Some(ty) = self.try_type() else {
                    return Err(self.fault("expected a type."));
                };
                self.expect_punct(")")?;
                ExprKind::TypeOf(ty)
            }
            "nameof" => {
                self.at += 1;
                self.expect_punct("(")?;
                let mut last = self.name()?;
                while self.eat_punct(".") {
                    last = self.name()?;
                }
                self.expect_punct(")")?;
                ExprKind::NameOf(last)
            }
            "default" => {
                self.at += 1;
                if self.eat_punct("(") {
                    let Some(ty) = self.try_type() else {
                        return Err(self.fault("expected a type."));
                    };
                    self.expect_punct(")")?;
                    ExprKind::Default(Some(ty))
                } else {
                    ExprKind::Default(None)
                }
            }
            _ if RESERVED.contains(&word) => {
                return Err(self.fault(format!("'{word}' cannot start a value.")));
            }
            _ => {
                self.at += 1;
                let name: Box<str> = word.into();
                let type_args = self.try_type_args();
                if self.is_punct(0, "(") {
                    let args = self.arguments()?;
                    ExprKind::Call {
                        target: None,
                        name,
                        type_args,
                        args,
                        conditional: false,
                    }
                } else if !type_args.is_empty() {
                    // `List<string>.…`-style static access is not policy C#.
                    return Err(self.fault("a generic type cannot stand here."));
                } else {
                    ExprKind::Name(name)
                }
            }
        };
        Ok(Expr { kind, offset })
    }

    fn new_expression(&mut self) -> Result<ExprKind, ScriptError> {
        // `new[] { … }`
        if self.is_punct(0, "[") && self.is_punct(1, "]") {
            self.at += 2;
            let items = self.array_items()?;
            return Ok(ExprKind::NewArray {
                element: None,
                size: None,
                items,
            });
        }
        // `new { A = 1 }`
        if self.is_punct(0, "{") {
            let initializer = self.initializer()?;
            return Ok(ExprKind::New {
                ty: None,
                args: Vec::new(),
                initializer: Some(initializer),
            });
        }
        let Some(mut ty) = self.new_type()? else {
            return Err(self.fault("expected a type after 'new'."));
        };
        // `new T[n]` / `new T[] { … }` (the type reader took `[]` already).
        if self.is_punct(0, "[") {
            self.at += 1;
            let size = self.expression()?;
            self.expect_punct("]")?;
            let items = if self.is_punct(0, "{") {
                self.array_items()?
            } else {
                Vec::new()
            };
            return Ok(ExprKind::NewArray {
                element: Some(ty),
                size: Some(Box::new(size)),
                items,
            });
        }
        if ty.array_rank > 0 {
            ty.array_rank -= 1;
            let items = self.array_items()?;
            return Ok(ExprKind::NewArray {
                element: Some(ty),
                size: None,
                items,
            });
        }
        let args = if self.is_punct(0, "(") {
            self.arguments()?
        } else {
            Vec::new()
        };
        let initializer = if self.is_punct(0, "{") {
            Some(self.initializer()?)
        } else {
            None
        };
        Ok(ExprKind::New {
            ty: Some(ty),
            args,
            initializer,
        })
    }

    /// The type after `new`: like [`Parser::type_name`], but `[` with a size is left for the
    /// caller.
    fn new_type(&mut self) -> Result<Option<TypeName>, ScriptError> {
        Ok(self.try_type())
    }

    fn array_items(&mut self) -> Result<Vec<Expr>, ScriptError> {
        self.expect_punct("{")?;
        let mut items = Vec::new();
        while !self.eat_punct("}") {
            items.push(self.expression()?);
            if !self.eat_punct(",") {
                self.expect_punct("}")?;
                break;
            }
        }
        Ok(items)
    }

    fn initializer(&mut self) -> Result<Initializer, ScriptError> {
        self.expect_punct("{")?;
        let mut items = Vec::new();
        let mut keyed = Vec::new();
        let mut members = Vec::new();
        while !self.eat_punct("}") {
            if self.is_punct(0, "{") {
                // `{ key, value }`
                self.at += 1;
                let key = self.expression()?;
                self.expect_punct(",")?;
                let value = self.expression()?;
                self.expect_punct("}")?;
                keyed.push((key, value));
            } else if self.is_punct(0, "[") {
                // `[key] = value`
                self.at += 1;
                let key = self.expression()?;
                self.expect_punct("]")?;
                self.expect_punct("=")?;
                keyed.push((key, self.expression()?));
            } else if matches!(self.tok(0), Tok::Ident(_)) && self.is_punct(1, "=") {
                let name = self.name()?;
                self.at += 1;
                members.push((name, self.expression()?));
            } else if matches!(self.tok(0), Tok::Ident(_))
                && matches!(self.tok(1), Tok::Punct("," | "}"))
                && items.is_empty()
                && keyed.is_empty()
                && self.is_anonymous_projection()
            {
                // `new { x.Name }`: a member named after what it reads.
                let offset = self.offset();
                let name = self.name()?;
                members.push((
                    name.clone(),
                    Expr {
                        kind: ExprKind::Name(name),
                        offset,
                    },
                ));
            } else {
                items.push(self.expression()?);
            }
            if !self.eat_punct(",") {
                self.expect_punct("}")?;
                break;
            }
        }
        let kinds = [!items.is_empty(), !keyed.is_empty(), !members.is_empty()];
        if kinds.iter().filter(|k| **k).count() > 1 {
            return Err(self.fault("an initializer mixes items, keys and members."));
        }
        Ok(if !keyed.is_empty() {
            Initializer::Keyed(keyed)
        } else if !members.is_empty() {
            Initializer::Members(members)
        } else {
            Initializer::Items(items)
        })
    }

    /// Whether the initializer being read belongs to `new { … }` (members are then names).
    fn is_anonymous_projection(&self) -> bool {
        // The token before the initializer's `{` is `new`.
        let mut i = self.at;
        while i > 0 {
            i -= 1;
            match self.tokens.get(i).map(|t| &t.tok) {
                Some(Tok::Punct("{")) => {
                    return matches!(
                        i.checked_sub(1).and_then(|j| self.tokens.get(j)).map(|t| &t.tok),
                        Some(Tok::Ident(w)) if &**w == "new"
                    );
                }
                Some(Tok::Punct(",")) | Some(Tok::Ident(_)) | Some(Tok::Punct("=")) => continue,
                _ => return false,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokenize;

    fn expr(source: &str) -> Expr {
        parse_expression(&tokenize(source, 0).unwrap()).unwrap()
    }

    fn block(source: &str) -> Vec<Stmt> {
        parse_block(&tokenize(source, 0).unwrap()).unwrap()
    }

    fn fault(source: &str) -> ScriptError {
        let tokens = tokenize(source, 0).unwrap();
        parse_expression(&tokens)
            .err()
            .or_else(|| parse_block(&tokens).err())
            .expect("a fault")
    }

    #[test]
    fn generic_calls_and_comparisons_are_told_apart() {
        let call = expr("context.Request.Body.As<JObject>(preserveContent: true)");
        let ExprKind::Call {
            name,
            type_args,
            args,
            ..
        } = call.kind
        else {
            panic!("{call:?}")
        };
        assert_eq!(&*name, "As");
        assert_eq!(type_args, vec![TypeName::simple("JObject")]);
        assert_eq!(args[0].name.as_deref(), Some("preserveContent"));
        let compare = expr("a < b && c > d");
        assert!(matches!(
            compare.kind,
            ExprKind::Binary {
                op: BinaryOp::And,
                ..
            }
        ));
    }

    #[test]
    fn casts_and_parenthesised_values() {
        assert!(matches!(
            expr("(string)context.Variables[\"x\"]").kind,
            ExprKind::Cast { .. }
        ));
        assert!(matches!(expr("(int)-1").kind, ExprKind::Cast { .. }));
        assert!(matches!(
            expr("(a) - 1").kind,
            ExprKind::Binary {
                op: BinaryOp::Sub,
                ..
            }
        ));
    }

    #[test]
    fn precedence_and_associativity() {
        // 1 + 2 * 3 == 7 && !false ? x ?? y ?? z : w
        let e = expr("1 + 2 * 3 == 7 && !false ? x ?? y ?? z : w");
        let ExprKind::Conditional {
            condition, then, ..
        } = e.kind
        else {
            panic!()
        };
        assert!(matches!(
            condition.kind,
            ExprKind::Binary {
                op: BinaryOp::And,
                ..
            }
        ));
        let ExprKind::Binary { op, rhs, .. } = then.kind else {
            panic!()
        };
        assert_eq!(op, BinaryOp::Coalesce);
        assert!(matches!(
            rhs.kind,
            ExprKind::Binary {
                op: BinaryOp::Coalesce,
                ..
            }
        ));
    }

    #[test]
    fn lambdas_new_and_initializers() {
        assert!(matches!(
            expr("headers.Where(h => h.Key.StartsWith(\"x-\")).Select((h, i) => h.Value)").kind,
            ExprKind::Call { .. }
        ));
        assert!(matches!(
            expr("new JObject(new JProperty(\"a\", 1))").kind,
            ExprKind::New { .. }
        ));
        assert!(matches!(
            expr("new Dictionary<string, int> { { \"a\", 1 }, [\"b\"] = 2 }").kind,
            ExprKind::New {
                initializer: Some(Initializer::Keyed(_)),
                ..
            }
        ));
        assert!(matches!(
            expr("new List<string> { \"a\", \"b\" }").kind,
            ExprKind::New {
                initializer: Some(Initializer::Items(_)),
                ..
            }
        ));
        assert!(matches!(
            expr("new { name = \"x\", count = 1 }").kind,
            ExprKind::New {
                ty: None,
                initializer: Some(Initializer::Members(_)),
                ..
            }
        ));
        assert!(matches!(
            expr("new string[] { \"a\" }").kind,
            ExprKind::NewArray { items, .. } if items.len() == 1
        ));
        assert!(matches!(
            expr("new[] { 1, 2 }").kind,
            ExprKind::NewArray { element: None, .. }
        ));
    }

    #[test]
    fn statements_of_a_block() {
        let statements = block(
            r#"
            var body = context.Request.Body.As<JObject>();
            string name = (string)body["name"], other = null;
            if (name == null) { return "none"; } else if (name.Length > 3) name = name.Substring(0, 3);
            foreach (var item in (JArray)body["items"]) { count++; }
            for (int i = 0; i < 3; i++) { if (i == 1) continue; else break; }
            while (false) { }
            do { x += 1; } while (x < 3);
            switch (name) { case "a": case "b": return "ab"; default: break; }
            try { throw new Exception("x"); } catch (Exception e) { return e.Message; } finally { }
            int.TryParse("1", out var parsed);
            return name;
            "#,
        );
        assert_eq!(statements.len(), 11);
        assert!(matches!(statements[1].kind, StmtKind::Block(ref locals) if locals.len() == 2));
        assert!(matches!(statements[10].kind, StmtKind::Return(Some(_))));
    }

    #[test]
    fn is_as_and_null_conditional() {
        assert!(matches!(
            expr("x is string s").kind,
            ExprKind::Is {
                binding: Some(_),
                ..
            }
        ));
        assert!(matches!(
            expr("x is not null").kind,
            ExprKind::Is {
                negated: true,
                ty: None,
                ..
            }
        ));
        assert!(matches!(expr("x as JObject").kind, ExprKind::As { .. }));
        assert!(matches!(
            expr("a?.b?[0]?.c()").kind,
            ExprKind::Call {
                conditional: true,
                ..
            }
        ));
    }

    #[test]
    fn faults_name_their_place() {
        let f = fault("a + ");
        assert_eq!(f.offset, 4);
        assert!(f.message.contains("expected a value"), "{}", f.message);
        let unclosed = parse_block(&tokenize("if (x) { return 1; ", 0).unwrap()).unwrap_err();
        assert!(
            unclosed.message.contains("never closed"),
            "{}",
            unclosed.message
        );
        assert!(fault("1 = 2").message.contains("assigned"));
        let deep = format!(
            "{}1{}",
            "(".repeat(MAX_NESTING + 5),
            ")".repeat(MAX_NESTING + 5)
        );
        assert!(fault(&deep).message.contains("levels deep"));
        let long_chain = format!("a{}", ".b".repeat(500));
        assert!(fault(&long_chain).message.contains("levels deep"));
        let unary = format!("{}x", "!".repeat(500));
        assert!(fault(&unary).message.contains("levels deep"));
    }
}
