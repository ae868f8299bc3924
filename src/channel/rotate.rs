//! `mlgate channel rotate`: a new root version that replaces the keys of some roles, signed by the old root's
//! keys (so clients holding the old root accept it) and by the new root keys, then targets, snapshot and
//! timestamp re-signed under it. Devices follow on their next update, without being reflashed.

use std::collections::{BTreeMap, HashSet};
use std::num::NonZeroU64;
use std::path::PathBuf;

use aws_lc_rs::rand::SystemRandom;
use tough::editor::signed::SignedRole;
use tough::schema::{KeyHolder, Root};

use super::keys::{check_keys_for, id_hex, LoadedKey, RoleKeys, RoleName};
use super::repo::{self, Channel};
use super::ChannelError;

pub struct RotateOptions {
    pub dir: PathBuf,
    /// The current root keys (enough for its threshold), and the keys of roles that keep their keys.
    pub signing: Vec<LoadedKey>,
    /// The roles whose keys are replaced, with their new keys.
    pub new: RoleKeys,
    pub thresholds: BTreeMap<RoleName, u64>,
}

#[derive(Debug)]
pub struct Rotated {
    pub root_version: u64,
    pub root_sha256: String,
    pub roles: Vec<(RoleName, Vec<String>, u64)>,
}

pub fn rotate(opts: RotateOptions) -> Result<Rotated, ChannelError> {
    let (channel, _lock) = Channel::load_for_writing(&opts.dir)?;
    let now = super::now();
    let old = channel.repo.root().signed.clone();
    check_keys_for(&old, &[RoleName::Root], &opts.signing)?;
    let new = new_root(&old, &opts, now, &channel)?;
    let all: Vec<&LoadedKey> = opts
        .signing
        .iter()
        .chain(opts.new.by_role.values().flatten())
        .collect();
    // Every role of the new root must be signable now, or the channel would be left half-rotated.
    check_keys_for_refs(&new, &RoleName::ALL, &all)?;
    let signed = cross_sign(&old, &new, &opts.signing, &all)?;
    let bytes = signed.buffer().clone();
    // The new root, targets, snapshot and timestamp are signed before anything is written, then installed in
    // that order: a crash leaves either the old channel or a new root whose other roles follow on the next run.
    let sources = super::keys::sources(all.iter().copied());
    super::publish::write_targets_under(
        &channel,
        Some((new.version.get(), &bytes)),
        Vec::new(),
        &sources,
        now,
    )?;
    let roles = RoleName::ALL
        .iter()
        .map(|r| {
            let rk = &new.roles[&r.tuf()];
            (
                *r,
                rk.keyids.iter().map(id_hex).collect(),
                rk.threshold.get(),
            )
        })
        .collect();
    Ok(Rotated {
        root_version: new.version.get(),
        root_sha256: crate::sign::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
        roles,
    })
}

fn check_keys_for_refs(
    root: &Root,
    roles: &[RoleName],
    keys: &[&LoadedKey],
) -> Result<(), ChannelError> {
    // check_keys_for takes owned keys; the checks only need IDs, so compare by ID here the same way.
    let ids: HashSet<String> = keys.iter().map(|k| k.key_id_hex()).collect();
    for role in roles {
        let rk = &root.roles[&role.tuf()];
        let have = rk
            .keyids
            .iter()
            .filter(|id| ids.contains(&id_hex(id)))
            .count() as u64;
        if have < rk.threshold.get() {
            return Err(ChannelError::Keys {
                message: format!(
                    "after the rotation the {} role needs {} signature(s) by {}; the keys given have {have}",
                    role.as_str(),
                    rk.threshold,
                    rk.keyids.iter().map(id_hex).collect::<Vec<_>>().join(", ")
                ),
                help: Some(format!(
                    "pass the {} key with --key (or its new key with --{}-key)",
                    role.as_str(),
                    role.as_str()
                )),
            });
        }
    }
    Ok(())
}

fn new_root(
    old: &Root,
    opts: &RotateOptions,
    now: jiff::Timestamp,
    channel: &Channel,
) -> Result<Root, ChannelError> {
    if opts.new.by_role.values().all(Vec::is_empty) && opts.thresholds.is_empty() {
        return Err(ChannelError::Usage(
            "nothing to rotate: give new keys with --root-key, --targets-key, --snapshot-key or --timestamp-key"
                .into(),
        ));
    }
    let mut root = old.clone();
    root.version = old
        .version
        .checked_add(1)
        .ok_or_else(|| ChannelError::tuf("root version overflow"))?;
    root.expires = channel.config.lifetimes.expiry(RoleName::Root, now)?;
    for role in RoleName::ALL {
        let entry = root.roles.get_mut(&role.tuf()).ok_or_else(|| {
            ChannelError::tuf(format!("the root lists no {} role", role.as_str()))
        })?;
        if let Some(keys) = opts.new.by_role.get(&role).filter(|k| !k.is_empty()) {
            entry.keyids.clear();
            for k in keys {
                if !entry.keyids.contains(&k.key_id) {
                    entry.keyids.push(k.key_id.clone());
                }
                root.keys.insert(k.key_id.clone(), k.tuf_key.clone());
            }
        }
        let threshold = opts
            .thresholds
            .get(&role)
            .copied()
            .unwrap_or(entry.threshold.get());
        entry.threshold = NonZeroU64::new(threshold)
            .filter(|t| t.get() <= entry.keyids.len() as u64)
            .ok_or_else(|| {
                ChannelError::Usage(format!(
                    "the {} role's threshold would be {threshold} with {} key(s)",
                    role.as_str(),
                    entry.keyids.len()
                ))
            })?;
    }
    // Keys no role names any more leave the root.
    let used: HashSet<_> = root
        .roles
        .values()
        .flat_map(|r| r.keyids.iter().cloned())
        .collect();
    root.keys.retain(|id, _| used.contains(id));
    Ok(root)
}

/// Signed by the new root's keys and by the old root's keys: TUF clients check a new root against both.
fn cross_sign(
    old: &Root,
    new: &Root,
    old_keys: &[LoadedKey],
    all: &[&LoadedKey],
) -> Result<SignedRole<Root>, ChannelError> {
    let rng = SystemRandom::new();
    let by_new = super::block_on(SignedRole::new(
        new.clone(),
        &KeyHolder::Root(new.clone()),
        &super::keys::sources(all.iter().copied()),
        &rng,
    ))?
    .map_err(|e| ChannelError::tuf(repo::error_chain(&e)))?;
    let by_old = super::block_on(SignedRole::new(
        new.clone(),
        &KeyHolder::Root(old.clone()),
        &super::keys::sources(old_keys),
        &rng,
    ))?
    .map_err(|e| ChannelError::tuf(repo::error_chain(&e)))?;
    let signed = by_new
        .add_old_signatures(by_old.signed().signatures.clone())
        .map_err(|e| ChannelError::tuf(repo::error_chain(&e)))?;
    let need = new.roles[&RoleName::Root.tuf()].threshold.get();
    let new_ids = &new.roles[&RoleName::Root.tuf()].keyids;
    let have = signed
        .signed()
        .signatures
        .iter()
        .filter(|s| new_ids.contains(&s.keyid))
        .count() as u64;
    if have < need {
        return Err(ChannelError::Keys {
            message: format!("the new root needs {need} signature(s) by its own root keys; the keys given make {have}"),
            help: Some("pass the new root keys with --root-key".into()),
        });
    }
    Ok(signed)
}
