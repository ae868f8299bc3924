//! `mlgate publish`: approved bundles become TUF targets; `--rollback-to` makes an older one current again.
//!
//! A bundle is approved when it reads and its digests match, its signatures and attestation verify with the
//! channel's pinned bundle keys, its embedded gate verdict is `pass`, its device target is one the channel
//! serves, and its version is newer than every version of that model and target already in the channel. Either
//! every bundle given is approved and published, or none is.

use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use tough::editor::RepositoryEditor;
use tough::schema::Target;

use super::keys::{check_keys_for, LoadedKey, RoleName};
use super::meta::{compare_versions, Rollback, TargetMeta, CUSTOM_KEY};
use super::repo::{self, Channel};
use super::ChannelError;
use crate::edge::archive::{read_entries, EntryHead, EntrySink, Flow, Limits};
use crate::edge::bundle::ATTESTATION;
use crate::edge::check::{EntryDigest, MAX_METADATA_BYTES};
use crate::edge::{check_bundle, CheckOptions};
use crate::report::{Status, Verdict};
use crate::sign::dsse::{Envelope, Statement};

pub struct PublishOptions {
    pub dir: PathBuf,
    pub bundles: Vec<PathBuf>,
    pub keys: Vec<LoadedKey>,
    /// Host the bundles as assets of this GitHub Release instead of the channel's `targets/` folder.
    pub github: Option<super::github::GithubRelease>,
}

/// A bundle the channel does not take, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub bundle: String,
    pub reasons: Vec<String>,
}

#[derive(Debug)]
pub enum Published {
    /// Every bundle was added; the new targets version.
    Added {
        targets: Vec<(String, TargetMeta)>,
        targets_version: u64,
    },
    /// At least one bundle was refused; nothing was written.
    Refused(Vec<Refusal>),
    /// The GitHub Release holds different files under the same names (or is immutable and lacks some): the
    /// release was not modified and the channel not written.
    ReleaseConflict {
        release: String,
        problems: Vec<String>,
    },
}

/// An approved bundle, ready to be added.
struct Approved {
    path: PathBuf,
    name: String,
    meta: TargetMeta,
}

