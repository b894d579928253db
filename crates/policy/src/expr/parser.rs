//! A recursive-descent parser for the expression subset. Precedence, lowest first:
//! `?:`, `||`, `&&`, `==`/`!=`, `<`/`<=`/`>`/`>=`, `+`, unary `!` and casts, then member
//! access and calls.

use super::ExprError;
use super::ast::{BinaryOp, COLLECTIONS, Cast, Collection, Expr, FIELDS, StringMethod};
use super::lexer::{Token, tokenize};

/// Deeper nesting than this is refused, so that hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

pub fn parse(source: &str) -> Result<Expr, ExprError> {
    let tokens = tokenize(source)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        end: source.len(),
        depth: 0,
    };
    let expr = parser.expression()?;
    if let Some((token, offset)) = parser.tokens.get(parser.at) {
        return Err(ExprError::new(
            *offset,
            format!(
                "unexpected {} after the end of the expression.",
                describe(token)
            ),
        ));
    }
    Ok(expr)
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    at: usize,
    end: usize,
    depth: usize,
}

fn describe(token: &Token) -> String {
    match token {
        Token::Ident(name) => format!("'{name}'"),
        Token::Str(_) => "a string".to_owned(),
        Token::Int(value) => format!("the number {value}"),
        other => format!("'{}'", symbol(other)),
    }
}

