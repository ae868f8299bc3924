//! `mlgate pull`: TUF refresh, choice of the release, streamed download, the bundle's checks, atomic install,
//! health check, and rollback when it fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use tough::{
    DefaultTransport, ExpirationEnforcement, HttpTransportBuilder, Repository, RepositoryLoader,
    TargetName,
};

use super::layout::{self, CURRENT, PREVIOUS, RELEASES_DIR, TUF_DIR};
use super::state::{Release, State};
use super::DeviceError;
use crate::channel::meta::{compare_versions, TargetMeta};
use crate::edge::bundle::MANIFEST;
use crate::edge::check::{check_bundle, CheckOptions, Expect, Extract};
use crate::edge::Manifest;
use crate::report::{Status, Verdict};
use crate::sign::PublicKey;

/// The archive's name inside a release folder, and the folder of its unpacked files.
pub const BUNDLE_FILE: &str = "bundle.tar.gz";
pub const FILES_DIR: &str = "files";
pub const RELEASE_FILE: &str = "release.json";

#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The channel's base URL (`https://`, `http://` or `file://`).
    pub channel: url::Url,
    /// The pinned root of trust, used until the device holds a newer root of its own.
    pub root: PathBuf,
    pub dir: PathBuf,
    /// The device target (`linux-aarch64`, ...).
    pub target: String,
    /// The model to follow; `None`: the only model the channel has for the target.
    pub model: Option<String>,
    /// Pinned bundle keys; empty: the bundle's digests are checked, not its minisign signatures.
    pub keys: Vec<PublicKey>,
    /// Pinned P-256 keys for the model's OMS signature; non-empty: the bundle must carry one they verify.
    pub oms_keys: Vec<crate::sign::ecdsa::EcPublicKey>,
    /// Releases kept on disk (current and previous are always kept).
    pub keep: usize,
    /// Run (through `sh -c`) after the swap and the self-test; a non-zero exit rolls back.
    pub health_cmd: Option<String>,
    /// How long the health command may run; at the timeout its whole process group is killed and the release
    /// rolled back.
    pub health_timeout: Duration,
    /// Timeout of one HTTP request, body included.
    pub timeout: Duration,
    /// Seconds past their expiry that metadata is still accepted (with a warning); 0: none.
    pub expiry_grace: i64,
}

/// The longest `--expiry-grace`: a bound, so a device never trusts frozen metadata indefinitely.
pub const MAX_EXPIRY_GRACE_SECS: i64 = 30 * 86_400;

/// A pull's outcome and what the device's operator should hear besides.
#[derive(Debug, Clone, PartialEq)]
pub struct Pulled {
    pub outcome: PullOutcome,
    pub warnings: Vec<String>,
}

/// What a pull did. Installed and UpToDate exit 0; Refused and RolledBack exit 1.
#[derive(Debug, Clone, PartialEq)]
pub enum PullOutcome {
    Installed {
        release: Release,
    },
    UpToDate {
        release: Release,
    },
    Refused {
        reasons: Vec<String>,
    },
    RolledBack {
        failed: Release,
        reason: String,
        current: Option<Release>,
    },
}

impl PullOutcome {
    pub fn exit(&self) -> crate::Exit {
        match self {
            PullOutcome::Installed { .. } | PullOutcome::UpToDate { .. } => crate::Exit::Pass,
            PullOutcome::Refused { .. } | PullOutcome::RolledBack { .. } => crate::Exit::GateFailed,
        }
    }
}

/// A release the channel offers for this device.
#[derive(Debug, Clone)]
struct Offer {
    name: String,
    meta: TargetMeta,
    sha256: String,
    length: u64,
}

pub fn pull(opts: &PullOptions) -> Result<Pulled, DeviceError> {
    let _lock = layout::open(&opts.dir)?;
    layout::clean(&opts.dir);
    let mut state = State::load(&opts.dir)?;
    state.last_attempt = Some(super::now());
    let mut warnings = Vec::new();
    let outcome = match block_on(pull_locked(opts, &mut state, &mut warnings))? {
        Ok(o) => o,
        Err(e) => {
            // A pull that could not run is a failed attempt too; the error is what the caller hears.
            state.attempts += 1;
            let _ = state.save(&opts.dir);
            return Err(e);
        }
    };
    match &outcome {
        PullOutcome::Installed { .. } | PullOutcome::UpToDate { .. } => {
            state.attempts = 0;
            state.last_success = state.last_attempt.clone();
        }
        PullOutcome::Refused { .. } | PullOutcome::RolledBack { .. } => state.attempts += 1,
    }
    state.save(&opts.dir)?;
    Ok(Pulled { outcome, warnings })
}

pub(crate) fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, DeviceError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DeviceError::Usage(format!("cannot start the async runtime: {e}")))?;
    Ok(rt.block_on(f))
}

