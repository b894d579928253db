//! Paging and filtering of lists, the way APIM's management API takes them: `$top`, `$skip`
//! and an OData `$filter` of the form
//!
//! ```text
//! name eq 'starter' and contains(properties/displayName, 'Test') and state eq 'active'
//! ```
//!
//! Comparisons (`eq ne gt ge lt le`) and the functions `contains`, `startswith`, `endswith`
//! and `substringof('text', field)` over the fields a list names, joined by `and`. Text
//! comparisons ignore case, as APIM's do. The parsed [`ListQuery`] is applied in memory for
//! small lists ([`ListQuery::page`]) and translated to SQL by the store for large ones.

use crate::ValidationError;
use std::cmp::Ordering;

/// A page has at most this many items (and this many when `$top` is not given).
pub const MAX_PAGE: u64 = 1000;
/// Items per page when `$top` is not given: APIM's own page size.
pub const DEFAULT_PAGE: u64 = 100;
/// A `$filter` longer than this is refused (it is a search, not a program).
pub const MAX_FILTER_LEN: usize = 1024;
/// At most this many conditions joined by `and`.
pub const MAX_CONDITIONS: usize = 16;

/// How one condition compares a field with its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Contains,
    StartsWith,
    EndsWith,
}

/// `field test 'text'`. The field is one the list allows, in its canonical spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub field: &'static str,
    pub test: Test,
    /// Lowercased: comparisons ignore case.
    pub text: String,
}

impl Condition {
    /// Whether `value` (the item's field) passes.
    pub fn matches(&self, value: &str) -> bool {
        let value = value.to_lowercase();
        let text = self.text.as_str();
        match self.test {
            Test::Eq => value == text,
            Test::Ne => value != text,
            Test::Gt => value.as_str().cmp(text) == Ordering::Greater,
            Test::Ge => value.as_str().cmp(text) != Ordering::Less,
            Test::Lt => value.as_str().cmp(text) == Ordering::Less,
            Test::Le => value.as_str().cmp(text) != Ordering::Greater,
            Test::Contains => value.contains(text),
            Test::StartsWith => value.starts_with(text),
            Test::EndsWith => value.ends_with(text),
        }
    }
}

/// `$top`, `$skip` and `$filter`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub top: u64,
    pub skip: u64,
    pub filter: Vec<Condition>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            top: DEFAULT_PAGE,
            skip: 0,
            filter: Vec::new(),
        }
    }
}

/// One page of a list: its items and how many there are in all (after filtering).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub count: u64,
}

