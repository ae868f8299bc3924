//! The command line, as DESIGN.md fixes it. Flags are parsed here; each subcommand's module in `commands/`
//! turns them into one library call.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "mlgate",
    version,
    about = "The gatekeeper of an ML repository: data contracts, drift, model gates, signing, edge bundles",
    after_help = "Exit codes: 0 pass, 1 a gate failed, 2 could not run."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    #[cfg(feature = "full")]
    /// Run every gate in mlgate.yml and report.
    Check(CheckArgs),
    #[cfg(feature = "full")]
    /// Validate one dataset against one Table Schema.
    Validate(ValidateArgs),
    #[cfg(feature = "full")]
    /// Table Schema tools.
    #[command(subcommand)]
    Schema(SchemaCommand),
    #[cfg(feature = "full")]
    /// Make an Ed25519 key pair for signing releases.
    Keygen(KeygenArgs),
    #[cfg(feature = "full")]
    /// Sign files with minisign signatures (FILE.minisig), which `minisign -V` verifies.
    Sign(SignArgs),
    /// Verify minisign signatures, or an in-toto attestation and the files it names (exit 0 valid, 1 invalid).
    Verify(VerifyArgs),
    #[cfg(feature = "full")]
    /// Sign an in-toto statement (DSSE) of files' SHA-256 digests, the gate report and the commit.
    Attest(AttestArgs),
    #[cfg(feature = "full")]
    /// Scan model files for pickles that would run code when loaded.
    Scan(ScanArgs),
    #[cfg(feature = "full")]
    /// Merge the partial reports of `check --shard I/N` into the report one unsharded `check` would have made.
    Merge(MergeArgs),
    #[cfg(feature = "full")]
    /// Render a report.json (as `check --report-dir` writes it) as one self-contained HTML file.
    Report(ReportArgs),
    #[cfg(feature = "full")]
    /// Per-column and dataset drift of CURRENT against REFERENCE (Evidently's tests and thresholds).
    Drift(DriftArgs),
    #[cfg(feature = "full")]
    /// Pack a model into a deterministic, optionally signed bundle for a device target (tar.gz).
    Bundle(BundleArgs),
    /// Check a bundle (digests; with --pubkey its signatures and attestation), then run its model on an input.
    Run(RunArgs),
    #[cfg(feature = "full")]
    /// GitHub tools.
    #[command(subcommand)]
    Github(GithubCommand),
    #[cfg(feature = "full")]
    /// Write the GitHub Actions workflows and a starter mlgate.yml for this repository.
    Init(InitArgs),
    #[cfg(feature = "full")]
    /// Evaluate an ONNX or TFLite model on labelled data: quality metrics (scikit-learn's), latency, size.
    Eval(EvalArgs),
    #[cfg(feature = "full")]
    /// Quantize an ONNX model (int8 weights, activations at run time) under an accuracy gate on eval data.
    Quantize(QuantizeArgs),
    #[cfg(feature = "full")]
    /// Release channels: TUF repositories of approved bundles.
    #[command(subcommand)]
    Channel(ChannelCommand),
    #[cfg(feature = "full")]
    /// Add approved bundles to a release channel (exit 1 when one is not approved; nothing is published then).
    Publish(ChannelPublishArgs),
    /// Device: refresh the channel's TUF metadata, download, verify and install the newest release atomically,
    /// health-check it, roll back on failure (exit 0 installed or up to date, 1 refused or rolled back, 2).
    Pull(PullArgs),
    /// Device: what is installed, and manual rollback.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// The TUF conformance suite's client under test (its CLIENT-CLI.md) over `pull`'s TUF layer; for tests. In the
    /// device build too, so that the suite can be run against the very binary devices run.
    #[command(hide = true)]
    TufClient(TufClientArgs),
}

/// tuf-conformance's client protocol: `--metadata-dir DIR [--metadata-url URL] ... init|refresh|download`.
#[derive(Debug, Args)]
pub struct TufClientArgs {
    #[arg(long, value_name = "DIR")]
    pub metadata_dir: PathBuf,
    #[arg(long, value_name = "URL")]
    pub metadata_url: Option<String>,
    /// A target path to download; repeated: fetched in order by one client.
    #[arg(long = "target-name", value_name = "PATH")]
    pub target_names: Vec<String>,
    #[arg(long, value_name = "URL")]
    pub target_base_url: Option<String>,
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub action: TufClientAction,
}