fn symbol(token: &Token) -> &'static str {
    match token {
        Token::Dot => ".",
        Token::Comma => ",",
        Token::OpenParen => "(",
        Token::CloseParen => ")",
        Token::OpenBracket => "[",
        Token::CloseBracket => "]",
        Token::Less => "<",
        Token::Greater => ">",
        Token::LessEq => "<=",
        Token::GreaterEq => ">=",
        Token::EqEq => "==",
        Token::NotEq => "!=",
        Token::AndAnd => "&&",
        Token::OrOr => "||",
        Token::Not => "!",
        Token::Plus => "+",
        Token::Question => "?",
        Token::Colon => ":",
        Token::Ident(_) | Token::Str(_) | Token::Int(_) => "",
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Token> {
        self.tokens.get(self.at + ahead).map(|(t, _)| t)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(_, o)| *o)
    }

    fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &Token) -> Result<(), ExprError> {
        if self.eat(token) {
            return Ok(());
        }
        let found = self
            .peek()
            .map_or_else(|| "the end of the expression".to_owned(), describe);
        Err(ExprError::new(
            self.offset(),
            format!("expected '{}' but found {found}.", symbol(token)),
        ))
    }

    fn ident(&mut self) -> Result<(String, usize), ExprError> {
        let offset = self.offset();
        match self.peek() {
            Some(Token::Ident(name)) => {
                let name = name.clone();
                self.at += 1;
                Ok((name, offset))
            }
            Some(other) => Err(ExprError::new(
                offset,
                format!("expected a name but found {}.", describe(other)),
            )),
            None => Err(ExprError::new(offset, "the expression ends too early.")),
        }
    }

    fn deeper(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::new(
                self.offset(),
                "the expression is nested too deeply.",
            ));
        }
        Ok(())
    }

    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, ExprError>,
    ) -> Result<T, ExprError> {
        self.deeper()?;
        let result = f(self);
        self.depth -= 1;
        result
    }

    fn expression(&mut self) -> Result<Expr, ExprError> {
        self.nested(|p| {
            let condition = p.binary(0)?;
            if !p.eat(&Token::Question) {
                return Ok(condition);
            }
            let then = p.expression()?;
            p.expect(&Token::Colon)?;
            let otherwise = p.expression()?;
            Ok(Expr::Conditional {
                condition: Box::new(condition),
                then: Box::new(then),
                otherwise: Box::new(otherwise),
            })
        })
    }

    /// Binary operators by precedence level, lowest first.
    fn binary(&mut self, level: usize) -> Result<Expr, ExprError> {
        const LEVELS: &[&[(Token, BinaryOp)]] = &[
            &[(Token::OrOr, BinaryOp::Or)],
            &[(Token::AndAnd, BinaryOp::And)],
            &[(Token::EqEq, BinaryOp::Eq), (Token::NotEq, BinaryOp::NotEq)],
            &[
                (Token::LessEq, BinaryOp::LessEq),
                (Token::GreaterEq, BinaryOp::GreaterEq),
                (Token::Less, BinaryOp::Less),
                (Token::Greater, BinaryOp::Greater),
            ],
            &[(Token::Plus, BinaryOp::Add)],
        ];
        let Some(operators) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut lhs = self.binary(level + 1)?;
        // A chain `a + b + c …` nests to the left: count it against the depth limit too.
        let mut chained = 0;
        loop {
            let Some(op) = operators
                .iter()
                .find(|(token, _)| self.peek() == Some(token))
                .map(|(_, op)| *op)
            else {
                self.depth -= chained;
                return Ok(lhs);
            };
            self.at += 1;
            self.deeper()?;
            chained += 1;
            let rhs = self.nested(|p| p.binary(level + 1))?;
            lhs = Expr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
        }
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        self.nested(|p| {
            if p.eat(&Token::Not) {
                return Ok(Expr::Not(Box::new(p.unary()?)));
            }
            if let (Some(Token::OpenParen), Some(Token::Ident(name)), Some(Token::CloseParen)) =
                (p.peek(), p.peek_at(1), p.peek_at(2))
            {
                let cast = match name.as_str() {
                    "string" => Some(Cast::String),
                    "int" | "long" => Some(Cast::Int),
                    "bool" => Some(Cast::Bool),
                    _ => None,
                };
                if let Some(cast) = cast {
                    p.at += 3;
                    return Ok(Expr::Cast(cast, Box::new(p.unary()?)));
                }
            }
            p.postfix()
        })
    }

    fn postfix(&mut self) -> Result<Expr, ExprError> {
        let mut expr = self.primary()?;
        let mut chained = 0;
        while self.eat(&Token::Dot) {
            self.deeper()?;
            chained += 1;
            let (name, offset) = self.ident()?;
            if name == "Length" && self.peek() != Some(&Token::OpenParen) {
                expr = Expr::Method {
                    target: Box::new(expr),
                    method: StringMethod::Length,
                    args: Vec::new(),
                };
                continue;
            }
            let method = StringMethod::parse(&name).ok_or_else(|| {
                ExprError::new(
                    offset,
                    format!(
                        "the method {name} is not supported; use ToString, ToUpper, ToLower, Trim, Contains, StartsWith, EndsWith, Equals, Replace or Length."
                    ),
                )
            })?;
            let args = self.arguments()?;
            if args.len() != method.arity() {
                return Err(ExprError::new(
                    offset,
                    format!(
                        "{name} takes {} argument(s), not {}.",
                        method.arity(),
                        args.len()
                    ),
                ));
            }
            expr = Expr::Method {
                target: Box::new(expr),
                method,
                args,
            };
        }
        self.depth -= chained;
        if let Some(Token::OpenBracket) = self.peek() {
            return Err(ExprError::new(
                self.offset(),
                "indexing with [...] works only on context collections.",
            ));
        }
        Ok(expr)
    }

    fn arguments(&mut self) -> Result<Vec<Expr>, ExprError> {
        self.expect(&Token::OpenParen)?;
        let mut args = Vec::new();
        if self.eat(&Token::CloseParen) {
            return Ok(args);
        }
        loop {
            args.push(self.expression()?);
            if self.eat(&Token::CloseParen) {
                return Ok(args);
            }
            self.expect(&Token::Comma)?;
        }
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let offset = self.offset();
        let Some(token) = self.peek().cloned() else {
            return Err(ExprError::new(offset, "the expression ends too early."));
        };
        self.at += 1;
        match token {
            Token::Str(value) => Ok(Expr::Str(value.into_boxed_str())),
            Token::Int(value) => Ok(Expr::Int(value)),
            Token::OpenParen => {
                let inner = self.expression()?;
                self.expect(&Token::CloseParen)?;
                Ok(inner)
            }
            Token::Ident(name) => match name.as_str() {
                "true" => Ok(Expr::Bool(true)),
                "false" => Ok(Expr::Bool(false)),
                "null" => Ok(Expr::Null),
                "context" => self.context_member(offset),
                "int" | "long" | "string" => self.static_call(&name, offset),
                _ => Err(ExprError::new(
                    offset,
                    format!(
                        "'{name}' is not supported; expressions start from context, a literal, int.Parse or string.IsNullOrEmpty."
                    ),
                )),
            },
            other => Err(ExprError::new(
                offset,
                format!("unexpected {}.", describe(&other)),
            )),
        }
    }

    fn static_call(&mut self, type_name: &str, offset: usize) -> Result<Expr, ExprError> {
        self.expect(&Token::Dot)?;
        let (method, method_offset) = self.ident()?;
        let args = self.arguments()?;
        let one = |args: Vec<Expr>| -> Result<Box<Expr>, ExprError> {
            let mut args = args.into_iter();
            match (args.next(), args.next()) {
                (Some(arg), None) => Ok(Box::new(arg)),
                _ => Err(ExprError::new(
                    method_offset,
                    format!("{method} takes one argument."),
                )),
            }
        };
        match (type_name, method.as_str()) {
            ("int" | "long", "Parse") => Ok(Expr::ParseInt(one(args)?)),
            ("string", "IsNullOrEmpty") => Ok(Expr::IsNullOrEmpty(one(args)?)),
            _ => Err(ExprError::new(
                offset,
                format!(
                    "{type_name}.{method} is not supported; use int.Parse or string.IsNullOrEmpty."
                ),
            )),
        }
    }

    /// `context.` followed by a member path: a field, or a collection read.
    fn context_member(&mut self, start: usize) -> Result<Expr, ExprError> {
        let mut path = String::new();
        // Member names up to (not including) a method call.
        while self.peek() == Some(&Token::Dot) {
            let is_call = matches!(self.peek_at(2), Some(Token::OpenParen | Token::Less));
            if !matches!(self.peek_at(1), Some(Token::Ident(_))) || is_call {
                break;
            }
            let known_prefix = |candidate: &str| {
                FIELDS.iter().any(|(p, _)| p.starts_with(candidate))
                    || COLLECTIONS.iter().any(|(p, _)| p.starts_with(candidate))
            };
            let Some(Token::Ident(segment)) = self.peek_at(1) else {
                break;
            };
            let candidate = if path.is_empty() {
                segment.clone()
            } else {
                format!("{path}.{segment}")
            };
            if !known_prefix(&candidate) {
                if FIELDS.iter().any(|(p, _)| *p == path) {
                    // `context.Request.Method.Length`: the rest is a member of the value.
                    break;
                }
                let offset = self.tokens.get(self.at + 1).map_or(start, |(_, o)| *o);
                return Err(ExprError::new(
                    offset,
                    format!(
                        "context.{candidate} is not supported in Portcullis policy expressions."
                    ),
                ));
            }
            path = candidate;
            self.at += 2;
        }
        if let Some(&(_, collection)) = COLLECTIONS.iter().find(|(p, _)| *p == path)
            && let Some(expr) = self.collection_read(collection)?
        {
            return Ok(expr);
        }
        if let Some(&(_, field)) = FIELDS.iter().find(|(p, _)| *p == path) {
            return Ok(Expr::Field(field));
        }
        let shown = if path.is_empty() {
            "context".to_owned()
        } else {
            format!("context.{path}")
        };
        Err(ExprError::new(
            start,
            format!("{shown} is not a value; name a member such as context.Request.IpAddress."),
        ))
    }

    /// `.GetValueOrDefault[<T>](name[, default])`, `.ContainsKey(name)` or `[name]`; `None`
    /// when none follows (the path may also be a plain field, as `Request.Url.Query` is).
    fn collection_read(&mut self, collection: Collection) -> Result<Option<Expr>, ExprError> {
        if self.eat(&Token::OpenBracket) {
            let name = self.expression()?;
            self.expect(&Token::CloseBracket)?;
            return Ok(Some(Expr::Lookup {
                collection,
                name: Box::new(name),
                default: None,
                required: true,
            }));
        }
        if self.peek() != Some(&Token::Dot) {
            return Ok(None);
        }
        let (method, offset) = match self.tokens.get(self.at + 1) {
            Some((Token::Ident(m), offset)) => (m.clone(), *offset),
            _ => return Ok(None),
        };
        match method.as_str() {
            "GetValueOrDefault" => {
                self.at += 2;
                if self.eat(&Token::Less) {
                    let (type_name, type_offset) = self.ident()?;
                    if !matches!(type_name.as_str(), "string" | "int" | "bool" | "long") {
                        return Err(ExprError::new(
                            type_offset,
                            format!(
                                "GetValueOrDefault<{type_name}> is not supported; use string, int or bool."
                            ),
                        ));
                    }
                    self.expect(&Token::Greater)?;
                }
                let mut args = self.arguments()?.into_iter();
                let (name, default) = match (args.next(), args.next(), args.next()) {
                    (Some(name), default, None) => (name, default),
                    _ => {
                        return Err(ExprError::new(
                            offset,
                            "GetValueOrDefault takes a name and an optional default.",
                        ));
                    }
                };
                Ok(Some(Expr::Lookup {
                    collection,
                    name: Box::new(name),
                    default: default.map(Box::new),
                    required: false,
                }))
            }
            "ContainsKey" => {
                self.at += 2;
                let mut args = self.arguments()?.into_iter();
                match (args.next(), args.next()) {
                    (Some(name), None) => Ok(Some(Expr::ContainsKey {
                        collection,
                        name: Box::new(name),
                    })),
                    _ => Err(ExprError::new(offset, "ContainsKey takes one name.")),
                }
            }
            _ if collection == Collection::QueryParameters => Ok(None),
            other => Err(ExprError::new(
                offset,
                format!(
                    "{other} is not supported here; use GetValueOrDefault, ContainsKey or [name]."
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::ast::Field;

    #[test]
    fn parses_the_documented_subset() {
        for source in [
            "context.Request.IpAddress",
            "context.Request.Headers.GetValueOrDefault(\"x-id\", \"none\")",
            "context.Request.Headers.GetValueOrDefault(\"x-id\")",
            "context.Request.MatchedParameters[\"id\"]",
            "context.Variables.GetValueOrDefault<string>(\"v\", \"d\")",
            "context.Subscription.Id + \"-\" + context.Api.Name",
            "context.Request.Method == \"GET\" && !(context.Request.Url.Path.Contains(\"admin\"))",
            "int.Parse(context.Request.Headers.GetValueOrDefault(\"n\", \"0\")) > 3",
            "context.Request.Url.Host.ToLower().StartsWith(\"api\")",
            "context.Response.StatusCode == 500 || context.Response.StatusCode >= 502",
            "(string)context.Variables[\"x\"]",
            "string.IsNullOrEmpty(context.Request.Url.Query.GetValueOrDefault(\"q\", \"\"))",
            "context.Request.Method.Length == 3 ? \"yes\" : \"no\"",
            "context.Request.Url.Query",
        ] {
            parse(source).unwrap_or_else(|e| panic!("{source}: {e:?}"));
        }
        assert_eq!(
            parse("context.Request.IpAddress"),
            Ok(Expr::Field(Field::RequestIpAddress))
        );
    }

    #[test]
    fn refuses_what_is_outside_the_subset_with_its_position() {
        let cases = [
            ("context.Request.Body.As<string>()", 16),
            ("context.Tenant.Name", 8),
            ("DateTime.UtcNow", 0),
            ("context.Request.IpAddress.Split(\",\")", 26),
            ("'c'", 0),
            ("\"a\" * 2", 4),
            ("context.Request.Method ==", 25),
            ("(1", 2),
            ("\"open", 0),
        ];
        for (source, offset) in cases {
            let error = parse(source).expect_err(source);
            assert_eq!(error.offset, offset, "{source}: {}", error.message);
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let source = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&source).is_err());
        let source = "!".repeat(10_000) + "true";
        assert!(parse(&source).is_err());
        let source = vec!["1"; 10_000].join(" + ");
        assert!(parse(&source).is_err());
        let source = "\"a\"".to_owned() + &".ToLower()".repeat(10_000);
        assert!(parse(&source).is_err());
    }
}