async fn pull_locked(
    opts: &PullOptions,
    state: &mut State,
    warnings: &mut Vec<String>,
) -> Result<PullOutcome, DeviceError> {
    let repo = match load_repo(opts, None, warnings).await? {
        Ok(repo) => repo,
        Err(reason) => {
            return Ok(PullOutcome::Refused {
                reasons: vec![reason],
            })
        }
    };
    let offer = match choose(&repo, opts)? {
        Ok(o) => o,
        Err(reason) => {
            return Ok(PullOutcome::Refused {
                reasons: vec![reason],
            })
        }
    };
    if let Some(r) = state.installed.clone().filter(|r| r.sha256 == offer.sha256) {
        if layout::link_target(&opts.dir, CURRENT).as_deref() == Some(r.dir.as_str()) {
            // A health check that never finished (a crash, a power cut) is run again before the release counts.
            if state.pending_health {
                return Ok(health(opts, state, r));
            }
            return Ok(PullOutcome::UpToDate { release: r });
        }
    }
    if let Some(reason) = refuse_offer(state, &offer) {
        return Ok(PullOutcome::Refused {
            reasons: vec![reason],
        });
    }
    // A bundle hosted on a GitHub Release: the metadata is loaded again with the release's folder as the targets
    // URL, so tough fetches the asset and checks it against the same signed length and digest.
    let repo = match hosted_folder(&repo, &offer) {
        Ok(None) => repo,
        Ok(Some(folder)) => match load_repo(opts, Some(folder), &mut Vec::new()).await? {
            Ok(r) => r,
            Err(reason) => {
                return Ok(PullOutcome::Refused {
                    reasons: vec![reason],
                })
            }
        },
        Err(reason) => {
            return Ok(PullOutcome::Refused {
                reasons: vec![reason],
            })
        }
    };
    let staging = layout::staging(&opts.dir)?;
    let release_tmp = staging.path().join("release");
    std::fs::create_dir(&release_tmp).map_err(|e| DeviceError::io(&release_tmp, e))?;
    if let Err(reason) = download(&repo, opts, &offer, &release_tmp.join(BUNDLE_FILE)).await? {
        return Ok(PullOutcome::Refused {
            reasons: vec![reason],
        });
    }
    fault_point("after-download");
    if let Err(reasons) = verify(opts, &offer, &release_tmp)? {
        return Ok(PullOutcome::Refused { reasons });
    }
    fault_point("after-verify");
    let release = Release {
        model: offer.meta.model.clone(),
        version: offer.meta.version.clone(),
        target: offer.meta.target.clone(),
        sha256: offer.sha256.clone(),
        dir: layout::release_dir_name(&offer.meta.version, &offer.sha256),
        sequence: offer.meta.sequence,
        installed_at: super::now(),
    };
    install(opts, state, &release, &release_tmp)?;
    Ok(health(opts, state, release))
}

/// The channel URL as a folder URL (a trailing slash, so that joins stay inside it).
pub(crate) fn folder_url(u: &url::Url) -> url::Url {
    let mut u = u.clone();
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    u
}

/// Refreshes the trusted metadata (tough's client, the datastore in `DIR/tuf`). The root trusted is the device's
/// own newest root when it has one (kept by tough in the datastore), else the pinned `--root`. Ok(Err(reason)):
/// the channel's metadata was refused (rollback, freeze, bad signatures, mix-and-match).
async fn load_repo(
    opts: &PullOptions,
    targets_url: Option<url::Url>,
    warnings: &mut Vec<String>,
) -> Result<Result<Repository, String>, DeviceError> {
    let datastore = opts.dir.join(TUF_DIR);
    let kept = datastore.join("root.json");
    let root_path = if kept.is_file() {
        kept
    } else {
        opts.root.clone()
    };
    let root = std::fs::read(&root_path).map_err(|e| DeviceError::io(&root_path, e))?;
    let base = folder_url(&opts.channel);
    let targets = match targets_url {
        Some(u) => u,
        None => base.join("targets/").map_err(|e| DeviceError::Channel {
            url: base.to_string(),
            message: e.to_string(),
        })?,
    };
    let load = |enforcement| {
        load_tuf(
            &root,
            (base.clone(), targets.clone()),
            &datastore,
            opts.timeout,
            enforcement,
        )
    };
    let mut loaded = load(ExpirationEnforcement::Safe).await;
    if opts.expiry_grace > 0 && loaded.as_ref().err().is_some_and(is_expiry) {
        // Within the grace only: every role is held to its expiry plus the grace here, as tough would hold it to
        // its expiry (a clock that steps backward is still refused by tough's datastore).
        loaded = load(ExpirationEnforcement::Unsafe).await;
        if let Ok(repo) = &loaded {
            match within_grace(repo, opts.expiry_grace, jiff::Timestamp::now()) {
                Ok(warning) => warnings.push(warning),
                Err(reason) => return Ok(Err(reason)),
            }
        }
    }
    match loaded {
        Ok(repo) => Ok(Ok(repo)),
        Err(e) if is_refusal(&e) => Ok(Err(format!(
            "the channel's metadata was refused: {}",
            crate::text::error_chain(&e)
        ))),
        Err(e) => Err(DeviceError::Channel {
            url: base.to_string(),
            message: crate::text::error_chain(&e),
        }),
    }
}

