use std::io::Write;
use std::time::Duration;

use crate::cli::{
    DeviceRollbackArgs, DeviceSelftestArgs, DeviceServiceArgs, DeviceStatusArgs, PullArgs,
};
use crate::device::{self, PullOptions};
use crate::edge::Target;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::sign::PublicKey;

const UNSIGNED_BUNDLES: &str = "\
warning: UNSIGNED BUNDLES ALLOWED (--allow-unsigned-bundles): the bundle's bytes are authenticated by the
         channel's TUF metadata only; its minisign signatures are not checked, so whoever holds the channel's
         targets key can install any model. Pin the publisher's bundle key with --pubkey instead.";

/// Fails closed: without a pinned bundle key nothing is installed, unless the operator said so by name.
fn require_pubkey(pubkeys: &[std::path::PathBuf], allow_unsigned: bool) -> Result<()> {
    if pubkeys.is_empty() && !allow_unsigned {
        return Err(Error::Usage(
            "no --pubkey: a device installs only bundles signed by a pinned key. Pass the publisher's bundle key \
             (--pubkey FILE, repeatable), or --allow-unsigned-bundles to trust the channel's TUF metadata alone"
                .into(),
        ));
    }
    Ok(())
}

pub fn pull(a: PullArgs) -> Result<Exit> {
    require_pubkey(&a.pubkey, a.allow_unsigned_bundles)?;
    let keys = a
        .pubkey
        .iter()
        .map(|p| PublicKey::load(p))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let target = Target::expected(
        a.target.as_deref(),
        Target::this_machine(),
        &Target::machine_name(),
    )
    .map_err(Error::Usage)?;
    let pulled = device::pull(&PullOptions {
        channel: device::pull::channel_url(&a.channel)?,
        root: a.root,
        dir: a.dir,
        target,
        model: a.model,
        keys,
        oms_keys: super::oms_public_keys(&a.oms_pubkey)?,
        keep: a.keep.max(1),
        health_cmd: a.health_cmd,
        health_timeout: Duration::from_secs(a.health_timeout.max(1).unsigned_abs()),
        timeout: Duration::from_secs(a.timeout.max(1)),
        expiry_grace: a.expiry_grace.unwrap_or(0),
    })?;
    for w in &pulled.warnings {
        let _ = writeln!(anstream::stderr(), "warning: {w}");
    }
    let outcome = pulled.outcome;
    if a.allow_unsigned_bundles {
        let _ = writeln!(anstream::stderr(), "{UNSIGNED_BUNDLES}");
    }
    let mut out = anstream::stdout();
    let text = if a.format == "json" {
        serde_json::to_string_pretty(&outcome.to_json()).unwrap_or_default() + "\n"
    } else {
        outcome.render_human()
    };
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    Ok(outcome.exit())
}

pub fn status(a: DeviceStatusArgs) -> Result<Exit> {
    let s = device::status(&a.dir)?;
    let text = if a.format == "json" {
        serde_json::to_string_pretty(&s).unwrap_or_default() + "\n"
    } else {
        s.render_human()
    };
    let mut out = anstream::stdout();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    Ok(Exit::Pass)
}

/// `mlgate device selftest FILES` (hidden): what `mlgate pull` runs in a process of its own.
pub fn selftest(a: DeviceSelftestArgs) -> Result<Exit> {
    let mut out = anstream::stdout();
    let exit = match device::pull::selftest_here(&a.files) {
        None => {
            let _ = writeln!(out, "self-test passed");
            Exit::Pass
        }
        Some(why) => {
            let _ = writeln!(out, "{why}");
            Exit::GateFailed
        }
    };
    let _ = out.flush();
    Ok(exit)
}

pub fn rollback(a: DeviceRollbackArgs) -> Result<Exit> {
    let mut out = anstream::stdout();
    match device::pull::manual_rollback(&a.dir)? {
        Ok(r) => {
            let _ = writeln!(
                out,
                "rolled back: current is {} {} (releases/{})",
                r.model, r.version, r.dir
            );
            Ok(Exit::Pass)
        }
        Err(reason) => {
            let _ = writeln!(anstream::stderr(), "not rolled back: {reason}");
            Ok(Exit::GateFailed)
        }
    }
}

/// An absolute path (the service runs from `/`); files that must exist are resolved fully.
fn absolute(p: &std::path::Path, must_exist: bool) -> Result<std::path::PathBuf> {
    if must_exist {
        return std::fs::canonicalize(p).map_err(|e| Error::Usage(format!("{}: {e}", p.display())));
    }
    std::path::absolute(p).map_err(|e| Error::Usage(format!("{}: {e}", p.display())))
}

pub fn service(a: DeviceServiceArgs) -> Result<Exit> {
    require_pubkey(&a.pubkey, a.allow_unsigned_bundles)?;
    let dir = absolute(&a.dir, false)?;
    let channel = device::pull::channel_url(&a.channel)?.to_string();
    let mut args = vec![
        "--channel".to_string(),
        channel.clone(),
        "--root".into(),
        absolute(&a.root, true)?.display().to_string(),
        "--dir".into(),
        dir.display().to_string(),
    ];
    for p in &a.pubkey {
        args.extend(["--pubkey".into(), absolute(p, true)?.display().to_string()]);
    }
    for p in &a.oms_pubkey {
        args.extend([
            "--oms-pubkey".into(),
            absolute(p, true)?.display().to_string(),
        ]);
    }
    if a.allow_unsigned_bundles {
        args.push("--allow-unsigned-bundles".into());
    }
    let health_timeout = a.health_timeout.map(|s| format!("{s}s"));
    let expiry_grace = a.expiry_grace.map(|s| format!("{s}s"));
    let keep = a.keep.map(|n| n.to_string());
    let timeout = a.timeout.map(|n| n.to_string());
    for (flag, v) in [
        ("--target", &a.target),
        ("--model", &a.model),
        ("--health-cmd", &a.health_cmd),
        ("--health-timeout", &health_timeout),
        ("--keep", &keep),
        ("--timeout", &timeout),
        ("--expiry-grace", &expiry_grace),
    ] {
        if let Some(v) = v {
            args.extend([flag.to_string(), v.clone()]);
        }
    }
    let bin = match &a.bin {
        Some(b) => absolute(b, true)?,
        None => std::env::current_exe().map_err(|e| {
            Error::Usage(format!(
                "cannot tell this binary's path ({e}): pass --bin PATH"
            ))
        })?,
    };
    let written = device::service::write_units(
        &device::service::ServiceOptions {
            bin,
            pull_args: args,
            dir,
            interval: a.interval,
            name: a.name.clone(),
            channel,
        },
        &a.output,
    )?;
    let mut out = anstream::stdout();
    for w in &written {
        let _ = writeln!(out, "wrote {}", w.display());
    }
    let _ = writeln!(
        out,
        "enable with: systemctl daemon-reload && systemctl enable --now {}.timer",
        a.name
    );
    Ok(Exit::Pass)
}