#[derive(Debug, Subcommand)]
pub enum TufClientAction {
    /// Trust TRUSTED_ROOT (copied into the metadata folder).
    Init { trusted_root: PathBuf },
    /// Update the trusted metadata from --metadata-url.
    Refresh,
    /// Refresh, then download each --target-name into --target-dir.
    Download,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// The channel: https://HOST/PATH/, http://..., file:///PATH/ or a local folder.
    #[arg(long, value_name = "URL")]
    pub channel: String,
    /// The pinned root of trust (the channel's root.json, copied to the device out of band).
    #[arg(long, value_name = "ROOT.json")]
    pub root: PathBuf,
    /// The device folder: trusted metadata, releases, the current and previous links, state.json.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The target to install bundles for [default: this machine's, e.g. linux-x86_64]
    #[arg(long, value_name = "TARGET", value_parser = parse_target)]
    pub target: Option<String>,
    /// The model to follow [default: the only one the channel has for the target]
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// A pinned bundle key (repeatable; at least one): the bundle must be signed by one of them.
    #[arg(short, long = "pubkey", value_name = "FILE")]
    pub pubkey: Vec<PathBuf>,
    /// Install bundles without checking their minisign signatures (no --pubkey): only TUF's metadata vouches for
    /// their bytes. Loudly warned; for channels whose bundles are not signed.
    #[arg(long, conflicts_with = "pubkey")]
    pub allow_unsigned_bundles: bool,
    /// A pinned P-256 public key (PEM, repeatable) for the model's OMS signature in the bundle: the bundle must
    /// carry one that verifies with it. Without it an OMS signature present is held against the model's digest only.
    #[arg(long = "oms-pubkey", value_name = "FILE")]
    pub oms_pubkey: Vec<PathBuf>,
    /// How long --health-cmd may run (Nd, Nh, Nm, Ns); at the timeout its whole process group is killed and the
    /// release is rolled back.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = crate::text::parse_duration)]
    pub health_timeout: i64,
    /// Releases kept on disk (current and previous always are).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub keep: usize,
    /// A command run (`sh -c`) in the new release's folder after the swap ($MLGATE_RELEASE, $MLGATE_BUNDLE,
    /// $MLGATE_VERSION); a non-zero exit rolls back and marks the release bad.
    #[arg(long, value_name = "CMD")]
    pub health_cmd: Option<String>,
    /// Timeout of one HTTP request, body included, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,
    /// Accept metadata expired less than this long ago (Nd, Nh, Nm, Ns; at most 30d), with a warning: for
    /// devices whose clock may be wrong. Never unbounded.
    #[arg(long, value_name = "DURATION", value_parser = parse_expiry_grace)]
    pub expiry_grace: Option<i64>,
    /// `human` or `json`.
    #[arg(long, value_parser = ["human", "json"], default_value = "human")]
    pub format: String,
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// What the device runs: installed and previous releases, attempts, known-bad digests, last success.
    Status(DeviceStatusArgs),
    /// Go back to the previous release (exit 1 when there is none); the release left is marked bad.
    Rollback(DeviceRollbackArgs),
    /// Write a systemd service and timer that run `mlgate pull` periodically (hardened: ProtectSystem=strict,
    /// ReadWritePaths=DIR, NoNewPrivileges).
    Service(Box<DeviceServiceArgs>),
    /// The self-test of an installed release's files, in a process of its own: `mlgate pull` runs it so, so that a
    /// model that crashes the process (the device build aborts on a panic) fails the health check instead of
    /// killing the updater. Prints one line; exit 0 passed, 1 failed, 2 could not run.
    #[command(hide = true)]
    Selftest(DeviceSelftestArgs),
}

#[derive(Debug, Args)]
pub struct DeviceSelftestArgs {
    /// The release's unpacked files (`releases/VERSION-DIGEST/files`).
    pub files: PathBuf,
}

