//! Reads the pieces of a template into its [`Node`] tree: the tags `if`/`elsif`/`else`,
//! `unless`, `case`/`when`, `for` (with `limit:`, `offset:`, `reversed` and `else`), `break`,
//! `continue`, `assign`, `capture`, `increment`, `decrement`, `cycle`, and outputs with
//! their filters. Blocks nest at most [`MAX_NESTING`] deep.

use super::filters::Filter;
use super::lexer::{Piece, Token, pieces, tokens};
use super::syntax::{Comparison, Condition, Expr, FilterCall, Filtered, ForLoop, Node, Step};
use crate::error::ScriptError;
use serde_json::Value;

/// Blocks (`if`, `for`, `capture`, …) nest at most this deep; the parser recurses once per
/// level.
pub const MAX_NESTING: usize = 64;

/// Reads a whole template.
pub fn parse(source: &str, base: usize) -> Result<Vec<Node>, ScriptError> {
    let pieces = pieces(source, base)?;
    let mut reader = Reader {
        pieces: pieces.into_iter(),
    };
    let (nodes, end) = reader.nodes(0, &[])?;
    match end {
        None => Ok(nodes),
        Some(tag) => Err(ScriptError::syntax(
            tag.offset,
            format!("`{}` does not close any open block here.", tag.name),
        )),
    }
}

/// A tag that ended a run of nodes: its name, the rest of its text and where it is.
struct EndTag {
    name: String,
    rest: String,
    offset: usize,
}

struct Reader {
    pieces: std::vec::IntoIter<Piece>,
}

impl Reader {
    /// Nodes up to one of the tags in `ends` (returned) or the end of the template (`None`).
    fn nodes(
        &mut self,
        depth: usize,
        ends: &[&str],
    ) -> Result<(Vec<Node>, Option<EndTag>), ScriptError> {
        let mut nodes = Vec::new();
        while let Some(piece) = self.pieces.next() {
            match piece {
                Piece::Text(text) => nodes.push(Node::Text(text)),
                Piece::Output(source, offset) => {
                    let mut expr = ExprReader::new(&source, offset)?;
                    nodes.push(Node::Output(expr.filtered()?));
                    expr.finish()?;
                }
                Piece::Tag(source, offset) => {
                    let trimmed = source.trim_start();
                    let start = offset + (source.len() - trimmed.len());
                    let name = trimmed.split_whitespace().next().unwrap_or("").to_owned();
                    let rest = trimmed.get(name.len()..).unwrap_or_default().to_owned();
                    let rest_offset = start + name.len();
                    if ends.contains(&name.as_str()) {
                        return Ok((
                            nodes,
                            Some(EndTag {
                                name,
                                rest,
                                offset: start,
                            }),
                        ));
                    }
                    nodes.push(self.tag(&name, &rest, rest_offset, start, depth)?);
                }
            }
        }
        Ok((nodes, None))
    }

    /// Nodes of a block up to one of `ends`, which must come.
    fn block(
        &mut self,
        depth: usize,
        ends: &[&str],
        opened: &str,
        at: usize,
    ) -> Result<(Vec<Node>, EndTag), ScriptError> {
        if depth >= MAX_NESTING {
            return Err(ScriptError::syntax(
                at,
                format!(
                    "blocks nest more than {MAX_NESTING} deep; a template may nest at most {MAX_NESTING}."
                ),
            ));
        }
        let (nodes, end) = self.nodes(depth + 1, ends)?;
        let end = end.ok_or_else(|| {
            ScriptError::syntax(at, format!("`{{% {opened} %}}` is never closed."))
        })?;
        Ok((nodes, end))
    }

