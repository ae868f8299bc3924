//! `mlgate channel refresh`: re-signs the timestamp, and the snapshot when it would expire before the new
//! timestamp does, for a scheduled job that holds only those keys (never the root or targets key).

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::path::PathBuf;

use aws_lc_rs::rand::SystemRandom;
use tough::editor::signed::SignedRole;
use tough::schema::{Hashes, KeyHolder, Metafile, Snapshot, Timestamp};

use super::keys::{check_keys_for, LoadedKey, RoleName};
use super::repo::{self, Channel, SPEC_VERSION, TIMESTAMP_FILE};
use super::ChannelError;

pub struct RefreshOptions {
    pub dir: PathBuf,
    pub keys: Vec<LoadedKey>,
}

#[derive(Debug)]
pub struct Refreshed {
    pub timestamp_version: u64,
    pub timestamp_expires: jiff::Timestamp,
    /// Set when the snapshot was re-signed too.
    pub snapshot: Option<(u64, jiff::Timestamp)>,
    /// Roles this job cannot re-sign that expire before the new timestamp: a warning for people.
    pub stale: Vec<(RoleName, jiff::Timestamp)>,
}

pub fn refresh(opts: RefreshOptions) -> Result<Refreshed, ChannelError> {
    let (channel, _lock) = Channel::load_for_writing(&opts.dir)?;
    let now = super::now();
    let lt = &channel.config.lifetimes;
    let timestamp_expires = lt.expiry(RoleName::Timestamp, now)?;
    let old_snapshot = &channel.repo.snapshot().signed;
    let resign_snapshot = old_snapshot.expires < timestamp_expires;
    let mut roles = vec![RoleName::Timestamp];
    if resign_snapshot {
        roles.push(RoleName::Snapshot);
    }
    let root = channel.repo.root().signed.clone();
    check_keys_for(&root, &roles, &opts.keys)?;
    let holder = KeyHolder::Root(root.clone());
    let sources = super::keys::sources(&opts.keys);
    let staging = repo::staging(&channel.dir)?;
    let mut names = Vec::new();
    let mut snapshot_out = None;
    // The snapshot the new timestamp names: a re-signed one, or the current file as it is on disk.
    let snapshot_bytes = if resign_snapshot {
        let version = bump(old_snapshot.version);
        let expires = lt.expiry(RoleName::Snapshot, now)?;
        let mut snap = Snapshot::new(SPEC_VERSION.to_string(), version, expires);
        snap.meta = old_snapshot.meta.clone();
        snap._extra = old_snapshot._extra.clone();
        let signed = super::block_on(SignedRole::new(
            snap,
            &holder,
            &sources,
            &SystemRandom::new(),
        ))?
        .map_err(|e| ChannelError::tuf(repo::error_chain(&e)))?;
        super::block_on(signed.write(staging.path(), true))?
            .map_err(|e| ChannelError::tuf(repo::error_chain(&e)))?;
        names.push(format!("{version}.snapshot.json"));
        snapshot_out = Some((version.get(), expires));
        (signed.buffer().clone(), version)
    } else {
        let path = channel
            .dir
            .join(format!("{}.snapshot.json", old_snapshot.version));
        let bytes = std::fs::read(&path).map_err(|e| ChannelError::io(&path, e))?;
        (bytes, old_snapshot.version)
    };
    let ts_version = bump(channel.repo.timestamp().signed.version);
    let mut ts = Timestamp::new(SPEC_VERSION.to_string(), ts_version, timestamp_expires);
    ts._extra = channel.repo.timestamp().signed._extra.clone();
    ts.meta.insert(
        "snapshot.json".to_string(),
        Metafile {
            hashes: Some(Hashes {
                sha256: <sha2::Sha256 as sha2::Digest>::digest(&snapshot_bytes.0)
                    .to_vec()
                    .into(),
                _extra: HashMap::new(),
            }),
            length: Some(snapshot_bytes.0.len() as u64),
            version: snapshot_bytes.1,
            _extra: HashMap::new(),
        },
    );
    let signed_ts = super::block_on(SignedRole::new(ts, &holder, &sources, &SystemRandom::new()))?
        .map_err(|e| ChannelError::tuf(repo::error_chain(&e)))?;
    super::block_on(signed_ts.write(staging.path(), true))?
        .map_err(|e| ChannelError::tuf(repo::error_chain(&e)))?;
    names.push(TIMESTAMP_FILE.to_string());
    repo::install(staging.path(), &channel.dir, &names)?;
    let mut stale = Vec::new();
    let t = &channel.repo.targets().signed;
    if t.expires < timestamp_expires {
        stale.push((RoleName::Targets, t.expires));
    }
    if root.expires < timestamp_expires {
        stale.push((RoleName::Root, root.expires));
    }
    Ok(Refreshed {
        timestamp_version: ts_version.get(),
        timestamp_expires,
        snapshot: snapshot_out,
        stale,
    })
}

fn bump(v: NonZeroU64) -> NonZeroU64 {
    v.checked_add(1).unwrap_or(v)
}