#[derive(Debug, Args)]
pub struct DeviceServiceArgs {
    /// The device folder (the service's one writable path).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The channel, as `mlgate pull --channel` takes it.
    #[arg(long, value_name = "URL")]
    pub channel: String,
    /// The pinned root of trust.
    #[arg(long, value_name = "ROOT.json")]
    pub root: PathBuf,
    /// Pinned bundle keys (repeatable; at least one), passed to `mlgate pull`.
    #[arg(short, long = "pubkey", value_name = "FILE")]
    pub pubkey: Vec<PathBuf>,
    /// Passed to `mlgate pull` (bundles installed without checking their signatures; loudly warned).
    #[arg(long, conflicts_with = "pubkey")]
    pub allow_unsigned_bundles: bool,
    /// Pinned OMS public keys (repeatable), passed to `mlgate pull`.
    #[arg(long = "oms-pubkey", value_name = "FILE")]
    pub oms_pubkey: Vec<PathBuf>,
    /// Passed to `mlgate pull` with --health-cmd.
    #[arg(long, value_name = "DURATION", value_parser = crate::text::parse_duration, requires = "health_cmd")]
    pub health_timeout: Option<i64>,
    /// Passed to `mlgate pull` (releases kept on disk).
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
    /// Passed to `mlgate pull` (network timeout in seconds).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Passed to `mlgate pull` (bounded grace for expired metadata on a device whose clock is wrong).
    #[arg(long, value_name = "DURATION", value_parser = parse_expiry_grace)]
    pub expiry_grace: Option<i64>,
    /// Passed to `mlgate pull`.
    #[arg(long, value_name = "TARGET", value_parser = parse_target)]
    pub target: Option<String>,
    /// Passed to `mlgate pull`.
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// Passed to `mlgate pull`.
    #[arg(long, value_name = "CMD")]
    pub health_cmd: Option<String>,
    /// Time between pulls (a systemd time span).
    #[arg(long, value_name = "SPAN", default_value = "1h")]
    pub interval: String,
    /// The units' name: NAME.service and NAME.timer.
    #[arg(long, value_name = "NAME", default_value = "mlgate-pull")]
    pub name: String,
    /// The mlgate binary the service runs [default: this one]
    #[arg(long, value_name = "PATH")]
    pub bin: Option<PathBuf>,
    /// Where to write the units (e.g. /etc/systemd/system).
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct DeviceStatusArgs {
    /// The device folder.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// `human` or `json`.
    #[arg(long, value_parser = ["human", "json"], default_value = "human")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct DeviceRollbackArgs {
    /// The device folder.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Create a release channel: a TUF repository (root, targets, snapshot, timestamp; Ed25519 keys).
    Init(ChannelInitArgs),
    /// Re-sign the timestamp (and the snapshot when needed) before they expire: for a scheduled job.
    Refresh(ChannelRefreshArgs),
    /// List models, versions and targets, and every expiry (exit 1 when something expires within --warn-within).
    Status(ChannelStatusArgs),
    /// Replace role keys: a new root signed by the old root keys and the new ones; devices follow on their own.
    Rotate(ChannelRotateArgs),
}

#[derive(Debug, Args)]
pub struct ChannelRotateArgs {
    /// The channel's folder.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The current root keys, and the keys of roles that keep theirs (repeatable).
    #[arg(short, long, value_name = "FILE|env:VAR", allow_hyphen_values = true)]
    pub key: Vec<String>,
    /// New keys per role: the role's keys become these.
    #[command(flatten)]
    pub roles: RoleKeyArgs,
    /// A role's new threshold, as ROLE=N (repeatable).
    #[arg(long, value_name = "ROLE=N")]
    pub threshold: Vec<String>,
}

/// A channel's keys role by role (`channel init` sets them, `channel rotate` replaces them): secret key files or
/// `env:VAR`, each option repeatable.
#[derive(Debug, Args)]
pub struct RoleKeyArgs {
    /// A root key (repeatable).
    #[arg(long, value_name = "FILE|env:VAR", allow_hyphen_values = true)]
    pub root_key: Vec<String>,
    /// A targets key (repeatable).
    #[arg(long, value_name = "FILE|env:VAR", allow_hyphen_values = true)]
    pub targets_key: Vec<String>,
    /// A snapshot key (repeatable).
    #[arg(long, value_name = "FILE|env:VAR", allow_hyphen_values = true)]
    pub snapshot_key: Vec<String>,
    /// A timestamp key (repeatable).
    #[arg(long, value_name = "FILE|env:VAR", allow_hyphen_values = true)]
    pub timestamp_key: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ChannelInitArgs {
    /// The channel's folder (new or empty). Stable and beta are two folders, each with its own root.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The channel's name [default: the folder's name]
    #[arg(long)]
    pub name: Option<String>,
    /// A key for every role: a secret key file, or `env:VAR` for the key's text (repeatable).
    #[arg(short, long, value_name = "FILE|env:VAR", allow_hyphen_values = true)]
    pub key: Vec<String>,
    /// Keys per role, instead of --key for that role.
    #[command(flatten)]
    pub roles: RoleKeyArgs,
    /// Signatures a role needs, as ROLE=N (repeatable) [default: 1 for every role]
    #[arg(long, value_name = "ROLE=N")]
    pub threshold: Vec<String>,
    /// A public key bundles must be signed with (minisign, PEM or OpenSSH; repeatable, at least one).
    #[arg(long, value_name = "FILE", required = true)]
    pub bundle_pubkey: Vec<PathBuf>,
    /// A device target the channel serves (repeatable) [default: every target mlgate knows]
    #[arg(long, value_name = "TARGET")]
    pub target: Vec<String>,
    /// How long the root stays valid (Nd, Nh, Nm, Ns).
    #[arg(long, value_name = "DURATION", default_value = "365d")]
    pub root_expires: String,
    /// How long each targets version stays valid.
    #[arg(long, value_name = "DURATION", default_value = "90d")]
    pub targets_expires: String,
    /// How long each snapshot stays valid.
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub snapshot_expires: String,
    /// How long each timestamp stays valid (run `mlgate channel refresh` well within it).
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub timestamp_expires: String,
}

#[derive(Debug, Args)]
pub struct ChannelPublishArgs {
    /// Bundles made by `mlgate bundle --key` (NAME-VERSION-TARGET.tar.gz).
    #[arg(value_name = "BUNDLE")]
    pub bundles: Vec<PathBuf>,
    /// The channel's folder.
    #[arg(long, value_name = "DIR")]
    pub channel: PathBuf,
    /// Keys for the targets, snapshot and timestamp roles: files or `env:VAR` (repeatable).
    #[arg(short, long, value_name = "FILE|env:VAR", allow_hyphen_values = true)]
    pub key: Vec<String>,
    /// Make this older version of --model current again (no BUNDLE), recording --reason.
    #[arg(long, value_name = "VERSION", requires_all = ["model", "reason"], conflicts_with = "bundles")]
    pub rollback_to: Option<String>,
    /// The model to roll back.
    #[arg(long, value_name = "NAME", requires = "rollback_to")]
    pub model: Option<String>,
    /// The device target to roll back [default: the model's only target]
    #[arg(long, value_name = "TARGET", requires = "rollback_to")]
    pub target: Option<String>,
    /// Why the channel goes back (recorded in the signed targets metadata).
    #[arg(long, value_name = "TEXT", requires = "rollback_to")]
    pub reason: Option<String>,
    /// Host the bundles as assets of a GitHub Release of OWNER/REPO (with --tag) instead of the channel's
    /// targets/ folder; the API is $GITHUB_API_URL.
    #[arg(
        long,
        value_name = "OWNER/REPO",
        requires = "tag",
        conflicts_with = "rollback_to"
    )]
    pub github: Option<String>,
    /// The release's tag (created as a draft release when missing, published once every asset is confirmed).
    #[arg(long, value_name = "TAG", requires = "github")]
    pub tag: Option<String>,
    #[command(flatten)]
    pub token: TokenArgs,
}

