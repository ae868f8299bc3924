//! Small text helpers shared by the channel's writing side and the device side (`mlgate pull`), so that the
//! `device` build (`--no-default-features --features device`) does not need the channel's writing side.

/// An error with its causes, one after another: tough's errors say the most in their sources.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// `30d`, `12h`, `90m`, `45s` as seconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 7d, 12h, 30m or 45s"))?;
    let mult = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => {
            return Err(format!(
                "{text:?} is not a duration like 7d, 12h, 30m or 45s"
            ))
        }
    };
    if n <= 0 {
        return Err(format!("{text:?}: a duration must be positive"));
    }
    n.checked_mul(mult)
        .filter(|s| *s <= 100 * 365 * 86_400)
        .ok_or_else(|| format!("{text:?}: longer than 100 years"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("12h"), Ok(43_200));
        assert_eq!(parse_duration("90m"), Ok(5_400));
        assert_eq!(parse_duration("45s"), Ok(45));
        assert!(parse_duration("7").unwrap_err().contains("not a duration"));
        assert!(parse_duration("0d").unwrap_err().contains("positive"));
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("99999999d")
            .unwrap_err()
            .contains("100 years"));
    }
}
