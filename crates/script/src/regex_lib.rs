//! `System.Text.RegularExpressions`: `Regex.IsMatch`, `Match`, `Matches`, `Replace`,
//! `Split` and `Escape`, statically or on a `new Regex(pattern, options)`, and the `Match`,
//! `GroupCollection` and `Group` they give — on the `regex` crate.
//!
//! **Bounds.** A pattern is at most [`MAX_PATTERN`](crate::regex_lib::MAX_PATTERN)
//! characters and compiles within [`SIZE_LIMIT`](crate::regex_lib::SIZE_LIMIT) bytes; the
//! `regex` crate matches in time linear in the input (it has no backtracking), so no
//! pattern can hang a request. Compiling costs steps and bytes of the budget (an evaluation
//! keeps what it compiled, so a pattern in a loop compiles once), every match found costs a
//! step, and every string a result holds costs its bytes.
//!
//! **Differences from .NET.** The `regex` crate has no look-around and no backreferences:
//! such a pattern fails with the crate's reason. Groups are numbered as .NET numbers them
//! (unnamed groups first, then named ones), and replacements read .NET's syntax (`$1`,
//! `${name}`, `$$`, `$&`, `` $` ``, `$'`, `$+`, `$_`). `$` without `RegexOptions.Multiline`
//! matches only at the very end (.NET also matches before a final newline).

use crate::error::RunError;
use crate::interp::Interpreter;
use crate::library::{arg, int, list_value, string_value};
use crate::members::{fail, text_arg};
use crate::native::{Native, Outcome};
use crate::value::Value;
use std::sync::Arc;

/// The longest pattern accepted, in characters.
pub const MAX_PATTERN: usize = 4096;
/// What a compiled pattern (and each of its lazy DFAs) may take.
pub const SIZE_LIMIT: usize = 1 << 20;

/// The steps compiling a pattern costs besides one per byte of it: compiling takes up to a
/// few milliseconds (a pattern that reaches [`SIZE_LIMIT`]), so an evaluation compiles at
/// most a hundred distinct patterns with the default budget.
const COMPILE_STEPS: usize = 2_000;
/// How many compiled patterns an evaluation keeps for reuse.
const CACHED_PATTERNS: usize = 16;

/// The patterns an evaluation compiled, with their options.
pub type PatternCache = Vec<(i64, Arc<Pattern>)>;

/// `RegexOptions` flags, as .NET numbers them.
const IGNORE_CASE: i64 = 1;
const MULTILINE: i64 = 2;
const EXPLICIT_CAPTURE: i64 = 4;
const SINGLELINE: i64 = 16;
const IGNORE_PATTERN_WHITESPACE: i64 = 32;
const RIGHT_TO_LEFT: i64 = 64;
const ECMA_SCRIPT: i64 = 256;

/// A compiled pattern with .NET's numbering of its groups.
#[derive(Debug)]
pub struct Pattern {
    text: Arc<str>,
    regex: regex::Regex,
    /// `order[n]` is the `regex` crate's index of .NET's group `n`.
    order: Vec<usize>,
    /// .NET's name of each group: its name, or its number as text.
    names: Vec<Arc<str>>,
}

impl Pattern {
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The .NET number of the group `name` (a name, or a number written as text).
    fn group_number(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| &**n == name)
    }
}

/// One attempt to match: the input and the byte range of each group, in .NET's numbering
/// (all `None` when the match failed).
#[derive(Debug)]
pub struct MatchData {
    pattern: Arc<Pattern>,
    input: Arc<str>,
    groups: Vec<Option<(usize, usize)>>,
}

impl MatchData {
    fn range(&self, group: usize) -> Option<(usize, usize)> {
        self.groups.get(group).copied().flatten()
    }

    fn text(&self, group: usize) -> &str {
        self.range(group)
            .and_then(|(start, end)| self.input.get(start..end))
            .unwrap_or_default()
    }

    /// Writes what `Match.ToString()` and `Group.ToString()` give: the captured text.
    pub fn write_text(&self, group: usize, out: &mut String) {
        out.push_str(self.text(group));
    }
}

/// The options of a call: the argument at `i` when it is a `RegexOptions` (a number).
fn options_at(args: &[Value], i: usize) -> i64 {
    match args.get(i) {
        Some(Value::Int(n)) => i64::from(*n),
        Some(Value::Long(n)) => *n,
        _ => 0,
    }
}