#[derive(Debug, Args)]
pub struct ChannelRefreshArgs {
    /// The channel's folder.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The timestamp key (and the snapshot key): files or `env:VAR` (repeatable).
    #[arg(short, long, value_name = "FILE|env:VAR", allow_hyphen_values = true)]
    pub key: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ChannelStatusArgs {
    /// The channel's folder.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Exit 1 when a role's metadata expires within this window (Nd, Nh, Nm, Ns).
    #[arg(long, value_name = "DURATION", default_value = "2d")]
    pub warn_within: String,
    /// `human` or `json`.
    #[arg(long, value_parser = ["human", "json"], default_value = "human")]
    pub format: String,
}

#[derive(Debug, Subcommand)]
pub enum GithubCommand {
    /// Post a report that `mlgate check --report-dir` wrote to its pull request: the sticky comment and the check
    /// run (for a workflow_run workflow, which has write permission and never checks out the PR's code).
    Publish(PublishArgs),
}

/// The GitHub token: `--token`, else `$GITHUB_TOKEN`. Its value is never printed, not even by `--help`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// GitHub token [default: $GITHUB_TOKEN]
    #[arg(
        long,
        value_name = "TOKEN",
        env = "GITHUB_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The folder `mlgate check --report-dir` wrote (report.json, mlgate-context.json).
    #[arg(long, value_name = "DIR")]
    pub report_dir: PathBuf,
    #[command(flatten)]
    pub token: TokenArgs,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The repository's root folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Replace files that already exist.
    #[arg(long)]
    pub force: bool,
    /// The mlgate action the workflows use, pinned to a commit: OWNER/REPO@SHA [default: this release's commit]
    #[arg(long, value_name = "OWNER/REPO@SHA")]
    pub action: Option<String>,
    /// Write the release, deploy and channel-refresh workflows from the `release:` block of mlgate.yml instead.
    #[arg(long)]
    pub release: bool,
    /// Write the pull-request gate as N shard jobs (`check --shard I/N`, each uploading a partial report) and one
    /// job that merges them (`mlgate merge`) and reports.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=256), conflicts_with = "release")]
    pub shards: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Write a Table Schema that the data passes.
    Infer(InferArgs),
}

/// How a report is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Colour on a terminal (NO_COLOR honoured).
    Human,
    /// The versioned report JSON.
    Json,
    /// What the pull-request comment shows.
    Markdown,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// JUnit XML: one test case per check, findings as failures.
    Junit,
    /// SARIF 2.1.0, for GitHub code scanning (findings that have a file).
    Sarif,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format [default: github in GitHub Actions, else human]
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The config file.
    #[arg(short, long, default_value = "mlgate.yml")]
    pub config: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Also write report.json and report.md to this folder (and, in GitHub Actions, mlgate-context.json for
    /// `mlgate github publish`).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    #[command(flatten)]
    pub token: TokenArgs,
    /// With a token in GitHub Actions, post the sticky comment and the check run [default]
    #[arg(long, overrides_with = "no_comment")]
    pub comment: bool,
    /// Post nothing to the pull request, even with a token.
    #[arg(long, overrides_with = "comment")]
    pub no_comment: bool,
    /// Read the config and its schemas as they are at this git ref (e.g. origin/main), not from the working
    /// tree: a pull request then cannot move its own gates. Data and models still come from the working tree.
    #[arg(long, value_name = "REF")]
    pub config_from: Option<String>,
    /// Report what this change does to the gates (mlgate.yml and its schemas) against this git ref
    /// [default: origin/$GITHUB_BASE_REF in a pull request's workflow, else no comparison]
    #[arg(long, value_name = "REF")]
    pub gates_base: Option<String>,
    /// Let paths in mlgate.yml leave the repository (absolute, `..`, symbolic links); values read from such
    /// files are not shown. For trusted configs only.
    #[arg(long)]
    pub allow_outside_repo: bool,
    /// Let mlgate read data and models under this remote location (`s3://bucket/prefix`, `gs://...`,
    /// `az://...`, `https://host/path`, or a DVC remote's URL), on top of `remotes:` in mlgate.yml. Repeatable.
    #[arg(long, value_name = "PREFIX")]
    pub allow_remote: Vec<String>,
    /// Check only shard I of N (e.g. 2/4) and write DIR/partial-I-of-N.json (and .keys, .drift) for `mlgate
    /// merge`: each shard reads a contiguous run of a partitioned dataset's files, of a Parquet file's row groups,
    /// or of a text file's bytes cut at record boundaries (a file that cannot be cut: every Nth block of its
    /// records), for validation and for drift (both sides); model gates and scans run in shard 1. Needs
    /// --report-dir.
    #[arg(long, value_name = "I/N", value_parser = parse_shard, requires = "report_dir")]
    pub shard: Option<(u32, u32)>,
    /// Records per block when --shard splits a file by records (gzip, UTF-16, remote data).
    #[arg(long, value_name = "N", default_value_t = crate::data::DEFAULT_BLOCK_ROWS, value_parser = clap::value_parser!(u64).range(1..))]
    pub shard_rows: u64,
}