pub fn publish(opts: PublishOptions) -> Result<Published, ChannelError> {
    if opts.bundles.is_empty() {
        return Err(ChannelError::Usage(
            "no bundle given: mlgate publish BUNDLE... --channel DIR".into(),
        ));
    }
    let (channel, _lock) = Channel::load_for_writing(&opts.dir)?;
    let now = super::now();
    check_root_fresh(&channel, now)?;
    check_keys_for(
        &channel.repo.root().signed,
        &[RoleName::Targets, RoleName::Snapshot, RoleName::Timestamp],
        &opts.keys,
    )?;
    let pinned = channel.config.bundle_keys(&channel.dir)?;
    let mut existing = entries(&channel)?;
    let mut sequence = existing.iter().map(|(_, m)| m.sequence).max().unwrap_or(0);
    let mut checked = Vec::new();
    let mut refused = Vec::new();
    for path in &opts.bundles {
        match approve(&channel, path, &pinned)? {
            Ok(a) => checked.push(a),
            Err(reasons) => refused.push(Refusal {
                bundle: path.display().to_string(),
                reasons,
            }),
        }
    }
    // Several versions of one model in one publish are taken in version order, whatever order the shell's glob
    // gave them (`1.10.0` sorts before `1.9.0` by name).
    checked.sort_by(|a, b| {
        (&a.meta.model, &a.meta.target)
            .cmp(&(&b.meta.model, &b.meta.target))
            .then_with(|| {
                compare_versions(&a.meta.version, &b.meta.version)
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
    });
    let mut approved = Vec::new();
    for mut a in checked {
        if let Some(reason) = version_refusal(&a.meta, &existing) {
            refused.push(Refusal {
                bundle: a.path.display().to_string(),
                reasons: vec![reason],
            });
            continue;
        }
        sequence += 1;
        a.meta.sequence = sequence;
        a.meta.published_at = now.to_string();
        existing.push((a.name.clone(), a.meta.clone()));
        approved.push(a);
    }
    if !refused.is_empty() {
        return Ok(Published::Refused(refused));
    }
    let mut targets = Vec::new();
    for a in &approved {
        targets.push((a.name.clone(), target_of(&a.path, &a.meta)?));
    }
    match &opts.github {
        Some(gh) => {
            if let Err(problems) = host_on_github(&channel, gh, &mut approved, &mut targets)? {
                return Ok(Published::ReleaseConflict {
                    release: format!("{} {}", gh.repo, gh.tag),
                    problems,
                });
            }
        }
        None => {
            for (name, target) in &targets {
                let path = approved
                    .iter()
                    .find(|a| &a.name == name)
                    .map(|a| a.path.as_path())
                    .ok_or_else(|| ChannelError::tuf(format!("target {name} vanished")))?;
                repo::store_target(
                    &channel.dir,
                    path,
                    name,
                    &crate::sign::hex(&target.hashes.sha256),
                )?;
            }
        }
    }
    let version = write_targets(&channel, targets, &super::keys::sources(&opts.keys), now)?;
    Ok(Published::Added {
        targets: approved.into_iter().map(|a| (a.name, a.meta)).collect(),
        targets_version: version,
    })
}

/// Uploads the bundles to the release, then records each asset's download URL in its target's custom metadata.
/// Ok(Err(problems)): a conflict on the release; nothing was changed there.
fn host_on_github(
    channel: &Channel,
    gh: &super::github::GithubRelease,
    approved: &mut [Approved],
    targets: &mut [(String, Target)],
) -> Result<Result<(), Vec<String>>, ChannelError> {
    let digests: Vec<String> = targets
        .iter()
        .map(|(_, t)| crate::sign::hex(&t.hashes.sha256))
        .collect();
    let hosted: Vec<super::github::Hosted<'_>> = approved
        .iter()
        .zip(&digests)
        .map(|(a, sha256)| super::github::Hosted {
            path: &a.path,
            name: &a.name,
            sha256,
        })
        .collect();
    let consistent = channel.repo.root().signed.consistent_snapshot;
    let urls = match super::github::host(gh, &hosted, consistent)? {
        Ok(u) => u,
        Err(problems) => return Ok(Err(problems)),
    };
    for (a, (name, target)) in approved.iter_mut().zip(targets.iter_mut()) {
        a.meta.url = urls.get(name).cloned();
        target.custom.insert(
            CUSTOM_KEY.to_string(),
            serde_json::to_value(&a.meta).map_err(ChannelError::tuf)?,
        );
    }
    Ok(Ok(()))
}

/// A root past its expiry makes every client refuse the channel: publishing would only hide that.
fn check_root_fresh(channel: &Channel, now: jiff::Timestamp) -> Result<(), ChannelError> {
    let expires = channel.repo.root().signed.expires;
    if expires <= now {
        return Err(ChannelError::Keys {
            message: format!(
                "{}: the root expired at {expires}: clients refuse the whole channel",
                channel.dir.display()
            ),
            help: Some(
                "sign a new root version with the root keys (key rotation), then publish".into(),
            ),
        });
    }
    Ok(())
}

/// Every mlgate target in the channel with its custom metadata.
pub fn entries(channel: &Channel) -> Result<Vec<(String, TargetMeta)>, ChannelError> {
    let mut out = Vec::new();
    for (name, t) in channel.repo.targets().signed.targets_iter() {
        if let Some(m) = TargetMeta::from_custom(&t.custom) {
            let m = m.map_err(|e| ChannelError::Malformed {
                path: channel.dir.display().to_string(),
                message: format!("target {}: custom.{CUSTOM_KEY}: {e}", name.raw()),
            })?;
            out.push((name.raw().to_string(), m));
        }
    }
    out.sort_by_key(|(_, m)| m.sequence);
    Ok(out)
}

/// Checks one bundle. Ok(Err(reasons)) is a refusal; Err is a bundle that cannot be read at all (exit 2).
fn approve(
    channel: &Channel,
    path: &Path,
    pinned: &[crate::sign::PublicKey],
) -> Result<Result<Approved, Vec<String>>, ChannelError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty() && !n.starts_with('.'))
        .ok_or_else(|| ChannelError::Usage(format!("{}: not a bundle file name", path.display())))?
        .to_string();
    let checked = check_bundle(
        path,
        &CheckOptions {
            keys: pinned.to_vec(),
            ..CheckOptions::default()
        },
    )?;
    let mut reasons = Vec::new();
    if checked.report.verdict == Verdict::Fail {
        for c in checked
            .report
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
        {
            let first: Vec<&str> = c
                .findings
                .iter()
                .take(3)
                .map(|f| f.message.as_str())
                .collect();
            reasons.push(format!("{} check failed: {}", c.kind, first.join("; ")));
        }
    }
    let Some(manifest) = checked.manifest.as_ref() else {
        reasons.push("no readable manifest.json".into());
        return Ok(Err(reasons));
    };
    reasons.extend(gate_refusal(manifest));
    if let Err(e) = crate::edge::Target::named(&manifest.target) {
        reasons.push(format!("unknown device target: {e}"));
    } else if !channel.config.targets.is_empty()
        && !channel.config.targets.contains(&manifest.target)
    {
        reasons.push(format!(
            "the channel serves {}, not {}",
            channel.config.targets.join(", "),
            manifest.target
        ));
    }
    let commit = match attested_commit(path, pinned) {
        Ok(c) => c,
        Err(m) => {
            reasons.push(m);
            String::new()
        }
    };
    if !reasons.is_empty() {
        return Ok(Err(reasons));
    }
    let manifest_sha256 = checked
        .entries
        .get(crate::edge::bundle::MANIFEST)
        .map(EntryDigest::sha256_hex)
        .unwrap_or_default();
    Ok(Ok(Approved {
        path: path.to_path_buf(),
        name,
        meta: TargetMeta {
            model: manifest.name.clone(),
            version: manifest.version.clone(),
            target: manifest.target.clone(),
            manifest_sha256,
            verdict: "pass".into(),
            commit,
            sequence: 0,
            published_at: String::new(),
            url: None,
            rollback: None,
        },
    }))
}