/// The first line of the `regex` crate's reason that names the fault.
fn reason(error: &regex::Error) -> String {
    match error {
        regex::Error::CompiledTooBig(limit) => {
            format!("the pattern compiles to more than {limit} bytes.")
        }
        other => {
            let text = other.to_string();
            text.lines()
                .find_map(|line| line.trim().strip_prefix("error: "))
                .unwrap_or(text.trim())
                .to_owned()
        }
    }
}

/// Compiles `pattern` with .NET `options`, refusing what the `regex` crate cannot honour —
/// or finds it compiled earlier in this evaluation.
pub fn compile(
    interpreter: &mut Interpreter<'_>,
    pattern: &str,
    options: i64,
    at: usize,
) -> Result<Arc<Pattern>, RunError> {
    let cached = interpreter
        .patterns
        .iter()
        .find(|(o, p)| *o == options && &*p.text == pattern)
        .map(|(_, p)| p.clone());
    if let Some(compiled) = cached {
        interpreter.budget.step()?;
        return Ok(compiled);
    }
    let compiled = compile_new(interpreter, pattern, options, at)?;
    if interpreter.patterns.len() < CACHED_PATTERNS {
        interpreter.patterns.push((options, compiled.clone()));
    }
    Ok(compiled)
}

fn compile_new(
    interpreter: &mut Interpreter<'_>,
    pattern: &str,
    options: i64,
    at: usize,
) -> Result<Arc<Pattern>, RunError> {
    if pattern.chars().count() > MAX_PATTERN {
        return Err(fail(
            at,
            format!("a regular expression is at most {MAX_PATTERN} characters long."),
        ));
    }
    for (flag, name) in [
        (EXPLICIT_CAPTURE, "ExplicitCapture"),
        (RIGHT_TO_LEFT, "RightToLeft"),
        (ECMA_SCRIPT, "ECMAScript"),
    ] {
        if options & flag != 0 {
            return Err(fail(
                at,
                format!("RegexOptions.{name} is not supported in policy expressions."),
            ));
        }
    }
    interpreter.budget.steps(COMPILE_STEPS + pattern.len())?;
    interpreter.budget.alloc(pattern.len() * 16 + 1024)?;
    let regex = regex::RegexBuilder::new(pattern)
        .case_insensitive(options & IGNORE_CASE != 0)
        .multi_line(options & MULTILINE != 0)
        .dot_matches_new_line(options & SINGLELINE != 0)
        .ignore_whitespace(options & IGNORE_PATTERN_WHITESPACE != 0)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .nest_limit(64)
        .build()
        .map_err(|e| fail(at, format!("Invalid pattern '{pattern}': {}", reason(&e))))?;
    let crate_names: Vec<Option<&str>> = regex.capture_names().collect();
    let unnamed = (1..crate_names.len()).filter(|&i| matches!(crate_names.get(i), Some(None)));
    let named = (1..crate_names.len()).filter(|&i| matches!(crate_names.get(i), Some(Some(_))));
    let order: Vec<usize> = std::iter::once(0).chain(unnamed).chain(named).collect();
    let names = order
        .iter()
        .enumerate()
        .map(|(number, &index)| match crate_names.get(index) {
            Some(Some(name)) => Arc::from(*name),
            _ => Arc::from(number.to_string()),
        })
        .collect();
    Ok(Arc::new(Pattern {
        text: pattern.into(),
        regex,
        order,
        names,
    }))
}

/// The match found at or after byte `start` of `input`; `None` when there is none.
fn find_at(pattern: &Arc<Pattern>, input: &Arc<str>, start: usize) -> Option<MatchData> {
    let captures = pattern.regex.captures_at(input, start)?;
    Some(MatchData {
        pattern: pattern.clone(),
        input: input.clone(),
        groups: pattern
            .order
            .iter()
            .map(|&i| captures.get(i).map(|m| (m.start(), m.end())))
            .collect(),
    })
}

/// The failed match of `pattern` in `input`.
fn no_match(pattern: &Arc<Pattern>, input: &Arc<str>) -> MatchData {
    MatchData {
        pattern: pattern.clone(),
        input: input.clone(),
        groups: vec![None; pattern.order.len()],
    }
}

