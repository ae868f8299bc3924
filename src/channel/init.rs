//! `mlgate channel init`: a new TUF repository with its first root, and empty targets, snapshot and timestamp so
//! that clients can read it at once.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::SystemRandom;
use tough::editor::signed::SignedRole;
use tough::editor::RepositoryEditor;
use tough::schema::{KeyHolder, Root};

use super::config::{ChannelConfig, Lifetimes, CONFIG_FILE, CONFIG_VERSION};
use super::keys::{id_hex, LoadedKey, RoleKeys, RoleName};
use super::repo::{self, ROOT_FILE, SPEC_VERSION, TIMESTAMP_FILE};
use super::ChannelError;
use crate::fsutil::write_atomic;
use crate::sign::PublicKey;

pub struct InitOptions {
    pub dir: PathBuf,
    pub name: String,
    pub keys: RoleKeys,
    /// Signatures each role needs; 1 when not given.
    pub thresholds: BTreeMap<RoleName, u64>,
    pub bundle_keys: Vec<PublicKey>,
    pub targets: Vec<String>,
    pub lifetimes: Lifetimes,
}

#[derive(Debug)]
pub struct Initialized {
    pub dir: PathBuf,
    /// SHA-256 of root.json: what a device's pinned root must hash to.
    pub root_sha256: String,
    /// Per role: its key IDs and threshold.
    pub roles: Vec<(RoleName, Vec<String>, u64)>,
    pub root_expires: jiff::Timestamp,
}

pub fn init(opts: InitOptions) -> Result<Initialized, ChannelError> {
    check_empty(&opts.dir)?;
    opts.lifetimes.validate().map_err(ChannelError::Usage)?;
    if opts.bundle_keys.is_empty() {
        return Err(ChannelError::Usage(
            "a channel needs at least one --bundle-pubkey: the key bundles must be signed with"
                .into(),
        ));
    }
    for t in &opts.targets {
        crate::edge::Target::named(t).map_err(ChannelError::Usage)?;
    }
    let now = super::now();
    let root = build_root(&opts, now)?;
    std::fs::create_dir_all(&opts.dir).map_err(|e| ChannelError::io(&opts.dir, e))?;
    let dir = std::fs::canonicalize(&opts.dir).map_err(|e| ChannelError::io(&opts.dir, e))?;
    // build_root made sure every role has keys.
    let root_keys: Vec<&LoadedKey> = opts
        .keys
        .by_role
        .get(&RoleName::Root)
        .map_or(Vec::new(), |k| k.iter().collect());
    let signed_root = sign_root(&root, &root_keys)?;
    let root_bytes = signed_root.buffer().clone();
    // 1.root.json for clients walking rotations, root.json for pinning: the same bytes.
    for name in ["1.root.json", ROOT_FILE] {
        let p = dir.join(name);
        write_atomic(&p, &root_bytes).map_err(|e| ChannelError::io(&p, e))?;
        repo::make_world_readable(&p);
    }
    write_first_metadata(&dir, &opts, now)?;
    let config = ChannelConfig {
        version: CONFIG_VERSION,
        name: opts.name.clone(),
        bundle_pubkeys: opts.bundle_keys.iter().map(|k| k.to_minisign()).collect(),
        targets: opts.targets.clone(),
        lifetimes: opts.lifetimes.clone(),
    };
    let cfg_path = ChannelConfig::path(&dir);
    write_atomic(&cfg_path, &config.to_json()).map_err(|e| ChannelError::io(&cfg_path, e))?;
    repo::make_world_readable(&cfg_path);
    let roles = RoleName::ALL
        .iter()
        .map(|r| {
            let rk = &root.roles[&r.tuf()];
            (
                *r,
                rk.keyids.iter().map(id_hex).collect(),
                rk.threshold.get(),
            )
        })
        .collect();
    Ok(Initialized {
        dir,
        root_sha256: crate::sign::hex(&<sha2::Sha256 as sha2::Digest>::digest(&root_bytes)),
        roles,
        root_expires: root.expires,
    })
}

/// A channel is made in an empty (or new) folder only: never over another channel or someone's files.
fn check_empty(dir: &Path) -> Result<(), ChannelError> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        return Err(ChannelError::Exists {
            path: dir.display().to_string(),
            message: "exists and is not a folder".into(),
        });
    }
    for name in [CONFIG_FILE, ROOT_FILE, "1.root.json", TIMESTAMP_FILE] {
        if dir.join(name).exists() {
            return Err(ChannelError::Exists {
                path: dir.display().to_string(),
                message: format!(
                    "already holds {name}: a channel is made once (rotate keys instead of making it again)"
                ),
            });
        }
    }
    Ok(())
}

