use std::io::Write;

use crate::channel::{PublishOptions, Published, RollbackOptions};
use crate::cli::ChannelPublishArgs;
use crate::error::Result;
use crate::exit::Exit;

pub fn run(a: ChannelPublishArgs) -> Result<Exit> {
    let keys = super::channel::load_keys(&a.key)?;
    let mut out = anstream::stdout();
    if let Some(version) = &a.rollback_to {
        let (name, meta) = crate::channel::rollback(RollbackOptions {
            dir: a.channel.clone(),
            model: a.model.clone().unwrap_or_default(),
            target: a.target.clone(),
            version: version.clone(),
            reason: a.reason.clone().unwrap_or_default(),
            keys,
        })?;
        let _ = writeln!(
            out,
            "rolled back {} for {} to {} ({name}), sequence {}",
            meta.model, meta.target, meta.version, meta.sequence
        );
        return Ok(Exit::Pass);
    }
    match crate::channel::publish(PublishOptions {
        dir: a.channel.clone(),
        bundles: a.bundles.clone(),
        keys,
    })? {
        Published::Added {
            targets,
            targets_version,
        } => {
            for (name, m) in &targets {
                let _ = writeln!(
                    out,
                    "published {name}: {} {} for {} (commit {}, sequence {})",
                    m.model, m.version, m.target, m.commit, m.sequence
                );
            }
            let _ = writeln!(out, "targets version {targets_version}");
            Ok(Exit::Pass)
        }
        Published::Refused(refusals) => {
            let mut err = anstream::stderr();
            for r in &refusals {
                let _ = writeln!(err, "{}: not approved:", r.bundle);
                for reason in &r.reasons {
                    let _ = writeln!(err, "  - {reason}");
                }
            }
            let _ = writeln!(err, "nothing was published");
            Ok(Exit::GateFailed)
        }
    }
}