/// `I/N` with 1 <= I <= N.
fn parse_shard(s: &str) -> std::result::Result<(u32, u32), String> {
    let bad = || format!("`{s}` is not a shard: write I/N, e.g. 2/4 (1 <= I <= N)");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (u32, u32) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The partial reports of every shard (`check --shard I/N --report-dir DIR` writes DIR/partial-I-of-N.json).
    #[arg(required = true, value_name = "PARTIAL")]
    pub partials: Vec<PathBuf>,
    /// Write the merged report (JSON) to this file.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Also write report.json and report.md to this folder, as `check --report-dir` does (in GitHub Actions
    /// with mlgate-context.json for `mlgate github publish`).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// The config the shards checked, as the pull-request comment names it.
    #[arg(short, long, default_value = "mlgate.yml")]
    pub config: PathBuf,
}

/// How to read a data file (the dialect).
#[derive(Debug, Args)]
pub struct DataArgs {
    /// The data format [default: from the file name]
    #[arg(long, value_parser = ["csv", "tsv", "jsonl", "parquet"])]
    pub data_format: Option<String>,
    /// Field delimiter of a CSV file.
    #[arg(long)]
    pub delimiter: Option<char>,
    /// Quote character of a CSV file.
    #[arg(long)]
    pub quote_char: Option<char>,
    /// The file has no header row.
    #[arg(long)]
    pub no_header: bool,
    /// The 1-based row that holds the header.
    #[arg(long, value_name = "N")]
    pub header_row: Option<u64>,
    /// Text encoding (utf-8, latin1, windows-1252, utf-16le, ...).
    #[arg(long)]
    pub encoding: Option<String>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The data file (CSV, TSV, JSON Lines, Parquet; .gz accepted for text formats).
    pub data: PathBuf,
    /// The Table Schema (JSON or YAML). Without it only the structure is checked.
    #[arg(long)]
    pub schema: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub dialect: DataArgs,
    /// Also report rows that repeat an earlier row.
    #[arg(long)]
    pub duplicate_rows: bool,
}

#[derive(Debug, Args)]
pub struct InferArgs {
    /// The data file.
    pub data: PathBuf,
    /// Write the schema here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// String columns with at most N distinct values get an enum (0: none).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub enum_threshold: usize,
    #[command(flatten)]
    pub dialect: DataArgs,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Folder to write the keys to.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,
    /// File name stem: NAME.key (secret), NAME.pub (minisign, Ed25519 only), NAME.pub.pem (PEM).
    #[arg(long, default_value = "mlgate")]
    pub name: String,
    /// Replace existing key files.
    #[arg(long)]
    pub force: bool,
    /// The key type: ed25519 (minisign, DSSE) or p256 (ECDSA P-256, for OMS model signatures).
    #[arg(long, value_enum, default_value = "ed25519")]
    pub algorithm: KeyAlgorithm,
}

/// A key type `mlgate keygen` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyAlgorithm {
    Ed25519,
    P256,
}

/// A signature format of `mlgate sign`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignFormat {
    /// A minisign signature per file (FILE.minisig), with an Ed25519 key.
    Minisign,
    /// One OpenSSF Model Signing v1.0 signature over a model file or folder (model_signing verifies it), with a
    /// P-256 key.
    Oms,
}

