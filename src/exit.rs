//! Exit codes, the command-line contract of DESIGN.md: 0 pass, 1 a gate failed, 2 could not run.
//! 101 is left to Rust's panic handler: it only ever means a bug.

use crate::report::Verdict;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Pass = 0,
    GateFailed = 1,
    CouldNotRun = 2,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Verdict> for Exit {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Pass => Exit::Pass,
            Verdict::Fail => Exit::GateFailed,
        }
    }
}
