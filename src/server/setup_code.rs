//! The one-time setup code: printed by `serve` when no administrator exists, asked for by the
//! Create administrator page, so that whoever merely reaches the port first cannot take the
//! portal.

use rand::Rng;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

pub struct SetupCode {
    code: Mutex<Option<String>>,
}

impl SetupCode {
    /// A fresh code (`ABCD-EFGH`, no look-alike letters), or `fixed` when the operator set one
    /// (`PORTCULLIS_SETUP_CODE`, for automated installs).
    pub fn new(fixed: Option<String>) -> Self {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let fixed = fixed.map(|c| c.trim().to_ascii_uppercase());
        let code = fixed.filter(|c| !c.is_empty()).unwrap_or_else(|| {
            let mut rng = rand::rngs::OsRng;
            let mut pick = || ALPHABET[rng.gen_range(0..ALPHABET.len())] as char;
            let first: String = (0..4).map(|_| pick()).collect();
            let second: String = (0..4).map(|_| pick()).collect();
            format!("{first}-{second}")
        });
        Self {
            code: Mutex::new(Some(code)),
        }
    }

    /// The code to print, while it is still usable.
    pub fn current(&self) -> Option<String> {
        self.code.lock().ok().and_then(|code| code.clone())
    }

    pub fn matches(&self, presented: &str) -> bool {
        let presented = presented.trim().to_ascii_uppercase();
        self.current()
            .is_some_and(|code| code.as_bytes().ct_eq(presented.as_bytes()).into())
    }

    /// Used up: the first administrator exists.
    pub fn consume(&self) {
        if let Ok(mut code) = self.code.lock() {
            *code = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_case_insensitively_once() {
        let code = SetupCode::new(None);
        let text = code.current().unwrap();
        assert_eq!(text.len(), 9);
        assert!(code.matches(&text.to_lowercase()));
        assert!(!code.matches("AAAA-AAAA") || text == "AAAA-AAAA");
        code.consume();
        assert!(!code.matches(&text));
        assert!(SetupCode::new(Some("fixed-code".into())).matches("FIXED-CODE"));
        assert!(SetupCode::new(Some("FIXED-CODE".into())).matches("fixed-code"));
    }
}
