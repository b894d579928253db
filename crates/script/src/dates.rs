//! `DateTime` and `TimeSpan`: .NET's clock values, held as .NET holds them — a count of
//! 100-nanosecond *ticks* (a `DateTime` counts from 0001-01-01 00:00, a `TimeSpan` is a
//! signed duration) — so arithmetic, comparisons and `Ticks` are exact integer operations.
//!
//! The calendar is the proleptic Gregorian one, computed from the day count with Howard
//! Hinnant's `civil_from_days` (no table, no loop). Time zones are not modelled: the gateway
//! runs in UTC, so `DateTime.Now` is `DateTime.UtcNow` and a `DateTime` only remembers its
//! *kind* (`Utc`, `Local` or `Unspecified`), which `ToString("o")` and the `K` specifier
//! write. Formatting follows the invariant culture.

use crate::error::RunError;
use crate::interp::Interpreter;
use crate::library::{arg, float, int, string_value};
use crate::members::{fail, text_arg};
use crate::native::Outcome;
use crate::syntax::BinaryOp;
use crate::value::Value;
use std::cmp::Ordering;

pub const TICKS_PER_MILLISECOND: i64 = 10_000;
pub const TICKS_PER_SECOND: i64 = 10_000_000;
pub const TICKS_PER_MINUTE: i64 = 600_000_000;
pub const TICKS_PER_HOUR: i64 = 36_000_000_000;
pub const TICKS_PER_DAY: i64 = 864_000_000_000;
/// `DateTime.MaxValue.Ticks`: 9999-12-31 23:59:59.9999999.
pub const MAX_TICKS: i64 = 3_155_378_975_999_999_999;
/// `DateTime.UnixEpoch.Ticks`: 1970-01-01 00:00.
pub const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;
/// Days from 0001-01-01 to 1970-01-01, the epoch of [`days_from_civil`].
const DAYS_TO_UNIX_EPOCH: i64 = 719_162;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

const UNREPRESENTABLE: &str =
    "The added or subtracted value results in an un-representable DateTime.";
const SPAN_OVERFLOW: &str = "TimeSpan overflowed because the duration is too long.";

/// `DateTimeKind`: what a `DateTime`'s ticks are relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateKind {
    Unspecified,
    Utc,
    Local,
}

impl DateKind {
    /// The enum member's name, which is also how scripts hold `DateTimeKind` values.
    fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "Unspecified",
            Self::Utc => "Utc",
            Self::Local => "Local",
        }
    }

    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Str(s) if &**s == "Utc" => Some(Self::Utc),
            Value::Str(s) if &**s == "Local" => Some(Self::Local),
            Value::Str(s) if &**s == "Unspecified" => Some(Self::Unspecified),
            _ => None,
        }
    }
}

/// A `DateTime`: ticks since 0001-01-01 (always within `0..=MAX_TICKS`) and its kind.
/// Two dates are equal when their ticks are, whatever their kinds (as in .NET).
#[derive(Debug, Clone, Copy)]
pub struct Date {
    pub ticks: i64,
    pub kind: DateKind,
}

impl Date {
    /// A date from ticks, or the failure .NET gives for a tick count out of range.
    fn new(ticks: i128, kind: DateKind, at: usize) -> Result<Self, RunError> {
        i64::try_from(ticks)
            .ok()
            .filter(|t| (0..=MAX_TICKS).contains(t))
            .map(|ticks| Self { ticks, kind })
            .ok_or_else(|| fail(at, UNREPRESENTABLE))
    }

    fn value(self) -> Value {
        Value::DateTime(self)
    }
}

// ---- the calendar --------------------------------------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A date's fields, as its members and format specifiers read them.
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    /// Ticks within the second (`0..10_000_000`).
    fraction: i64,
    /// 0 for Sunday, as `DayOfWeek` numbers days.
    weekday: usize,
    day_of_year: i64,
}

fn civil(ticks: i64) -> Civil {
    let days = ticks.div_euclid(TICKS_PER_DAY);
    let time = ticks.rem_euclid(TICKS_PER_DAY);
    let (year, month, day) = civil_from_days(days - DAYS_TO_UNIX_EPOCH);
    let january_first = days_from_civil(year, 1, 1) + DAYS_TO_UNIX_EPOCH;
    Civil {
        year,
        month,
        day,
        hour: time / TICKS_PER_HOUR,
        minute: time / TICKS_PER_MINUTE % 60,
        second: time / TICKS_PER_SECOND % 60,
        fraction: time % TICKS_PER_SECOND,
        // 0001-01-01 was a Monday.
        weekday: usize::try_from((days + 1).rem_euclid(7)).unwrap_or(0),
        day_of_year: days - january_first + 1,
    }
}

/// Ticks of a calendar date and time, checked as .NET's `DateTime` constructor checks them.
fn ticks_of(fields: [i64; 7], at: usize) -> Result<i64, RunError> {
    let [year, month, day, hour, minute, second, millisecond] = fields;
    if !(1..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
    {
        return Err(fail(
            at,
            "Year, Month, and Day parameters describe an un-representable DateTime.",
        ));
    }
    if !(0..24).contains(&hour) || !(0..60).contains(&minute) || !(0..60).contains(&second) {
        return Err(fail(
            at,
            "Hour, Minute, and Second parameters describe an un-representable DateTime.",
        ));
    }
    if !(0..1000).contains(&millisecond) {
        return Err(fail(at, "Valid values are between 0 and 999, inclusive."));
    }
    let days = days_from_civil(year, month, day) + DAYS_TO_UNIX_EPOCH;
    Ok(days * TICKS_PER_DAY
        + hour * TICKS_PER_HOUR
        + minute * TICKS_PER_MINUTE
        + second * TICKS_PER_SECOND
        + millisecond * TICKS_PER_MILLISECOND)
}

/// The time now, from the host's clock, as a UTC `DateTime`.
pub fn now(interpreter: &Interpreter<'_>) -> Date {
    let since_epoch = match interpreter.host.now().duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_nanos() / 100).unwrap_or(i128::MAX),
        Err(before) => -i128::try_from(before.duration().as_nanos() / 100).unwrap_or(i128::MAX),
    };
    let ticks = (i128::from(UNIX_EPOCH_TICKS) + since_epoch).clamp(0, i128::from(MAX_TICKS));
    Date {
        ticks: i64::try_from(ticks).unwrap_or(0),
        kind: DateKind::Utc,
    }
}

