//! `mlgate device service`: a systemd service and timer that run `mlgate pull` periodically, hardened (the only
//! writable path is the device folder, no new privileges).

use std::path::{Path, PathBuf};

use super::DeviceError;

#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// The mlgate binary the service runs (absolute).
    pub bin: PathBuf,
    /// `mlgate pull`'s arguments after `pull`, paths already absolute.
    pub pull_args: Vec<String>,
    /// The device folder: the one writable path.
    pub dir: PathBuf,
    /// systemd time span between pulls (`1h`, `15min`).
    pub interval: String,
    /// The units' name (`NAME.service`, `NAME.timer`).
    pub name: String,
    pub channel: String,
}

/// The two units' file names and texts.
pub fn units(opts: &ServiceOptions) -> Result<[(String, String); 2], DeviceError> {
    if !is_unit_name(&opts.name) {
        return Err(DeviceError::Usage(format!(
            "--name {:?}: a unit name is letters, digits, `-`, `_`, `.` and `@`",
            opts.name
        )));
    }
    if !is_timespan(&opts.interval) {
        return Err(DeviceError::Usage(format!(
            "--interval {:?}: a systemd time span such as 1h, 30min, 1d",
            opts.interval
        )));
    }
    let mut exec = quote(&opts.bin.to_string_lossy());
    exec.push_str(" pull");
    for a in &opts.pull_args {
        exec.push(' ');
        exec.push_str(&quote(a));
    }
    let service = format!(
        "# Written by `mlgate device service`: periodic model updates from a release channel.\n\
         [Unit]\n\
         Description=mlgate pull: model updates from {channel}\n\
         Wants=network-online.target\n\
         After=network-online.target\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         ExecStart={exec}\n\
         # Hardening: the device folder is the only writable path.\n\
         ProtectSystem=strict\n\
         ReadWritePaths={dir}\n\
         NoNewPrivileges=yes\n\
         PrivateTmp=yes\n\
         PrivateDevices=yes\n\
         ProtectHome=read-only\n\
         ProtectKernelTunables=yes\n\
         ProtectKernelModules=yes\n\
         ProtectControlGroups=yes\n\
         RestrictSUIDSGID=yes\n\
         RestrictRealtime=yes\n\
         LockPersonality=yes\n\
         SystemCallArchitectures=native\n\
         UMask=0022\n",
        channel = escape_specifiers(&opts.channel),
        dir = quote(&opts.dir.to_string_lossy()),
    );
    let timer = format!(
        "# Written by `mlgate device service`.\n\
         [Unit]\n\
         Description=Periodic mlgate pull ({name}.service)\n\
         \n\
         [Timer]\n\
         OnBootSec=5min\n\
         OnUnitActiveSec={interval}\n\
         RandomizedDelaySec=5min\n\
         Persistent=true\n\
         \n\
         [Install]\n\
         WantedBy=timers.target\n",
        name = opts.name,
        interval = opts.interval,
    );
    Ok([
        (format!("{}.service", opts.name), service),
        (format!("{}.timer", opts.name), timer),
    ])
}

/// Writes the units into `out` (each atomically, world-readable as unit files are).
pub fn write_units(opts: &ServiceOptions, out: &Path) -> Result<Vec<PathBuf>, DeviceError> {
    std::fs::create_dir_all(out).map_err(|e| DeviceError::io(out, e))?;
    let mut written = Vec::new();
    for (name, text) in units(opts)? {
        let path = out.join(name);
        crate::fsutil::write_atomic(&path, text.as_bytes())
            .map_err(|e| DeviceError::io(&path, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
                .map_err(|e| DeviceError::io(&path, e))?;
        }
        written.push(path);
    }
    Ok(written)
}

fn is_unit_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
}

fn is_timespan(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ')
        && s.starts_with(|c: char| c.is_ascii_digit())
}

/// `%` starts a specifier in unit files, `$` a variable in ExecStart: both are doubled to stay literal.
fn escape_specifiers(s: &str) -> String {
    s.replace('%', "%%").replace('$', "$$")
}

/// One ExecStart word: double-quoted, with `\` and `"` escaped, specifiers and variables kept literal.
fn quote(s: &str) -> String {
    let inner = escape_specifiers(s)
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    format!("\"{inner}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ServiceOptions {
        ServiceOptions {
            bin: "/usr/local/bin/mlgate".into(),
            pull_args: vec![
                "--channel".into(),
                "https://x/%20a$b/".into(),
                "--health-cmd".into(),
                "test \"1\"".into(),
            ],
            dir: "/var/lib/mlgate".into(),
            interval: "1h".into(),
            name: "mlgate-pull".into(),
            channel: "https://x/%20a$b/".into(),
        }
    }

    #[test]
    fn exec_words_are_quoted_and_specifiers_kept_literal() {
        let [(sname, service), (tname, timer)] = units(&opts()).unwrap();
        assert_eq!(
            (sname.as_str(), tname.as_str()),
            ("mlgate-pull.service", "mlgate-pull.timer")
        );
        assert!(service.contains(
            "ExecStart=\"/usr/local/bin/mlgate\" pull \"--channel\" \"https://x/%%20a$$b/\" \"--health-cmd\" \"test \\\"1\\\"\"\n"
        ), "{service}");
        assert!(service.contains(
            "ProtectSystem=strict\nReadWritePaths=\"/var/lib/mlgate\"\nNoNewPrivileges=yes"
        ));
        assert!(timer.contains("OnUnitActiveSec=1h\n"));
    }

    #[test]
    fn bad_names_and_intervals_are_refused() {
        let e = units(&ServiceOptions {
            name: "a b".into(),
            ..opts()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("--name \"a b\": a unit name is"), "{e}");
        let e = units(&ServiceOptions {
            interval: "1h\nExecStart=x".into(),
            ..opts()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("a systemd time span"), "{e}");
    }
}