impl<T> Page<T> {
    /// Whether items follow this page.
    pub fn has_more(&self, query: &ListQuery) -> bool {
        query.skip.saturating_add(self.items.len() as u64) < self.count
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ValidationError {
    ValidationError::new(field, "InvalidQuery", message)
}

impl ListQuery {
    /// Parses the three parameters; `fields` are the names a `$filter` may use (each also
    /// accepted as `properties/<name>`, case-insensitively).
    pub fn parse(
        top: Option<&str>,
        skip: Option<&str>,
        filter: Option<&str>,
        fields: &[&'static str],
    ) -> Result<Self, ValidationError> {
        let number = |name: &str, text: &str| {
            text.trim().parse::<u64>().map_err(|_| {
                invalid(
                    name,
                    format!("{name} must be a whole number, not '{text}'."),
                )
            })
        };
        let top = match top {
            Some(text) => number("$top", text)?,
            None => DEFAULT_PAGE,
        };
        if top == 0 || top > MAX_PAGE {
            return Err(invalid(
                "$top",
                format!("$top must be between 1 and {MAX_PAGE}."),
            ));
        }
        let skip = match skip {
            Some(text) => number("$skip", text)?,
            None => 0,
        };
        let filter = match filter.map(str::trim).filter(|f| !f.is_empty()) {
            Some(text) => parse_filter(text, fields)?,
            None => Vec::new(),
        };
        Ok(Self { top, skip, filter })
    }

    /// Whether an item passes the filter; `field` gives the item's value of a field.
    pub fn admits<'a>(&self, field: impl Fn(&str) -> &'a str) -> bool {
        self.filter.iter().all(|c| c.matches(field(c.field)))
    }

    /// Filters and pages a list held in memory (already in its order).
    pub fn page<T>(&self, items: Vec<T>, field: impl Fn(&T, &str) -> String) -> Page<T> {
        let kept: Vec<T> = items
            .into_iter()
            .filter(|item| self.filter.iter().all(|c| c.matches(&field(item, c.field))))
            .collect();
        let count = kept.len() as u64;
        let skip = usize::try_from(self.skip).unwrap_or(usize::MAX);
        let top = usize::try_from(self.top).unwrap_or(usize::MAX);
        Page {
            items: kept.into_iter().skip(skip).take(top).collect(),
            count,
        }
    }
}

/// The tokens of a filter: names, quoted texts and punctuation.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
    Comma,
}

fn tokens(filter: &str) -> Result<Vec<Token>, ValidationError> {
    let mut out = Vec::new();
    let mut chars = filter.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            ',' => {
                chars.next();
                out.push(Token::Comma);
            }
            '\'' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        // OData doubles a quote inside a text: 'O''Brien'.
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            text.push('\'');
                        }
                        Some('\'') => break,
                        Some(c) => text.push(c),
                        None => {
                            return Err(invalid(
                                "$filter",
                                "a text in $filter is not closed with '.",
                            ));
                        }
                    }
                }
                out.push(Token::Text(text));
            }
            c if c.is_alphanumeric() || c == '/' || c == '_' || c == '$' => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_alphanumeric() || c == '/' || c == '_' || c == '$' {
                        word.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Token::Word(word));
            }
            other => {
                return Err(invalid(
                    "$filter",
                    format!("'{other}' cannot stand in a $filter."),
                ));
            }
        }
    }
    Ok(out)
}

