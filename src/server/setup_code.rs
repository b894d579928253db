//! The one-time setup code: printed by `serve` when no administrator exists, asked for by the
//! Create administrator page, so that whoever merely reaches the port first cannot take the
//! portal.

use rand::Rng;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

/// The fewest characters a setup code set by the operator may have (the generated one has
/// eight letters and digits out of 32, about 40 bits).
pub const MIN_FIXED_LENGTH: usize = 8;

/// A setup code set by the operator is too short to stand against guessing.
#[derive(Debug)]
pub struct SetupCodeTooShort;

impl std::fmt::Display for SetupCodeTooShort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the setup code (PORTCULLIS_SETUP_CODE) must have at least {MIN_FIXED_LENGTH} characters"
        )
    }
}

impl std::error::Error for SetupCodeTooShort {}

pub struct SetupCode {
    code: Mutex<Option<String>>,
}

impl SetupCode {
    /// A fresh code (`ABCD-EFGH`, no look-alike letters), or `fixed` when the operator set one
    /// (`PORTCULLIS_SETUP_CODE`, for automated installs). A fixed code shorter than
    /// [`MIN_FIXED_LENGTH`] is refused: whoever reaches the port first could guess it.
    pub fn new(fixed: Option<String>) -> Result<Self, SetupCodeTooShort> {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let fixed = fixed
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty());
        if let Some(code) = &fixed
            && code.chars().count() < MIN_FIXED_LENGTH
        {
            return Err(SetupCodeTooShort);
        }
        let code = fixed.unwrap_or_else(|| {
            let mut rng = rand::rngs::OsRng;
            let mut pick = || ALPHABET[rng.gen_range(0..ALPHABET.len())] as char;
            let first: String = (0..4).map(|_| pick()).collect();
            let second: String = (0..4).map(|_| pick()).collect();
            format!("{first}-{second}")
        });
        Ok(Self {
            code: Mutex::new(Some(code)),
        })
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
        let code = SetupCode::new(None).unwrap();
        let text = code.current().unwrap();
        assert_eq!(text.len(), 9);
        assert!(code.matches(&text.to_lowercase()));
        assert!(!code.matches("AAAA-AAAA") || text == "AAAA-AAAA");
        code.consume();
        assert!(!code.matches(&text));
        assert!(
            SetupCode::new(Some("fixed-code".into()))
                .unwrap()
                .matches("FIXED-CODE")
        );
        assert!(
            SetupCode::new(Some("FIXED-CODE".into()))
                .unwrap()
                .matches("fixed-code")
        );
    }

    #[test]
    fn a_short_fixed_code_is_refused_and_an_empty_one_means_random() {
        assert!(SetupCode::new(Some("1234".into())).is_err());
        assert!(SetupCode::new(Some(" abcdefg ".into())).is_err());
        assert!(SetupCode::new(Some("abcdefgh".into())).is_ok());
        let random = SetupCode::new(Some("   ".into())).unwrap();
        assert_eq!(random.current().map(|c| c.len()), Some(9));
    }
}