/// The TUF layer of a pull: tough's client over HTTP(S) or `file://` (metadata and targets URLs, trusted metadata
/// in `datastore`). The TUF conformance client (`mlgate tuf-client`) runs the suite against this same function.
pub(crate) async fn load_tuf(
    root: &[u8],
    (metadata, targets): (url::Url, url::Url),
    datastore: &Path,
    timeout: Duration,
    enforcement: ExpirationEnforcement,
) -> Result<Repository, tough::error::Error> {
    let transport = DefaultTransport::new_with_http_settings(
        HttpTransportBuilder::new()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .tries(2),
    );
    RepositoryLoader::new(&root, metadata, targets)
        .transport(transport)
        .datastore(datastore)
        .expiration_enforcement(enforcement)
        .load()
        .await
}

/// The folder of a target hosted outside the channel (`custom.mlgate.url`, set by `publish --github`): the URL
/// minus the file name a TUF client requests (`<sha256>.<name>` under consistent snapshots), so that what tough
/// fetches is exactly the recorded URL. Err(reason): a URL of another shape, refused.
fn hosted_folder(repo: &Repository, offer: &Offer) -> Result<Option<url::Url>, String> {
    let Some(recorded) = offer.meta.url.as_deref() else {
        return Ok(None);
    };
    let file = if repo.root().signed.consistent_snapshot {
        format!("{}.{}", offer.sha256, offer.name)
    } else {
        offer.name.clone()
    };
    let folder = recorded
        .strip_suffix(file.as_str())
        .filter(|f| f.ends_with('/'))
        .and_then(|f| url::Url::parse(f).ok())
        .filter(|u| matches!(u.scheme(), "https" | "http" | "file"));
    folder.map(Some).ok_or_else(|| {
        format!(
            "target {}: its download URL {recorded} does not end in /{file}, the file a TUF client fetches: refused",
            offer.name
        )
    })
}

fn is_expiry(e: &tough::error::Error) -> bool {
    matches!(e, tough::error::Error::ExpiredMetadata { .. })
}

/// Ok(warning) when every role is unexpired or expired less than `grace` seconds ago; Err(reason) otherwise.
fn within_grace(repo: &Repository, grace: i64, now: jiff::Timestamp) -> Result<String, String> {
    let roles = [
        ("root", repo.root().signed.expires),
        ("timestamp", repo.timestamp().signed.expires),
        ("snapshot", repo.snapshot().signed.expires),
        ("targets", repo.targets().signed.expires),
    ];
    let expired: Vec<String> = roles
        .iter()
        .filter(|(_, at)| *at <= now)
        .map(|(role, at)| format!("{role} expired at {at}"))
        .collect();
    let limit = now
        .checked_sub(jiff::SignedDuration::from_secs(grace))
        .unwrap_or(now);
    if let Some((role, at)) = roles.iter().find(|(_, at)| *at <= limit) {
        return Err(format!(
            "the channel's {role} metadata expired at {at}, longer ago than the --expiry-grace of {grace} s: \
             refused (a frozen channel, or the device's clock is wrong)"
        ));
    }
    Ok(format!(
        "using expired metadata within the --expiry-grace of {grace} s ({}): check the device's clock and the \
         channel's refresh job",
        expired.join(", ")
    ))
}

/// tough errors that mean "the channel is not to be trusted" (exit 1), as opposed to "could not reach or read it".
/// A hash mismatch in a download arrives wrapped (in a transport error): the whole chain of causes is looked at.
fn is_refusal(e: &tough::error::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<tough::error::Error>()
            .is_some_and(is_refusal_kind)
        {
            return true;
        }
        cur = err.source();
    }
    false
}

fn is_refusal_kind(e: &tough::error::Error) -> bool {
    use tough::error::Error as E;
    matches!(
        e,
        E::ExpiredMetadata { .. }
            | E::HashMismatch { .. }
            | E::MaxSizeExceeded { .. }
            | E::MaxUpdatesExceeded { .. }
            | E::OlderMetadata { .. }
            | E::OlderSnapshotInTimestamp { .. }
            | E::SnapshotRoleRollback { .. }
            | E::SnapshotRoleMissing { .. }
            | E::SnapshotTargetsMetaMissing { .. }
            | E::MetaMissing { .. }
            | E::VerifyMetadata { .. }
            | E::VerifyRoleMetadata { .. }
            | E::VerifyTrustedMetadata { .. }
            | E::VersionMismatch { .. }
            | E::TimestampMetaLength { .. }
            | E::ParseMetadata { .. }
    )
}