/// The bundle's embedded gate: present, and passed. (`mlgate bundle` makes no bundle of a failed report; this
/// holds against bundles made otherwise.)
fn gate_refusal(manifest: &crate::edge::Manifest) -> Option<String> {
    match &manifest.gate {
        None => Some("it carries no gate report (bundle it with --report)".into()),
        Some(g) if g.verdict != "pass" => {
            Some(format!("its gate report's verdict is {}", g.verdict))
        }
        Some(_) => None,
    }
}

/// The version must be newer than every version of the same model and target in the channel.
fn version_refusal(new: &TargetMeta, existing: &[(String, TargetMeta)]) -> Option<String> {
    if compare_versions(&new.version, &new.version).is_none() {
        return Some(format!(
            "version {:?} is not a semantic version (1.2.0): the channel could not order it",
            new.version
        ));
    }
    let same = existing
        .iter()
        .filter(|(_, m)| m.model == new.model && m.target == new.target);
    for (_, m) in same {
        match compare_versions(&new.version, &m.version) {
            None => {
                return Some(format!(
                    "version {:?} cannot be ordered against {:?}: versions must be semantic (1.2.0)",
                    new.version, m.version
                ))
            }
            Some(std::cmp::Ordering::Greater) => {}
            Some(_) => {
                return Some(format!(
                    "version {} of {} for {} is not newer than {}, already in the channel (to go back, use --rollback-to)",
                    new.version, new.model, new.target, m.version
                ))
            }
        }
    }
    None
}

