//! Operation names and display names as APIM's OpenAPI import makes them.
//!
//! The name is the `operationId`, normalised: lower case, every run of characters other
//! than letters and digits made one `-`, no `-` at either end, at most 76 characters (APIM
//! keeps 4 of the 80 for a suffix); without an `operationId`, the same of `method path`
//! (`get /pets/{id}` → `get-pets-id`). A name taken already gets `-1`, `-2`, … (up to 999).
//! The display name is the `summary`, else the `operationId`, else `METHOD /path`, at most
//! 300 characters.

use std::collections::HashSet;

/// Names are at most this long before a de-duplicating suffix.
pub const MAX_NAME_LEN: usize = 76;

/// APIM's normalisation of an operation id or `method path`.
pub fn normalize(text: &str) -> String {
    let mut name = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    let mut name: String = name
        .trim_end_matches('-')
        .chars()
        .take(MAX_NAME_LEN)
        .collect();
    while name.ends_with('-') {
        name.pop();
    }
    name
}

/// The name for an operation: from `operation_id`, else from `method path`.
pub fn operation_name(operation_id: Option<&str>, method: &str, path: &str) -> String {
    let from_id = operation_id.map(normalize).filter(|n| !n.is_empty());
    from_id.unwrap_or_else(|| {
        let name = normalize(&format!("{method} {path}"));
        if name.is_empty() {
            method.to_ascii_lowercase()
        } else {
            name
        }
    })
}

/// `name`, or `name-1`, `name-2`, … — the first not in `taken`; it is then taken.
pub fn unique(name: String, taken: &mut HashSet<String>) -> Option<String> {
    if taken.insert(name.clone()) {
        return Some(name);
    }
    (1..=999)
        .map(|n| format!("{name}-{n}"))
        .find(|candidate| taken.insert(candidate.clone()))
}

/// The display name: `summary`, else `operationId`, else `METHOD /path`.
pub fn display_name(
    summary: Option<&str>,
    operation_id: Option<&str>,
    method: &str,
    path: &str,
) -> String {
    let pick = [summary, operation_id]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|text| !text.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{} {path}", method.to_ascii_uppercase()));
    pick.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_as_apim_does() {
        assert_eq!(normalize("listPets"), "listpets");
        assert_eq!(
            normalize("GET-/foo/{bar}?buzz={quix}"),
            "get-foo-bar-buzz-quix"
        );
        assert_eq!(normalize("__a__b__"), "a-b");
        assert_eq!(normalize(&"x".repeat(100)).len(), MAX_NAME_LEN);
        assert_eq!(operation_name(None, "get", "/pets/{id}"), "get-pets-id");
        assert_eq!(operation_name(Some(" "), "post", "/"), "post");
        assert_eq!(
            operation_name(Some("Pets.Create"), "post", "/pets"),
            "pets-create"
        );
    }

    #[test]
    fn names_taken_get_a_number() {
        let mut taken = HashSet::new();
        assert_eq!(unique("a".into(), &mut taken).as_deref(), Some("a"));
        assert_eq!(unique("a".into(), &mut taken).as_deref(), Some("a-1"));
        assert_eq!(unique("a".into(), &mut taken).as_deref(), Some("a-2"));
    }

    #[test]
    fn display_names_fall_back_in_order() {
        assert_eq!(
            display_name(Some("List pets"), Some("x"), "get", "/p"),
            "List pets"
        );
        assert_eq!(
            display_name(None, Some("listPets"), "get", "/p"),
            "listPets"
        );
        assert_eq!(display_name(Some(""), None, "get", "/pets"), "GET /pets");
    }
}