/// The channel's current release of the model for this target: the entry with the highest sequence.
fn choose(repo: &Repository, opts: &PullOptions) -> Result<Result<Offer, String>, DeviceError> {
    let mut offers: Vec<Offer> = Vec::new();
    for (name, target) in repo.all_targets() {
        let meta = match TargetMeta::from_custom(&target.custom) {
            None => continue,
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                return Ok(Err(format!(
                    "target {}: its mlgate metadata does not read: {e}",
                    name.raw()
                )))
            }
        };
        if meta.target != opts.target || opts.model.as_ref().is_some_and(|m| *m != meta.model) {
            continue;
        }
        offers.push(Offer {
            name: name.raw().to_string(),
            sha256: crate::sign::hex(&target.hashes.sha256),
            length: target.length,
            meta,
        });
    }
    let mut models: Vec<&str> = offers.iter().map(|o| o.meta.model.as_str()).collect();
    models.sort_unstable();
    models.dedup();
    if models.len() > 1 {
        return Err(DeviceError::Usage(format!(
            "the channel has several models for {}: {}; pass --model NAME",
            opts.target,
            models.join(", ")
        )));
    }
    Ok(offers
        .into_iter()
        .max_by_key(|o| o.meta.sequence)
        .ok_or_else(|| match &opts.model {
            Some(m) => format!(
                "the channel has no release of model {m} for target {}",
                opts.target
            ),
            None => format!("the channel has no release for target {}", opts.target),
        }))
}

/// A release the device must not install: a digest marked bad, or a version older than the installed one that
/// the channel did not roll back to explicitly.
fn refuse_offer(state: &State, offer: &Offer) -> Option<String> {
    if let Some(bad) = state.is_bad(&offer.sha256) {
        return Some(format!(
            "{} {} (sha256 {}) is marked bad on this device ({}, {}); waiting for a newer version",
            offer.meta.model, bad.version, offer.sha256, bad.reason, bad.at
        ));
    }
    let installed = state.installed.as_ref()?;
    if offer.meta.sequence < installed.sequence {
        return Some(format!(
            "the channel offers {} {} (sequence {}), older than the installed {} (sequence {}): refused as a \
             rollback",
            offer.meta.model, offer.meta.version, offer.meta.sequence, installed.version, installed.sequence
        ));
    }
    let older = compare_versions(&offer.meta.version, &installed.version)
        .is_some_and(|o| o == std::cmp::Ordering::Less);
    if older && offer.meta.rollback.is_none() {
        return Some(format!(
            "the channel offers {} {}, older than the installed {}, without a rollback record: refused",
            offer.meta.model, offer.meta.version, installed.version
        ));
    }
    None
}

/// Streams the target into `dest`. tough caps the bytes at the length the targets metadata states and checks
/// the SHA-256 at the end of the stream; a stream that ends in an error is refused and its bytes never used.
async fn download(
    repo: &Repository,
    opts: &PullOptions,
    offer: &Offer,
    dest: &Path,
) -> Result<Result<(), String>, DeviceError> {
    use std::io::Write;
    let name = TargetName::new(offer.name.as_str()).map_err(|e| DeviceError::Channel {
        url: opts.channel.to_string(),
        message: format!("target {}: {e}", offer.name),
    })?;
    let channel_err = |e: &tough::error::Error| DeviceError::Channel {
        url: opts.channel.to_string(),
        message: format!("target {}: {}", offer.name, crate::text::error_chain(e)),
    };
    let mut stream = match repo.read_target(&name).await {
        Ok(Some(s)) => Box::pin(s),
        Ok(None) => return Ok(Err(format!("target {} is not in the channel", offer.name))),
        Err(e) if is_refusal(&e) => return Ok(Err(refused_download(offer, &e))),
        Err(e) => return Err(channel_err(&e)),
    };
    let file = std::fs::File::create(dest).map_err(|e| DeviceError::io(dest, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
    let bar =
        crate::progress::Task::bytes(&format!("downloading {}", offer.name), Some(offer.length));
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                out.write_all(&bytes)
                    .map_err(|e| DeviceError::io(dest, e))?;
                bar.advance(bytes.len() as u64);
            }
            Err(e) if is_refusal(&e) => return Ok(Err(refused_download(offer, &e))),
            Err(e) => return Err(channel_err(&e)),
        }
    }
    let file = out
        .into_inner()
        .map_err(|e| DeviceError::io(dest, e.error()))?;
    file.sync_all().map_err(|e| DeviceError::io(dest, e))?;
    Ok(Ok(()))
}

fn refused_download(offer: &Offer, e: &tough::error::Error) -> String {
    format!(
        "the download of {} ({} bytes, sha256 {} in the signed metadata) was refused: {}",
        offer.name,
        offer.length,
        offer.sha256,
        crate::text::error_chain(e)
    )
}