/// The commit from the bundle's attestation. `check_bundle` verified the attestation but keeps no bytes, so the
/// entry is read again here (the third entry of a sorted bundle: the reading stops right after it) and its
/// signature checked again with the pinned keys before its commit is believed.
fn attested_commit(path: &Path, pinned: &[crate::sign::PublicKey]) -> Result<String, String> {
    let mut sink = KeepOne::default();
    read_entries(path, Limits::default(), &mut sink).map_err(|e| e.to_string())?;
    let bytes = sink.bytes.ok_or("it has no attestation, so no commit")?;
    let env: Envelope =
        serde_json::from_slice(&bytes).map_err(|e| format!("unreadable attestation: {e}"))?;
    env.verify_any(pinned)
        .map_err(|e| format!("its attestation does not verify: {e}"))?;
    let payload = env.payload_bytes()?;
    let st: Statement =
        serde_json::from_slice(&payload).map_err(|e| format!("unreadable statement: {e}"))?;
    st.predicate
        .get("commit")
        .and_then(|c| c.as_str())
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .ok_or_else(|| "its attestation names no commit".to_string())
}

/// Keeps the attestation entry's bytes (bounded like any metadata) and stops reading after it.
#[derive(Default)]
struct KeepOne {
    bytes: Option<Vec<u8>>,
    reading: bool,
}

impl EntrySink for KeepOne {
    fn begin(&mut self, entry: &EntryHead<'_>) -> Result<Flow, crate::edge::EdgeError> {
        self.reading = entry.name == ATTESTATION && entry.size <= MAX_METADATA_BYTES;
        Ok(if self.reading { Flow::Read } else { Flow::Skip })
    }

    fn data(&mut self, bytes: &[u8]) -> Result<(), crate::edge::EdgeError> {
        if self.reading {
            self.bytes
                .get_or_insert_with(Vec::new)
                .extend_from_slice(bytes);
        }
        Ok(())
    }

    fn end(&mut self, _: &EntryHead<'_>) -> Result<Flow, crate::edge::EdgeError> {
        Ok(if self.reading { Flow::Stop } else { Flow::Read })
    }
}

/// The TUF target: length and SHA-256 read by tough as it streams the file, and mlgate's custom metadata.
fn target_of(path: &Path, meta: &TargetMeta) -> Result<Target, ChannelError> {
    let mut target = super::block_on(Target::from_path(path))?
        .map_err(|e| ChannelError::io(path, repo::error_chain(&e)))?;
    target.custom.insert(
        CUSTOM_KEY.to_string(),
        serde_json::to_value(meta).map_err(ChannelError::tuf)?,
    );
    Ok(target)
}

/// New targets (adding or replacing entries), snapshot and timestamp, each one version up, signed and installed.
pub(crate) fn write_targets(
    channel: &Channel,
    targets: Vec<(String, Target)>,
    sources: &[Box<dyn tough::key_source::KeySource>],
    now: jiff::Timestamp,
) -> Result<u64, ChannelError> {
    write_targets_under(channel, None, targets, sources, now)
}