/// Where the secret key comes from.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// The secret key: a file (PKCS#8 PEM, unencrypted OpenSSH or mlgate's own), or `env:VAR` for the key's
    /// text in an environment variable (a CI secret) [default: env:MLGATE_SIGNING_KEY]
    // A value that starts with `-` (a PEM key pasted in) is taken as the value, so that clap's own "unexpected
    // argument" error never echoes it; `secret_key` refuses it without showing it.
    #[arg(short, long, value_name = "FILE|env:VAR", allow_hyphen_values = true)]
    pub key: Option<String>,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// Files to sign.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub key: KeyArgs,
    /// The trusted comment [default: timestamp:SECONDS<TAB>file:NAME<TAB>hashed, as minisign writes it]
    #[arg(short, long, value_name = "TEXT")]
    pub trusted_comment: Option<String>,
    /// Write the signature here instead of FILE.minisig (one file only).
    #[arg(short = 'x', long, value_name = "SIG")]
    pub signature: Option<PathBuf>,
    /// Sign only if this gate report (report.json) passed.
    #[arg(long, value_name = "REPORT")]
    pub report: Option<PathBuf>,
    /// The signature format.
    #[arg(long, value_enum, default_value = "minisign")]
    pub format: SignFormat,
    /// With --format oms: where to write the signature [default: model.sig]
    #[arg(short, long, value_name = "SIG")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Files to verify (with --attestation: only these subjects; default all).
    pub files: Vec<PathBuf>,
    /// A trusted public key (minisign, PEM or OpenSSH); repeat it to pin several, so keys can rotate
    /// [default: mlgate.pub]
    #[arg(short, long = "pubkey", visible_alias = "pub", value_name = "FILE")]
    pub pubkey: Vec<PathBuf>,
    /// The signature file instead of FILE.minisig (one file only).
    #[arg(short = 'x', long, value_name = "SIG", conflicts_with = "attestation")]
    pub signature: Option<PathBuf>,
    /// Verify this DSSE envelope (mlgate attest's output) and the digests of the files it names.
    #[arg(long, value_name = "FILE")]
    pub attestation: Option<PathBuf>,
    /// Folder the attestation's file names are relative to [default: the current folder]
    #[arg(long, value_name = "DIR", requires = "attestation")]
    pub base_dir: Option<PathBuf>,
    /// The commit the attestation must name (a prefix of 7 or more characters is enough).
    #[arg(long, value_name = "SHA", requires = "attestation")]
    pub commit: Option<String>,
    /// Verify this OpenSSF Model Signing signature (model.sig) of the one model file or folder named, with
    /// P-256 PEM public keys [default key: mlgate.pub.pem]
    #[arg(long, value_name = "SIG", conflicts_with_all = ["attestation", "signature"])]
    pub oms: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct AttestArgs {
    /// Files and folders to attest (folders are walked).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub key: KeyArgs,
    /// The gate report (report.json from `mlgate check --report-dir`); its verdict must be pass.
    #[arg(long, value_name = "REPORT")]
    pub report: PathBuf,
    /// The commit [default: $GITHUB_SHA, else `git rev-parse HEAD`]
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// The repository, owner/name [default: $GITHUB_REPOSITORY]
    #[arg(long, value_name = "OWNER/NAME")]
    pub repository: Option<String>,
    /// Where to write the envelope.
    #[arg(
        short,
        long,
        value_name = "FILE",
        default_value = "mlgate.intoto.jsonl"
    )]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The report.json to render.
    pub report: PathBuf,
    /// Render HTML: inline CSS and SVG charts, no script, nothing fetched.
    #[arg(long, required = true)]
    pub html: bool,
    /// Where to write the HTML file.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Model files to scan.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Also allow this global: module.Name, or package.* (repeatable). Known-dangerous globals stay refused.
    #[arg(long, value_name = "GLOBAL")]
    pub allow: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The reference data (CSV, TSV, JSON Lines, Parquet; .gz accepted for text formats).
    pub reference: PathBuf,
    /// The current data, with the same columns.
    pub current: PathBuf,
    /// A Table Schema that types the columns (number/integer: numerical; others: categorical).
    #[arg(long)]
    pub schema: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub dialect: DataArgs,
    /// The dataset drifts when at least this share of columns drifted.
    #[arg(long, value_name = "SHARE", default_value_t = 0.5)]
    pub drift_share: f64,
    /// Leave a column out (repeatable).
    #[arg(long, value_name = "COLUMN")]
    pub exclude: Vec<String>,
    /// Test one column with TEST, optionally at THRESHOLD: `--test age=psi` or `--test age=psi:0.2` (repeatable).
    /// Tests: ks, chisquare, z, wasserstein, jensenshannon, psi, kl_div, l_infinity.
    #[arg(long = "test", value_name = "COLUMN=TEST[:THRESHOLD]")]
    pub tests: Vec<String>,
}

