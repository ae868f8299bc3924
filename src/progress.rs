//! Progress bars for long work (reading datasets for validation, drift and evaluation, a model's batches, uploads
//! and a device's downloads): one place that decides whether a bar may show and draws it.
//!
//! A bar shows only on a terminal: stderr is a terminal, `CI` is unset and the command's output is not JSON
//! ([`allow`]). It appears only once the work has run for about two seconds, so quick runs print nothing. Work
//! reports bytes or rows through [`Task::advance`] (or the current task's [`advance`], for readers that run on a
//! thread of their own). The full build draws with indicatif; the device build, which has no indicatif (its size),
//! draws one plain line of its own.

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
            let template = if total.is_some() {
                "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)"
            } else {
                "{msg} {spinner} {bytes} ({bytes_per_sec})"
            };
            Task::new(what, total, template)
        }

        /// Work counted in rows (a model's batches).
        pub fn rows(what: &str, total: u64) -> Task {
            Task::new(
                what,
                Some(total),
                "{msg} [{bar:30}] {human_pos}/{human_len} rows ({eta} left)",
            )
        }

        fn new(what: &str, total: Option<u64>, template: &str) -> Task {
            if !super::enabled() {
                return Task(None);
            }
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden());
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
    use std::io::Write;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    /// How long work runs before its line appears, and how often it is redrawn.
    const SHOW_AFTER: Duration = Duration::from_secs(2);
    const REDRAW: Duration = Duration::from_millis(250);

    /// A bar for one piece of work, drawn as one line on stderr (`\r`, no escape codes but the final clear).
    pub struct Task(Option<Mutex<Line>>);

    struct Line {
        what: String,
        unit: super::Unit,
        total: Option<u64>,
        done: u64,
        started: Instant,
        drawn: Option<Instant>,
    }

    impl Task {
        pub fn bytes(what: &str, total: Option<u64>) -> Task {
            Task::new(what, super::Unit::Bytes, total)
        }

        pub fn rows(what: &str, total: u64) -> Task {
            Task::new(what, super::Unit::Rows, Some(total))
        }

        fn new(what: &str, unit: super::Unit, total: Option<u64>) -> Task {
            if !super::enabled() {
                return Task(None);
            }
            Task(Some(Mutex::new(Line {
                what: what.to_string(),
                unit,
                total,
                done: 0,
                started: Instant::now(),
                drawn: None,
            })))
        }

        pub fn advance(&self, n: u64) {
            let Some(Ok(mut line)) = self.0.as_ref().map(|m| m.lock()) else {
                return;
            };
            line.done += n;
            let now = Instant::now();
            let elapsed = now.duration_since(line.started);
            let due = line.drawn.is_none_or(|t| now.duration_since(t) >= REDRAW);
            if elapsed >= SHOW_AFTER && due {
                let text = super::line(&line.what, line.unit, line.done, line.total, elapsed);
                let _ = write!(std::io::stderr(), "\r{text}");
                line.drawn = Some(now);
            }
        }
    }

    impl Drop for Task {
        fn drop(&mut self) {
            let drawn = self
                .0
                .as_ref()
                .and_then(|m| m.lock().ok().map(|l| l.drawn.is_some()));
            if drawn == Some(true) {
                // Erase the line, so what follows starts on a clean one.
                let _ = write!(std::io::stderr(), "\r\x1b[2K");
            }
        }
    }

    /// Readers on threads of their own report here; the device build reads no large datasets.
    pub fn advance(_bytes: u64) {}
}

/// What a task counts.
#[cfg_attr(feature = "full", allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Bytes,
    Rows,
}

/// The device build's progress line: `downloading x.tar.gz [=====>    ] 12.5/40.0 MB 3.1 MB/s` (bytes in decimal
/// units, as download sizes are usually given), or rows counted plainly.
#[cfg_attr(feature = "full", allow(dead_code))]
fn line(
    what: &str,
    unit: Unit,
    done: u64,
    total: Option<u64>,
    elapsed: std::time::Duration,
) -> String {
    let amount = |n: u64| match unit {
        Unit::Bytes => format!("{:.1} MB", n as f64 / 1e6),
        Unit::Rows => format!("{n} rows"),
    };
    let secs = elapsed.as_secs_f64().max(1e-3);
    let rate = match unit {
        Unit::Bytes => format!("{:.1} MB/s", done as f64 / 1e6 / secs),
        Unit::Rows => format!("{:.0} rows/s", done as f64 / secs),
    };
    match total {
        Some(t) if t > 0 => {
            let filled = ((done.min(t) as f64 / t as f64) * 30.0).round() as usize;
            let bar: String = "=".repeat(filled) + &" ".repeat(30 - filled);
            format!("{what} [{bar}] {} of {} ({rate})", amount(done), amount(t))
        }
        _ => format!("{what} {} ({rate})", amount(done)),
    }
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
        let r = Task::rows("running", 10);
        r.advance(5);
    }

    #[test]
    fn the_plain_line_shows_share_amounts_and_rate() {
        let two = std::time::Duration::from_secs(2);
        assert_eq!(
            line(
                "downloading b.tar.gz",
                Unit::Bytes,
                10_000_000,
                Some(40_000_000),
                two
            ),
            "downloading b.tar.gz [========                      ] 10.0 MB of 40.0 MB (5.0 MB/s)"
        );
        assert_eq!(
            line("running model.onnx", Unit::Rows, 500, Some(500), two),
            format!(
                "running model.onnx [{}] 500 rows of 500 rows (250 rows/s)",
                "=".repeat(30)
            )
        );
        // More than announced (a server that sends extra bytes is refused elsewhere): a full bar, not a panic.
        assert!(line("x", Unit::Bytes, 50, Some(10), two).contains(&"=".repeat(30)));
        assert_eq!(
            line("x", Unit::Bytes, 1_500_000, None, two),
            "x 1.5 MB (0.8 MB/s)"
        );
    }
}