/// The bundle's own checks (digests, pinned keys, attestation, target and model), unpacking into `files/`.
/// Err(reasons): the checks failed.
fn verify(
    opts: &PullOptions,
    offer: &Offer,
    release: &Path,
) -> Result<Result<(), Vec<String>>, DeviceError> {
    let files = release.join(FILES_DIR);
    std::fs::create_dir(&files).map_err(|e| DeviceError::io(&files, e))?;
    let checked = check_bundle(
        &release.join(BUNDLE_FILE),
        &CheckOptions {
            keys: opts.keys.clone(),
            limits: Default::default(),
            expect: Expect {
                target: Some(opts.target.clone()),
                model: Some(offer.meta.model.clone()),
                min_version: None,
            },
            extract: Extract::Everything(files),
            oms_keys: opts.oms_keys.clone(),
        },
    )?;
    if checked.report.verdict == Verdict::Fail {
        let reasons = checked
            .report
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .flat_map(|c| {
                let mut r: Vec<String> = c.findings.iter().map(|f| f.message.clone()).collect();
                if r.is_empty() {
                    r.push(c.summary.clone());
                }
                r
            })
            .map(|m| format!("{}: {m}", offer.name))
            .collect();
        return Ok(Err(reasons));
    }
    // The manifest must say what the channel's signed metadata says (a bundle swapped between entries).
    if let Some(m) = &checked.manifest {
        if m.version != offer.meta.version {
            return Ok(Err(vec![format!(
                "{}: the bundle's manifest says version {}, the channel says {}",
                offer.name, m.version, offer.meta.version
            )]));
        }
    }
    Ok(Ok(()))
}