fn field_named(word: &str, fields: &[&'static str]) -> Result<&'static str, ValidationError> {
    let bare = word
        .strip_prefix("properties/")
        .or_else(|| word.strip_prefix("Properties/"))
        .unwrap_or(word);
    fields
        .iter()
        .copied()
        .find(|f| f.eq_ignore_ascii_case(bare))
        .ok_or_else(|| {
            invalid(
                "$filter",
                format!(
                    "'{word}' cannot be filtered on here; use {}.",
                    fields.join(", ")
                ),
            )
        })
}

fn parse_filter(filter: &str, fields: &[&'static str]) -> Result<Vec<Condition>, ValidationError> {
    if filter.len() > MAX_FILTER_LEN {
        return Err(invalid(
            "$filter",
            format!("$filter has at most {MAX_FILTER_LEN} characters."),
        ));
    }
    let tokens = tokens(filter)?;
    let mut at = 0;
    let mut conditions = Vec::new();
    loop {
        let (condition, next) = parse_condition(&tokens, at, fields)?;
        conditions.push(condition);
        if conditions.len() > MAX_CONDITIONS {
            return Err(invalid(
                "$filter",
                format!("$filter joins at most {MAX_CONDITIONS} conditions."),
            ));
        }
        at = next;
        match tokens.get(at) {
            None => return Ok(conditions),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("and") => at += 1,
            Some(_) => {
                return Err(invalid(
                    "$filter",
                    "conditions in $filter are joined with 'and' (no 'or', no parentheses).",
                ));
            }
        }
    }
}

fn parse_condition(
    tokens: &[Token],
    at: usize,
    fields: &[&'static str],
) -> Result<(Condition, usize), ValidationError> {
    let expected = || {
        invalid(
            "$filter",
            "expected a condition such as name eq 'x' or contains(displayName, 'x').",
        )
    };
    let Some(Token::Word(first)) = tokens.get(at) else {
        return Err(expected());
    };
    let function = match first.to_ascii_lowercase().as_str() {
        "contains" => Some(Test::Contains),
        "startswith" => Some(Test::StartsWith),
        "endswith" => Some(Test::EndsWith),
        "substringof" => Some(Test::Contains),
        _ => None,
    };
    if let Some(test) = function {
        let reversed = first.eq_ignore_ascii_case("substringof");
        let window = tokens.get(at + 1..at + 6).ok_or_else(expected)?;
        let (field, text) = match window {
            [
                Token::Open,
                Token::Word(field),
                Token::Comma,
                Token::Text(text),
                Token::Close,
            ] if !reversed => (field, text),
            [
                Token::Open,
                Token::Text(text),
                Token::Comma,
                Token::Word(field),
                Token::Close,
            ] if reversed => (field, text),
            _ => return Err(expected()),
        };
        let condition = Condition {
            field: field_named(field, fields)?,
            test,
            text: text.to_lowercase(),
        };
        return Ok((condition, at + 6));
    }
    let window = tokens.get(at + 1..at + 3).ok_or_else(expected)?;
    let [Token::Word(op), Token::Text(text)] = window else {
        return Err(expected());
    };
    let test = match op.to_ascii_lowercase().as_str() {
        "eq" => Test::Eq,
        "ne" => Test::Ne,
        "gt" => Test::Gt,
        "ge" => Test::Ge,
        "lt" => Test::Lt,
        "le" => Test::Le,
        other => {
            return Err(invalid(
                "$filter",
                format!("'{other}' is not a comparison; use eq, ne, gt, ge, lt or le."),
            ));
        }
    };
    let condition = Condition {
        field: field_named(first, fields)?,
        test,
        text: text.to_lowercase(),
    };
    Ok((condition, at + 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[&str] = &["name", "displayName", "state"];

    fn parse(filter: &str) -> Result<ListQuery, ValidationError> {
        ListQuery::parse(None, None, Some(filter), FIELDS)
    }

    #[test]
    fn reads_apims_filters() {
        let query = parse(
            "name eq 'Starter' and contains(properties/displayName, 'O''Brien') and substringof('act', state)",
        )
        .unwrap();
        assert_eq!(
            query.filter,
            [
                Condition {
                    field: "name",
                    test: Test::Eq,
                    text: "starter".into()
                },
                Condition {
                    field: "displayName",
                    test: Test::Contains,
                    text: "o'brien".into()
                },
                Condition {
                    field: "state",
                    test: Test::Contains,
                    text: "act".into()
                },
            ]
        );
        assert_eq!((query.top, query.skip), (DEFAULT_PAGE, 0));
    }

    #[test]
    fn refuses_what_it_cannot_read_naming_the_parameter() {
        for bad in [
            "name eq",
            "name like 'x'",
            "owner eq 'x'",
            "name eq 'x' or name eq 'y'",
            "contains(name 'x')",
            "name eq 'open",
            "name eq \"x\"",
        ] {
            let error = parse(bad).unwrap_err();
            assert_eq!(error.field, "$filter", "{bad}");
        }
        let too_many = vec!["name ne 'x'"; MAX_CONDITIONS + 1].join(" and ");
        assert!(parse(&too_many).is_err());
        assert!(parse(&"a".repeat(MAX_FILTER_LEN + 1)).is_err());
        for (top, skip) in [
            (Some("0"), None),
            (Some("1001"), None),
            (Some("x"), None),
            (None, Some("-1")),
        ] {
            assert!(ListQuery::parse(top, skip, None, FIELDS).is_err());
        }
    }

    #[test]
    fn pages_a_list_after_filtering_it() {
        let names: Vec<String> = (0..25).map(|i| format!("sub-{i:02}")).collect();
        let query = ListQuery::parse(
            Some("10"),
            Some("10"),
            Some("startswith(name, 'SUB-1')"),
            FIELDS,
        )
        .unwrap();
        let page = query.page(names, |name, _| name.clone());
        assert_eq!(page.count, 10);
        assert!(
            page.items.is_empty(),
            "sub-10..sub-19 are ten: the second page of ten is empty"
        );
        let query = ListQuery::parse(
            Some("4"),
            Some("8"),
            Some("startswith(name, 'sub-1')"),
            FIELDS,
        )
        .unwrap();
        let page = query.page(
            (0..25).map(|i| format!("sub-{i:02}")).collect(),
            |name, _| name.clone(),
        );
        assert_eq!(page.items, ["sub-18", "sub-19"]);
        assert!(!page.has_more(&query));
    }
}