    fn tag(
        &mut self,
        name: &str,
        rest: &str,
        rest_offset: usize,
        at: usize,
        depth: usize,
    ) -> Result<Node, ScriptError> {
        let mut expr = ExprReader::new(rest, rest_offset)?;
        let node = match name {
            "if" | "unless" => {
                let mut branches = vec![(expr.condition()?, Vec::new())];
                expr.finish()?;
                let end_name = format!("end{name}");
                let mut otherwise = Vec::new();
                loop {
                    let (nodes, end) =
                        self.block(depth, &["elsif", "else", end_name.as_str()], name, at)?;
                    if let Some(last) = branches.last_mut() {
                        last.1 = nodes;
                    }
                    match end.name.as_str() {
                        "elsif" => {
                            let mut more = ExprReader::new(&end.rest, end.offset + 5)?;
                            branches.push((more.condition()?, Vec::new()));
                            more.finish()?;
                        }
                        "else" => {
                            let (nodes, _) = self.block(depth, &[end_name.as_str()], name, at)?;
                            otherwise = nodes;
                            break;
                        }
                        _ => break,
                    }
                }
                Node::If {
                    branches,
                    negate_first: name == "unless",
                    otherwise,
                }
            }
            "case" => {
                let subject = expr.expr()?;
                expr.finish()?;
                let (_, mut end) = self.block(depth, &["when", "else", "endcase"], name, at)?;
                let mut whens = Vec::new();
                let mut otherwise = Vec::new();
                loop {
                    match end.name.as_str() {
                        "when" => {
                            let mut values = ExprReader::new(&end.rest, end.offset + 4)?;
                            let mut list = vec![values.expr()?];
                            while values.eat_punct(",") || values.eat_word("or") {
                                list.push(values.expr()?);
                            }
                            values.finish()?;
                            let (nodes, next) =
                                self.block(depth, &["when", "else", "endcase"], name, at)?;
                            whens.push((list, nodes));
                            end = next;
                        }
                        "else" => {
                            let (nodes, _) = self.block(depth, &["endcase"], name, at)?;
                            otherwise = nodes;
                            break;
                        }
                        _ => break,
                    }
                }
                Node::Case {
                    subject,
                    whens,
                    otherwise,
                }
            }
            "for" => {
                let variable = expr.word()?;
                if !expr.eat_word("in") {
                    return Err(expr.fault("`for` reads `for name in collection`."));
                }
                let source = expr.expr()?;
                let (mut limit, mut offset, mut reversed) = (None, None, false);
                while !expr.at_end() {
                    let option = expr.word()?;
                    match option.as_str() {
                        "reversed" => reversed = true,
                        "limit" | "offset" => {
                            expr.expect_punct(":")?;
                            let value = Some(expr.expr()?);
                            if option == "limit" {
                                limit = value;
                            } else {
                                offset = value;
                            }
                        }
                        other => {
                            return Err(ScriptError::syntax(
                                rest_offset,
                                format!("`for` takes limit:, offset: and reversed, not {other}."),
                            ));
                        }
                    }
                }
                let (body, end) = self.block(depth, &["else", "endfor"], name, at)?;
                let otherwise = if end.name == "else" {
                    self.block(depth, &["endfor"], name, at)?.0
                } else {
                    Vec::new()
                };
                Node::For(Box::new(ForLoop {
                    variable,
                    source,
                    limit,
                    offset,
                    reversed,
                    body,
                    otherwise,
                    at,
                }))
            }
            "break" | "continue" => {
                expr.finish()?;
                if name == "break" {
                    Node::Break
                } else {
                    Node::Continue
                }
            }
            "assign" => {
                let variable = expr.word()?;
                expr.expect_punct("=")?;
                let value = expr.filtered()?;
                expr.finish()?;
                Node::Assign(variable, value)
            }
            "capture" => {
                let variable = expr.word()?;
                expr.finish()?;
                let (body, _) = self.block(depth, &["endcapture"], name, at)?;
                Node::Capture(variable, body)
            }
            "increment" | "decrement" => {
                let variable = expr.word()?;
                expr.finish()?;
                Node::Counter(variable, if name == "increment" { 1 } else { -1 })
            }
            "cycle" => {
                let mut values = vec![expr.expr()?];
                let mut group = None;
                if expr.eat_punct(":") {
                    group = values.pop();
                    values.push(expr.expr()?);
                }
                while expr.eat_punct(",") {
                    values.push(expr.expr()?);
                }
                expr.finish()?;
                let group = match group {
                    Some(Expr::Literal(Value::String(name))) => name,
                    Some(_) => return Err(expr.fault("a cycle's group name is a string.")),
                    None => format!("{values:?}"),
                };
                Node::Cycle(group, values)
            }
            "" => return Err(ScriptError::syntax(at, "a tag needs a name.")),
            "include" | "render" | "layout" | "block" | "tablerow" => {
                return Err(ScriptError::syntax(
                    at,
                    format!("`{name}` is not available in set-body templates."),
                ));
            }
            other => {
                return Err(ScriptError::syntax(
                    at,
                    format!(
                        "`{other}` is not a Liquid tag here (or it closes a block that is not open)."
                    ),
                ));
            }
        };
        Ok(node)
    }
}

