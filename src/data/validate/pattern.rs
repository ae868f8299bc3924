//! A field's `pattern` as the quick path tests it.
//!
//! Table Schema patterns are mostly small (`^u[0-9]{6}$`, codes, ids) and are matched against every cell of their
//! column. `Regex::is_match` spends most of its time around the search (the input, the strategy, the lazy DFA's
//! cache) rather than in it: about 290 instructions a cell for a 7-byte id. A dense DFA built once, when the
//! schema is installed, is walked here byte by byte, a table lookup each, with nothing to set up per cell. Patterns
//! whose DFA would be large (wide Unicode classes, long counted repetitions) or cannot be built (Unicode word
//! boundaries) keep the `Regex`. Both are compiled from the same text with the same syntax, so they accept the
//! same strings; a test holds them to that.

use regex::Regex;
use regex_automata::dfa::{dense, Automaton, StartKind};
use regex_automata::util::{primitives::StateID, start};
use regex_automata::Anchored;

/// The most memory a pattern's DFA may take (and its construction may use): a few KiB for the patterns the
/// quick path is for, so the limit only turns away patterns that are better left to the `Regex`.
const DFA_BYTES: usize = 256 << 10;

/// A pattern that must match a whole cell.
#[derive(Debug, Clone)]
pub(super) enum WholeMatch {
    Dfa {
        /// Boxed: the DFA's own fields are most of a kilobyte.
        dfa: Box<dense::DFA<Vec<u32>>>,
        start: StateID,
        /// For a DFA that gives up on some byte (none is configured to; kept so that one never decides).
        regex: Regex,
    },
    Regex(Regex),
}

impl WholeMatch {
    /// `regex` is the schema's pattern as the general path uses it: `^(?:pattern)$`.
    pub(super) fn new(regex: &Regex) -> WholeMatch {
        let config = dense::Config::new()
            .start_kind(StartKind::Anchored)
            .dfa_size_limit(Some(DFA_BYTES))
            .determinize_size_limit(Some(DFA_BYTES));
        let built = dense::Builder::new()
            .configure(config)
            .build(regex.as_str())
            .ok()
            .and_then(|dfa| {
                let start = dfa
                    .start_state(&start::Config::new().anchored(Anchored::Yes))
                    .ok()?;
                Some((dfa, start))
            });
        match built {
            Some((dfa, start)) => WholeMatch::Dfa {
                dfa: Box::new(dfa),
                start,
                regex: regex.clone(),
            },
            None => WholeMatch::Regex(regex.clone()),
        }
    }

    /// Whether `s` matches. The pattern is anchored at both ends, so every match ends where `s` does: the state
    /// after the end of the input tells.
    #[inline]
    pub(super) fn is_match(&self, s: &str) -> bool {
        let (dfa, start, regex) = match self {
            WholeMatch::Regex(regex) => return regex.is_match(s),
            WholeMatch::Dfa { dfa, start, regex } => (dfa, *start, regex),
        };
        let mut state = start;
        for &b in s.as_bytes() {
            state = dfa.next_state(state, b);
            if dfa.is_special_state(state) {
                if dfa.is_dead_state(state) {
                    return false;
                }
                if dfa.is_quit_state(state) {
                    return regex.is_match(s);
                }
            }
        }
        dfa.is_match_state(dfa.next_eoi_state(state))
    }

    #[cfg(test)]
    fn is_dfa(&self) -> bool {
        matches!(self, WholeMatch::Dfa { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(p: &str) -> (Regex, WholeMatch) {
        let re = Regex::new(&format!("^(?:{p})$")).unwrap();
        let m = WholeMatch::new(&re);
        (re, m)
    }

    /// Every string over a small alphabet up to a length, and some longer ones: the DFA and the regex agree on
    /// each, for patterns with anchors inside, alternations, classes, counted and open repetitions and Unicode.
    #[test]
    fn the_dfa_accepts_what_the_regex_accepts() {
        let patterns = [
            "u[0-9]{6}",
            "[A-Z]{2}",
            "a|ab|abc",
            "(a|b)*c?",
            "^a$",
            "a$|b",
            "",
            "[^a]+",
            "x.y",
            "é+",
            "\\d{2,3}",
            "(?i)ab",
            "a{0,4}b{2}",
        ];
        let alphabet = [
            "", "a", "b", "c", "u", "0", "9", "A", "Z", "x", "é", "٣", "\n", " ",
        ];
        let mut strings: Vec<String> = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = strings
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(longer);
            strings.sort();
            strings.dedup();
        }
        strings.extend(
            [
                "u123456", "u1234567", "u12345", "U123456", "aaaab", "aaaabb", "x\ny",
            ]
            .map(String::from),
        );
        for p in patterns {
            let (re, m) = whole(p);
            assert!(m.is_dfa(), "{p:?} should get a DFA");
            for s in &strings {
                assert_eq!(m.is_match(s), re.is_match(s), "pattern {p:?} on {s:?}");
            }
        }
    }

    #[test]
    fn patterns_too_large_for_a_dfa_keep_the_regex() {
        // Unicode word boundaries cannot be built into a DFA; a long counted repetition of a wide class is large.
        for p in ["\\bword\\b", "\\w{40}"] {
            let (re, m) = whole(p);
            assert!(!m.is_dfa(), "{p:?} should keep the regex");
            for s in ["word", "a word", &"x".repeat(40)] {
                assert_eq!(m.is_match(s), re.is_match(s), "pattern {p:?} on {s:?}");
            }
        }
    }
}