/// A UTC date `seconds` after the Unix epoch (a JWT's `exp`, `nbf`, `iat`); `None` when out
/// of `DateTime`'s range.
pub fn from_unix_seconds(seconds: f64) -> Option<Date> {
    if !seconds.is_finite() {
        return None;
    }
    let ticks = (seconds * TICKS_PER_SECOND as f64).trunc();
    let ticks = UNIX_EPOCH_TICKS as f64 + ticks;
    if !(0.0..=MAX_TICKS as f64).contains(&ticks) {
        return None;
    }
    Some(Date {
        ticks: ticks as i64,
        kind: DateKind::Utc,
    })
}

// ---- parsing -------------------------------------------------------------------------------

/// `DateTime.Parse`: ISO 8601 / RFC 3339 (with or without an offset, `T` or a space between
/// date and time, fractions of a second), a date alone (`yyyy-MM-dd`), RFC 1123 as HTTP
/// headers write dates, and the invariant culture's `MM/dd/yyyy[ HH:mm[:ss]]`. A text with
/// an offset gives a UTC date; one without gives an unspecified kind, as in .NET.
pub fn parse_date(text: &str) -> Option<Date> {
    let s = text.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Some(date) = parse_with_offset(s) {
        return Some(date);
    }
    const NAIVE: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%m/%d/%Y %H:%M:%S%.f",
        "%m/%d/%Y %H:%M",
    ];
    for format in NAIVE {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(s, format) {
            return from_chrono(naive.and_utc(), DateKind::Unspecified);
        }
    }
    for format in ["%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d"] {
        if let Ok(day) = chrono::NaiveDate::parse_from_str(s, format) {
            return from_chrono(day.and_time(chrono::NaiveTime::MIN).and_utc(), {
                DateKind::Unspecified
            });
        }
    }
    None
}

/// The forms that carry an offset (or `Z`, or `GMT`), converted to UTC.
fn parse_with_offset(s: &str) -> Option<Date> {
    let utc = |parsed: chrono::DateTime<chrono::FixedOffset>| {
        from_chrono(parsed.with_timezone(&chrono::Utc), DateKind::Utc)
    };
    if let Ok(parsed) = chrono::DateTime::parse_from_rfc3339(s) {
        return utc(parsed);
    }
    if let Ok(parsed) = chrono::DateTime::parse_from_rfc2822(s) {
        return utc(parsed);
    }
    const OFFSET: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M%#z",
    ];
    for format in OFFSET {
        if let Ok(parsed) = chrono::DateTime::parse_from_str(s, format) {
            return utc(parsed);
        }
    }
    // `Z` without seconds, or after a date and time chrono's RFC 3339 reader refuses.
    let body = s.strip_suffix(['Z', 'z'])?;
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(body, format).ok())
        .and_then(|naive| from_chrono(naive.and_utc(), DateKind::Utc))
}

fn from_chrono(moment: chrono::DateTime<chrono::Utc>, kind: DateKind) -> Option<Date> {
    let ticks = i128::from(moment.timestamp()) * i128::from(TICKS_PER_SECOND)
        + i128::from(moment.timestamp_subsec_nanos() / 100)
        + i128::from(UNIX_EPOCH_TICKS);
    let ticks = i64::try_from(ticks).ok()?;
    (0..=MAX_TICKS)
        .contains(&ticks)
        .then_some(Date { ticks, kind })
}

