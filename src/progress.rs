//! Progress bars for long work (reading datasets for validation, drift and evaluation): one place that decides
//! whether a bar may show and draws it.
//!
//! A bar shows only on a terminal: stderr is a terminal, `CI` is unset and the command's output is not JSON
//! ([`allow`]). It appears only once the work has run for about two seconds, so quick runs print nothing. Work
//! reports bytes through [`Task::advance`] (or the current task's [`advance`], for readers that run on a thread
//! of their own); the device build has no bars (no indicatif) and every call is a no-op there.

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the command allows bars at all (its output is not JSON); the terminal and `CI` are checked on top.
static ALLOWED: AtomicBool = AtomicBool::new(false);

/// Lets bars show for this command (set once, by the command layer, when the output is not JSON).
pub fn allow(yes: bool) {
    ALLOWED.store(yes, Ordering::Relaxed);
}

/// Whether a bar may be drawn now: allowed, stderr a terminal, and not in CI.
pub fn enabled() -> bool {
    use std::io::IsTerminal;
    ALLOWED.load(Ordering::Relaxed)
        && std::env::var_os("CI").is_none()
        && std::io::stderr().is_terminal()
}

#[cfg(feature = "full")]
mod bar {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

    /// How long work runs before its bar appears.
    const SHOW_AFTER: Duration = Duration::from_secs(2);

    /// The task readers on other threads report to (one dataset is read at a time).
    static CURRENT: Mutex<Option<Shared>> = Mutex::new(None);

    #[derive(Clone)]
    struct Shared {
        bar: ProgressBar,
        started: Instant,
    }

    impl Shared {
        fn advance(&self, bytes: u64) {
            self.bar.inc(bytes);
            if self.bar.is_hidden() && self.started.elapsed() >= SHOW_AFTER {
                self.bar.set_draw_target(ProgressDrawTarget::stderr());
            }
        }
    }

    /// A bar for one piece of work, cleared when dropped.
    pub struct Task(Option<Shared>);

    impl Task {
        pub fn bytes(what: &str, total: Option<u64>) -> Task {
            if !super::enabled() {
                return Task(None);
            }
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden());
            let template = if total.is_some() {
                "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)"
            } else {
                "{msg} {spinner} {bytes} ({bytes_per_sec})"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(what.to_string());
            let shared = Shared {
                bar,
                started: Instant::now(),
            };
            if let Ok(mut c) = CURRENT.lock() {
                *c = Some(shared.clone());
            }
            Task(Some(shared))
        }

        pub fn advance(&self, bytes: u64) {
            if let Some(s) = &self.0 {
                s.advance(bytes);
            }
        }
    }

    impl Drop for Task {
        fn drop(&mut self) {
            if let Some(s) = self.0.take() {
                s.bar.finish_and_clear();
                if let Ok(mut c) = CURRENT.lock() {
                    *c = None;
                }
            }
        }
    }

    pub fn advance(bytes: u64) {
        // Cheap when no bar is running: the lock is uncontended and the slot empty.
        if let Ok(c) = CURRENT.lock() {
            if let Some(s) = c.as_ref() {
                s.advance(bytes);
            }
        }
    }
}

#[cfg(not(feature = "full"))]
mod bar {
    /// The device build draws no bars.
    pub struct Task;

    impl Task {
        pub fn bytes(_what: &str, _total: Option<u64>) -> Task {
            Task
        }
        pub fn advance(&self, _bytes: u64) {}
    }

    pub fn advance(_bytes: u64) {}
}

pub use bar::{advance, Task};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_bar_unless_allowed() {
        // JSON output never allows a bar; a task that may not draw counts nothing and prints nothing.
        allow(false);
        assert!(!enabled());
        let t = Task::bytes("reading", Some(10));
        t.advance(5);
        advance(5);
    }
}
