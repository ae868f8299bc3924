//! Cells as readers give them, typed values as Table Schema casts them, and the casting rules.
//!
//! Casting follows frictionless-py 5.21 (the reference the conformance corpus was made with): default formats,
//! `trueValues`/`falseValues`, `bareNumber`, `decimalChar`/`groupChar`, NaN and ±INF as numbers. Deliberate
//! differences are listed in README ("Conformance").

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// One cell as a reader produced it. CSV gives text; JSON Lines and Parquet give typed scalars.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// JSON null or a Parquet null.
    Null,
    Text(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Cell<'_> {
    /// The cell as text, for findings and for string-typed fields.
    pub fn display(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Text(s) => s.to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => format_float(*f),
            Cell::Bool(b) => b.to_string(),
        }
    }
}

pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "INF".into()
        } else {
            "-INF".into()
        }
    } else {
        f.to_string()
    }
}

/// A value cast to its field's type. Dates and times are kept as plain numbers so that comparing and hashing
/// them is cheap.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    Str(Cow<'a, str>),
    Num(f64),
    Int(i64),
    Bool(bool),
    /// Days since 1970-01-01.
    Date(i64),
    /// Microseconds since 1970-01-01T00:00:00, in UTC when the text had an offset.
    DateTime(i64),
    /// Microseconds since midnight.
    Time(i64),
    Year(i64),
    /// `year * 12 + (month - 1)`.
    YearMonth(i64),
    /// Months and seconds, as ISO 8601 durations keep them apart.
    Duration(i64, f64),
}

impl Val<'_> {
    pub fn into_owned(self) -> Val<'static> {
        match self {
            Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
            Val::Num(x) => Val::Num(x),
            Val::Int(x) => Val::Int(x),
            Val::Bool(x) => Val::Bool(x),
            Val::Date(x) => Val::Date(x),
            Val::DateTime(x) => Val::DateTime(x),
            Val::Time(x) => Val::Time(x),
            Val::Year(x) => Val::Year(x),
            Val::YearMonth(x) => Val::YearMonth(x),
            Val::Duration(m, s) => Val::Duration(m, s),
        }
    }

    /// Order between two values of one field. `None` when they do not compare (NaN, or different kinds), which
    /// fails every range constraint, as Decimal('NaN') does in frictionless.
    #[inline]
    pub fn compare(&self, other: &Val<'_>) -> Option<Ordering> {
        match (self, other) {
            (Val::Num(a), Val::Num(b)) => a.partial_cmp(b),
            (Val::Int(a), Val::Int(b)) => Some(a.cmp(b)),
            (Val::Int(a), Val::Num(b)) => (*a as f64).partial_cmp(b),
            (Val::Num(a), Val::Int(b)) => a.partial_cmp(&(*b as f64)),
            (Val::Str(a), Val::Str(b)) => Some(a.cmp(b)),
            (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
            (Val::Date(a), Val::Date(b))
            | (Val::DateTime(a), Val::DateTime(b))
            | (Val::Time(a), Val::Time(b))
            | (Val::Year(a), Val::Year(b))
            | (Val::YearMonth(a), Val::YearMonth(b)) => Some(a.cmp(b)),
            (Val::Duration(m1, s1), Val::Duration(m2, s2)) => {
                // Approximate months as the Gregorian mean so that mixed durations still order.
                let a = *m1 as f64 * 2_629_746.0 + s1;
                let b = *m2 as f64 * 2_629_746.0 + s2;
                a.partial_cmp(&b)
            }
            _ => None,
        }
    }

    /// Equality for enum and uniqueness: numbers compare by value (so `-0` equals `0`, `4e4` equals `4E4`).
    pub fn same(&self, other: &Val<'_>) -> bool {
        self.compare(other) == Some(Ordering::Equal)
    }

    /// The value as a number, for table statistics (mean, min, max).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Num(x) => Some(*x),
            Val::Int(x) | Val::Year(x) => Some(*x as f64),
            _ => None,
        }
    }

    /// Appends a canonical form of the value: equal values (by [`Val::same`]) give equal bytes.
    pub fn canonical_bytes(&self, out: &mut Vec<u8>) {
        match self {
            Val::Str(s) => {
                out.push(1);
                out.extend_from_slice(s.as_bytes());
            }
            // Integers and integral numbers must agree, since 1 and 1.0 are the same value.
            Val::Int(i) => {
                out.push(2);
                out.extend_from_slice(&(*i as f64).to_bits().to_le_bytes());
            }
            Val::Num(x) => {
                out.push(2);
                let x = if *x == 0.0 { 0.0 } else { *x };
                out.extend_from_slice(&x.to_bits().to_le_bytes());
            }
            Val::Bool(b) => out.extend_from_slice(&[3, *b as u8]),
            Val::Date(x) | Val::DateTime(x) | Val::Time(x) | Val::Year(x) | Val::YearMonth(x) => {
                let tag = match self {
                    Val::Date(_) => 4,
                    Val::DateTime(_) => 5,
                    Val::Time(_) => 6,
                    Val::Year(_) => 7,
                    _ => 8,
                };
                out.push(tag);
                out.extend_from_slice(&x.to_le_bytes());
            }
            Val::Duration(m, s) => {
                out.push(9);
                out.extend_from_slice(&m.to_le_bytes());
                out.extend_from_slice(&s.to_bits().to_le_bytes());
            }
        }
    }
}