#[derive(Debug, Args)]
pub struct BundleArgs {
    /// The model file (.onnx or .tflite).
    pub model: PathBuf,
    /// The device profile: linux-x86_64, linux-aarch64 or linux-armv7.
    #[arg(long, value_name = "TARGET")]
    pub target: String,
    /// The bundle's name [default: the model file's stem]
    #[arg(long)]
    pub name: Option<String>,
    /// The bundle's version.
    #[arg(
        long = "bundle-version",
        value_name = "VERSION",
        default_value = "0.0.0"
    )]
    pub bundle_version: String,
    /// Class names in the order of the model's output columns, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "A,B,...")]
    pub labels: Vec<String>,
    /// A JSON file describing the input preprocessing, copied into the manifest.
    #[arg(long, value_name = "FILE")]
    pub preprocessing: Option<PathBuf>,
    /// The gate report the model passed (report.json); its metrics go into the manifest. Needed with --key.
    #[arg(long, value_name = "REPORT")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub key: OptionalKeyArgs,
    /// The commit [default: $GITHUB_SHA, else `git rev-parse HEAD`] (for the attestation, with --key)
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// The folder to write NAME-VERSION-TARGET.tar.gz into.
    #[arg(short, long = "out-dir", value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,
    /// Quantize the model first (ONNX only), under the accuracy gate on --data; the bundle then carries the
    /// quantized model and the manifest its figures. A variant that fails the gate is not bundled (exit 1).
    #[arg(long, value_enum, value_name = "MODE", requires = "data")]
    pub quantize: Option<QuantizeMode>,
    #[command(flatten)]
    pub gate: QuantizeGateArgs,
    /// Pack a self-test: this small input (at most 1 MiB; .csv, .jsonl, .parquet, .npy or .npz as `mlgate run
    /// --input` reads it, every column a feature) and the outputs the bundled model gives on it now. `mlgate run
    /// --selftest` and `mlgate pull` check the model against them.
    #[arg(long, value_name = "DATA")]
    pub selftest: Option<PathBuf>,
    /// The self-test's absolute tolerance: a float output passes when |got - expected| <= ABS + REL * |expected|
    /// (integer outputs must be equal).
    #[arg(long, value_name = "ABS", default_value_t = crate::edge::selftest::DEFAULT_ATOL, requires = "selftest")]
    pub selftest_tolerance: f64,
    /// The self-test's relative tolerance (REL above).
    #[arg(long, value_name = "REL", default_value_t = crate::edge::selftest::DEFAULT_RTOL, requires = "selftest")]
    pub selftest_rel_tolerance: f64,
    /// Also sign the model in the OpenSSF Model Signing format with this P-256 key (`mlgate keygen --algorithm
    /// p256`; a file or `env:VAR`): the bundle carries it as models/<file>.sig, listed and signed like every entry.
    #[arg(long, value_name = "FILE|env:VAR", allow_hyphen_values = true)]
    pub oms_key: Option<String>,
}

/// A quantization mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QuantizeMode {
    /// int8 weights per output channel; activations quantized at run time (DynamicQuantizeLinear +
    /// MatMulInteger/ConvInteger), ONNX Runtime's quantize_dynamic layout.
    DynamicInt8,
    /// int8 weights and activations (QLinearMatMul/QLinearConv, S8S8, per-tensor activations); activation
    /// ranges measured with tract on --calibration data (default: --data). Softmax and other operators stay float.
    StaticInt8,
    /// float16 weights and compute through tract's f32→f16 translator, written as NNEF (.nnef.tgz), which tract
    /// loads (ONNX Runtime does not read NNEF).
    Fp16,
    /// Every mode on the gate's data (static-int8 only with --calibration); the smallest variant that passes is
    /// kept (needs --data and --label).
    Auto,
}

/// The data and threshold of the quantization gate (`mlgate quantize`, `mlgate bundle --quantize`).
#[derive(Debug, Args)]
pub struct QuantizeGateArgs {
    /// Evaluation data for the gate: a table (CSV, TSV, JSON Lines, Parquet) or NumPy arrays (.npz, .npy).
    #[arg(long, value_name = "DATA")]
    pub data: Option<PathBuf>,
    /// The column of true labels (tables), the label array (.npz), or a .npy file of labels. Without it only
    /// argmax agreement and the output difference are reported, and nothing is gated.
    #[arg(long, value_name = "COL", requires = "data")]
    pub label: Option<String>,
    /// The gated metric [default: accuracy for classifiers, r2 for regressors]
    #[arg(long, value_name = "METRIC", requires = "label")]
    pub metric: Option<String>,
    /// The largest allowed drop of the metric (0.01: one point) [default: 0.01 for accuracy-like metrics;
    /// required for error measures such as mae]
    #[arg(long, value_name = "DROP", requires = "label")]
    pub max_drop: Option<f64>,
    /// Classification or regression [default: told by the model's outputs]
    #[arg(long, value_enum, requires = "label")]
    pub task: Option<TaskArg>,
    /// Feature columns in the model's input order, comma-separated [default: every other column, in file order]
    #[arg(long, value_name = "a,b,c", value_delimiter = ',', requires = "data")]
    pub features: Option<Vec<String>>,
    /// Class names in the model's class order, comma-separated [default: from the model's metadata]
    #[arg(long, value_name = "a,b,c", value_delimiter = ',', requires = "label")]
    pub class_names: Option<Vec<String>>,
    /// The table format [default: from the file name]
    #[arg(long, value_parser = ["csv", "tsv", "jsonl", "parquet"], requires = "data")]
    pub data_format: Option<String>,
    /// Rows per model run (dynamic quantization scales each run's activations together, as ONNX Runtime does).
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub batch_size: usize,
    /// Calibration data for static-int8's activation ranges, read like --data (same --label, --features and
    /// --data-format) [default: the gate's --data]
    #[arg(long, value_name = "DATA")]
    pub calibration: Option<PathBuf>,
    /// How static-int8 takes a range from the calibration values: the largest |x| (minmax) or its 99.99th
    /// percentile (percentile)
    #[arg(long, value_enum, value_name = "METHOD", default_value = "minmax")]
    pub calibrate: CalibrateArg,
}

/// How static-int8 calibrates activation ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CalibrateArg {
    Minmax,
    Percentile,
}