/// As [`write_targets`]; with `new_root` (its version and bytes), under that root, which is installed first.
pub(crate) fn write_targets_under(
    channel: &Channel,
    new_root: Option<(u64, &[u8])>,
    targets: Vec<(String, Target)>,
    sources: &[Box<dyn tough::key_source::KeySource>],
    now: jiff::Timestamp,
) -> Result<u64, ChannelError> {
    // The editor reads the root it signs under from a file: the channel's, or the new one staged outside it.
    let staged_root = match new_root {
        Some((_, bytes)) => {
            let mut f = tempfile::NamedTempFile::new()
                .map_err(|e| ChannelError::io(&std::env::temp_dir(), e))?;
            std::io::Write::write_all(&mut f, bytes).map_err(|e| ChannelError::io(f.path(), e))?;
            Some(f)
        }
        None => None,
    };
    let lt = &channel.config.lifetimes;
    let next = |v: NonZeroU64| v.checked_add(1).unwrap_or(v);
    let targets_v = next(channel.repo.targets().signed.version);
    let snapshot_v = next(channel.repo.snapshot().signed.version);
    let timestamp_v = next(channel.repo.timestamp().signed.version);
    let (te, se, tse) = (
        lt.expiry(RoleName::Targets, now)?,
        lt.expiry(RoleName::Snapshot, now)?,
        lt.expiry(RoleName::Timestamp, now)?,
    );
    let root_path = staged_root
        .as_ref()
        .map_or_else(|| channel.root_path(), |f| f.path().to_path_buf());
    let repo_clone = channel.repo.clone();
    let signed = super::block_on(async {
        let mut editor = RepositoryEditor::from_repo(&root_path, repo_clone).await?;
        for (name, target) in targets {
            editor.add_target(name.as_str(), target)?;
        }
        editor
            .targets_version(targets_v)?
            .targets_expires(te)?
            .snapshot_version(snapshot_v)
            .snapshot_expires(se)
            .timestamp_version(timestamp_v)
            .timestamp_expires(tse);
        editor.sign(sources).await
    })?
    .map_err(|e| ChannelError::tuf(repo::error_chain(&e)))?;
    super::init::write_signed(
        &channel.dir,
        &signed,
        targets_v.get(),
        snapshot_v.get(),
        new_root,
    )?;
    Ok(targets_v.get())
}

pub struct RollbackOptions {
    pub dir: PathBuf,
    pub model: String,
    /// The device target; may be left out when the model has one.
    pub target: Option<String>,
    pub version: String,
    pub reason: String,
    pub keys: Vec<LoadedKey>,
}

/// Makes an older version current again: its entry gets the next sequence and a [`Rollback`] record, in a new
/// targets version. Devices see a newer targets version whose current entry is the older bundle.
pub fn rollback(opts: RollbackOptions) -> Result<(String, TargetMeta), ChannelError> {
    if opts.reason.trim().is_empty() {
        return Err(ChannelError::Usage(
            "--rollback-to needs --reason TEXT: the channel records why it went back".into(),
        ));
    }
    let (channel, _lock) = Channel::load_for_writing(&opts.dir)?;
    let now = super::now();
    check_root_fresh(&channel, now)?;
    check_keys_for(
        &channel.repo.root().signed,
        &[RoleName::Targets, RoleName::Snapshot, RoleName::Timestamp],
        &opts.keys,
    )?;
    let all = entries(&channel)?;
    let target = rollback_target(&all, &opts)?;
    let of_pair: Vec<&(String, TargetMeta)> = all
        .iter()
        .filter(|(_, m)| m.model == opts.model && m.target == target)
        .collect();
    let current = of_pair
        .iter()
        .max_by_key(|(_, m)| m.sequence)
        .map(|(_, m)| m.clone())
        .ok_or_else(|| {
            ChannelError::Usage(format!("no {} for {target} in the channel", opts.model))
        })?;
    let (name, mut meta) = of_pair
        .iter()
        .find(|(_, m)| {
            compare_versions(&m.version, &opts.version) == Some(std::cmp::Ordering::Equal)
        })
        .map(|(n, m)| (n.clone(), m.clone()))
        .ok_or_else(|| {
            let mut versions: Vec<&str> = of_pair.iter().map(|(_, m)| m.version.as_str()).collect();
            versions.sort_by(|a, b| compare_versions(a, b).unwrap_or(std::cmp::Ordering::Equal));
            ChannelError::Usage(format!(
                "{} {} for {target} is not in the channel (it has {})",
                opts.model,
                opts.version,
                versions.join(", ")
            ))
        })?;
    if compare_versions(&meta.version, &current.version) != Some(std::cmp::Ordering::Less) {
        return Err(ChannelError::Usage(format!(
            "{} {} is not older than the current {}: a rollback goes back",
            opts.model, meta.version, current.version
        )));
    }
    meta.sequence = all.iter().map(|(_, m)| m.sequence).max().unwrap_or(0) + 1;
    meta.rollback = Some(Rollback {
        from: current.version.clone(),
        reason: opts.reason.clone(),
        at: now.to_string(),
    });
    let mut target_entry = channel
        .repo
        .targets()
        .signed
        .targets_iter()
        .find(|(n, _)| n.raw() == name)
        .map(|(_, t)| t.clone())
        .ok_or_else(|| ChannelError::tuf(format!("target {name} vanished")))?;
    target_entry.custom.insert(
        CUSTOM_KEY.to_string(),
        serde_json::to_value(&meta).map_err(ChannelError::tuf)?,
    );
    write_targets(
        &channel,
        vec![(name.clone(), target_entry)],
        &super::keys::sources(&opts.keys),
        now,
    )?;
    Ok((name, meta))
}