/// Number options of a field (Table Schema `decimalChar`, `groupChar`, `bareNumber`).
#[derive(Debug, Clone)]
pub struct NumberFormat {
    pub decimal_char: char,
    pub group_char: Option<char>,
    pub bare_number: bool,
}

impl Default for NumberFormat {
    fn default() -> Self {
        NumberFormat {
            decimal_char: '.',
            group_char: None,
            bare_number: true,
        }
    }
}

/// Trims white space, checking the ASCII ends first (the common case) before Unicode white space.
fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() => s,
        _ => s.trim(),
    }
}

fn normalise_number<'a>(s: &'a str, f: &NumberFormat, integer: bool) -> Cow<'a, str> {
    let mut out: Cow<'a, str> = Cow::Borrowed(trim(s));
    if let Some(g) = f.group_char {
        if out.contains(g) {
            out = Cow::Owned(out.replace(g, ""));
        }
    }
    if f.decimal_char != '.' && out.contains(f.decimal_char) {
        out = Cow::Owned(out.replace(f.decimal_char, "."));
    }
    if !f.bare_number {
        // Strip leading and trailing characters that cannot be part of a number ("€ 12", "95%").
        let keep = |c: char| {
            c.is_ascii_digit()
                || (!integer && matches!(c, '.' | 'e' | 'E'))
                || matches!(c, '+' | '-')
        };
        let t = out.trim_matches(|c: char| !keep(c) && !c.is_ascii_digit());
        let t = t.trim_start_matches(|c: char| {
            !(c.is_ascii_digit() || c == '-' || c == '+' || c == '.')
        });
        out = Cow::Owned(t.to_string());
    }
    out
}

impl NumberFormat {
    fn is_plain(&self) -> bool {
        self.bare_number && self.group_char.is_none() && self.decimal_char == '.'
    }
}

/// Plain decimal digits with an optional sign, as an i64 (None on anything else or overflow).
fn plain_integer(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (d - b'0') as i64;
    }
    Some(if neg { -v } else { v })
}

/// A plain decimal (`[+-]digits[.digits]`, at most 15 digits, no exponent) by Clinger's fast path: the digits
/// as an integer and the power of ten are both exact doubles, so one division is correctly rounded, the same
/// value as Rust's (and Python's) float parser, which reaches this path only after a general scan.
fn plain_decimal(b: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (neg, rest) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    // The integer digits, then the fraction's: two tight loops, not a match on every byte. `m` may wrap on a long
    // run of digits; such a number is turned away below (more than 15 digits) before `m` is used.
    let digit = |c: u8| c.wrapping_sub(b'0') < 10;
    let mut m = 0u64;
    let mut i = 0;
    while i < rest.len() && digit(rest[i]) {
        m = m.wrapping_mul(10).wrapping_add(u64::from(rest[i] - b'0'));
        i += 1;
    }
    let whole = i;
    if i < rest.len() && rest[i] == b'.' {
        i += 1;
    }
    let dot = i;
    while i < rest.len() && digit(rest[i]) {
        m = m.wrapping_mul(10).wrapping_add(u64::from(rest[i] - b'0'));
        i += 1;
    }
    let scale = i - dot;
    let digits = whole + scale;
    if i != rest.len() || digits == 0 || digits > 15 {
        return None;
    }
    let x = m as f64 / POW10[scale];
    Some(if neg { -x } else { x })
}

