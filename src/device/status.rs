//! `mlgate device status`: what the device runs, read from `state.json` and the links.

use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

use super::layout::{self, CURRENT, PREVIOUS};
use super::state::State;
use super::DeviceError;

#[derive(Debug, Clone, Serialize)]
pub struct DeviceStatus {
    pub dir: String,
    /// The release folder `current` points at (None: no link).
    pub current_link: Option<String>,
    pub previous_link: Option<String>,
    pub state: State,
}

pub fn status(dir: &Path) -> Result<DeviceStatus, DeviceError> {
    if !dir.is_dir() {
        return Err(DeviceError::Io {
            path: dir.display().to_string(),
            message: "no such folder (a device folder is made by `mlgate pull --dir DIR`)".into(),
        });
    }
    Ok(DeviceStatus {
        dir: dir.display().to_string(),
        current_link: layout::link_target(dir, CURRENT),
        previous_link: layout::link_target(dir, PREVIOUS),
        state: State::load(dir)?,
    })
}

impl DeviceStatus {
    pub fn render_human(&self) -> String {
        let mut s = String::new();
        let line = |r: Option<&super::state::Release>| match r {
            Some(r) => format!(
                "{} {} for {} (releases/{}, sha256 {}, installed {})",
                r.model, r.version, r.target, r.dir, r.sha256, r.installed_at
            ),
            None => "none".into(),
        };
        let _ = writeln!(s, "device folder: {}", self.dir);
        let _ = writeln!(s, "installed:     {}", line(self.state.installed.as_ref()));
        let _ = writeln!(s, "previous:      {}", line(self.state.previous.as_ref()));
        let link = |l: &Option<String>| {
            l.as_deref()
                .map_or("absent".to_string(), |d| format!("releases/{d}"))
        };
        let _ = writeln!(s, "current link:  {}", link(&self.current_link));
        let _ = writeln!(
            s,
            "last success:  {}",
            self.state.last_success.as_deref().unwrap_or("never")
        );
        let _ = writeln!(
            s,
            "last attempt:  {}",
            self.state.last_attempt.as_deref().unwrap_or("never")
        );
        let _ = writeln!(s, "failed attempts since: {}", self.state.attempts);
        if self.state.known_bad.is_empty() {
            let _ = writeln!(s, "known bad:     none");
        }
        for b in &self.state.known_bad {
            let _ = writeln!(
                s,
                "known bad:     {} sha256 {} ({}, {})",
                b.version, b.sha256, b.reason, b.at
            );
        }
        s
    }
}
