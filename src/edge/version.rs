//! Bundle versions, ordered as SemVer 2.0.0 orders them, with two allowances for the versions people write:
//! a leading `v` is ignored, and the numeric part may have any number of components, missing ones counting as
//! zero (`1.2` is `1.2.0`, `2` is `2.0.0`).
//!
//! `1.2.0-rc.1` is older than `1.2.0`; pre-release identifiers compare one by one, numbers numerically and
//! below words, words in ASCII order, a shorter list first when it is a prefix of the other. Build metadata
//! (`+...`) is ignored. Anything else (`1.x`, `latest`, an empty component) is not a version.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    numbers: Vec<u64>,
    pre: Vec<Ident>,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Ident {
    // Declared first: numeric identifiers sort below words, as SemVer says.
    Number(u64),
    Word(String),
}

impl Version {
    /// Parses `text`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Version, String> {
        let bad =
            |why: &str| format!("{text:?} is not a version ({why}); expected numbers like 1.2.0");
        let body = text.strip_prefix('v').unwrap_or(text);
        let body = body.split_once('+').map_or(body, |(b, _)| b);
        let (core, pre) = match body.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (body, None),
        };
        let numbers = core
            .split('.')
            .map(|n| {
                if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad(&format!("{n:?} is not a number")));
                }
                n.parse::<u64>()
                    .map_err(|_| bad(&format!("{n} is too large")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let pre = match pre {
            None => vec![],
            Some(p) => p
                .split('.')
                .map(|id| {
                    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    {
                        return Err(bad(&format!("{id:?} is not a pre-release identifier")));
                    }
                    Ok(match id.parse::<u64>() {
                        Ok(n) if id.bytes().all(|b| b.is_ascii_digit()) => Ident::Number(n),
                        _ => Ident::Word(id.to_string()),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        Ok(Version {
            numbers,
            pre,
            text: text.to_string(),
        })
    }

    /// The text the version was parsed from.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let width = self.numbers.len().max(other.numbers.len());
        let at = |v: &Version, i: usize| v.numbers.get(i).copied().unwrap_or(0);
        for i in 0..width {
            match at(self, i).cmp(&at(other, i)) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            // A release is newer than any of its pre-releases.
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            // Vec's order is SemVer's: identifier by identifier, then the shorter first.
            (false, false) => self.pre.cmp(&other.pre),
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn semver_precedence_example_holds() {
        // SemVer 2.0.0, item 11's example, in increasing order.
        let order = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
            "10.0.0",
        ];
        for w in order.windows(2) {
            assert!(v(w[0]) < v(w[1]), "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn allowances() {
        assert_eq!(v("1.2").cmp(&v("1.2.0")), Ordering::Equal);
        assert_eq!(v("v1.2.0").cmp(&v("1.2.0")), Ordering::Equal);
        assert_eq!(v("1.2.0+build.7").cmp(&v("1.2.0")), Ordering::Equal);
        assert!(v("1.2.0.1") > v("1.2"));
        assert!(v("1.10") > v("1.9"));
        assert_eq!(v("1.2.0-rc.1").to_string(), "1.2.0-rc.1");
    }

    #[test]
    fn what_is_not_a_version() {
        for bad in [
            "",
            "latest",
            "1.x",
            "1..2",
            "1.2.",
            "-rc",
            "1.0.0-",
            "1.0.0-a..b",
            "99999999999999999999",
        ] {
            let e = Version::parse(bad).unwrap_err();
            assert!(e.contains("is not a version"), "{bad}: {e}");
        }
        assert!(Version::parse("1.x")
            .unwrap_err()
            .contains("\"x\" is not a number"));
    }
}