/// Reads expressions, filters and conditions from the tokens of one output or tag.
struct ExprReader {
    tokens: Vec<(Token, usize)>,
    at: usize,
    end_offset: usize,
}

impl ExprReader {
    fn new(source: &str, base: usize) -> Result<Self, ScriptError> {
        Ok(Self {
            tokens: tokens(source, base)?,
            at: 0,
            end_offset: base + source.len(),
        })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn offset(&self) -> usize {
        self.tokens
            .get(self.at)
            .map_or(self.end_offset, |(_, offset)| *offset)
    }

    fn fault(&self, message: impl Into<String>) -> ScriptError {
        ScriptError::syntax(self.offset(), message)
    }

    fn at_end(&self) -> bool {
        self.at >= self.tokens.len()
    }

    fn finish(&self) -> Result<(), ScriptError> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.fault("unexpected text here."))
        }
    }

    fn eat_punct(&mut self, punct: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Punct(p)) if *p == punct);
        self.at += usize::from(found);
        found
    }

    fn expect_punct(&mut self, punct: &str) -> Result<(), ScriptError> {
        if self.eat_punct(punct) {
            Ok(())
        } else {
            Err(self.fault(format!("`{punct}` is expected here.")))
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Word(w)) if w == word);
        self.at += usize::from(found);
        found
    }

    fn word(&mut self) -> Result<String, ScriptError> {
        match self.peek() {
            Some(Token::Word(word)) => {
                let word = word.clone();
                self.at += 1;
                Ok(word)
            }
            _ => Err(self.fault("a name is expected here.")),
        }
    }

    /// An expression and its filters: `value | Filter: arg, arg | Other`.
    fn filtered(&mut self) -> Result<Filtered, ScriptError> {
        let expr = self.expr()?;
        let mut filters = Vec::new();
        while self.eat_punct("|") {
            let offset = self.offset();
            let name = self.word()?;
            let filter = Filter::named(&name).map_err(|m| ScriptError::syntax(offset, m))?;
            let mut args = Vec::new();
            if self.eat_punct(":") {
                args.push(self.expr()?);
                while self.eat_punct(",") {
                    args.push(self.expr()?);
                }
            }
            filter
                .check_arity(args.len())
                .map_err(|m| ScriptError::syntax(offset, m))?;
            filters.push(FilterCall {
                filter,
                args,
                offset,
            });
        }
        Ok(Filtered { expr, filters })
    }

    /// A condition: comparisons joined by `and` / `or`, grouped from the right.
    fn condition(&mut self) -> Result<Condition, ScriptError> {
        let left = self.comparison()?;
        if self.eat_word("and") {
            return Ok(Condition::And(Box::new(left), Box::new(self.condition()?)));
        }
        if self.eat_word("or") {
            return Ok(Condition::Or(Box::new(left), Box::new(self.condition()?)));
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Condition, ScriptError> {
        let left = self.expr()?;
        let op = match self.peek() {
            Some(Token::Punct("==")) => Comparison::Equal,
            Some(Token::Punct("!=" | "<>")) => Comparison::NotEqual,
            Some(Token::Punct("<")) => Comparison::Less,
            Some(Token::Punct(">")) => Comparison::Greater,
            Some(Token::Punct("<=")) => Comparison::LessOrEqual,
            Some(Token::Punct(">=")) => Comparison::GreaterOrEqual,
            Some(Token::Word(w)) if w == "contains" => Comparison::Contains,
            _ => return Ok(Condition::Truthy(left)),
        };
        self.at += 1;
        Ok(Condition::Compare(left, op, self.expr()?))
    }

    /// A literal, a range or a variable path.
    fn expr(&mut self) -> Result<Expr, ScriptError> {
        let offset = self.offset();
        let token = self
            .tokens
            .get(self.at)
            .map(|(t, _)| t.clone())
            .ok_or_else(|| self.fault("a value is expected here."))?;
        self.at += 1;
        let expr = match token {
            Token::Str(text) => Expr::Literal(Value::String(text)),
            Token::Int(n) => Expr::Literal(Value::from(n)),
            Token::Float(x) => Expr::Literal(Value::from(x)),
            Token::Punct("(") => {
                let start = self.expr()?;
                self.expect_punct("..")?;
                let end = self.expr()?;
                self.expect_punct(")")?;
                Expr::Range(Box::new(start), Box::new(end), offset)
            }
            Token::Punct("[") => {
                // `["name"]` at the start of a path.
                self.at -= 1;
                self.path(String::new(), offset)?
            }
            Token::Word(word) => match word.as_str() {
                "true" => Expr::Literal(Value::Bool(true)),
                "false" => Expr::Literal(Value::Bool(false)),
                "nil" | "null" => Expr::Literal(Value::Null),
                "empty" => Expr::Empty,
                "blank" => Expr::Blank,
                _ => self.path(word, offset)?,
            },
            Token::Punct(p) => {
                return Err(ScriptError::syntax(
                    offset,
                    format!("`{p}` cannot start a value."),
                ));
            }
        };
        Ok(expr)
    }

    fn path(&mut self, root: String, offset: usize) -> Result<Expr, ScriptError> {
        let mut steps = Vec::new();
        loop {
            if self.eat_punct(".") {
                steps.push(Step::Key(self.word()?));
            } else if self.eat_punct("[") {
                match self.expr()? {
                    Expr::Literal(Value::String(key)) => steps.push(Step::Key(key)),
                    index => steps.push(Step::Index(index)),
                }
                self.expect_punct("]")?;
            } else {
                break;
            }
        }
        if root.is_empty() {
            // `["a b"].c`: the first key is the root.
            return match steps.first() {
                Some(Step::Key(key)) => {
                    let key = key.clone();
                    steps.remove(0);
                    Ok(Expr::Path(key, steps, offset))
                }
                _ => Err(ScriptError::syntax(offset, "a path starts with a name.")),
            };
        }
        Ok(Expr::Path(root, steps, offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_blocks() {
        let nodes = parse(
            "{% for x in body.items limit: 2 reversed %}{% if x.a > 1 and x.b %}{{ x.c | Upcase }}{% else %}-{% endif %}{% endfor %}",
            0,
        )
        .unwrap();
        let [Node::For(looped)] = nodes.as_slice() else {
            panic!("{nodes:?}")
        };
        assert!(looped.reversed);
        assert!(looped.limit.is_some());
        assert!(matches!(looped.body.as_slice(), [Node::If { .. }]));
    }

    #[test]
    fn faults_point_at_the_tag() {
        let fault = parse("ab{% if x %}", 0).unwrap_err();
        assert_eq!(fault.offset, 5);
        assert!(fault.message.contains("never closed"), "{}", fault.message);
        let fault = parse("{% endif %}", 0).unwrap_err();
        assert!(fault.message.contains("not open"), "{}", fault.message);
        let fault = parse("{{ x | upcase }}", 0).unwrap_err();
        assert!(fault.message.contains("Upcase"), "{}", fault.message);
        assert!(parse("{% tablerow x in y %}{% endtablerow %}", 0).is_err());
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |n: usize| "{% if x %}".repeat(n) + &"{% endif %}".repeat(n);
        assert!(parse(&deep(MAX_NESTING), 0).is_ok());
        let fault = parse(&deep(MAX_NESTING + 1), 0).unwrap_err();
        assert!(fault.message.contains("at most 64"), "{}", fault.message);
    }
}