pub fn parse_number(s: &str, f: &NumberFormat) -> Option<f64> {
    if f.is_plain() {
        let t = trim(s);
        if let Some(x) = plain_decimal(t.as_bytes()) {
            return Some(x);
        }
        let first = *t.as_bytes().first()?;
        if !(first.is_ascii_digit()
            || matches!(first, b'+' | b'-' | b'.' | b'i' | b'I' | b'n' | b'N'))
        {
            return None;
        }
        return t.parse::<f64>().ok();
    }
    let t = normalise_number(s, f, false);
    let t: &str = t.as_ref();
    if t.is_empty() {
        return None;
    }
    // Rust's float parser accepts what Python's Decimal does for finite values, and "inf"/"infinity"/"nan"
    // case-insensitively with a sign; reject hex and other forms by checking the first character.
    let first = t.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.' | b'i' | b'I' | b'n' | b'N'))
    {
        return None;
    }
    t.parse::<f64>().ok()
}

pub fn parse_integer(s: &str, f: &NumberFormat) -> Option<i64> {
    if f.is_plain() {
        if let Some(v) = plain_integer(s.as_bytes()) {
            return Some(v);
        }
    }
    let t = normalise_number(s, f, true);
    let t: &str = t.as_ref();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<i64>().ok()
}

fn two(b: &[u8], i: usize) -> Option<u32> {
    let (a, c) = (*b.get(i)?, *b.get(i + 1)?);
    if a.is_ascii_digit() && c.is_ascii_digit() {
        Some(((a - b'0') * 10 + (c - b'0')) as u32)
    } else {
        None
    }
}

fn days_since_epoch(d: NaiveDate) -> i64 {
    d.num_days_from_ce() as i64 - 719_163
}

