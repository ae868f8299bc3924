//! Replays every committed fuzz corpus file and every crash regression (`fuzz/corpus/NAME/`,
//! `fuzz/regressions/NAME/`) through the harness that `fuzz/fuzz_targets/NAME.rs` runs under libFuzzer: CI's
//! short run of every target (README "Reliability"). A panic here is a parser bug found by fuzzing.

use std::path::{Path, PathBuf};

#[path = "../fuzz/csv_reference.rs"]
mod csv_reference;

type Harness = fn(&[u8]);

fn csv_differential(data: &[u8]) {
    mlgate::fuzz::csv_differential(data, csv_reference::csv_crate_records)
}

/// Every target, by its `fuzz/fuzz_targets/` name.
const TARGETS: &[(&str, Harness)] = &[
    ("bundle", mlgate::fuzz::bundle),
    ("config", mlgate::fuzz::config),
    ("config_structured", mlgate::fuzz::config_structured),
    ("csv", mlgate::fuzz::csv),
    ("csv_differential", csv_differential),
    ("device_state", mlgate::fuzz::device_state),
    ("dsse", mlgate::fuzz::dsse),
    ("dvc", mlgate::fuzz::dvc),
    ("jsonl", mlgate::fuzz::jsonl),
    ("keys", mlgate::fuzz::keys),
    ("minisign_sig", mlgate::fuzz::minisign_sig),
    ("model", mlgate::fuzz::model),
    ("npy", mlgate::fuzz::npy),
    ("oms", mlgate::fuzz::oms),
    ("parquet", mlgate::fuzz::parquet),
    ("pickle", mlgate::fuzz::pickle),
    ("publish", mlgate::fuzz::publish),
    ("schema_json", mlgate::fuzz::schema_json),
    ("schema_structured", mlgate::fuzz::schema_structured),
    ("schema_yaml", mlgate::fuzz::schema_yaml),
    ("tflite", mlgate::fuzz::tflite),
    ("tuf_meta", mlgate::fuzz::tuf_meta),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir`, in name order; none when it does not exist (a target without regressions).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => vec![],
    };
    out.sort();
    out
}

fn replay(kind: &str) -> usize {
    let mut n = 0;
    for (name, harness) in TARGETS {
        for file in files(&fuzz_dir().join(kind).join(name)) {
            let data = std::fs::read(&file).unwrap();
            let run = std::panic::catch_unwind(|| harness(&data));
            assert!(run.is_ok(), "{name}: {} panics", file.display());
            n += 1;
        }
    }
    n
}

#[test]
fn every_target_has_a_harness_and_a_corpus() {
    let mut on_disk: Vec<String> = files(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let listed: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(on_disk, listed, "fuzz/fuzz_targets/ and TARGETS differ");
    for name in listed {
        let corpus = files(&fuzz_dir().join("corpus").join(name));
        assert!(!corpus.is_empty(), "fuzz/corpus/{name}/ is empty");
    }
}

#[test]
fn committed_corpora_replay_without_a_panic() {
    assert!(replay("corpus") > 0);
}

#[test]
fn crash_regressions_replay_without_a_panic() {
    replay("regressions");
}