#[derive(Debug, Args)]
pub struct QuantizeArgs {
    /// The float ONNX model.
    pub model: PathBuf,
    /// The quantization.
    #[arg(long, value_enum, value_name = "MODE")]
    pub mode: QuantizeMode,
    /// Where to write the quantized model [default: MODEL's folder, STEM.int8.onnx or STEM.fp16.nnef.tgz]. With
    /// --mode auto the extension becomes the chosen mode's (.onnx or .nnef.tgz).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the quantized model even when it fails the gate, to inspect it (the exit code is still 1).
    #[arg(long)]
    pub keep_failed: bool,
    #[command(flatten)]
    pub gate: QuantizeGateArgs,
    #[command(flatten)]
    pub output_format: OutputArgs,
}

#[derive(Debug, Args)]
pub struct OptionalKeyArgs {
    /// Sign the bundle with this secret key: a file, or `env:VAR` for the key's text in an environment variable.
    #[arg(short, long, value_name = "FILE|env:VAR", allow_hyphen_values = true)]
    pub key: Option<String>,
}

/// The kind of model, when its outputs do not tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TaskArg {
    Classification,
    Regression,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The model (ONNX or TFLite; told by its content).
    pub model: PathBuf,
    /// The evaluation data: a table (CSV, TSV, JSON Lines, Parquet) or NumPy arrays (.npz, .npy).
    #[arg(long, value_name = "DATA")]
    pub data: PathBuf,
    /// The column of true labels (tables), the label array (.npz), or a .npy file of labels.
    #[arg(long, value_name = "COL")]
    pub label: String,
    /// Classification or regression [default: told by the model's outputs]
    #[arg(long, value_enum)]
    pub task: Option<TaskArg>,
    /// Feature columns in the model's input order, comma-separated [default: every other column, in file order]
    #[arg(long, value_name = "a,b,c", value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Class names in the model's class order, comma-separated [default: from the model's metadata]
    #[arg(long, value_name = "a,b,c", value_delimiter = ',')]
    pub class_names: Option<Vec<String>>,
    /// The table format [default: from the file name]
    #[arg(long, value_parser = ["csv", "tsv", "jsonl", "parquet"])]
    pub data_format: Option<String>,
    /// Rows per model run.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub batch_size: usize,
    /// Single-row runs timed for the latency percentiles (0: no latency figures).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub latency_runs: usize,
    /// Threads running batches (0: one per core); the outputs and metrics do not depend on it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The bundle (NAME-VERSION-TARGET.tar.gz from `mlgate bundle`).
    pub bundle: PathBuf,
    /// The input: .npy/.npz arrays, or a table (CSV, JSON Lines, Parquet) of feature columns.
    #[arg(long, value_name = "FILE", required_unless_present = "selftest")]
    pub input: Option<PathBuf>,
    /// Run the bundle's self-test instead of an input: its outputs against the expected ones, within the
    /// manifest's tolerance (exit 1 on a mismatch, with the worst difference).
    #[arg(long, conflicts_with_all = ["input", "features"])]
    pub selftest: bool,
    /// A trusted public key (repeatable): the bundle must be signed by one of them. Without it only the digests
    /// are checked (integrity, not authenticity), with a warning.
    #[arg(short, long = "pubkey", value_name = "FILE")]
    pub pubkey: Vec<PathBuf>,
    /// A pinned P-256 public key (PEM, repeatable) for the model's OMS signature in the bundle: the bundle must
    /// carry one that verifies with it. Without it an OMS signature present is held against the model's digest only.
    #[arg(long = "oms-pubkey", value_name = "FILE")]
    pub oms_pubkey: Vec<PathBuf>,
    /// Refuse (exit 1) to run a bundle without --pubkey, instead of warning.
    #[arg(
        long,
        env = "MLGATE_REQUIRE_SIGNATURE",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub require_signature: bool,
    /// The target the bundle must be for [default: this machine's, e.g. linux-x86_64]
    #[arg(long, value_name = "TARGET", value_parser = parse_target)]
    pub target: Option<String>,
    /// The model name the bundle must hold (its manifest's `name`).
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// The oldest bundle version accepted (SemVer order; `1.2` means `1.2.0`).
    #[arg(long, value_name = "V", value_parser = crate::edge::version::Version::parse)]
    pub min_version: Option<crate::edge::version::Version>,
    /// Feature columns of a table input in the model's input order, comma-separated [default: every column]
    #[arg(long, value_name = "a,b,c", value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Rows per model run.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub batch_size: usize,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `--expiry-grace`: a positive duration of at most 30 days, in seconds.
fn parse_expiry_grace(s: &str) -> Result<i64, String> {
    let secs = crate::text::parse_duration(s)?;
    if secs > crate::device::pull::MAX_EXPIRY_GRACE_SECS {
        return Err(format!("{s:?}: the grace is at most 30d"));
    }
    Ok(secs)
}

/// A target profile's name, checked against the known ones.
fn parse_target(s: &str) -> Result<String, String> {
    crate::edge::Target::named(s).map(|t| t.name.to_string())
}