/// Moves the verified release into `releases/`, then swaps `previous` and `current`, then records the state.
fn install(
    opts: &PullOptions,
    state: &mut State,
    release: &Release,
    staged: &Path,
) -> Result<(), DeviceError> {
    let meta = serde_json::to_vec_pretty(release).map_err(|e| DeviceError::io(staged, e))?;
    let meta_path = staged.join(RELEASE_FILE);
    std::fs::write(&meta_path, meta).map_err(|e| DeviceError::io(&meta_path, e))?;
    layout::sync_tree(staged)?;
    let same = |d: &Path| {
        std::fs::read(d.join(RELEASE_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice::<Release>(&b).ok())
            .is_some_and(|r| r.sha256 == release.sha256)
    };
    layout::place_release(&opts.dir, staged, &release.dir, same)?;
    fault_point("after-place");
    // The release running now becomes the previous one (unless this is the same release, reinstalled).
    if let Some(old) = state.installed.take().filter(|o| o.dir != release.dir) {
        layout::set_link(&opts.dir, PREVIOUS, &old.dir)?;
        state.previous = Some(old);
        fault_point("after-previous");
    }
    layout::set_link(&opts.dir, CURRENT, &release.dir)?;
    fault_point("after-current");
    state.pending_health = opts.health_cmd.is_some() || has_selftest(staged_files(opts, release));
    state.installed = Some(release.clone());
    state.releases.retain(|r| r != &release.dir);
    state.releases.push(release.dir.clone());
    let pinned: Vec<&str> = [state.installed.as_ref(), state.previous.as_ref()]
        .into_iter()
        .flatten()
        .map(|r| r.dir.as_str())
        .collect();
    let kept = layout::prune(&opts.dir, &state.releases, opts.keep, &pinned);
    state.releases = kept;
    state.save(&opts.dir)?;
    fault_point("after-state");
    Ok(())
}

/// The installed release's unpacked files.
fn staged_files(opts: &PullOptions, release: &Release) -> PathBuf {
    opts.dir
        .join(RELEASES_DIR)
        .join(&release.dir)
        .join(FILES_DIR)
}

fn read_manifest(files: &Path) -> Result<Manifest, String> {
    let path = files.join(MANIFEST);
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn has_selftest(files: PathBuf) -> bool {
    read_manifest(&files).is_ok_and(|m| m.selftest.is_some())
}

/// The health check of the release now current: the bundle's self-test when it has one, then `--health-cmd`.
/// On failure swaps back to the previous release and marks the digest bad.
fn health(opts: &PullOptions, state: &mut State, release: Release) -> PullOutcome {
    // Absolute: the command runs inside the folder, and a relative --dir would not name it from there.
    let folder = opts.dir.join(RELEASES_DIR).join(&release.dir);
    let folder = std::fs::canonicalize(&folder).unwrap_or(folder);
    let failure = selftest_failure(&folder.join(FILES_DIR)).or_else(|| {
        opts.health_cmd
            .as_deref()
            .and_then(|cmd| health_cmd_failure(cmd, opts.health_timeout, &folder, &release))
    });
    state.pending_health = false;
    let Some(reason) = failure else {
        return PullOutcome::Installed { release };
    };
    state.mark_bad(&release, &reason);
    let current = roll_back(&opts.dir, state).ok().flatten();
    PullOutcome::RolledBack {
        failed: release,
        reason,
        current,
    }
}

/// The bundle's self-test on the installed (verified) files; Some(why) when it fails, cannot run or crashes.
/// It runs in a process of its own (`mlgate device selftest FILES`, this same executable): the device build
/// aborts on a panic (`panic = "abort"`, Cargo.toml), and a model that crashed the updater itself would leave the
/// health check pending, to crash again at every pull. A crashed child is a failed health check: rolled back and
/// marked bad like any other.
fn selftest_failure(files: &Path) -> Option<String> {
    match read_manifest(files) {
        Ok(m) if m.selftest.is_none() => return None,
        Ok(_) => {}
        Err(e) => return Some(format!("the installed manifest cannot be read: {e}")),
    }
    // Without /proc (no path to this executable) the self-test runs here, as it did before it had a process.
    let Ok(exe) = std::env::current_exe() else {
        return selftest_here(files);
    };
    let run = std::process::Command::new(&exe)
        .args(["device", "selftest"])
        .arg(files)
        .stdin(std::process::Stdio::null())
        .output();
    match run {
        Ok(out) => child_failure(&out),
        Err(e) => Some(format!(
            "the self-test could not start ({}): {e}",
            exe.display()
        )),
    }
}

/// The verdict of `mlgate device selftest`: exit 0 passed; exit 1 and its one line, failed; anything else (a
/// crash: a signal, a panic's exit) is a failure that says how the process ended and what it printed.
fn child_failure(out: &std::process::Output) -> Option<String> {
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    match out.status.code() {
        Some(0) => None,
        Some(1) if !line.is_empty() => Some(line),
        _ => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let said: Vec<&str> = stderr
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
                .collect();
            // A panic's message and location are enough; a long backtrace is not kept in state.json.
            let said: String = said.join(" ").chars().take(400).collect();
            Some(format!(
                "self-test failed: the process running the model ended with {}{}",
                out.status,
                if said.is_empty() {
                    String::new()
                } else {
                    format!(": {said}")
                }
            ))
        }
    }
}

/// The self-test run in this process (`mlgate device selftest`); Some(why) when it fails or cannot run.
pub fn selftest_here(files: &Path) -> Option<String> {
    let manifest = match read_manifest(files) {
        Ok(m) => m,
        Err(e) => return Some(format!("the installed manifest cannot be read: {e}")),
    };
    // A model that crashes the process, as a panic inside tract does in the device build.
    fault_point("selftest");
    match crate::edge::selftest::run_in_folder(files, &manifest) {
        Ok(None) => None,
        Ok(Some(o)) if o.passed => None,
        Ok(Some(o)) => Some(o.describe()),
        Err(e) => Some(format!("self-test failed: the model could not run: {e}")),
    }
}

/// Runs `cmd` through `sh -c` in its own process group; Some(why) when it fails, cannot start or outlives
/// `timeout` (then the whole group is killed: a shell's children would otherwise keep running).
fn health_cmd_failure(
    cmd: &str,
    timeout: Duration,
    folder: &Path,
    release: &Release,
) -> Option<String> {
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(cmd)
        .current_dir(folder)
        .env("MLGATE_RELEASE", folder)
        .env("MLGATE_BUNDLE", folder.join(BUNDLE_FILE))
        .env("MLGATE_VERSION", &release.version);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let spawned = command.spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return Some(format!("the health check `{cmd}` could not start: {e}")),
    };
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(s)) if s.success() => return None,
            Ok(Some(s)) => return Some(format!("the health check `{cmd}` failed ({s})")),
            Ok(None) if std::time::Instant::now() >= deadline => {
                kill_group(&mut child);
                let _ = child.wait();
                return Some(format!(
                    "the health check `{cmd}` did not finish within the --health-timeout of {} s: its process \
                     group was killed",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                kill_group(&mut child);
                return Some(format!(
                    "the health check `{cmd}` could not be waited for: {e}"
                ));
            }
        }
    }
}

/// SIGKILL to the child's process group (the shell leads it: `process_group(0)`).
#[cfg(unix)]
fn kill_group(child: &mut std::process::Child) {
    let Ok(pgid) = libc::pid_t::try_from(child.id()) else {
        let _ = child.kill();
        return;
    };
    // SAFETY: kill(2) takes plain integers and touches no memory of this process; a negative pid names the group.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill_group(child: &mut std::process::Child) {
    let _ = child.kill();
}

/// Test hook: `MLGATE_DEVICE_FAULT=STEP` aborts the process at that step boundary, as a crash or a power cut
/// would (no destructor runs, nothing is cleaned up). Steps: after-download, after-verify, after-place,
/// after-previous, after-current, after-state; and selftest, in the self-test's own process (a model that
/// crashes it).
const FAULT_ENV: &str = "MLGATE_DEVICE_FAULT";

fn fault_point(step: &str) {
    if std::env::var(FAULT_ENV).is_ok_and(|f| f == step) {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{FAULT_ENV}: aborting {step}");
        std::process::abort();
    }
}