/// `TimeSpan.Parse`: `[-]d`, `[-][d.]hh:mm[:ss[.fffffff]]` and `[-][d:]h:mm:ss[.fffffff]`.
pub fn parse_span(text: &str) -> Option<i64> {
    let s = text.trim();
    if s.len() > 64 {
        return None;
    }
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let number = |part: &str| -> Option<i64> {
        (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    let ticks = if !s.contains(':') {
        i128::from(number(s)?) * i128::from(TICKS_PER_DAY)
    } else {
        // Days before a '.' that comes before the first ':'.
        let (days, clock) = match (s.find('.'), s.find(':')) {
            (Some(dot), Some(colon)) if dot < colon => (number(s.get(..dot)?)?, s.get(dot + 1..)?),
            _ => (0, s),
        };
        let parts: Vec<&str> = clock.splitn(5, ':').collect();
        let (days, hours, minutes, seconds) = match parts.as_slice() {
            [h, m] => (days, *h, *m, "0"),
            [h, m, sec] => (days, *h, *m, *sec),
            [d, h, m, sec] if days == 0 => (number(d)?, *h, *m, *sec),
            _ => return None,
        };
        let (seconds, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
        let (hours, minutes, seconds) = (number(hours)?, number(minutes)?, number(seconds)?);
        if hours > 23 || minutes > 59 || seconds > 59 || fraction.len() > 7 {
            return None;
        }
        let fraction = if fraction.is_empty() {
            0
        } else {
            number(&format!("{fraction:0<7}"))?
        };
        i128::from(days) * i128::from(TICKS_PER_DAY)
            + i128::from(hours * TICKS_PER_HOUR)
            + i128::from(minutes * TICKS_PER_MINUTE)
            + i128::from(seconds * TICKS_PER_SECOND)
            + i128::from(fraction)
    };
    i64::try_from(if negative { -ticks } else { ticks }).ok()
}

// ---- formatting ----------------------------------------------------------------------------

/// `ToString()`: the invariant culture's general format, `MM/dd/yyyy HH:mm:ss`.
pub fn write_date(date: Date, out: &mut String) {
    if let Some(text) = format_date(date, "G") {
        out.push_str(&text);
    }
}

/// `ToString(format)` of a `DateTime`: a standard format (one letter: `o`, `s`, `u`, `r`,
/// `d`, `D`, `f`, `F`, `g`, `G`, `m`, `t`, `T`, `y`) or a custom one made of specifiers
/// (`yyyy`, `MM`, `dd`, `HH`, `hh`, `mm`, `ss`, `fff`, `FFF`, `tt`, `K`, `zzz`, `ddd`,
/// `MMMM`…), quoted literals and `\`-escaped characters. `None` for a format .NET refuses.
pub fn format_date(date: Date, format: &str) -> Option<String> {
    let pattern = match format {
        "" | "G" => "MM/dd/yyyy HH:mm:ss",
        "d" => "MM/dd/yyyy",
        "D" => "dddd, dd MMMM yyyy",
        "f" => "dddd, dd MMMM yyyy HH:mm",
        "F" | "U" => "dddd, dd MMMM yyyy HH:mm:ss",
        "g" => "MM/dd/yyyy HH:mm",
        "m" | "M" => "MMMM dd",
        "o" | "O" => "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        "r" | "R" => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        "s" => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        "t" => "HH:mm",
        "T" => "HH:mm:ss",
        "u" => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        "y" | "Y" => "yyyy MMMM",
        single if single.chars().count() == 1 => return None,
        custom => custom,
    };
    format_custom(date, pattern)
}

/// Digits of `n`, at least `width` of them.
fn digits(out: &mut String, n: i64, width: usize) {
    out.push_str(&format!("{n:0width$}"));
}

/// The first `count` of the seven fraction digits; with `trim` (`F`), without trailing
/// zeros — and when nothing is left, without the `.` written before it.
fn fraction(out: &mut String, ticks: i64, count: usize, trim: bool) -> Option<()> {
    if count > 7 {
        return None;
    }
    let all = format!("{ticks:07}");
    let taken = all.get(..count)?;
    if trim {
        let kept = taken.trim_end_matches('0');
        if kept.is_empty() && out.ends_with('.') {
            out.pop();
        }
        out.push_str(kept);
    } else {
        out.push_str(taken);
    }
    Some(())
}

/// A quoted literal starting at `chars[start]` (the quote): its text and the index after
/// the closing quote. `None` when it is not closed (.NET's FormatException).
fn quoted(chars: &[char], start: usize) -> Option<(String, usize)> {
    let quote = *chars.get(start)?;
    let mut text = String::new();
    let mut i = start + 1;
    while let Some(&c) = chars.get(i) {
        if c == quote {
            return Some((text, i + 1));
        }
        if c == '\\' {
            i += 1;
            text.push(*chars.get(i)?);
        } else {
            text.push(c);
        }
        i += 1;
    }
    None
}

fn format_custom(date: Date, pattern: &str) -> Option<String> {
    let c = civil(date.ticks);
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut i = 0;
    // Every turn moves `i` forward by at least one character.
    while let Some(&ch) = chars.get(i) {
        let run = chars
            .get(i..)
            .map_or(1, |rest| rest.iter().take_while(|&&x| x == ch).count());
        let mut next = i + run;
        match ch {
            'y' if run <= 2 => digits(&mut out, c.year % 100, run),
            'y' => digits(&mut out, c.year, run),
            'M' if run <= 2 => digits(&mut out, c.month, run),
            'M' | 'd' if run >= 3 => {
                let name = if ch == 'M' {
                    MONTHS.get(usize::try_from(c.month - 1).ok()?)?
                } else {
                    DAYS.get(c.weekday)?
                };
                out.push_str(if run == 3 { name.get(..3)? } else { name });
            }
            'd' => digits(&mut out, c.day, run),
            'H' => digits(&mut out, c.hour, run.min(2)),
            'h' => digits(&mut out, (c.hour + 11) % 12 + 1, run.min(2)),
            'm' => digits(&mut out, c.minute, run.min(2)),
            's' => digits(&mut out, c.second, run.min(2)),
            'f' | 'F' => fraction(&mut out, c.fraction, run, ch == 'F')?,
            't' => {
                let marker = if c.hour < 12 { "AM" } else { "PM" };
                out.push_str(if run == 1 { marker.get(..1)? } else { marker });
            }
            'K' => out.push_str(match date.kind {
                DateKind::Utc => "Z",
                DateKind::Local => "+00:00",
                DateKind::Unspecified => "",
            }),
            'z' => out.push_str(match run {
                1 => "+0",
                2 => "+00",
                _ => "+00:00",
            }),
            'g' => out.push_str("A.D."),
            '\'' | '"' => {
                let (text, after) = quoted(&chars, i)?;
                out.push_str(&text);
                next = after;
            }
            '\\' => {
                out.push(*chars.get(i + 1)?);
                next = i + 2;
            }
            // `%d`: a one-letter custom format, not the standard one.
            '%' if run == 1 => next = i + 1,
            '%' => return None,
            other => out.extend(std::iter::repeat_n(other, run)),
        }
        i = next;
    }
    Some(out)
}

/// `TimeSpan.ToString()`: .NET's constant format `[-][d.]hh:mm:ss[.fffffff]`.
pub fn span_text(ticks: i64) -> String {
    format_span(ticks, "c").unwrap_or_default()
}

/// `ToString(format)` of a `TimeSpan`: `c` (also `t`, `T`), `g`, `G`, or a custom format of
/// `d`, `hh`, `mm`, `ss`, `fff`, `FFF` with literals quoted or `\`-escaped.
pub fn format_span(ticks: i64, format: &str) -> Option<String> {
    let sign = if ticks < 0 { "-" } else { "" };
    let t = ticks.unsigned_abs();
    let per = |unit: i64| u64::try_from(unit).unwrap_or(1);
    let days = t / per(TICKS_PER_DAY);
    let hours = t / per(TICKS_PER_HOUR) % 24;
    let minutes = t / per(TICKS_PER_MINUTE) % 60;
    let seconds = t / per(TICKS_PER_SECOND) % 60;
    let fraction = t % per(TICKS_PER_SECOND);
    match format {
        "" | "c" | "t" | "T" => {
            let mut out = sign.to_owned();
            if days > 0 {
                out.push_str(&format!("{days}."));
            }
            out.push_str(&format!("{hours:02}:{minutes:02}:{seconds:02}"));
            if fraction > 0 {
                out.push_str(&format!(".{fraction:07}"));
            }
            Some(out)
        }
        "g" => {
            let mut out = sign.to_owned();
            if days > 0 {
                out.push_str(&format!("{days}:"));
            }
            out.push_str(&format!("{hours}:{minutes:02}:{seconds:02}"));
            if fraction > 0 {
                out.push('.');
                out.push_str(format!("{fraction:07}").trim_end_matches('0'));
            }
            Some(out)
        }
        "G" => Some(format!(
            "{sign}{days}:{hours:02}:{minutes:02}:{seconds:02}.{fraction:07}"
        )),
        single if single.chars().count() == 1 => None,
        custom => {
            let parts = [days, hours, minutes, seconds, fraction];
            format_span_custom(parts.map(|p| i64::try_from(p).unwrap_or(i64::MAX)), custom)
        }
    }
}

fn format_span_custom(parts: [i64; 5], pattern: &str) -> Option<String> {
    let [days, hours, minutes, seconds, ticks] = parts;
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while let Some(&ch) = chars.get(i) {
        let run = chars
            .get(i..)
            .map_or(1, |rest| rest.iter().take_while(|&&x| x == ch).count());
        let mut next = i + run;
        match ch {
            'd' if run <= 8 => digits(&mut out, days, run),
            'h' if run <= 2 => digits(&mut out, hours, run),
            'm' if run <= 2 => digits(&mut out, minutes, run),
            's' if run <= 2 => digits(&mut out, seconds, run),
            'f' | 'F' => fraction(&mut out, ticks, run, ch == 'F')?,
            '\'' | '"' => {
                let (text, after) = quoted(&chars, i)?;
                out.push_str(&text);
                next = after;
            }
            '\\' => {
                out.push(*chars.get(i + 1)?);
                next = i + 2;
            }
            '%' if run == 1 => next = i + 1,
            // .NET refuses any other character unless it is quoted or escaped.
            _ => return None,
        }
        i = next;
    }
    Some(out)
}

// ---- operators -----------------------------------------------------------------------------

/// How two dates or two time spans compare; `None` for other values.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.ticks.cmp(&y.ticks)),
        (Value::TimeSpan(x), Value::TimeSpan(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn span(ticks: i128, at: usize) -> Result<Value, RunError> {
    i64::try_from(ticks)
        .map(Value::TimeSpan)
        .map_err(|_| fail(at, SPAN_OVERFLOW))
}

/// A span from a floating-point count of ticks, as `TimeSpan.FromSeconds(double)` and
/// `span * factor` make one: truncated, refused when NaN or out of range.
fn span_from_f64(ticks: f64, at: usize) -> Result<Value, RunError> {
    if ticks.is_nan() {
        return Err(fail(
            at,
            "TimeSpan does not accept floating point Not-a-Number values.",
        ));
    }
    if ticks >= i64::MAX as f64 || ticks < i64::MIN as f64 {
        return Err(fail(at, SPAN_OVERFLOW));
    }
    Ok(Value::TimeSpan(ticks.trunc() as i64))
}

/// The operators between dates and spans: `date - date` is a span, `date ± span` a date,
/// spans add, subtract, scale and divide, and both compare. `None` when neither operand is
/// a date or a span (numbers and strings are the caller's).
pub fn binary(
    op: BinaryOp,
    lhs: &Value,
    rhs: &Value,
    at: usize,
) -> Result<Option<Value>, RunError> {
    use Value::{DateTime as D, TimeSpan as S};
    if let Some(ordering) = compare(lhs, rhs) {
        let answer = match op {
            BinaryOp::Less => Some(ordering == Ordering::Less),
            BinaryOp::LessEq => Some(ordering != Ordering::Greater),
            BinaryOp::Greater => Some(ordering == Ordering::Greater),
            BinaryOp::GreaterEq => Some(ordering != Ordering::Less),
            _ => None,
        };
        if let Some(answer) = answer {
            return Ok(Some(Value::Bool(answer)));
        }
    }
    let factor = crate::members::number(rhs).map(crate::members::Number::as_f64);
    Ok(Some(match (lhs, op, rhs) {
        (D(a), BinaryOp::Sub, D(b)) => span(i128::from(a.ticks) - i128::from(b.ticks), at)?,
        (D(a), BinaryOp::Add, S(b)) | (S(b), BinaryOp::Add, D(a)) => {
            Date::new(i128::from(a.ticks) + i128::from(*b), a.kind, at)?.value()
        }
        (D(a), BinaryOp::Sub, S(b)) => {
            Date::new(i128::from(a.ticks) - i128::from(*b), a.kind, at)?.value()
        }
        (S(a), BinaryOp::Add, S(b)) => span(i128::from(*a) + i128::from(*b), at)?,
        (S(a), BinaryOp::Sub, S(b)) => span(i128::from(*a) - i128::from(*b), at)?,
        (S(a), BinaryOp::Div, S(b)) => Value::Double(*a as f64 / *b as f64),
        (S(a), BinaryOp::Mul, _) if factor.is_some() => {
            span_from_f64(*a as f64 * factor.unwrap_or(0.0), at)?
        }
        (S(a), BinaryOp::Div, _) if factor.is_some() => {
            span_from_f64(*a as f64 / factor.unwrap_or(1.0), at)?
        }
        (number, BinaryOp::Mul, S(a)) if crate::members::number(number).is_some() => {
            binary(op, rhs, lhs, at)?.unwrap_or(Value::TimeSpan(*a))
        }
        (D(_) | S(_), _, _) | (_, _, D(_) | S(_)) if !lhs.is_null() && !rhs.is_null() => {
            return Err(fail(
                at,
                format!(
                    "the operator cannot apply to {} and {}.",
                    lhs.type_name(),
                    rhs.type_name()
                ),
            ));
        }
        _ => return Ok(None),
    }))
}

/// `-span`.
pub fn negate(ticks: i64, at: usize) -> Result<Value, RunError> {
    span(-i128::from(ticks), at)
}

// ---- static members ------------------------------------------------------------------------

/// `DateTime.UtcNow`, `TimeSpan.Zero`, `DateTimeKind.Utc`, `DayOfWeek.Monday`…; `None` when
/// `ty` is none of these types.
pub fn static_property(
    interpreter: &Interpreter<'_>,
    ty: &str,
    name: &str,
    at: usize,
) -> Result<Option<Value>, RunError> {
    let missing = || fail(at, format!("{ty} has no member '{name}'."));
    Ok(Some(match (ty, name) {
        ("DateTime", "UtcNow") => now(interpreter).value(),
        ("DateTime", "Now") => Date {
            kind: DateKind::Local,
            ..now(interpreter)
        }
        .value(),
        ("DateTime", "Today") => {
            let now = now(interpreter);
            Date {
                ticks: now.ticks - now.ticks.rem_euclid(TICKS_PER_DAY),
                kind: DateKind::Local,
            }
            .value()
        }
        ("DateTime", "MinValue") => Date {
            ticks: 0,
            kind: DateKind::Unspecified,
        }
        .value(),
        ("DateTime", "MaxValue") => Date {
            ticks: MAX_TICKS,
            kind: DateKind::Unspecified,
        }
        .value(),
        ("DateTime", "UnixEpoch") => Date {
            ticks: UNIX_EPOCH_TICKS,
            kind: DateKind::Utc,
        }
        .value(),
        ("DateTime", _) => return Err(missing()),
        ("TimeSpan", "Zero") => Value::TimeSpan(0),
        ("TimeSpan", "MaxValue") => Value::TimeSpan(i64::MAX),
        ("TimeSpan", "MinValue") => Value::TimeSpan(i64::MIN),
        ("TimeSpan", "TicksPerMillisecond") => Value::Long(TICKS_PER_MILLISECOND),
        ("TimeSpan", "TicksPerSecond") => Value::Long(TICKS_PER_SECOND),
        ("TimeSpan", "TicksPerMinute") => Value::Long(TICKS_PER_MINUTE),
        ("TimeSpan", "TicksPerHour") => Value::Long(TICKS_PER_HOUR),
        ("TimeSpan", "TicksPerDay") => Value::Long(TICKS_PER_DAY),
        ("TimeSpan", _) => return Err(missing()),
        ("DateTimeKind", "Utc" | "Local" | "Unspecified") => Value::str(name),
        ("DayOfWeek", day) if DAYS.contains(&day) => Value::str(day),
        ("DateTimeKind" | "DayOfWeek", _) => return Err(missing()),
        _ => return Ok(None),
    }))
}

fn whole(value: &Value, at: usize) -> Result<i64, RunError> {
    int(value, at)
}

/// `TimeSpan.FromSeconds(2.5)` and its siblings: `value` units of `scale` ticks.
fn span_from_units(value: &Value, scale: i64, at: usize) -> Result<Value, RunError> {
    match value {
        Value::Int(_) | Value::Long(_) => {
            span(i128::from(whole(value, at)?) * i128::from(scale), at)
        }
        other => span_from_f64(float(other, at)? * scale as f64, at),
    }
}

/// `DateTime.Parse`, `TimeSpan.FromMinutes`, `DateTime.DaysInMonth`…; `None` when `ty` is
/// neither `DateTime` nor `TimeSpan`.
pub fn static_call(
    interpreter: &mut Interpreter<'_>,
    ty: &str,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Outcome>, RunError> {
    let a = |i: usize| arg(args, i, name, at);
    let value = match (ty, name) {
        ("DateTime", "Parse") => {
            let text = interpreter.text_of(a(0)?);
            parse_date(&text).map(Date::value).ok_or_else(|| {
                fail(
                    at,
                    format!("String '{text}' was not recognized as a valid DateTime."),
                )
            })?
        }
        ("DateTime", "TryParse") => {
            let parsed = match a(0)? {
                Value::Null => None,
                text => parse_date(&interpreter.text_of(text)),
            };
            let out = parsed.unwrap_or(Date {
                ticks: 0,
                kind: DateKind::Unspecified,
            });
            let outs = vec![None; args.len().saturating_sub(1)]
                .into_iter()
                .chain([Some(out.value())])
                .collect();
            return Ok(Some((Value::Bool(parsed.is_some()), outs)));
        }
        ("DateTime", "Compare") | ("TimeSpan", "Compare") => {
            Value::Int(match compare(a(0)?, a(1)?) {
                Some(Ordering::Less) => -1,
                Some(Ordering::Equal) => 0,
                Some(Ordering::Greater) => 1,
                None => return Err(fail(at, format!("{ty}.Compare needs two {ty} values."))),
            })
        }
        ("DateTime", "DaysInMonth") => {
            let (year, month) = (whole(a(0)?, at)?, whole(a(1)?, at)?);
            if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
                return Err(fail(at, "Year or month is out of range."));
            }
            Value::Int(i32::try_from(days_in_month(year, month)).unwrap_or(31))
        }
        ("DateTime", "IsLeapYear") => Value::Bool(is_leap_year(whole(a(0)?, at)?)),
        ("DateTime", "SpecifyKind") => match (a(0)?, DateKind::from_value(a(1)?)) {
            (Value::DateTime(date), Some(kind)) => Date { kind, ..*date }.value(),
            _ => return Err(fail(at, "SpecifyKind needs a DateTime and a DateTimeKind.")),
        },
        ("TimeSpan", "FromDays") => span_from_units(a(0)?, TICKS_PER_DAY, at)?,
        ("TimeSpan", "FromHours") => span_from_units(a(0)?, TICKS_PER_HOUR, at)?,
        ("TimeSpan", "FromMinutes") => span_from_units(a(0)?, TICKS_PER_MINUTE, at)?,
        ("TimeSpan", "FromSeconds") => span_from_units(a(0)?, TICKS_PER_SECOND, at)?,
        ("TimeSpan", "FromMilliseconds") => span_from_units(a(0)?, TICKS_PER_MILLISECOND, at)?,
        ("TimeSpan", "FromTicks") => Value::TimeSpan(whole(a(0)?, at)?),
        ("TimeSpan", "Parse") => {
            let text = text_arg(a(0)?, at)?;
            parse_span(&text).map(Value::TimeSpan).ok_or_else(|| {
                fail(
                    at,
                    format!("String '{text}' was not recognized as a valid TimeSpan."),
                )
            })?
        }
        ("TimeSpan", "TryParse") => {
            let parsed = match a(0)? {
                Value::Null => None,
                text => parse_span(&text.to_text()),
            };
            let out = Value::TimeSpan(parsed.unwrap_or(0));
            return Ok(Some((Value::Bool(parsed.is_some()), vec![None, Some(out)])));
        }
        ("DateTime" | "TimeSpan", _) => {
            return Err(fail(
                at,
                format!("{ty}.{name} is not allowed in policy expressions."),
            ));
        }
        _ => return Ok(None),
    };
    Ok(Some((value, Vec::new())))
}

/// `new DateTime(…)` and `new TimeSpan(…)`; `None` for other types.
pub fn construct(ty: &str, args: &[Value], at: usize) -> Result<Option<Value>, RunError> {
    match ty {
        "DateTime" => new_date(args, at).map(Some),
        "TimeSpan" => new_span(args, at).map(Some),
        _ => Ok(None),
    }
}

/// `new DateTime(ticks[, kind])`, `(y, M, d)`, `(y, M, d, h, m, s[, ms][, kind])`.
fn new_date(args: &[Value], at: usize) -> Result<Value, RunError> {
    let (kind, numbers) = match args.split_last() {
        Some((last, rest)) => match DateKind::from_value(last) {
            Some(kind) => (kind, rest),
            None => (DateKind::Unspecified, args),
        },
        None => (DateKind::Unspecified, args),
    };
    let mut fields = [1, 1, 1, 0, 0, 0, 0];
    match numbers.len() {
        0 => return Ok(Date { ticks: 0, kind }.value()),
        1 => {
            let ticks = whole(arg(numbers, 0, "new DateTime", at)?, at)?;
            if !(0..=MAX_TICKS).contains(&ticks) {
                return Err(fail(
                    at,
                    "Ticks must be between DateTime.MinValue.Ticks and DateTime.MaxValue.Ticks.",
                ));
            }
            return Ok(Date { ticks, kind }.value());
        }
        3 | 6 | 7 => {
            for (field, value) in fields.iter_mut().zip(numbers) {
                *field = whole(value, at)?;
            }
        }
        n => {
            return Err(fail(
                at,
                format!("DateTime has no constructor that takes {n} arguments."),
            ));
        }
    }
    Ok(Date {
        ticks: ticks_of(fields, at)?,
        kind,
    }
    .value())
}

/// `new TimeSpan(ticks)`, `(h, m, s)`, `(d, h, m, s)`, `(d, h, m, s, ms)`.
fn new_span(args: &[Value], at: usize) -> Result<Value, RunError> {
    let mut numbers = Vec::with_capacity(5);
    for value in args.iter().take(5) {
        numbers.push(i128::from(whole(value, at)?));
    }
    let units: &[i64] = match numbers.len() {
        0 => &[],
        1 => &[1],
        3 => &[TICKS_PER_HOUR, TICKS_PER_MINUTE, TICKS_PER_SECOND],
        4 => &[
            TICKS_PER_DAY,
            TICKS_PER_HOUR,
            TICKS_PER_MINUTE,
            TICKS_PER_SECOND,
        ],
        5 => &[
            TICKS_PER_DAY,
            TICKS_PER_HOUR,
            TICKS_PER_MINUTE,
            TICKS_PER_SECOND,
            TICKS_PER_MILLISECOND,
        ],
        n => {
            return Err(fail(
                at,
                format!("TimeSpan has no constructor that takes {n} arguments."),
            ));
        }
    };
    let ticks = numbers
        .iter()
        .zip(units)
        .map(|(n, unit)| n * i128::from(*unit))
        .sum();
    span(ticks, at)
}

// ---- instance members ----------------------------------------------------------------------

/// A `DateTime`'s properties.
pub fn date_property(date: Date, name: &str) -> Option<Value> {
    let c = civil(date.ticks);
    let int = |n: i64| Value::Int(i32::try_from(n).unwrap_or(0));
    Some(match name {
        "Year" => int(c.year),
        "Month" => int(c.month),
        "Day" => int(c.day),
        "Hour" => int(c.hour),
        "Minute" => int(c.minute),
        "Second" => int(c.second),
        "Millisecond" => int(c.fraction / TICKS_PER_MILLISECOND),
        "DayOfWeek" => Value::str(DAYS.get(c.weekday).copied().unwrap_or_default()),
        "DayOfYear" => int(c.day_of_year),
        "Ticks" => Value::Long(date.ticks),
        "Kind" => Value::str(date.kind.name()),
        "Date" => Date {
            ticks: date.ticks - date.ticks.rem_euclid(TICKS_PER_DAY),
            ..date
        }
        .value(),
        "TimeOfDay" => Value::TimeSpan(date.ticks.rem_euclid(TICKS_PER_DAY)),
        _ => return None,
    })
}

/// A `TimeSpan`'s properties.
pub fn span_property(ticks: i64, name: &str) -> Option<Value> {
    let part = |n: i64| Value::Int(i32::try_from(n).unwrap_or(0));
    let total = |unit: i64| Value::Double(ticks as f64 / unit as f64);
    Some(match name {
        "Ticks" => Value::Long(ticks),
        "Days" => part(ticks / TICKS_PER_DAY),
        "Hours" => part(ticks / TICKS_PER_HOUR % 24),
        "Minutes" => part(ticks / TICKS_PER_MINUTE % 60),
        "Seconds" => part(ticks / TICKS_PER_SECOND % 60),
        "Milliseconds" => part(ticks / TICKS_PER_MILLISECOND % 1000),
        "TotalDays" => total(TICKS_PER_DAY),
        "TotalHours" => total(TICKS_PER_HOUR),
        "TotalMinutes" => total(TICKS_PER_MINUTE),
        "TotalSeconds" => total(TICKS_PER_SECOND),
        "TotalMilliseconds" => total(TICKS_PER_MILLISECOND),
        _ => return None,
    })
}

/// `date.AddHours(1.5)` and its siblings, as .NET 7 and later compute them: the whole part
/// exactly, the fraction to the tick below.
fn add_units(date: Date, value: &Value, scale: i64, at: usize) -> Result<Value, RunError> {
    let amount = float(value, at)?;
    if !amount.is_finite() {
        return Err(fail(at, UNREPRESENTABLE));
    }
    let integral = amount.trunc();
    let whole_ticks = (integral as i128)
        .checked_mul(i128::from(scale))
        .ok_or_else(|| fail(at, UNREPRESENTABLE))?;
    let fraction_ticks = ((amount - integral) * scale as f64) as i128;
    Date::new(
        i128::from(date.ticks) + whole_ticks + fraction_ticks,
        date.kind,
        at,
    )
    .map(Date::value)
}

/// `AddMonths`: the same day in the month `months` later, or that month's last day.
fn add_months(date: Date, months: i64, at: usize) -> Result<Value, RunError> {
    if !(-120_000..=120_000).contains(&months) {
        return Err(fail(at, "Months value must be between +/-120000."));
    }
    let c = civil(date.ticks);
    let index = c.year * 12 + (c.month - 1) + months;
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    if !(1..=9999).contains(&year) {
        return Err(fail(at, UNREPRESENTABLE));
    }
    let day = c.day.min(days_in_month(year, month));
    let time = date.ticks.rem_euclid(TICKS_PER_DAY);
    let ticks = ticks_of([year, month, day, 0, 0, 0, 0], at)? + time;
    Ok(Date { ticks, ..date }.value())
}

/// A `DateTime`'s methods (`ToString`, `Equals` and `CompareTo` are every value's).
pub fn date_method(
    interpreter: &mut Interpreter<'_>,
    date: Date,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    let a = |i: usize| arg(args, i, name, at);
    Ok(Some(match name {
        "AddTicks" => Date::new(
            i128::from(date.ticks) + i128::from(whole(a(0)?, at)?),
            date.kind,
            at,
        )?
        .value(),
        "AddMilliseconds" => add_units(date, a(0)?, TICKS_PER_MILLISECOND, at)?,
        "AddSeconds" => add_units(date, a(0)?, TICKS_PER_SECOND, at)?,
        "AddMinutes" => add_units(date, a(0)?, TICKS_PER_MINUTE, at)?,
        "AddHours" => add_units(date, a(0)?, TICKS_PER_HOUR, at)?,
        "AddDays" => add_units(date, a(0)?, TICKS_PER_DAY, at)?,
        "AddMonths" => add_months(date, whole(a(0)?, at)?, at)?,
        "AddYears" => {
            let years = whole(a(0)?, at)?;
            if !(-10_000..=10_000).contains(&years) {
                return Err(fail(at, "Years value must be between +/-10000."));
            }
            add_months(date, years * 12, at)?
        }
        "Add" => match a(0)? {
            span @ Value::TimeSpan(_) => {
                binary(BinaryOp::Add, &date.value(), span, at)?.unwrap_or(Value::Null)
            }
            other => return Err(expected_span(other, at)),
        },
        "Subtract" => match a(0)? {
            other @ (Value::TimeSpan(_) | Value::DateTime(_)) => {
                binary(BinaryOp::Sub, &date.value(), other, at)?.unwrap_or(Value::Null)
            }
            other => return Err(expected_span(other, at)),
        },
        "ToUniversalTime" => Date {
            kind: DateKind::Utc,
            ..date
        }
        .value(),
        "ToLocalTime" => Date {
            kind: DateKind::Local,
            ..date
        }
        .value(),
        "ToShortDateString" | "ToLongDateString" | "ToShortTimeString" | "ToLongTimeString" => {
            let format = match name {
                "ToShortDateString" => "d",
                "ToLongDateString" => "D",
                "ToShortTimeString" => "t",
                _ => "T",
            };
            string_value(interpreter, format_date(date, format).unwrap_or_default())?
        }
        _ => return Ok(None),
    }))
}

fn expected_span(other: &Value, at: usize) -> RunError {
    fail(
        at,
        format!("expected a TimeSpan, not {}.", other.type_name()),
    )
}

/// A `TimeSpan`'s methods.
pub fn span_method(
    ticks: i64,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    let a = |i: usize| arg(args, i, name, at);
    let this = Value::TimeSpan(ticks);
    Ok(Some(match name {
        "Add" => binary(BinaryOp::Add, &this, a(0)?, at)?.unwrap_or(Value::Null),
        "Subtract" => binary(BinaryOp::Sub, &this, a(0)?, at)?.unwrap_or(Value::Null),
        "Multiply" => binary(BinaryOp::Mul, &this, a(0)?, at)?.unwrap_or(Value::Null),
        "Divide" => binary(BinaryOp::Div, &this, a(0)?, at)?.unwrap_or(Value::Null),
        "Negate" => negate(ticks, at)?,
        "Duration" => span(i128::from(ticks).abs(), at)?,
        _ => return Ok(None),
    }))
}

/// `(DateTime)token` and `(TimeSpan)token`: a JSON string read as .NET parses one.
pub fn from_text(type_name: &str, text: &str) -> Option<Value> {
    match type_name {
        "DateTime" => parse_date(text).map(Date::value),
        "TimeSpan" => parse_span(text).map(Value::TimeSpan),
        _ => None,
    }
}

/// A date as JSON writes it (Newtonsoft's ISO 8601: `2024-05-01T10:00:00Z`, the fraction
/// only when there is one).
pub fn json_text(date: Date) -> String {
    format_date(date, "yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFK").unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{eval, eval_err};

    #[test]
    fn the_calendar_round_trips() {
        for days in [0, 1, 58, 59, 365, 719_162, 730_000, 3_652_058] {
            let (y, m, d) = civil_from_days(days - DAYS_TO_UNIX_EPOCH);
            assert_eq!(days_from_civil(y, m, d) + DAYS_TO_UNIX_EPOCH, days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil(0).weekday, 1, "0001-01-01 was a Monday");
    }

    #[test]
    fn constructors_members_and_formats() {
        assert_eq!(eval("new DateTime(2024, 2, 29).DayOfWeek"), "Thursday");
        assert_eq!(
            eval("new DateTime(2024, 5, 1, 13, 4, 5).ToString()"),
            "05/01/2024 13:04:05"
        );
        assert_eq!(
            eval("new DateTime(2024, 5, 1, 13, 4, 5, DateTimeKind.Utc).ToString(\"o\")"),
            "2024-05-01T13:04:05.0000000Z"
        );
        assert_eq!(
            eval("new DateTime(2024, 5, 1).ToString(\"o\")"),
            "2024-05-01T00:00:00.0000000"
        );
        assert_eq!(
            eval("new DateTime(2024, 5, 1, 13, 4, 5).ToString(\"yyyy-MM-ddTHH:mm:ssZ\")"),
            "2024-05-01T13:04:05Z"
        );
        assert_eq!(
            eval(
                "new DateTime(2024, 5, 1, 1, 4, 5, 250).ToString(\"dddd d MMM yy, h:mm tt .fff\")"
            ),
            "Wednesday 1 May 24, 1:04 AM .250"
        );
        assert_eq!(
            eval("new DateTime(2024, 5, 1, 13, 4, 5).ToString(\"r\")"),
            "Wed, 01 May 2024 13:04:05 GMT"
        );
        assert_eq!(
            eval("new DateTime(2024, 5, 1).ToString(\"yyyy/MM/dd 'at' HH\\\\h\")"),
            "2024/05/01 at 00h"
        );
        assert_eq!(
            eval("$\"{new DateTime(2024, 5, 1):yyyy-MM-dd} {TimeSpan.FromHours(1):c}\""),
            "2024-05-01 01:00:00"
        );
        assert_eq!(
            eval(
                "new DateTime(2023, 12, 31, 23, 59, 58).Year + \"-\" + new DateTime(2023, 12, 31).DayOfYear"
            ),
            "2023-365"
        );
        assert_eq!(eval("new DateTime(2024, 1, 1).Ticks"), "638396640000000000");
        assert_eq!(
            eval("new DateTime(2024, 1, 1, 10, 0, 0).Date == new DateTime(2024, 1, 1)"),
            "True"
        );
        assert!(eval_err("new DateTime(2023, 2, 29)").contains("un-representable"));
        assert!(eval_err("new DateTime(2023, 1, 1).ToString(\"q\")").contains("format"));
    }

    #[test]
    fn arithmetic_and_comparisons() {
        assert_eq!(
            eval("new DateTime(2024, 1, 31).AddMonths(1).ToString(\"yyyy-MM-dd\")"),
            "2024-02-29"
        );
        assert_eq!(
            eval("new DateTime(2024, 1, 1).AddHours(-1.5).ToString(\"s\")"),
            "2023-12-31T22:30:00"
        );
        assert_eq!(
            eval("(new DateTime(2024, 1, 2) - new DateTime(2024, 1, 1, 12, 0, 0)).TotalHours"),
            "12"
        );
        assert_eq!(
            eval("(new DateTime(2024, 1, 1) + TimeSpan.FromMinutes(90)).ToString(\"HH:mm\")"),
            "01:30"
        );
        assert_eq!(
            eval("(new DateTime(2024, 1, 1) - new TimeSpan(1, 0, 0)).ToString(\"u\")"),
            "2023-12-31 23:00:00Z"
        );
        assert_eq!(
            eval("new DateTime(2024, 1, 1).Add(TimeSpan.FromDays(1)).Day"),
            "2"
        );
        assert_eq!(
            eval("new DateTime(2024, 1, 1) < new DateTime(2024, 1, 2)"),
            "True"
        );
        assert_eq!(
            eval("new DateTime(2024, 1, 1) >= new DateTime(2024, 1, 2)"),
            "False"
        );
        assert_eq!(
            eval("new DateTime(2024, 1, 1).AddSeconds(1) != new DateTime(2024, 1, 1)"),
            "True"
        );
        assert!(eval_err("DateTime.MaxValue.AddDays(1)").contains("un-representable"));
        assert_eq!(
            eval("new DateTime(2024, 1, 1).ToUniversalTime().ToString(\"o\")"),
            "2024-01-01T00:00:00.0000000Z"
        );
    }

    /// A host whose clock stands at 2024-05-01 10:00:00.5 UTC.
    struct FixedClock;

    impl crate::Host for FixedClock {
        fn member(&self, _: &str, _: &str) -> Option<Result<Value, String>> {
            None
        }
        fn call(
            &self,
            _: &str,
            _: &str,
            _: &[crate::syntax::TypeName],
            _: &[Value],
        ) -> Option<Result<Value, String>> {
            None
        }
        fn index(&self, _: &str, _: &Value) -> Option<Result<Value, String>> {
            None
        }
        fn items(&self, _: &str) -> Option<Vec<Value>> {
            None
        }
        fn now(&self) -> std::time::SystemTime {
            std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_714_557_600_500)
        }
    }

    #[test]
    fn the_clock_is_the_hosts() {
        let run = |source: &str| {
            crate::Program::expression(source, 0)
                .unwrap()
                .run(&FixedClock, crate::Limits::default())
                .unwrap()
                .to_text()
        };
        assert_eq!(
            run("DateTime.UtcNow.ToString(\"o\")"),
            "2024-05-01T10:00:00.5000000Z"
        );
        assert_eq!(
            run("DateTime.Now.ToString(\"o\")"),
            "2024-05-01T10:00:00.5000000+00:00"
        );
        assert_eq!(run("DateTime.Today.ToString(\"s\")"), "2024-05-01T00:00:00");
        assert_eq!(
            run("(DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds"),
            "1714557600.5"
        );
    }

    #[test]
    fn the_clock_and_parsing() {
        assert_eq!(eval("DateTime.UtcNow.Year >= 2024"), "True");
        assert_eq!(eval("DateTime.UtcNow.Kind"), "Utc");
        assert_eq!(
            eval("(DateTime.Now - DateTime.UtcNow).TotalMinutes < 1"),
            "True"
        );
        assert_eq!(
            eval("DateTime.Parse(\"2024-05-01T10:20:30.5+02:00\").ToString(\"o\")"),
            "2024-05-01T08:20:30.5000000Z"
        );
        assert_eq!(
            eval("DateTime.Parse(\"2024-05-01\").ToString(\"yyyy-MM-dd HH:mm\")"),
            "2024-05-01 00:00"
        );
        assert_eq!(
            eval("DateTime.Parse(\"Wed, 01 May 2024 13:04:05 GMT\").Hour"),
            "13"
        );
        assert_eq!(eval("DateTime.Parse(\"2024-05-01T10:20Z\").Minute"), "20");
        assert!(eval_err("DateTime.Parse(\"yesterday\")").contains("not recognized"));
        assert_eq!(
            crate::testing::block(
                "DateTime d; var ok = DateTime.TryParse(\"2024-02-03 04:05:06\", out d); return ok + \" \" + d.ToString(\"s\");"
            ),
            "True 2024-02-03T04:05:06"
        );
    }

    #[test]
    fn time_spans() {
        assert_eq!(eval("new TimeSpan(1, 2, 3).ToString()"), "01:02:03");
        assert_eq!(
            eval("TimeSpan.FromSeconds(90061.5).ToString()"),
            "1.01:01:01.5000000"
        );
        assert_eq!(eval("TimeSpan.FromMinutes(-90).ToString()"), "-01:30:00");
        assert_eq!(eval("TimeSpan.FromHours(1.5).TotalMinutes"), "90");
        assert_eq!(eval("TimeSpan.FromMilliseconds(1500).Seconds"), "1");
        assert_eq!(
            eval("new TimeSpan(2, 3, 4, 5).Days * 100 + new TimeSpan(2, 3, 4, 5).Hours"),
            "203"
        );
        assert_eq!(eval("TimeSpan.FromDays(1).TotalSeconds"), "86400");
        assert_eq!(
            eval(
                "(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1) - TimeSpan.FromSeconds(30)).ToString()"
            ),
            "01:00:30"
        );
        assert_eq!(
            eval("TimeSpan.FromHours(1) > TimeSpan.FromMinutes(59)"),
            "True"
        );
        assert_eq!(
            eval("TimeSpan.FromHours(1) == TimeSpan.FromMinutes(60)"),
            "True"
        );
        assert_eq!(eval("(-TimeSpan.FromHours(2)).Hours"), "-2");
        assert_eq!(eval("(TimeSpan.FromHours(2) * 1.5).ToString()"), "03:00:00");
        assert_eq!(
            eval("TimeSpan.Parse(\"1.02:03:04.5\").TotalSeconds"),
            "93784.5"
        );
        assert_eq!(
            eval("TimeSpan.FromMinutes(75).ToString(\"hh\\\\:mm\")"),
            "01:15"
        );
        assert_eq!(eval("TimeSpan.FromMinutes(75).ToString(\"g\")"), "1:15:00");
        assert!(eval_err("TimeSpan.FromDays(1e300)").contains("overflowed"));
    }
}