fn rollback_target(
    all: &[(String, TargetMeta)],
    opts: &RollbackOptions,
) -> Result<String, ChannelError> {
    if let Some(t) = &opts.target {
        return Ok(t.clone());
    }
    let mut targets: Vec<&str> = all
        .iter()
        .filter(|(_, m)| m.model == opts.model)
        .map(|(_, m)| m.target.as_str())
        .collect();
    targets.sort_unstable();
    targets.dedup();
    match targets.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(ChannelError::Usage(format!(
            "model {} is not in the channel",
            opts.model
        ))),
        many => Err(ChannelError::Usage(format!(
            "model {} is published for {}: name one with --target",
            opts.model,
            many.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::manifest::GateRef;

    fn manifest(version: &str, gate: Option<&str>) -> crate::edge::Manifest {
        crate::edge::Manifest {
            schema_version: 1,
            name: "wine".into(),
            version: version.into(),
            target: "linux-aarch64".into(),
            artifacts: vec![],
            inputs: vec![],
            outputs: vec![],
            labels: vec![],
            preprocessing: None,
            metrics: Default::default(),
            quantization: None,
            gate: gate.map(|v| GateRef {
                report_sha256: "00".repeat(32),
                verdict: v.into(),
            }),
            min_tract_version: "0.23.9".into(),
            selftest: None,
        }
    }

    fn entry(version: &str, target: &str) -> (String, TargetMeta) {
        (
            format!("wine-{version}-{target}.tar.gz"),
            TargetMeta {
                model: "wine".into(),
                version: version.into(),
                target: target.into(),
                manifest_sha256: String::new(),
                verdict: "pass".into(),
                commit: "c".into(),
                sequence: 1,
                published_at: String::new(),
                url: None,
                rollback: None,
            },
        )
    }

    #[test]
    fn a_failed_or_missing_gate_is_refused() {
        assert_eq!(gate_refusal(&manifest("1.0.0", Some("pass"))), None);
        assert_eq!(
            gate_refusal(&manifest("1.0.0", Some("fail"))).as_deref(),
            Some("its gate report's verdict is fail")
        );
        assert!(gate_refusal(&manifest("1.0.0", None))
            .unwrap()
            .contains("no gate report"));
    }

    #[test]
    fn versions_must_grow_per_model_and_target() {
        let existing = vec![
            entry("1.2.0", "linux-aarch64"),
            entry("3.0.0", "linux-x86_64"),
        ];
        let new = |v: &str| entry(v, "linux-aarch64").1;
        assert_eq!(version_refusal(&new("1.3.0"), &existing), None);
        // Another target's newer version does not count.
        assert_eq!(version_refusal(&new("2.0.0"), &existing), None);
        assert!(version_refusal(&new("1.2.0"), &existing)
            .unwrap()
            .contains("is not newer than 1.2.0"));
        assert!(version_refusal(&new("1.2.0-rc.1"), &existing).is_some());
        assert!(version_refusal(&new("latest"), &[])
            .unwrap()
            .contains("not a semantic version"));
    }
}