/// Where the search for the match after `found` starts, as .NET's `NextMatch` starts it: at
/// its end, or one character further after an empty match (`None` past the input's end).
fn resume_after(found: &MatchData) -> Option<usize> {
    let (start, end) = found.range(0)?;
    if start != end {
        return Some(end);
    }
    let next = found.input.get(end..)?.chars().next()?;
    Some(end + next.len_utf8())
}

/// Every match in `input`, found as .NET's `Matches` finds them (an empty match may follow
/// a non-empty one: `a*` matches `aaa` and then the empty text at its end). Each match
/// costs a step; the search moves forward every turn, so it ends.
fn all_matches(
    interpreter: &mut Interpreter<'_>,
    pattern: &Arc<Pattern>,
    input: &Arc<str>,
) -> Result<Vec<MatchData>, RunError> {
    let mut found = Vec::new();
    let mut start = Some(0);
    while let Some(at) = start {
        let Some(next) = find_at(pattern, input, at) else {
            break;
        };
        interpreter.budget.step()?;
        interpreter.budget.alloc(pattern.order.len() * 16 + 32)?;
        start = resume_after(&next);
        found.push(next);
    }
    Ok(found)
}

fn native(value: Native) -> Value {
    Value::Native(Arc::new(value))
}

/// A piece of a .NET replacement pattern.
#[derive(Debug)]
enum Piece {
    Text(String),
    /// `$n`, `${name}`, `$&` (group 0).
    Group(usize),
    /// `` $` ``: the input before the match.
    Before,
    /// `$'`: the input after the match.
    After,
    /// `$+`: the group with the highest number.
    LastGroup,
    /// `$_`: the whole input.
    Input,
}

/// Reads a replacement as .NET does: a `$` that starts nothing valid is a literal `$`.
fn parse_replacement(pattern: &Pattern, replacement: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = replacement;
    // Every turn consumes at least one character of `rest`.
    while let Some(dollar) = rest.find('$') {
        literal.push_str(rest.get(..dollar).unwrap_or_default());
        let after = rest.get(dollar + 1..).unwrap_or_default();
        let (piece, used) = dollar_piece(pattern, after);
        match piece {
            Some(Piece::Text(text)) => literal.push_str(&text),
            Some(piece) => {
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(piece);
            }
            None => literal.push('$'),
        }
        rest = after.get(used..).unwrap_or_default();
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    pieces
}

/// What follows a `$` (`after`): the piece it makes and how many bytes it used.
fn dollar_piece(pattern: &Pattern, after: &str) -> (Option<Piece>, usize) {
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        let number = after
            .get(..digits)
            .and_then(|d| d.parse::<usize>().ok())
            .filter(|n| *n < pattern.order.len());
        return match number {
            Some(n) => (Some(Piece::Group(n)), digits),
            None => (None, 0),
        };
    }
    match after.chars().next() {
        Some('$') => (Some(Piece::Text("$".to_owned())), 1),
        Some('&') => (Some(Piece::Group(0)), 1),
        Some('`') => (Some(Piece::Before), 1),
        Some('\'') => (Some(Piece::After), 1),
        Some('+') => (Some(Piece::LastGroup), 1),
        Some('_') => (Some(Piece::Input), 1),
        Some('{') => {
            let Some(close) = after.find('}') else {
                return (None, 0);
            };
            let name = after.get(1..close).unwrap_or_default();
            match pattern.group_number(name) {
                Some(n) => (Some(Piece::Group(n)), close + 1),
                None => (None, 0),
            }
        }
        _ => (None, 0),
    }
}

/// Writes the replacement for one match.
fn expand(pieces: &[Piece], found: &MatchData, out: &mut String) {
    let (start, end) = found.range(0).unwrap_or_default();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Group(n) => out.push_str(found.text(*n)),
            Piece::Before => out.push_str(found.input.get(..start).unwrap_or_default()),
            Piece::After => out.push_str(found.input.get(end..).unwrap_or_default()),
            Piece::LastGroup => {
                out.push_str(found.text(found.groups.len().saturating_sub(1)));
            }
            Piece::Input => out.push_str(&found.input),
        }
    }
}