/// Swaps `current` back to `previous` (the installed release becomes the previous one). Returns the release now
/// current; None when there was nothing to go back to (then `current` is removed: nothing unhealthy runs).
pub fn roll_back(dir: &Path, state: &mut State) -> Result<Option<Release>, DeviceError> {
    let failed = state.installed.take();
    match state.previous.take() {
        Some(prev) => {
            layout::set_link(dir, CURRENT, &prev.dir)?;
            if let Some(f) = &failed {
                layout::set_link(dir, PREVIOUS, &f.dir)?;
            }
            state.installed = Some(prev.clone());
            state.previous = failed;
            Ok(Some(prev))
        }
        None => {
            layout::remove_link(dir, CURRENT)?;
            state.previous = failed;
            Ok(None)
        }
    }
}

/// `mlgate device rollback`: back to the previous release by hand; the release left is marked bad so the next
/// pull does not install it again.
pub fn manual_rollback(dir: &Path) -> Result<Result<Release, String>, DeviceError> {
    if !dir.is_dir() {
        return Err(DeviceError::Io {
            path: dir.display().to_string(),
            message: "no such folder (a device folder is made by `mlgate pull --dir DIR`)".into(),
        });
    }
    let _lock = layout::open(dir)?;
    let mut state = State::load(dir)?;
    let Some(installed) = state.installed.clone() else {
        return Ok(Err("nothing is installed in this folder".into()));
    };
    if state.previous.is_none() {
        return Ok(Err(format!(
            "{} {} is installed and there is no previous release to go back to",
            installed.model, installed.version
        )));
    }
    state.mark_bad(&installed, "rolled back by hand (mlgate device rollback)");
    let now = roll_back(dir, &mut state)?;
    state.save(dir)?;
    Ok(now.ok_or_else(|| "no previous release".to_string()))
}

/// `--channel`: an `http(s)://` or `file://` URL, or a local folder (made absolute).
pub fn channel_url(s: &str) -> Result<url::Url, DeviceError> {
    if let Ok(u) = url::Url::parse(s) {
        return match u.scheme() {
            "http" | "https" | "file" => Ok(u),
            other => Err(DeviceError::Usage(format!(
                "--channel {s}: the scheme {other}:// is not supported (https://, http://, file:// or a folder)"
            ))),
        };
    }
    let path =
        std::fs::canonicalize(s).map_err(|e| DeviceError::Usage(format!("--channel {s}: {e}")))?;
    url::Url::from_directory_path(&path)
        .map_err(|()| DeviceError::Usage(format!("--channel {s}: not a folder path")))
}

