//! The actions that mlgate's generated workflows and its own CI use, each pinned to a full commit SHA with the
//! release it is (zizmor's `unpinned-uses`: a tag or branch can be moved to other code after review; a commit
//! cannot). One table: the templates take their `uses:` from it (`[[ "actions/checkout"|pin ]]`), and a test
//! checks that every `uses:` in the rendered workflows, `action.yml` and `.github/workflows/` is pinned, and
//! pinned to the commit this table names.

/// One pinned action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
    /// `owner/repo` (or `owner/repo/path`).
    pub action: &'static str,
    /// The full commit SHA of `version`.
    pub sha: &'static str,
    /// The tag (or branch) the commit was read from, shown in a comment.
    pub version: &'static str,
}

/// Read from each action's repository (`git rev-parse TAG^{commit}`) on 2026-12-06.
pub const PINS: &[Pin] = &[
    Pin {
        action: "actions/checkout",
        sha: "d23441a48e516b6c34aea4fa41551a30e30af803",
        version: "v6.1.0",
    },
    Pin {
        action: "actions/upload-artifact",
        sha: "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f",
        version: "v7.0.0",
    },
    Pin {
        action: "actions/download-artifact",
        sha: "37930b1c2abaa49bbe596cd826c3c89aef350131",
        version: "v7.0.0",
    },
    Pin {
        action: "actions/attest",
        sha: "1e69f48acb82d1966a394da916b4c1698aa569d6",
        version: "v4.2.2",
    },
    Pin {
        action: "actions/upload-pages-artifact",
        sha: "fc324d3547104276b827a68afc52ff2a11cc49c9",
        version: "v5.0.0",
    },
    Pin {
        action: "actions/deploy-pages",
        sha: "cd2ce8fcbc39b97be8ca5fce6e763baed58fa128",
        version: "v5.0.0",
    },
    Pin {
        action: "dtolnay/rust-toolchain",
        sha: "29eef336d9b2848a0b548edc03f92a220660cdb8",
        version: "stable",
    },
    Pin {
        action: "Swatinem/rust-cache",
        sha: "6323deb102c322ba6fcbdcafc7e3dddab59af2b6",
        version: "v2.9.2",
    },
    Pin {
        action: "actions/attest-build-provenance",
        sha: "a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32",
        version: "v4.1.0",
    },
];

/// `owner/repo@SHA # VERSION` for a `uses:` line; `None` for an action not in the table.
pub fn pinned(action: &str) -> Option<String> {
    PINS.iter()
        .find(|p| p.action == action)
        .map(|p| format!("{}@{} # {}", p.action, p.sha, p.version))
}

/// Whether `r` is a full commit SHA (what a pinned `uses:` names after its `@`).
pub fn is_full_sha(r: &str) -> bool {
    r.len() == 40 && r.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pin_is_a_full_sha_and_unique() {
        for p in PINS {
            assert!(is_full_sha(p.sha), "{p:?}");
            assert_eq!(PINS.iter().filter(|q| q.action == p.action).count(), 1);
        }
        assert_eq!(
            pinned("actions/checkout").unwrap(),
            "actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803 # v6.1.0"
        );
        assert_eq!(pinned("actions/cache"), None);
    }
}