/// `Replace`: every match replaced by the expanded replacement, or by what a
/// `MatchEvaluator` lambda gives for it.
fn replace(
    interpreter: &mut Interpreter<'_>,
    pattern: &Arc<Pattern>,
    input: &Arc<str>,
    replacement: &Value,
    at: usize,
) -> Result<Value, RunError> {
    let pieces = match replacement {
        Value::Lambda(_) => None,
        Value::Null => Some(Vec::new()),
        other => Some(parse_replacement(pattern, &text_arg(other, at)?)),
    };
    let mut out = String::new();
    let mut last = 0;
    for found in all_matches(interpreter, pattern, input)? {
        let (start, end) = found.range(0).unwrap_or_default();
        out.push_str(input.get(last..start).unwrap_or_default());
        let before = out.len();
        match (&pieces, replacement) {
            (Some(pieces), _) => expand(pieces, &found, &mut out),
            (None, Value::Lambda(evaluator)) => {
                let value = native(Native::Match(Arc::new(found)));
                let written = interpreter.invoke(evaluator, vec![value], at)?;
                out.push_str(&interpreter.text_of(&written));
            }
            (None, _) => {}
        }
        interpreter
            .budget
            .alloc(out.len() - before + start.saturating_sub(last))?;
        last = end;
    }
    out.push_str(input.get(last..).unwrap_or_default());
    string_value(interpreter, out)
}

/// `Split`: the text between matches, with the text of every group that took part in a
/// match in between (as .NET includes captures).
fn split(
    interpreter: &mut Interpreter<'_>,
    pattern: &Arc<Pattern>,
    input: &Arc<str>,
) -> Result<Value, RunError> {
    let mut parts = Vec::new();
    let mut last = 0;
    for found in all_matches(interpreter, pattern, input)? {
        let (start, end) = found.range(0).unwrap_or_default();
        parts.push(Value::str(input.get(last..start).unwrap_or_default()));
        for group in 1..found.groups.len() {
            if found.range(group).is_some() {
                parts.push(Value::str(found.text(group)));
            }
        }
        last = end;
    }
    parts.push(Value::str(input.get(last..).unwrap_or_default()));
    interpreter.budget.alloc(input.len())?;
    list_value(interpreter, parts)
}

/// `Regex.Escape`: the metacharacters (and white space) escaped as .NET escapes them.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        match c {
            '\\' | '*' | '+' | '?' | '|' | '{' | '[' | '(' | ')' | '^' | '$' | '.' | '#' => {
                out.push('\\');
                out.push(c);
            }
            ' ' => out.push_str("\\ "),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            other => out.push(other),
        }
    }
    out
}

/// The operations a `Regex` has, statically (`Regex.IsMatch(input, pattern)`) and on an
/// instance (`regex.IsMatch(input)`): `args` are the arguments after the pattern.
fn operate(
    interpreter: &mut Interpreter<'_>,
    pattern: &Arc<Pattern>,
    name: &str,
    input: &Value,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    // The text of a `context` object (`context.Request.Url`) is what it prints.
    let input: Arc<str> = match input {
        Value::Host(_) => interpreter.text_of(input).into(),
        other => text_arg(other, at)?,
    };
    Ok(Some(match name {
        "IsMatch" => {
            interpreter.budget.step()?;
            Value::Bool(pattern.regex.is_match(&input))
        }
        "Match" => {
            interpreter.budget.step()?;
            let start = match args.first() {
                Some(start @ (Value::Int(_) | Value::Long(_))) => char_to_byte(&input, start, at)?,
                _ => 0,
            };
            interpreter.budget.alloc(pattern.order.len() * 16 + 32)?;
            let found =
                find_at(pattern, &input, start).unwrap_or_else(|| no_match(pattern, &input));
            native(Native::Match(Arc::new(found)))
        }
        "Matches" => {
            let found = all_matches(interpreter, pattern, &input)?
                .into_iter()
                .map(|m| native(Native::Match(Arc::new(m))))
                .collect();
            list_value(interpreter, found)?
        }
        "Replace" => replace(interpreter, pattern, &input, arg(args, 0, name, at)?, at)?,
        "Split" => split(interpreter, pattern, &input)?,
        _ => return Ok(None),
    }))
}