impl PullOutcome {
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            PullOutcome::Installed { release } => {
                json!({"outcome": "installed", "release": release})
            }
            PullOutcome::UpToDate { release } => {
                json!({"outcome": "up-to-date", "release": release})
            }
            PullOutcome::Refused { reasons } => json!({"outcome": "refused", "reasons": reasons}),
            PullOutcome::RolledBack {
                failed,
                reason,
                current,
            } => {
                json!({"outcome": "rolled-back", "failed": failed, "reason": reason, "current": current})
            }
        }
    }

    pub fn render_human(&self) -> String {
        match self {
            PullOutcome::Installed { release: r } => format!(
                "installed {} {} for {} (releases/{}, sha256 {})\n",
                r.model, r.version, r.target, r.dir, r.sha256
            ),
            PullOutcome::UpToDate { release: r } => {
                format!("up to date: {} {} (releases/{})\n", r.model, r.version, r.dir)
            }
            PullOutcome::Refused { reasons } => {
                let mut s = String::from("refused: nothing was installed\n");
                for r in reasons {
                    s.push_str(&format!("  - {r}\n"));
                }
                s
            }
            PullOutcome::RolledBack {
                failed,
                reason,
                current,
            } => format!(
                "rolled back: {} {} failed its health check and is marked bad: {reason}\ncurrent: {}\n",
                failed.model,
                failed.version,
                current
                    .as_ref()
                    .map_or("none (no previous release)".to_string(), |c| format!(
                        "{} {} (releases/{})",
                        c.model, c.version, c.dir
                    ))
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::meta::Rollback;

    fn offer(version: &str, sequence: u64, sha: &str) -> Offer {
        Offer {
            name: format!("wine-{version}-linux-aarch64.tar.gz"),
            meta: TargetMeta {
                model: "wine".into(),
                version: version.into(),
                target: "linux-aarch64".into(),
                manifest_sha256: "00".repeat(32),
                verdict: "pass".into(),
                commit: "c0ffee".into(),
                sequence,
                published_at: "2026-12-06T00:00:00Z".into(),
                url: None,
                rollback: None,
            },
            sha256: sha.into(),
            length: 1,
        }
    }

    fn installed(version: &str, sequence: u64, sha: &str) -> State {
        State {
            version: 1,
            installed: Some(Release {
                model: "wine".into(),
                version: version.into(),
                target: "linux-aarch64".into(),
                sha256: sha.into(),
                dir: layout::release_dir_name(version, sha),
                sequence,
                installed_at: "2026-12-06T00:00:00Z".into(),
            }),
            ..State::default()
        }
    }

    #[cfg(unix)]
    fn ended(raw_status: i32, stdout: &str, stderr: &str) -> Option<String> {
        use std::os::unix::process::ExitStatusExt;
        child_failure(&std::process::Output {
            status: std::process::ExitStatus::from_raw(raw_status),
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
        })
    }

    #[cfg(unix)]
    #[test]
    fn the_self_tests_process_is_judged_by_how_it_ended() {
        // wait(2) statuses: exit code N is N << 8; a signal is its number.
        assert_eq!(ended(0, "self-test passed\n", ""), None);
        assert_eq!(
            ended(1 << 8, "self-test failed: 6 values compared\n", "").as_deref(),
            Some("self-test failed: 6 values compared")
        );
        // A panic in the device build (panic = "abort"): SIGABRT, with the panic's message on stderr.
        let why = ended(
            6,
            "",
            "\nthread 'main' panicked at tract-core/src/ops.rs:10:5:\nindex out of bounds\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
        )
        .unwrap();
        assert_eq!(
            why,
            "self-test failed: the process running the model ended with signal: 6 (SIGABRT): thread 'main' \
             panicked at tract-core/src/ops.rs:10:5: index out of bounds"
        );
        // A panic that unwinds (the full build, outside any catch_unwind): exit 101.
        let why = ended(101 << 8, "", "thread 'main' panicked at x.rs:1:1:\nboom\n").unwrap();
        assert!(
            why.ends_with("ended with exit status: 101: thread 'main' panicked at x.rs:1:1: boom"),
            "{why}"
        );
        // Exit 1 without its line (not our child's contract), a usage error, a kill: all failures.
        assert!(ended(1 << 8, "", "")
            .unwrap()
            .ends_with("ended with exit status: 1"));
        let why = ended(2 << 8, "", "error: unrecognized subcommand 'selftest'\n").unwrap();
        assert!(
            why.ends_with("exit status: 2: error: unrecognized subcommand 'selftest'"),
            "{why}"
        );
        assert!(ended(9, "", "")
            .unwrap()
            .ends_with("ended with signal: 9 (SIGKILL)"));
        let long = "x".repeat(5000);
        assert!(ended(6, "", &long).unwrap().chars().count() < 500);
    }

    #[test]
    fn offers_the_device_must_not_install_are_refused() {
        let s = installed("1.1.0", 2, "bb");
        assert_eq!(refuse_offer(&s, &offer("1.2.0", 3, "cc")), None);
        let e = refuse_offer(&s, &offer("1.2.0", 1, "cc")).unwrap();
        assert!(
            e.contains("(sequence 1), older than the installed 1.1.0 (sequence 2)"),
            "{e}"
        );
        let e = refuse_offer(&s, &offer("1.0.0", 3, "aa")).unwrap();
        assert!(
            e.contains("older than the installed 1.1.0, without a rollback record"),
            "{e}"
        );
        // The channel's signed rollback record makes an older version acceptable.
        let mut back = offer("1.0.0", 3, "aa");
        back.meta.rollback = Some(Rollback {
            from: "1.1.0".into(),
            reason: "field accuracy".into(),
            at: "2026-12-06T00:00:00Z".into(),
        });
        assert_eq!(refuse_offer(&s, &back), None);
        let mut bad = s.clone();
        let failed = bad.installed.clone().unwrap();
        bad.mark_bad(
            &Release {
                sha256: "cc".into(),
                version: "1.2.0".into(),
                ..failed
            },
            "health",
        );
        let e = refuse_offer(&bad, &offer("1.2.0", 3, "cc")).unwrap();
        assert!(
            e.contains("wine 1.2.0 (sha256 cc) is marked bad on this device (health,"),
            "{e}"
        );
        assert_eq!(
            refuse_offer(&State::default(), &offer("0.1.0", 1, "aa")),
            None
        );
    }

    #[test]
    fn channel_urls_are_folders() {
        let u = channel_url("https://example.com/channels/stable").unwrap();
        assert_eq!(
            folder_url(&u).as_str(),
            "https://example.com/channels/stable/"
        );
        assert_eq!(
            folder_url(&u).join("targets/").unwrap().as_str(),
            "https://example.com/channels/stable/targets/"
        );
        let e = channel_url("ftp://example.com/x").unwrap_err().to_string();
        assert!(e.contains("the scheme ftp:// is not supported"), "{e}");
        let e = channel_url("no/such/folder").unwrap_err().to_string();
        assert!(e.starts_with("--channel no/such/folder: "), "{e}");
        let d = tempfile::tempdir().unwrap();
        let u = channel_url(d.path().to_str().unwrap()).unwrap();
        assert_eq!(u.scheme(), "file");
        assert!(u.path().ends_with('/'));
    }
}
