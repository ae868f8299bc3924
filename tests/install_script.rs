//! scripts/install-mlgate.sh, the Action's install step, against a local fake release: archives packed by
//! scripts/package-release.sh (what release.yml runs) around a shell script standing in for mlgate, served on
//! 127.0.0.1. Fake `cargo` and `gh` first on PATH record their arguments, so `version: source` and the
//! attestation path are shown to call them as they should without compiling mlgate or asking GitHub.
//!
//! Needs bash, curl, tar, sha256sum, zip and unzip (`.ci/run` installs zip and unzip when missing); without them
//! these tests say they skipped, unless MLGATE_REQUIRE_INTEROP=1 or CI=true, where they fail.

mod common;

use common::text;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const VERSION: &str = "9.9.9";

/// Each runner the Action supports: RUNNER_OS, RUNNER_ARCH, the Rust target of its archive.
const PLATFORMS: &[(&str, &str, &str)] = &[
    ("Linux", "X64", "x86_64-unknown-linux-musl"),
    ("Linux", "ARM64", "aarch64-unknown-linux-musl"),
    ("macOS", "X64", "x86_64-apple-darwin"),
    ("macOS", "ARM64", "aarch64-apple-darwin"),
    ("Windows", "X64", "x86_64-pc-windows-msvc"),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn required() -> bool {
    std::env::var("MLGATE_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
        || std::env::var("CI").is_ok_and(|v| v == "true")
}

fn have_tools() -> bool {
    let tools = ["bash", "curl", "tar", "sha256sum", "zip", "unzip"];
    let missing: Vec<&str> = tools
        .into_iter()
        .filter(|t| {
            !Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {t}"))
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if !missing.is_empty() {
        assert!(!required(), "{missing:?} required (.ci/run installs them)");
        eprintln!("skipped: {missing:?} not found");
    }
    missing.is_empty()
}

/// Serves `files` (URL path → bytes) on 127.0.0.1 until `requests` were answered or 60 s passed; other paths 404.
fn serve(files: Vec<(String, Vec<u8>)>, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut answered = 0;
        while answered < requests && Instant::now() < deadline {
            let Ok((stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            answered += 1;
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
            }
            let mut out = &stream;
            match files.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => {
                    let _ = write!(
                        out,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = out.write_all(body);
                }
                None => {
                    let _ = write!(
                        out,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nNot Found"
                    );
                }
            }
        }
    });
    format!("http://{addr}")
}

/// An address nothing listens on: a case that must not download anything points here.
const NOWHERE: &str = "http://127.0.0.1:9";

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn write_exe(path: &Path, script: &str) {
    std::fs::write(path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// One fake release, one copy of the action, fake tools, and the runner's folders, all under a temporary folder.
struct Setup {
    dir: tempfile::TempDir,
}

/// A release archive: its file name and bytes.
struct Archive {
    name: String,
    bytes: Vec<u8>,
}

impl Setup {
    fn new() -> Setup {
        let s = Setup {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(s.action().join("scripts")).unwrap();
        std::fs::copy(
            root().join("scripts/install-mlgate.sh"),
            s.action().join("scripts/install-mlgate.sh"),
        )
        .unwrap();
        std::fs::create_dir_all(s.bin()).unwrap();
        std::fs::create_dir_all(s.runner_temp()).unwrap();
        s
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn action(&self) -> PathBuf {
        self.path("action")
    }
    fn bin(&self) -> PathBuf {
        self.path("fake-bin")
    }
    fn runner_temp(&self) -> PathBuf {
        self.path("runner-temp")
    }
    fn github_path(&self) -> PathBuf {
        self.path("github-path")
    }
    /// Where the script installs `exe` for the release VERSION.
    fn installed(&self, exe: &str) -> PathBuf {
        self.runner_temp()
            .join(format!("mlgate-{VERSION}/bin"))
            .join(exe)
    }

    /// Packs a fake `variant` build for `target` with scripts/package-release.sh; its mlgate prints `fake TARGET`.
    fn pack(&self, variant: &str, target: &str) -> Archive {
        let build = self.path(&format!("build-{variant}-{target}"));
        write_exe(&build, &format!("#!/bin/sh\necho fake {target}\n"));
        let out = self.path("release");
        let o = Command::new("bash")
            .arg(root().join("scripts/package-release.sh"))
            .args([variant, &format!("v{VERSION}"), target])
            .arg(&build)
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let archive = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
        Archive {
            name: archive.file_name().unwrap().to_string_lossy().into_owned(),
            bytes: std::fs::read(&archive).unwrap(),
        }
    }

    /// The action's scripts/mlgate-release.sha256: the committed file (comments only) plus `lines`.
    fn pin(&self, lines: &[(String, &str)]) {
        let mut sums =
            std::fs::read_to_string(root().join("scripts/mlgate-release.sha256")).unwrap();
        for (sum, name) in lines {
            sums.push_str(&format!("{sum}  {name}\n"));
        }
        std::fs::write(self.action().join("scripts/mlgate-release.sha256"), sums).unwrap();
    }

    /// A fake `name` on PATH that appends its arguments (one line) to fake-bin/NAME.log and exits `code`.
    fn fake_tool(&self, name: &str, code: i32) {
        let log = self.bin().join(format!("{name}.log"));
        write_exe(
            &self.bin().join(name),
            &format!(
                "#!/bin/sh\necho \"$*\" >> '{}'\nexit {code}\n",
                log.display()
            ),
        );
    }

    /// What fake `name` was called with, one line per call; empty when it never ran.
    fn calls(&self, name: &str) -> String {
        std::fs::read_to_string(self.bin().join(format!("{name}.log"))).unwrap_or_default()
    }

    /// Runs the install script as the Action does, with `env` on top (no tokens unless given).
    fn install(&self, os: &str, arch: &str, base_url: &str, env: &[(&str, &str)]) -> Output {
        let path = std::env::var_os("PATH").unwrap_or_default();
        self.install_with_path(os, arch, base_url, env, &path)
    }

    /// `install` with `path` after fake-bin as the script's PATH.
    fn install_with_path(
        &self,
        os: &str,
        arch: &str,
        base_url: &str,
        env: &[(&str, &str)],
        path: &std::ffi::OsStr,
    ) -> Output {
        let path =
            std::env::join_paths(std::iter::once(self.bin()).chain(std::env::split_paths(path)))
                .unwrap();
        let mut c = Command::new("bash");
        c.arg(self.action().join("scripts/install-mlgate.sh"))
            .env("PATH", path)
            .env("MLGATE_VERSION", VERSION)
            .env("MLGATE_RELEASE_BASE_URL", base_url)
            .env("GITHUB_ACTION_PATH", self.action())
            .env("GITHUB_PATH", self.github_path())
            .env("RUNNER_TEMP", self.runner_temp())
            .env("RUNNER_OS", os)
            .env("RUNNER_ARCH", arch)
            .env_remove("MLGATE_VERIFY")
            .env_remove("MLGATE_REPO")
            .env_remove("GH_TOKEN")
            .env_remove("GITHUB_TOKEN");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    /// Nothing was installed and nothing put on the runner's PATH.
    fn assert_nothing_installed(&self) {
        let installed = self.runner_temp().join(format!("mlgate-{VERSION}"));
        assert!(!installed.exists(), "{} exists", installed.display());
        assert!(!self.github_path().exists(), "GITHUB_PATH was written");
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn url_path(a: &Archive) -> String {
    format!("/v{VERSION}/{}", a.name)
}

fn linux_x64(s: &Setup) -> Archive {
    s.pack("full", "x86_64-unknown-linux-musl")
}

/// Every supported runner gets its own archive, verified against the pinned checksum, installed and on PATH.
#[test]
fn each_platform_installs_its_own_archive() {
    if !have_tools() {
        return;
    }
    let s = Setup::new();
    let archives: Vec<Archive> = PLATFORMS
        .iter()
        .map(|(_, _, target)| s.pack("full", target))
        .collect();
    s.pin(
        &archives
            .iter()
            .map(|a| (sha256_hex(&a.bytes), a.name.as_str()))
            .collect::<Vec<_>>(),
    );
    let url = serve(
        archives
            .iter()
            .map(|a| (url_path(a), a.bytes.clone()))
            .collect(),
        PLATFORMS.len(),
    );
    for (&(os, arch, target), archive) in PLATFORMS.iter().zip(&archives) {
        let _ = std::fs::remove_dir_all(s.runner_temp().join(format!("mlgate-{VERSION}")));
        let _ = std::fs::remove_file(s.github_path());
        let o = s.install(os, arch, &url, &[]);
        assert!(o.status.success(), "{os}/{arch}: {}", text(&o));
        let expected_name = match os {
            "Windows" => format!("mlgate-v{VERSION}-{target}.zip"),
            _ => format!("mlgate-v{VERSION}-{target}.tar.gz"),
        };
        assert_eq!(archive.name, expected_name);
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(&format!("verified {expected_name}")),
            "{}",
            text(&o)
        );
        let exe = if os == "Windows" {
            "mlgate.exe"
        } else {
            "mlgate"
        };
        let bin = s.installed(exe);
        let run = Command::new(&bin).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&run.stdout),
            format!("fake {target}\n")
        );
        let path_line = std::fs::read_to_string(s.github_path()).unwrap();
        assert_eq!(path_line.trim(), bin.parent().unwrap().to_string_lossy());
    }
}

#[cfg(unix)]
/// A folder of links to the tools the script needs on macOS, where there is `shasum` and no `sha256sum`;
/// `None` (skipped, or failed when required) when one is missing here.
fn macos_like_tools(dir: &Path) -> Option<PathBuf> {
    let tools = [
        "bash", "curl", "awk", "head", "cut", "mktemp", "rm", "find", "install", "mkdir", "tar",
        "gzip", "shasum",
    ];
    let tools_dir = dir.join("macos-tools");
    std::fs::create_dir_all(&tools_dir).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    for t in tools {
        let Some(real) = std::env::split_paths(&path)
            .map(|d| d.join(t))
            .find(|p| p.is_file())
        else {
            assert!(!required(), "{t} is required");
            eprintln!("skipped: {t} not found");
            return None;
        };
        std::os::unix::fs::symlink(real, tools_dir.join(t)).unwrap();
    }
    Some(tools_dir)
}

/// On macOS the script checks with `shasum -a 256` (there is no sha256sum): the right archive is accepted and a
/// wrong checksum refused, with a PATH that has no sha256sum at all.
#[cfg(unix)]
#[test]
fn macos_checks_with_shasum() {
    if !have_tools() {
        return;
    }
    let s = Setup::new();
    let Some(tools) = macos_like_tools(s.dir.path()) else {
        return;
    };
    let archive = s.pack("full", "aarch64-apple-darwin");
    s.pin(&[(sha256_hex(&archive.bytes), &archive.name)]);
    let url = serve(vec![(url_path(&archive), archive.bytes.clone())], 2);
    let o = s.install_with_path("macOS", "ARM64", &url, &[], tools.as_os_str());
    assert!(o.status.success(), "{}", text(&o));
    let run = Command::new(s.installed("mlgate")).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "fake aarch64-apple-darwin\n"
    );

    let s2 = Setup::new();
    s2.pin(&[("f".repeat(64), &archive.name)]);
    let o = s2.install_with_path("macOS", "ARM64", &url, &[], tools.as_os_str());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        stderr(&o).contains(&format!(
            "checksum mismatch for {}: expected {}",
            archive.name,
            "f".repeat(64)
        )) && stderr(&o).contains(&sha256_hex(&archive.bytes)),
        "{}",
        text(&o)
    );
    s2.assert_nothing_installed();
}

#[test]
fn a_checksum_that_does_not_match_is_refused() {
    if !have_tools() {
        return;
    }
    let s = Setup::new();
    let archive = linux_x64(&s);
    s.pin(&[("0".repeat(64), &archive.name)]);
    s.fake_tool("cargo", 0);
    let url = serve(vec![(url_path(&archive), archive.bytes.clone())], 1);
    let o = s.install("Linux", "X64", &url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = stderr(&o);
    assert!(
        err.contains("::error::mlgate install: checksum mismatch for mlgate-v9.9.9-x86_64-unknown-linux-musl.tar.gz")
            && err.contains(&sha256_hex(&archive.bytes)),
        "{}",
        text(&o)
    );
    s.assert_nothing_installed();
    assert_eq!(s.calls("cargo"), "", "no build from source");
}

#[test]
fn a_runner_without_a_release_build_is_a_clear_error() {
    if !have_tools() {
        return;
    }
    let s = Setup::new();
    s.pin(&[]);
    s.fake_tool("cargo", 0);
    for (os, arch) in [("Linux", "ARM"), ("Windows", "ARM64"), ("FreeBSD", "X64")] {
        let o = s.install(os, arch, NOWHERE, &[]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            stderr(&o).contains(&format!(
                "::error::mlgate install: mlgate 9.9.9 has no release build for {os}/{arch} (there are: Linux X64 and ARM64, macOS X64 and ARM64, Windows X64)"
            )),
            "{}",
            text(&o)
        );
    }
    s.assert_nothing_installed();
    assert_eq!(s.calls("cargo"), "", "no build from source");
}

/// No pinned line and no way to check an attestation: an error before anything is downloaded, and no build.
#[test]
fn no_pinned_checksum_is_an_error_not_a_build() {
    if !have_tools() {
        return;
    }
    let s = Setup::new();
    s.pin(&[]);
    s.fake_tool("cargo", 0);
    let o = s.install("Linux", "X64", NOWHERE, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        stderr(&o).contains("::error::mlgate install: no checksum for mlgate-v9.9.9-x86_64-unknown-linux-musl.tar.gz in this action's scripts/mlgate-release.sha256, and no gh CLI with a token"),
        "{}",
        text(&o)
    );
    s.assert_nothing_installed();
    assert_eq!(s.calls("cargo"), "", "no build from source");

    // verify: checksum does not turn to gh even when gh and a token are there.
    s.fake_tool("gh", 0);
    let o = s.install(
        "Linux",
        "X64",
        NOWHERE,
        &[("MLGATE_VERIFY", "checksum"), ("GH_TOKEN", "t")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        stderr(&o).contains("no checksum for mlgate-v9.9.9-x86_64-unknown-linux-musl.tar.gz"),
        "{}",
        text(&o)
    );
    assert_eq!(s.calls("gh"), "");
    s.assert_nothing_installed();
}

#[test]
fn a_failed_download_is_an_error_not_a_build() {
    if !have_tools() {
        return;
    }
    let s = Setup::new();
    let archive = linux_x64(&s);
    s.pin(&[(sha256_hex(&archive.bytes), &archive.name)]);
    s.fake_tool("cargo", 0);
    let url = serve(vec![], 4); // curl --retry 3 does not retry a 404; the rest is slack
    let o = s.install("Linux", "X64", &url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        stderr(&o).contains(&format!(
            "::error::mlgate install: could not download {url}/v9.9.9/{}",
            archive.name
        )),
        "{}",
        text(&o)
    );
    s.assert_nothing_installed();
    assert_eq!(s.calls("cargo"), "", "no build from source");
}

#[test]
fn an_unknown_verify_mode_is_an_error() {
    if !have_tools() {
        return;
    }
    let s = Setup::new();
    s.pin(&[]);
    let o = s.install("Linux", "X64", NOWHERE, &[("MLGATE_VERIFY", "none")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        stderr(&o).contains(
            "::error::mlgate install: verify must be auto, checksum or attestation, not 'none'"
        ),
        "{}",
        text(&o)
    );
    s.assert_nothing_installed();
}

/// `version: source` runs `cargo install --locked` on the action's own folder (a fake cargo records it: compiling
/// mlgate here would take many minutes and prove nothing about the script), and puts its bin on PATH.
#[test]
fn version_source_runs_cargo_install_locked_on_the_action() {
    if !have_tools() {
        return;
    }
    let s = Setup::new();
    s.pin(&[]);
    s.fake_tool("cargo", 0);
    let o = s.install("Linux", "X64", NOWHERE, &[("MLGATE_VERSION", "source")]);
    assert!(o.status.success(), "{}", text(&o));
    let dest = s.runner_temp().join("mlgate-source");
    assert_eq!(
        s.calls("cargo"),
        format!(
            "install --locked --root {} --path {}\n",
            dest.display(),
            s.action().display()
        )
    );
    let path_line = std::fs::read_to_string(s.github_path()).unwrap();
    assert_eq!(path_line.trim(), dest.join("bin").to_string_lossy());

    // A failing build fails the step.
    let s = Setup::new();
    s.pin(&[]);
    s.fake_tool("cargo", 101);
    let o = s.install("Linux", "X64", NOWHERE, &[("MLGATE_VERSION", "source")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        stderr(&o).contains("::error::mlgate install: cargo install --locked --path"),
        "{}",
        text(&o)
    );
    assert!(!s.github_path().exists());
}

/// `verify: attestation` (or no pinned line, with gh and a token): `gh attestation verify` on the downloaded
/// archive, for this repository's release workflow at the version's tag; its refusal refuses the install.
#[test]
fn attestation_is_verified_with_gh() {
    if !have_tools() {
        return;
    }
    for (env, token) in [
        (vec![("MLGATE_VERIFY", "attestation")], "GH_TOKEN"),
        (vec![], "GITHUB_TOKEN"), // auto, and no pinned line
    ] {
        let s = Setup::new();
        let archive = linux_x64(&s);
        s.pin(&[]);
        s.fake_tool("gh", 0);
        let url = serve(vec![(url_path(&archive), archive.bytes.clone())], 1);
        let mut env = env.clone();
        env.push((token, "a-token"));
        let o = s.install("Linux", "X64", &url, &env);
        assert!(o.status.success(), "{}", text(&o));
        let calls = s.calls("gh");
        let args: Vec<&str> = calls.split_whitespace().collect();
        assert_eq!(args.len(), 9, "{calls}");
        assert_eq!(&args[..2], ["attestation", "verify"]);
        assert!(args[2].ends_with(&format!("/{}", archive.name)), "{calls}");
        assert_eq!(
            &args[3..],
            [
                "--repo",
                "mlgate/mlgate",
                "--signer-workflow",
                "mlgate/mlgate/.github/workflows/release.yml",
                "--source-ref",
                "refs/tags/v9.9.9"
            ]
        );
        let run = Command::new(s.installed("mlgate")).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&run.stdout),
            "fake x86_64-unknown-linux-musl\n"
        );
    }

    // gh refuses: nothing installed.
    let s = Setup::new();
    let archive = linux_x64(&s);
    s.pin(&[]);
    s.fake_tool("gh", 1);
    let url = serve(vec![(url_path(&archive), archive.bytes.clone())], 1);
    let o = s.install(
        "Linux",
        "X64",
        &url,
        &[("MLGATE_VERIFY", "attestation"), ("GH_TOKEN", "t")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        stderr(&o).contains("::error::mlgate install: gh attestation verify refused mlgate-v9.9.9-x86_64-unknown-linux-musl.tar.gz"),
        "{}",
        text(&o)
    );
    s.assert_nothing_installed();

    // verify: attestation without a token: an error before any download.
    let s = Setup::new();
    s.pin(&[]);
    s.fake_tool("gh", 0);
    let o = s.install("Linux", "X64", NOWHERE, &[("MLGATE_VERIFY", "attestation")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        stderr(&o).contains("needs the gh CLI and a token"),
        "{}",
        text(&o)
    );
    assert_eq!(s.calls("gh"), "");
}

/// The device build's archive: its own name, the binary inside called mlgate; a wrong variant is a usage error.
#[test]
fn package_script_names_the_device_archive_and_refuses_a_bad_variant() {
    if !have_tools() {
        return;
    }
    let s = Setup::new();
    let a = s.pack("device", "armv7-unknown-linux-musleabihf");
    assert_eq!(
        a.name,
        "mlgate-device-v9.9.9-armv7-unknown-linux-musleabihf.tar.gz"
    );
    let list = Command::new("tar")
        .arg("-tzf")
        .arg(s.path("release").join(&a.name))
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&list.stdout);
    let mut entries: Vec<&str> = listing.lines().collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            "mlgate-device-v9.9.9-armv7-unknown-linux-musleabihf/",
            "mlgate-device-v9.9.9-armv7-unknown-linux-musleabihf/CHANGELOG.md",
            "mlgate-device-v9.9.9-armv7-unknown-linux-musleabihf/README.md",
            "mlgate-device-v9.9.9-armv7-unknown-linux-musleabihf/mlgate",
        ]
    );

    let o = Command::new("bash")
        .arg(root().join("scripts/package-release.sh"))
        .args(["small", VERSION, "x86_64-unknown-linux-musl"])
        .arg(s.path("nothing"))
        .arg(s.path("release"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        stderr(&o).contains("the variant is full or device, not 'small'"),
        "{}",
        text(&o)
    );
}

/// release.yml builds an archive for every platform the install script knows, and both device targets.
#[test]
fn release_workflow_builds_every_target_the_install_script_installs() {
    let workflow = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    let script = std::fs::read_to_string(root().join("scripts/install-mlgate.sh")).unwrap();
    for (_, _, target) in PLATFORMS {
        assert!(script.contains(&format!(" echo {target} ;;")), "{target}");
        assert!(
            workflow.contains(&format!("- {{ variant: full, target: {target},")),
            "release.yml builds no full archive for {target}"
        );
    }
    for target in [
        "aarch64-unknown-linux-musl",
        "armv7-unknown-linux-musleabihf",
    ] {
        assert!(
            workflow.contains(&format!("- {{ variant: device, target: {target},")),
            "release.yml builds no device archive for {target}"
        );
    }
    assert!(workflow.contains("bash scripts/package-release.sh"));
}