/// A character index (as scripts count) as a byte index of `text`.
fn char_to_byte(text: &str, index: &Value, at: usize) -> Result<usize, RunError> {
    let chars = usize::try_from(int(index, at)?)
        .map_err(|_| fail(at, "startat must be within the string."))?;
    text.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .nth(chars)
        .ok_or_else(|| fail(at, "startat must be within the string."))
}

fn char_count(text: &str, byte: usize) -> i32 {
    text.get(..byte).map_or(0, |prefix| {
        i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX)
    })
}

/// `Regex.IsMatch(input, pattern[, options])` and its siblings, `Regex.Escape`; `None` for
/// other types.
pub fn static_call(
    interpreter: &mut Interpreter<'_>,
    ty: &str,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Outcome>, RunError> {
    if ty != "Regex" {
        return Ok(None);
    }
    let a = |i: usize| arg(args, i, name, at);
    if name == "Escape" || name == "Unescape" {
        let text = text_arg(a(0)?, at)?;
        let done = if name == "Escape" {
            escape(&text)
        } else {
            unescape(&text)
        };
        return Ok(Some((string_value(interpreter, done)?, Vec::new())));
    }
    // The options follow the pattern, or the replacement for `Replace`.
    let options_index = if name == "Replace" { 3 } else { 2 };
    let source = text_arg(a(1)?, at)?;
    let pattern = compile(interpreter, &source, options_at(args, options_index), at)?;
    // Only `Replace` takes an argument after the pattern that is not an option.
    let rest = match name {
        "Replace" => args.get(2..3).unwrap_or_default(),
        _ => &[],
    };
    match operate(interpreter, &pattern, name, a(0)?, rest, at)? {
        Some(value) => Ok(Some((value, Vec::new()))),
        None => Err(fail(
            at,
            format!("Regex.{name} is not allowed in policy expressions."),
        )),
    }
}

/// `Regex.Unescape`: the escapes `Escape` writes, undone.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// `RegexOptions.IgnoreCase` and the other flags.
pub fn static_property(ty: &str, name: &str) -> Option<Value> {
    if ty != "RegexOptions" {
        return None;
    }
    let flag = match name {
        "None" | "Compiled" | "CultureInvariant" | "NonBacktracking" => 0,
        "IgnoreCase" => IGNORE_CASE,
        "Multiline" => MULTILINE,
        "ExplicitCapture" => EXPLICIT_CAPTURE,
        "Singleline" => SINGLELINE,
        "IgnorePatternWhitespace" => IGNORE_PATTERN_WHITESPACE,
        "RightToLeft" => RIGHT_TO_LEFT,
        "ECMAScript" => ECMA_SCRIPT,
        _ => return None,
    };
    // `Compiled` and `CultureInvariant` change nothing here; they are zero so that `|`
    // with them leaves the other flags.
    Some(Value::Int(i32::try_from(flag).unwrap_or(0)))
}

/// `new Regex(pattern[, options[, matchTimeout]])`.
pub fn construct(
    interpreter: &mut Interpreter<'_>,
    args: &[Value],
    at: usize,
) -> Result<Value, RunError> {
    let source = text_arg(arg(args, 0, "new Regex", at)?, at)?;
    let pattern = compile(interpreter, &source, options_at(args, 1), at)?;
    Ok(native(Native::Regex(pattern)))
}

/// A method of a `Regex` instance.
pub fn regex_method(
    interpreter: &mut Interpreter<'_>,
    pattern: &Arc<Pattern>,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    if name == "GetGroupNames" {
        let names = pattern.names.iter().cloned().map(Value::Str).collect();
        return list_value(interpreter, names).map(Some);
    }
    match args.first() {
        Some(input) => operate(
            interpreter,
            pattern,
            name,
            input,
            args.get(1..).unwrap_or_default(),
            at,
        ),
        None => Ok(None),
    }
}

/// A member of a `Match` (`group` 0) or of one of its groups.
pub fn group_property(
    interpreter: &mut Interpreter<'_>,
    found: &Arc<MatchData>,
    group: usize,
    is_match: bool,
    name: &str,
) -> Result<Option<Value>, RunError> {
    let range = found.range(group);
    let start = range.map_or(0, |(start, _)| start);
    Ok(Some(match name {
        "Success" => Value::Bool(range.is_some()),
        "Value" => string_value(interpreter, found.text(group).to_owned())?,
        "Index" => Value::Int(char_count(&found.input, start)),
        "Length" => {
            Value::Int(i32::try_from(found.text(group).chars().count()).unwrap_or(i32::MAX))
        }
        "Name" => Value::Str(
            found
                .pattern
                .names
                .get(group)
                .cloned()
                .unwrap_or_else(|| Arc::from("")),
        ),
        "Groups" if is_match => native(Native::Groups(found.clone())),
        _ => return Ok(None),
    }))
}

/// A method of a `Match`: `NextMatch()`, `Result(replacement)`.
pub fn match_method(
    interpreter: &mut Interpreter<'_>,
    found: &Arc<MatchData>,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    Ok(Some(match name {
        "NextMatch" => {
            interpreter.budget.step()?;
            interpreter.budget.alloc(found.groups.len() * 16 + 32)?;
            let following = resume_after(found)
                .and_then(|start| find_at(&found.pattern, &found.input, start))
                .unwrap_or_else(|| no_match(&found.pattern, &found.input));
            native(Native::Match(Arc::new(following)))
        }
        "Result" => {
            let replacement = text_arg(arg(args, 0, name, at)?, at)?;
            let pieces = parse_replacement(&found.pattern, &replacement);
            let mut out = String::new();
            expand(&pieces, found, &mut out);
            string_value(interpreter, out)?
        }
        _ => return Ok(None),
    }))
}

/// `match.Groups[1]`, `match.Groups["name"]`: the group, unsuccessful when there is none
/// of that number or name (as .NET answers).
pub fn group_index(found: &Arc<MatchData>, key: &Value, at: usize) -> Result<Value, RunError> {
    let number = match key {
        Value::Int(_) | Value::Long(_) => usize::try_from(int(key, at)?).unwrap_or(usize::MAX),
        other => found
            .pattern
            .group_number(&text_arg(other, at)?)
            .unwrap_or(usize::MAX),
    };
    Ok(native(Native::Group(found.clone(), number)))
}

/// The groups of a match, for `foreach` and LINQ.
pub fn group_items(found: &Arc<MatchData>) -> Vec<Value> {
    (0..found.groups.len())
        .map(|n| native(Native::Group(found.clone(), n)))
        .collect()
}

/// `Groups.Count`.
pub fn group_count(found: &MatchData) -> usize {
    found.groups.len()
}

#[cfg(test)]
mod tests {
    use crate::testing::{block, eval, eval_err};

    #[test]
    fn static_calls() {
        assert_eq!(eval("Regex.IsMatch(\"abc123\", @\"\\d+$\")"), "True");
        assert_eq!(eval("Regex.IsMatch(\"ABC\", \"^abc$\")"), "False");
        assert_eq!(
            eval("Regex.IsMatch(\"ABC\", \"^abc$\", RegexOptions.IgnoreCase)"),
            "True"
        );
        assert_eq!(
            eval("Regex.Replace(\"2024-05-01\", @\"(\\d+)-(\\d+)-(\\d+)\", \"$3/$2/$1\")"),
            "01/05/2024"
        );
        assert_eq!(
            eval(
                "Regex.Replace(\"john smith\", @\"(?<first>\\w+) (?<last>\\w+)\", \"${last}, ${first} $$ $9\")"
            ),
            "smith, john $ $9"
        );
        assert_eq!(
            eval("Regex.Replace(\"a1b22\", @\"\\d\", \"<$&>\")"),
            "a<1>b<2><2>"
        );
        assert_eq!(
            eval("Regex.Replace(\"abc\", \"b\", m => m.Value.ToUpper() + m.Index)"),
            "aB1c"
        );
        assert_eq!(
            eval("string.Join(\"|\", Regex.Split(\"a1b2c\", @\"\\d\"))"),
            "a|b|c"
        );
        assert_eq!(
            eval("string.Join(\"|\", Regex.Split(\"a-b_c\", \"([-_])\"))"),
            "a|-|b|_|c"
        );
        assert_eq!(eval("Regex.Matches(\"a1b22c333\", @\"\\d+\").Count"), "3");
        // Empty matches as .NET finds them: one may follow a non-empty match.
        assert_eq!(eval("Regex.Replace(\"baa\", \"a*\", \"-\")"), "-b--");
        assert_eq!(eval("Regex.Matches(\"aaa\", \"a*\").Count"), "2");
        assert_eq!(
            eval("string.Join(\",\", Regex.Split(\"abc\", \"\"))"),
            ",a,b,c,"
        );
        assert_eq!(eval("Regex.Escape(\"a.b*c (d)\")"), "a\\.b\\*c\\ \\(d\\)");
        assert_eq!(
            eval("Regex.IsMatch(\"x a.b*c (d) y\", Regex.Escape(\"a.b*c (d)\"))"),
            "True"
        );
    }

    #[test]
    fn matches_and_groups() {
        let m = "Regex.Match(\"order: A-17 and B-9\", @\"(?<kind>[A-Z])-(\\d+)\")";
        assert_eq!(eval(&format!("{m}.Success")), "True");
        assert_eq!(eval(&format!("{m}.Value")), "A-17");
        assert_eq!(eval(&format!("{m}.Index")), "7");
        assert_eq!(eval(&format!("{m}.Length")), "4");
        // .NET numbers unnamed groups before named ones.
        assert_eq!(eval(&format!("{m}.Groups[1].Value")), "17");
        assert_eq!(eval(&format!("{m}.Groups[2].Value")), "A");
        assert_eq!(eval(&format!("{m}.Groups[\"kind\"].Value")), "A");
        assert_eq!(eval(&format!("{m}.Groups.Count")), "3");
        assert_eq!(eval(&format!("{m}.Groups[\"nope\"].Success")), "False");
        assert_eq!(eval(&format!("{m}.Groups[7].Value")), "");
        assert_eq!(eval(&format!("{m}.NextMatch().Value")), "B-9");
        assert_eq!(
            eval(&format!("{m}.NextMatch().NextMatch().Success")),
            "False"
        );
        assert_eq!(eval(&format!("{m}.Result(\"$2$1\")")), "A17");
        assert_eq!(eval(&format!("\"[\" + {m} + \"]\"")), "[A-17]");
        assert_eq!(eval(&format!("{m} is Match")), "True");
        assert_eq!(eval("Regex.Match(\"abc\", \"x\").Success"), "False");
        assert_eq!(eval("Regex.Match(\"abc\", \"x\").Value"), "");
        assert_eq!(
            block(
                r#"
                var r = new Regex(@"^Bearer\s+(\S+)$", RegexOptions.IgnoreCase);
                var m = r.Match("bearer abc.def");
                return r.IsMatch("Bearer x") + " " + (m.Success ? m.Groups[1].Value : "none") + " " + r.Replace("Bearer q", "$1");
                "#
            ),
            "True abc.def q"
        );
        assert_eq!(
            block(
                r#"
                var total = 0;
                foreach (Match m in Regex.Matches("1, 22, 333", @"\d+")) { total += int.Parse(m.Value); }
                return total;
                "#
            ),
            "356"
        );
    }

    #[test]
    fn patterns_are_bounded() {
        assert!(eval_err("Regex.IsMatch(\"ab\", \"(a\")").starts_with("Invalid pattern"));
        assert!(eval_err("Regex.IsMatch(\"ab\", \"(?=a)\")").contains("look-around"));
        assert!(eval_err("Regex.IsMatch(\"a\", new string('a', 5000))").contains("at most 4096"));
        assert!(eval_err("Regex.IsMatch(\"a\", @\"\\w{1000}{1000}\")").starts_with("Invalid"));
        assert!(
            eval_err("Regex.IsMatch(\"a\", \"a\", RegexOptions.RightToLeft)")
                .contains("not supported")
        );
        // A pattern used in a loop compiles once; distinct patterns each cost their compile.
        assert_eq!(
            block(
                "var n = 0; for (var i = 0; i < 1000; i++) { if (Regex.IsMatch(\"a\" + i, @\"^a\\d+$\")) n++; } return n;"
            ),
            "1000"
        );
        let many = "for (var i = 0; i < 1000; i++) { Regex.IsMatch(\"a\", \"a\" + i); } return 0;";
        let program = crate::Program::block(many, 0).unwrap();
        assert!(matches!(
            program.run(&crate::NoHost, crate::Limits::default()),
            Err(crate::RunError::Budget(_))
        ));
    }
}