/// `YYYY-MM-DD`, the default date format.
pub fn parse_iso_date(s: &str) -> Option<i64> {
    let b: &[u8; 10] = s.as_bytes().try_into().ok()?;
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    // Every other byte a digit, tested at once; then the values, with no bounds checks (the length is known).
    let d = |i: usize| u32::from(b[i].wrapping_sub(b'0'));
    if [0, 1, 2, 3, 5, 6, 8, 9].iter().any(|&i| d(i) > 9) {
        return None;
    }
    let y = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3);
    let (m, day) = (d(5) * 10 + d(6), d(8) * 10 + d(9));
    if y == 0 || !(1..=12).contains(&m) || day == 0 || day > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, day))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`): plain arithmetic,
/// several times cheaper than building a chrono date for every cell of a date column.
/// The year is 1 to 9999 (`parse_iso_date`), so the arithmetic is unsigned: divisions by constants without the
/// sign corrections of `div_euclid`.
fn days_from_civil(y: u32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let (era, yoe) = (y / 400, y % 400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    i64::from(era) * 146_097 + i64::from(doe) - 719_468
}

/// Parses `HH:MM:SS[.ffffff]` and an optional UTC offset (`Z`, `±HH:MM`, `±HHMM`, `±HH`).
/// Returns microseconds since midnight and the offset in seconds.
fn parse_iso_time(s: &str) -> Option<(i64, Option<i64>)> {
    let b = s.as_bytes();
    let head: &[u8; 8] = b.get(..8)?.try_into().ok()?;
    if head[2] != b':' || head[5] != b':' {
        return None;
    }
    let d = |i: usize| u32::from(head[i].wrapping_sub(b'0'));
    if [0, 1, 3, 4, 6, 7].iter().any(|&i| d(i) > 9) {
        return None;
    }
    let (h, m, sec) = (d(0) * 10 + d(1), d(3) * 10 + d(4), d(6) * 10 + d(7));
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let mut i = 8;
    let mut micros: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &s[start..i];
        if frac.is_empty() {
            return None;
        }
        let digits: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
        micros = digits.parse().ok()?;
    }
    let rest = &s[i..];
    let offset = if rest.is_empty() {
        None
    } else if rest == "Z" || rest == "z" {
        Some(0)
    } else {
        let sign = match rest.as_bytes()[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let r = &rest[1..];
        let rb = r.as_bytes();
        let (oh, om) = match r.len() {
            2 => (two(rb, 0)?, 0),
            4 => (two(rb, 0)?, two(rb, 2)?),
            5 if rb[2] == b':' => (two(rb, 0)?, two(rb, 3)?),
            _ => return None,
        };
        Some(sign * (oh as i64 * 3600 + om as i64 * 60))
    };
    let t = (h as i64 * 3600 + m as i64 * 60 + sec as i64) * 1_000_000 + micros;
    Some((t, offset))
}

/// The default datetime format: ISO 8601 `YYYY-MM-DDTHH:MM:SS[.f][offset]` (a space may stand for `T`).
pub fn parse_iso_datetime(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    let days = parse_iso_date(s.get(0..10)?)?;
    let (t, off) = parse_iso_time(s.get(11..)?)?;
    Some(days * 86_400_000_000 + t - off.unwrap_or(0) * 1_000_000)
}

pub fn parse_default_time(s: &str) -> Option<i64> {
    parse_iso_time(s).map(|(t, _)| t)
}

/// Python `strptime` formats (`%d.%m.%Y`) mapped onto chrono's, which share the common directives.
fn strptime_format(fmt: &str) -> &str {
    fmt.strip_prefix("fmt:").unwrap_or(fmt)
}

pub fn parse_date_with(s: &str, fmt: &str) -> Option<i64> {
    match fmt {
        "default" | "" => parse_iso_date(s),
        "any" => parse_iso_date(s).or_else(|| {
            [
                "%Y/%m/%d",
                "%d/%m/%Y",
                "%m/%d/%Y",
                "%d.%m.%Y",
                "%Y%m%d",
                "%d %B %Y",
                "%B %d, %Y",
            ]
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(s, f).ok().map(days_since_epoch))
        }),
        f => NaiveDate::parse_from_str(s, strptime_format(f))
            .ok()
            .map(days_since_epoch),
    }
}

fn datetime_micros(dt: NaiveDateTime) -> i64 {
    dt.and_utc().timestamp_micros()
}

pub fn parse_datetime_with(s: &str, fmt: &str) -> Option<i64> {
    match fmt {
        "default" | "" => {
            // frictionless guards against dateutil's shorter forms: a colon at 16 and at least 19 characters.
            if s.len() < 19 || s.as_bytes().get(16) != Some(&b':') {
                return None;
            }
            parse_iso_datetime(s)
        }
        "any" => parse_iso_datetime(s).or_else(|| {
            [
                "%Y-%m-%d %H:%M",
                "%Y/%m/%d %H:%M:%S",
                "%d/%m/%Y %H:%M:%S",
                "%Y-%m-%dT%H:%M",
            ]
            .iter()
            .find_map(|f| {
                NaiveDateTime::parse_from_str(s, f)
                    .ok()
                    .map(datetime_micros)
            })
        }),
        f => {
            let f = strptime_format(f);
            if f.contains("%z") || f.contains("%Z") {
                chrono::DateTime::parse_from_str(s, f)
                    .ok()
                    .map(|d| d.timestamp_micros())
            } else {
                NaiveDateTime::parse_from_str(s, f)
                    .ok()
                    .map(datetime_micros)
            }
        }
    }
}

pub fn parse_time_with(s: &str, fmt: &str) -> Option<i64> {
    match fmt {
        "default" | "" | "any" => parse_default_time(s),
        f => NaiveTime::parse_from_str(s, strptime_format(f))
            .ok()
            .map(|t| {
                t.num_seconds_from_midnight() as i64 * 1_000_000 + (t.nanosecond() / 1000) as i64
            }),
    }
}

pub fn parse_year(s: &str) -> Option<i64> {
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

pub fn parse_yearmonth(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 7 || b[4] != b'-' {
        return None;
    }
    let y = parse_year(&s[0..4])?;
    let m = two(b, 5)? as i64;
    if !(1..=12).contains(&m) {
        return None;
    }
    Some(y * 12 + m - 1)
}

/// ISO 8601 durations, `PnYnMnDTnHnMnS` and `PnW`.
pub fn parse_duration(s: &str) -> Option<(i64, f64)> {
    let rest = s.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let (mut months, mut secs) = (0i64, 0f64);
    let mut in_time = false;
    let mut num = String::new();
    let mut any = false;
    for ch in rest.chars() {
        match ch {
            'T' if !in_time => {
                if !num.is_empty() {
                    return None;
                }
                in_time = true;
            }
            '0'..='9' | '.' | ',' => num.push(if ch == ',' { '.' } else { ch }),
            unit => {
                let n: f64 = num.parse().ok()?;
                num.clear();
                any = true;
                // Years and months past what an i64 of months holds (the casts saturate) are no duration mlgate
                // can compare: the cell is not a duration, rather than a sum that overflows.
                match (in_time, unit) {
                    (false, 'Y') => months = months.checked_add((n * 12.0) as i64)?,
                    (false, 'M') => months = months.checked_add(n as i64)?,
                    (false, 'W') => secs += n * 604_800.0,
                    (false, 'D') => secs += n * 86_400.0,
                    (true, 'H') => secs += n * 3600.0,
                    (true, 'M') => secs += n * 60.0,
                    (true, 'S') => secs += n,
                    _ => return None,
                }
            }
        }
    }
    if !num.is_empty() || !any {
        return None;
    }
    Some((months, secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path gives the float parser's value, bit for bit, wherever it answers, and answers on the
    /// decimals that data files are full of.
    #[test]
    fn plain_decimals_are_parsed_as_the_float_parser_does() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut answered = 0;
        for i in 0..200_000u64 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let digits = (state % 10_u64.pow(1 + (i % 17) as u32)).to_string();
            let cut = (state >> 40) as usize % (digits.len() + 1);
            let sign = ["", "-", "+"][(state >> 60) as usize % 3];
            let text = format!("{sign}{}.{}", &digits[..cut], &digits[cut..]);
            for t in [text.as_str(), text.trim_end_matches('.'), &digits] {
                if let Some(x) = plain_decimal(t.as_bytes()) {
                    answered += 1;
                    assert_eq!(x.to_bits(), t.parse::<f64>().unwrap().to_bits(), "{t}");
                }
            }
        }
        assert!(answered > 300_000, "{answered}");
        for t in [
            "",
            "-",
            ".",
            "+.",
            "1.2.3",
            "1e5",
            "0x10",
            "1_000",
            " 1",
            "1234567890123456",
        ] {
            assert_eq!(plain_decimal(t.as_bytes()), None, "{t:?}");
        }
        assert_eq!(
            plain_decimal(b"-0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(plain_decimal(b"5."), Some(5.0));
        assert_eq!(plain_decimal(b".25"), Some(0.25));
    }

    #[test]
    fn iso_dates_agree_with_chrono() {
        for (y, m, d) in [
            (1970, 1, 1),
            (2000, 2, 29),
            (1900, 3, 1),
            (1, 1, 1),
            (9999, 12, 31),
            (2024, 12, 31),
        ] {
            let text = format!("{y:04}-{m:02}-{d:02}");
            let want = days_since_epoch(NaiveDate::from_ymd_opt(y, m, d).unwrap());
            assert_eq!(parse_iso_date(&text), Some(want), "{text}");
        }
        for bad in [
            "1900-02-29",
            "2023-02-29",
            "2024-13-01",
            "2024-04-31",
            "0000-01-01",
            "+202-01-01",
            "2024-1-01",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }

    /// Every date of years 1 to 9999, and the days past each month's end, as chrono has them.
    #[test]
    fn every_iso_date_agrees_with_chrono() {
        for y in 1..=9999 {
            for m in 1..=12u32 {
                for d in 1..=31u32 {
                    let text = format!("{y:04}-{m:02}-{d:02}");
                    let want = NaiveDate::from_ymd_opt(y, m, d).map(days_since_epoch);
                    assert_eq!(parse_iso_date(&text), want, "{text}");
                }
            }
        }
        for bad in [
            "2024-01-0a",
            "2024-01-1 ",
            "2024/01/01",
            "2024-01-01 ",
            "20240101",
            "2024-00-10",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }

    /// Found by fuzzing (fuzz/regressions/schema_structured/duration-months-overflow): months past an i64 were
    /// added with overflow.
    #[test]
    fn durations_too_long_to_hold_are_not_durations() {
        let huge = format!("P1Y{}Y", "4".repeat(100));
        assert_eq!(parse_duration(&huge), None);
        assert_eq!(parse_duration("P9223372036854775807M1M"), None);
        assert_eq!(parse_duration("P1Y2M"), Some((14, 0.0)));
    }

    /// Every `HH:MM:SS` from 00:00:00 to 24:60:60, with and without an offset, as chrono has it.
    #[test]
    fn every_iso_time_agrees_with_chrono() {
        for h in 0..=24u32 {
            for m in 0..=60u32 {
                for sec in 0..=60u32 {
                    let text = format!("{h:02}:{m:02}:{sec:02}");
                    let want = NaiveTime::from_hms_opt(h, m, sec)
                        .map(|t| i64::from(t.num_seconds_from_midnight()) * 1_000_000);
                    assert_eq!(parse_default_time(&text), want, "{text}");
                    let zoned = parse_iso_time(&format!("{text}+01:30"));
                    assert_eq!(zoned, want.map(|t| (t, Some(5400))), "{text}+01:30");
                }
            }
        }
        for bad in [
            "1:00:00",
            "01:00",
            "01-00-00",
            "0a:00:00",
            "01:00:0 ",
            "01:00:00+1",
        ] {
            assert_eq!(parse_default_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_follow_frictionless() {
        let f = NumberFormat::default();
        assert_eq!(parse_number("3E+3", &f), Some(3000.0));
        assert_eq!(parse_number(" -2.00E-02 ", &f), Some(-0.02));
        assert!(parse_number("NaN", &f).is_some_and(f64::is_nan));
        assert_eq!(parse_number("-INF", &f), Some(f64::NEG_INFINITY));
        assert_eq!(parse_number("95%", &f), None);
        assert_eq!(parse_number("$4.00 ", &f), None);
        assert_eq!(parse_number("0x10", &f), None);
        let loose = NumberFormat {
            bare_number: false,
            ..NumberFormat::default()
        };
        assert_eq!(parse_number("95%", &loose), Some(95.0));
        assert_eq!(parse_number("€ 12.5", &loose), Some(12.5));
        let eu = NumberFormat {
            decimal_char: ',',
            group_char: Some('.'),
            bare_number: true,
        };
        assert_eq!(parse_number("1.234,5", &eu), Some(1234.5));
    }

    #[test]
    fn integers_reject_fractions() {
        let f = NumberFormat::default();
        assert_eq!(parse_integer(" 42 ", &f), Some(42));
        assert_eq!(parse_integer("+7", &f), Some(7));
        assert_eq!(parse_integer("1.0", &f), None);
        assert_eq!(parse_integer("", &f), None);
        assert_eq!(parse_integer("-", &f), None);
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(parse_iso_date("1970-01-02"), Some(1));
        assert_eq!(parse_iso_date("2021-02-30"), None);
        assert_eq!(
            parse_datetime_with("1970-01-01T00:00:01Z", "default"),
            Some(1_000_000)
        );
        assert_eq!(
            parse_datetime_with("1970-01-01T01:00:00+01:00", "default"),
            Some(0)
        );
        assert_eq!(parse_datetime_with("2022-05-25 10.39.15", "default"), None);
        assert!(parse_datetime_with("2022-05-25 10.39.15", "%Y-%m-%d %H.%M.%S").is_some());
        assert!(parse_date_with("05.03.2021", "%d.%m.%Y").is_some());
        assert_eq!(parse_default_time("00:00:01.5"), Some(1_500_000));
        assert_eq!(parse_yearmonth("2020-13"), None);
        assert_eq!(parse_year("999"), None);
        assert_eq!(
            parse_duration("P1Y2M3DT4H5M6S"),
            Some((14, 3.0 * 86400.0 + 4.0 * 3600.0 + 306.0))
        );
        assert_eq!(parse_duration("P"), None);
        assert_eq!(parse_duration("PT"), None);
    }

    #[test]
    fn values_compare_across_int_and_number() {
        assert!(Val::Int(1).same(&Val::Num(1.0)));
        assert!(Val::Num(-0.0).same(&Val::Num(0.0)));
        assert!(Val::Num(f64::NAN).compare(&Val::Num(1.0)).is_none());
    }
}
