//! [`IsoDuration`]: an ISO 8601 duration as APIM's backends write them (`PT1H`, `PT30S`,
//! `P1DT12H`, `PT0.5S`), kept with its text so a backend reads back as it was written.

use crate::ValidationError;
use std::fmt;
use std::time::Duration;

/// A duration of at most [`IsoDuration::MAX`], written `P[nW][nD][T[nH][nM][n[.f]S]]`.
///
/// Years and months are refused: their length depends on the calendar, and a circuit
/// breaker's interval or trip duration is a fixed span of time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoDuration {
    text: String,
    duration: Duration,
}

impl IsoDuration {
    /// The longest duration accepted: 30 days.
    pub const MAX: Duration = Duration::from_secs(30 * 86_400);
    /// The longest text accepted.
    const MAX_TEXT: usize = 64;

    /// Parses `text`, reporting faults against `field`.
    pub fn parse(text: &str, field: &str) -> Result<Self, ValidationError> {
        let invalid = |why: &str| {
            ValidationError::new(
                field,
                "InvalidDuration",
                format!(
                    "'{}' is not an ISO 8601 duration such as PT30S, PT5M or PT1H ({why}).",
                    text.chars().take(Self::MAX_TEXT).collect::<String>()
                ),
            )
        };
        let trimmed = text.trim();
        if trimmed.len() > Self::MAX_TEXT {
            return Err(invalid("too long"));
        }
        let rest = trimmed
            .strip_prefix(['P', 'p'])
            .ok_or_else(|| invalid("it starts with P"))?;
        let mut millis: u128 = 0;
        let mut in_time = false;
        let mut number = String::new();
        let mut any = false;
        for c in rest.chars() {
            match c {
                'T' | 't' if !in_time && number.is_empty() => in_time = true,
                '0'..='9' | '.' | ',' => number.push(if c == ',' { '.' } else { c }),
                unit => {
                    let unit_millis: u128 = match (in_time, unit.to_ascii_uppercase()) {
                        (false, 'W') => 7 * 86_400_000,
                        (false, 'D') => 86_400_000,
                        (true, 'H') => 3_600_000,
                        (true, 'M') => 60_000,
                        (true, 'S') => 1_000,
                        (false, 'Y' | 'M') => {
                            return Err(invalid("years and months have no fixed length"));
                        }
                        _ => return Err(invalid(&format!("'{unit}' is not a unit here"))),
                    };
                    if number.is_empty() {
                        return Err(invalid(&format!("a number goes before {unit}")));
                    }
                    let value: f64 = number
                        .parse()
                        .map_err(|_| invalid(&format!("'{number}' is not a number")))?;
                    if unit_millis != 1_000 && number.contains('.') {
                        return Err(invalid("only seconds may have a fraction"));
                    }
                    millis = millis.saturating_add((value * unit_millis as f64).round() as u128);
                    number.clear();
                    any = true;
                }
            }
        }
        if !number.is_empty() {
            return Err(invalid("a number needs a unit after it"));
        }
        if !any {
            return Err(invalid("it names no span"));
        }
        let duration = Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX));
        if duration > Self::MAX {
            return Err(ValidationError::new(
                field,
                "InvalidDuration",
                format!("'{trimmed}' is longer than the 30 days (P30D) allowed."),
            ));
        }
        if duration.is_zero() {
            return Err(invalid("it must be longer than zero"));
        }
        Ok(Self {
            text: trimmed.to_owned(),
            duration,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn duration(&self) -> Duration {
        self.duration
    }
}

impl fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(text: &str) -> f64 {
        IsoDuration::parse(text, "d")
            .map(|d| d.duration().as_secs_f64())
            .unwrap_or(-1.0)
    }

    #[test]
    fn reads_apim_durations() {
        assert_eq!(seconds("PT1H"), 3600.0);
        assert_eq!(seconds("PT30S"), 30.0);
        assert_eq!(seconds("PT1M30S"), 90.0);
        assert_eq!(seconds("P1DT12H"), 129_600.0);
        assert_eq!(seconds("P1W"), 604_800.0);
        assert_eq!(seconds("PT0.5S"), 0.5);
        assert_eq!(seconds("PT0,25S"), 0.25);
    }

    #[test]
    fn refuses_what_is_not_a_fixed_span() {
        for bad in [
            "", "P", "PT", "1H", "PT1", "P1M", "P1Y", "PT1.5M", "PT0S", "P31D", "PTH", "PT1X",
        ] {
            assert!(IsoDuration::parse(bad, "d").is_err(), "{bad}");
        }
        assert!(IsoDuration::parse(&"PT1S".repeat(100), "d").is_err());
        // Huge numbers saturate and are refused, never overflow.
        assert!(IsoDuration::parse("PT99999999999999999999H", "d").is_err());
    }

    #[test]
    fn keeps_the_text() {
        let parsed = IsoDuration::parse(" PT5M ", "d").expect("valid");
        assert_eq!(parsed.as_str(), "PT5M");
    }
}