fn build_root(opts: &InitOptions, now: jiff::Timestamp) -> Result<Root, ChannelError> {
    let mut keys = HashMap::new();
    let mut roles = HashMap::new();
    for role in RoleName::ALL {
        let given = opts.keys.by_role.get(&role).map_or(&[][..], Vec::as_slice);
        if given.is_empty() {
            return Err(ChannelError::Usage(format!(
                "no key for the {} role: pass --key (every role) or --{}-key",
                role.as_str(),
                role.as_str()
            )));
        }
        let threshold = opts.thresholds.get(&role).copied().unwrap_or(1);
        let mut ids = Vec::new();
        for k in given {
            if !ids.contains(&k.key_id) {
                ids.push(k.key_id.clone());
            }
            keys.insert(k.key_id.clone(), k.tuf_key.clone());
        }
        let threshold = NonZeroU64::new(threshold)
            .filter(|t| t.get() <= ids.len() as u64)
            .ok_or_else(|| {
                ChannelError::Usage(format!(
                    "the {} role's threshold is {threshold}, but it has {} distinct key(s): it must be 1 to {}",
                    role.as_str(),
                    ids.len(),
                    ids.len()
                ))
            })?;
        roles.insert(
            role.tuf(),
            tough::schema::RoleKeys {
                keyids: ids,
                threshold,
                _extra: HashMap::new(),
            },
        );
    }
    Ok(Root {
        spec_version: SPEC_VERSION.to_string(),
        consistent_snapshot: true,
        version: NonZeroU64::MIN,
        expires: opts.lifetimes.expiry(RoleName::Root, now)?,
        keys,
        roles,
        _extra: HashMap::new(),
    })
}

/// Signs a root with the given root keys and checks that it reaches its own threshold (tough's signer leaves
/// that check to the caller for roots, because of cross-signing).
pub(crate) fn sign_root(
    root: &Root,
    signers: &[&LoadedKey],
) -> Result<SignedRole<Root>, ChannelError> {
    let sources = super::keys::sources(signers.iter().copied());
    let signed = super::block_on(SignedRole::new(
        root.clone(),
        &KeyHolder::Root(root.clone()),
        &sources,
        &SystemRandom::new(),
    ))?
    .map_err(|e| ChannelError::tuf(repo::error_chain(&e)))?;
    let threshold = root.roles[&tough::schema::RoleType::Root].threshold.get();
    let n = signed.signed().signatures.len() as u64;
    if n < threshold {
        return Err(ChannelError::Keys {
            message: format!("the root needs {threshold} signature(s), the keys given make {n}"),
            help: Some("pass as many root keys as the root threshold".into()),
        });
    }
    Ok(signed)
}

/// Version 1 of targets (empty), snapshot and timestamp.
fn write_first_metadata(
    dir: &Path,
    opts: &InitOptions,
    now: jiff::Timestamp,
) -> Result<(), ChannelError> {
    let root_path = dir.join(ROOT_FILE);
    let sources = super::keys::sources(opts.keys.by_role.values().flatten());
    let lt = &opts.lifetimes;
    let (targets_exp, snapshot_exp, timestamp_exp) = (
        lt.expiry(RoleName::Targets, now)?,
        lt.expiry(RoleName::Snapshot, now)?,
        lt.expiry(RoleName::Timestamp, now)?,
    );
    let signed = super::block_on(async {
        let mut editor = RepositoryEditor::new(&root_path).await?;
        editor
            .targets_version(NonZeroU64::MIN)?
            .targets_expires(targets_exp)?
            .snapshot_version(NonZeroU64::MIN)
            .snapshot_expires(snapshot_exp)
            .timestamp_version(NonZeroU64::MIN)
            .timestamp_expires(timestamp_exp);
        editor.sign(&sources).await
    })?
    .map_err(|e| ChannelError::tuf(repo::error_chain(&e)))?;
    write_signed(dir, &signed, 1, 1, None)
}

/// Writes what tough signed into a staging folder, then moves it into the channel in TUF's order: a new root
/// first (when there is one: `N.root.json`, then the `root.json` copy), then targets, snapshot and timestamp.
pub(crate) fn write_signed(
    dir: &Path,
    signed: &tough::editor::signed::SignedRepository,
    targets_version: u64,
    snapshot_version: u64,
    new_root: Option<(u64, &[u8])>,
) -> Result<(), ChannelError> {
    let staging = repo::staging(dir)?;
    super::block_on(signed.write(staging.path()))?
        .map_err(|e| ChannelError::tuf(repo::error_chain(&e)))?;
    let mut names = Vec::new();
    if let Some((version, bytes)) = new_root {
        let copy = staging.path().join(ROOT_FILE);
        std::fs::write(&copy, bytes).map_err(|e| ChannelError::io(&copy, e))?;
        names.push(format!("{version}.root.json"));
        names.push(ROOT_FILE.to_string());
    }
    names.extend([
        format!("{targets_version}.targets.json"),
        format!("{snapshot_version}.snapshot.json"),
        TIMESTAMP_FILE.to_string(),
    ]);
    repo::install(staging.path(), dir, &names)
}
