use std::collections::BTreeMap;
use std::io::Write;

use crate::channel::config::{parse_duration, Lifetimes};
use crate::channel::keys::{LoadedKey, RoleName};
use crate::channel::{InitOptions, RefreshOptions, RoleKeys};
use crate::cli::{
    ChannelInitArgs, ChannelRefreshArgs, ChannelRotateArgs, ChannelStatusArgs, RoleKeyArgs,
};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::sign::PublicKey;

/// Reads `--key` sources (files or `env:VAR`) into keys tough can sign with.
pub(super) fn load_keys(sources: &[String]) -> Result<Vec<LoadedKey>> {
    sources
        .iter()
        .map(|s| {
            let key = super::secret_key(Some(s))?;
            let origin = s
                .strip_prefix("env:")
                .map_or(s.clone(), |v| format!("${v}"));
            Ok(LoadedKey::new(&key, &origin)?)
        })
        .collect()
}

/// The per-role key options, by the role they are for.
fn by_role(r: &RoleKeyArgs) -> [(RoleName, &Vec<String>); 4] {
    [
        (RoleName::Root, &r.root_key),
        (RoleName::Targets, &r.targets_key),
        (RoleName::Snapshot, &r.snapshot_key),
        (RoleName::Timestamp, &r.timestamp_key),
    ]
}

pub fn init(a: ChannelInitArgs) -> Result<Exit> {
    let mut keys = RoleKeys::default();
    for (role, own) in by_role(&a.roles) {
        let chosen = if own.is_empty() { &a.key } else { own };
        keys.by_role.insert(role, load_keys(chosen)?);
    }
    let bundle_keys = a
        .bundle_pubkey
        .iter()
        .map(|p| PublicKey::load(p))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let name = a.name.clone().unwrap_or_else(|| {
        a.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "channel".into())
    });
    let done = crate::channel::init(InitOptions {
        dir: a.dir.clone(),
        name,
        keys,
        thresholds: thresholds(&a.threshold)?,
        bundle_keys,
        targets: a.target.clone(),
        lifetimes: Lifetimes {
            root: a.root_expires.clone(),
            targets: a.targets_expires.clone(),
            snapshot: a.snapshot_expires.clone(),
            timestamp: a.timestamp_expires.clone(),
        },
    })?;
    let mut out = anstream::stdout();
    let _ = writeln!(out, "created release channel {}", done.dir.display());
    for (role, ids, threshold) in &done.roles {
        let _ = writeln!(
            out,
            "  {:<9} threshold {threshold}, keys {}",
            role.as_str(),
            ids.join(", ")
        );
    }
    let _ = writeln!(out, "root.json sha256 {}", done.root_sha256);
    let _ = writeln!(out, "root expires {}", done.root_expires);
    let _ = writeln!(
        out,
        "pin it on devices: ship {} in the device image (or check its sha256 above when provisioning); \
         clients update from it to newer roots on their own",
        done.dir.join("root.json").display()
    );
    Ok(Exit::Pass)
}

fn thresholds(specs: &[String]) -> Result<BTreeMap<RoleName, u64>> {
    let mut out = BTreeMap::new();
    for s in specs {
        let (role, n) = s.split_once('=').ok_or_else(|| {
            Error::Usage(format!("--threshold {s:?}: expected ROLE=N, e.g. root=2"))
        })?;
        let role = RoleName::ALL
            .into_iter()
            .find(|r| r.as_str() == role.trim())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--threshold {s:?}: the roles are root, targets, snapshot and timestamp"
                ))
            })?;
        let n: u64 = n
            .trim()
            .parse()
            .map_err(|_| Error::Usage(format!("--threshold {s:?}: N must be a whole number")))?;
        out.insert(role, n);
    }
    Ok(out)
}

pub fn refresh(a: ChannelRefreshArgs) -> Result<Exit> {
    let done = crate::channel::refresh(RefreshOptions {
        dir: a.dir.clone(),
        keys: load_keys(&a.key)?,
    })?;
    let mut out = anstream::stdout();
    if let Some((v, e)) = done.snapshot {
        let _ = writeln!(out, "snapshot version {v}, expires {e}");
    }
    let _ = writeln!(
        out,
        "timestamp version {}, expires {}",
        done.timestamp_version, done.timestamp_expires
    );
    let mut err = anstream::stderr();
    for (role, e) in &done.stale {
        let _ = writeln!(
            err,
            "warning: {} expires at {e}, before the new timestamp: {}",
            role.as_str(),
            match role {
                RoleName::Targets => "publish (or roll back) with the targets key to re-sign it",
                _ => "sign a new root version with the root keys",
            }
        );
    }
    Ok(Exit::Pass)
}

pub fn status(a: ChannelStatusArgs) -> Result<Exit> {
    let within =
        parse_duration(&a.warn_within).map_err(|e| Error::Usage(format!("--warn-within: {e}")))?;
    let st = crate::channel::status(&a.dir, within)?;
    let mut out = anstream::stdout();
    if a.format == "json" {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&st).unwrap_or_default()
        );
    } else {
        let _ = write!(out, "{}", render_status(&st));
    }
    if st.expiring.is_empty() {
        Ok(Exit::Pass)
    } else {
        let mut err = anstream::stderr();
        let _ = writeln!(
            err,
            "expiring within {}: {}",
            a.warn_within,
            st.expiring.join("; ")
        );
        Ok(Exit::GateFailed)
    }
}

fn render_status(st: &crate::channel::ChannelStatus) -> String {
    let mut s = format!("channel {} ({})\n", st.name, st.dir);
    for r in &st.roles {
        s.push_str(&format!(
            "  {:<9} version {:<4} expires {}{}\n",
            r.role,
            r.version,
            r.expires,
            if r.expired { " EXPIRED" } else { "" }
        ));
    }
    if st.models.is_empty() {
        s.push_str("no bundles published\n");
    }
    for m in &st.models {
        s.push_str(&format!(
            "{} for {}: current {}\n",
            m.model, m.target, m.current
        ));
        for v in &m.versions {
            s.push_str(&format!(
                "  {} #{} {} commit {}{}\n",
                v.version,
                v.sequence,
                v.published_at,
                v.commit,
                v.rollback
                    .as_ref()
                    .map(|r| format!(" (rollback from {}: {})", r.from, r.reason))
                    .unwrap_or_default()
            ));
        }
    }
    s
}

pub fn rotate(a: ChannelRotateArgs) -> Result<Exit> {
    let mut new = RoleKeys::default();
    for (role, keys) in by_role(&a.roles) {
        if !keys.is_empty() {
            new.by_role.insert(role, load_keys(keys)?);
        }
    }
    let done = crate::channel::rotate(crate::channel::RotateOptions {
        dir: a.dir.clone(),
        signing: load_keys(&a.key)?,
        new,
        thresholds: thresholds(&a.threshold)?,
    })?;
    let mut out = anstream::stdout();
    let _ = writeln!(out, "root version {}", done.root_version);
    for (role, ids, threshold) in &done.roles {
        let _ = writeln!(
            out,
            "  {:<9} threshold {threshold}, keys {}",
            role.as_str(),
            ids.join(", ")
        );
    }
    let _ = writeln!(out, "root.json sha256 {}", done.root_sha256);
    Ok(Exit::Pass)
}
