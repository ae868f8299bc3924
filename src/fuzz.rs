//! Fuzz harnesses: one function per parser, each feeding the fuzzer's bytes to the entry point the CLI uses.
//!
//! `fuzz/fuzz_targets/NAME.rs` (libFuzzer) calls `NAME`; `tests/fuzz_corpus.rs` replays the committed corpora and
//! crash regressions through the same functions. Errors are expected and ignored: a panic, a hang or a huge
//! allocation is the bug. Where an entry point only takes a path, the input goes through a temporary file.

use std::io::Write;
use std::path::PathBuf;

use crate::data::reader::{self, Record, RecordSink};
use crate::data::{Dialect, Format, Source};

/// A temporary folder holding `name` with `data` in it (the temp folder is removed on drop).
fn temp_file(name: &str, data: &[u8]) -> Option<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir().ok()?;
    let path = dir.path().join(name);
    let mut f = std::fs::File::create(&path).ok()?;
    f.write_all(data).ok()?;
    Some((dir, path))
}

/// A sink that looks at every cell (so that lazily decoded text is decoded) and keeps nothing.
struct Drain;

impl RecordSink for Drain {
    fn labels(&mut self, labels: Option<&[String]>) {
        std::hint::black_box(labels);
    }
    fn record(&mut self, record: &Record<'_>) {
        for c in record.cells {
            std::hint::black_box(c.display());
        }
    }
}

fn read_table(name: &str, format: Format, dialect: Dialect, data: &[u8]) {
    let Some((_dir, path)) = temp_file(name, data) else {
        return;
    };
    if let Ok(source) = Source::new(path, Some(format), dialect) {
        let _ = reader::read(&source, &mut Drain);
    }
}

/// The CSV/TSV reader. The first byte picks the dialect (format, delimiter, quote, header, header row,
/// encoding); the rest is the file.
pub fn csv(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let format = if pick & 1 == 0 {
        Format::Csv
    } else {
        Format::Tsv
    };
    let dialect = Dialect {
        delimiter: [None, Some(';'), Some('|'), Some(',')][((pick >> 1) & 3) as usize],
        quote_char: [None, Some('\'')][((pick >> 3) & 1) as usize],
        header: (pick >> 4) & 1 == 0,
        header_row: [None, Some(2)][((pick >> 5) & 1) as usize],
        encoding: [None, None, Some("latin1".into()), Some("utf-16le".into())]
            [(pick >> 6) as usize]
            .clone(),
    };
    read_table("data.csv", format, dialect, body);
}

/// JSON Lines.
pub fn jsonl(data: &[u8]) {
    read_table("data.jsonl", Format::Jsonl, Dialect::default(), data);
}

/// Parquet (arrow-rs' reader under mlgate's batch conversion).
pub fn parquet(data: &[u8]) {
    read_table("data.parquet", Format::Parquet, Dialect::default(), data);
}

/// A Table Schema in JSON.
pub fn schema_json(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::data::Schema::parse(text, "schema.json");
    }
}

/// A Table Schema in YAML.
pub fn schema_yaml(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::data::Schema::parse(text, "schema.yaml");
    }
}

/// `mlgate.yml` as bytes.
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::config::Config::parse(text, std::path::Path::new("mlgate.yml"));
    }
}

/// A model file described as `mlgate bundle` describes it (tract's ONNX or TFLite loader, and mlgate's own
/// TFLite flatbuffer reader); the first byte picks the file name the loaders see.
pub fn model(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let name = if pick & 1 == 0 {
        "model.onnx"
    } else {
        "model.tflite"
    };
    if let Some((_dir, path)) = temp_file(name, body) {
        let _ = crate::edge::describe::describe(&path);
    }
}

/// mlgate's TFLite flatbuffer reader alone (tract not involved: much faster per run).
pub fn tflite(data: &[u8]) {
    let _ = crate::edge::tflite::read(data);
}

/// `.npy` arrays and `.npz` archives.
pub fn npy(data: &[u8]) {
    let _ = crate::model::npy::parse_npy(data);
    if let Some((_dir, path)) = temp_file("arrays.npz", data) {
        if let Ok(arrays) = crate::model::npy::read_arrays(&path) {
            for (_, a) in arrays {
                std::hint::black_box(a.data.to_f64());
            }
        }
    }
}

/// The pickle scanner (its VM, the zip and joblib containers around pickles).
pub fn pickle(data: &[u8]) {
    if let Some((_dir, path)) = temp_file("model.pkl", data) {
        let _ = crate::sign::scan(&path, "model.pkl", &crate::sign::ScanOptions::default());
    }
}

/// The bundle reader as a device runs it: integrity check, then every entry extracted to a folder.
pub fn bundle(data: &[u8]) {
    let Some((dir, path)) = temp_file("bundle.tar.gz", data) else {
        return;
    };
    let opts = crate::edge::CheckOptions {
        extract: crate::edge::Extract::Everything(dir.path().join("out")),
        ..Default::default()
    };
    let _ = crate::edge::check_bundle(&path, &opts);
}

const MINISIGN_PUB: &str = include_str!("../tests/fixtures/keys/minisign.pub");
const SIGNED_FILE: &[u8] = include_bytes!("../tests/fixtures/keys/by-minisign.txt");

/// A minisign signature checked against the fixture key and file (`mlgate verify`).
pub fn minisign_sig(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sig) = crate::sign::minisign::MinisignSignature::parse(text) {
        if let Ok(key) = crate::sign::PublicKey::from_text(MINISIGN_PUB, "minisign.pub") {
            let _ = crate::sign::minisign::verify_reader(&key, &sig, SIGNED_FILE);
        }
    }
}

/// Public and secret keys in every form mlgate reads (minisign, PEM, OpenSSH; P-256 PEM for OMS).
pub fn keys(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = crate::sign::PublicKey::from_text(text, "key.pub");
    let _ = crate::sign::KeyPair::from_text(text, "key");
    let _ = crate::sign::ecdsa::EcPublicKey::from_text(text, "key.pub.pem");
    let _ = crate::sign::ecdsa::EcKeyPair::from_text(text, "key.pem");
}

/// A DSSE envelope checked as `mlgate verify --attestation` does (subjects resolved in an empty folder).
pub fn dsse(data: &[u8]) {
    let Some((dir, path)) = temp_file("statement.intoto.jsonl", data) else {
        return;
    };
    let Ok(key) = crate::sign::PublicKey::from_text(MINISIGN_PUB, "minisign.pub") else {
        return;
    };
    let opts = crate::sign::AttestationVerifyOptions {
        envelope: path,
        base_dir: dir.path().to_path_buf(),
        files: vec![],
        commit: None,
    };
    let _ = crate::sign::verify_attestation(&[key], &opts);
}

const OMS_PUB: &str = include_str!("../tests/fixtures/oms/oms.pub.pem");

/// An OpenSSF Model Signing bundle: read unverified, and checked against the fixture key.
pub fn oms(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = crate::sign::oms::read_unverified(text);
    if let Ok(key) = crate::sign::ecdsa::EcPublicKey::from_text(OMS_PUB, "oms.pub.pem") {
        let _ = crate::sign::oms::open_bundle(text, &[key]);
    }
}

/// TUF metadata as the device and the channel read it (tough's schema), then mlgate's custom target metadata
/// and version ordering; the first byte picks the role.
pub fn tuf_meta(data: &[u8]) {
    use tough::schema::{Root, Signed, Snapshot, Targets, Timestamp};
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    match pick % 4 {
        0 => {
            let _ = serde_json::from_slice::<Signed<Root>>(body);
        }
        1 => {
            let _ = serde_json::from_slice::<Signed<Timestamp>>(body);
        }
        2 => {
            let _ = serde_json::from_slice::<Signed<Snapshot>>(body);
        }
        _ => {
            if let Ok(t) = serde_json::from_slice::<Signed<Targets>>(body) {
                let mut versions = vec![];
                for target in t.signed.targets.values() {
                    if let Some(Ok(m)) = crate::channel::TargetMeta::from_custom(&target.custom) {
                        versions.push(m.version);
                    }
                }
                for w in versions.windows(2) {
                    let _ = crate::channel::meta::compare_versions(&w[0], &w[1]);
                }
            }
        }
    }
}

/// The device's files: `state.json`, a release's `release.json` and a bundle's `manifest.json`; and the channel's
/// own config file. The first byte picks which.
pub fn device_state(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    match pick % 4 {
        0 => {
            if let Some((dir, _)) = temp_file(crate::device::state::STATE_FILE, body) {
                let _ = crate::device::State::load(dir.path());
            }
        }
        1 => {
            let _ = serde_json::from_slice::<crate::device::state::Release>(body);
        }
        2 => {
            let _ = serde_json::from_slice::<crate::edge::Manifest>(body);
        }
        _ => {
            if let Some((dir, _)) = temp_file(crate::channel::config::CONFIG_FILE, body) {
                let _ = crate::channel::ChannelConfig::load(dir.path());
            }
        }
    }
}

/// What a DVC-tracked path brings: a `.dvc` pointer, a `dvc.lock`, `.dvc/config` (INI), a folder output's `.dir`
/// manifest, and the whole lookup of a file inside a tracked folder whose pointer is the input (the manifest
/// fetched from a folder remote that holds the input too). The first byte picks which.
pub fn dvc(data: &[u8]) {
    use crate::data::source::dvc;
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(body);
    let name = std::path::Path::new("data.dvc");
    match pick % 5 {
        0 => {
            let _ = dvc::parse_dvc_file(&text, name);
        }
        1 => {
            let _ = dvc::parse_lock(&text, name);
        }
        2 => {
            std::hint::black_box(dvc::parse_ini(&text));
        }
        3 => {
            std::hint::black_box(dvc::file_in_manifest(body, "part/train.csv"));
        }
        _ => dvc_lookup(body),
    }
}

/// A DVC project in a temporary folder: a folder remote, `data.dvc` = the input, then the path `data/part/train.csv`
/// looked up through it; every manifest fetch answers with the input as well.
fn dvc_lookup(body: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let root = dir.path();
    let setup = std::fs::create_dir_all(root.join(".dvc")).and_then(|()| {
        std::fs::write(
            root.join(".dvc/config"),
            "[core]\n    remote = store\n['remote \"store\"']\n    url = ../store\n",
        )?;
        std::fs::write(root.join("data.dvc"), body)
    });
    if setup.is_err() {
        return;
    }
    let fetch = |_: &crate::data::source::dvc::Store,
                 _: &crate::data::source::dvc::RemoteConfig|
     -> Result<Vec<u8>, crate::data::DataError> { Ok(body.to_vec()) };
    let _ = crate::data::source::dvc::locate(&root.join("data/part/train.csv"), &fetch);
}

/// What `mlgate github publish` reads from the untrusted artifact: `report.json` (then rendered as the comment,
/// the summary and the annotations), the context file (validated), and the event payload. The first byte picks.
pub fn publish(data: &[u8]) {
    use crate::github::{ActionsContext, RunContext, Target, CONTEXT_FILE};
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    match pick % 3 {
        0 => {
            let Some((_dir, path)) = temp_file("report.json", body) else {
                return;
            };
            if let Ok(report) = crate::sign::dsse::read_report(&path) {
                std::hint::black_box(crate::report::render_markdown(&report));
                std::hint::black_box(crate::report::render_human(&report));
                std::hint::black_box(crate::report::render_github(&report));
            }
        }
        1 => {
            let Some((dir, _)) = temp_file(CONTEXT_FILE, body) else {
                return;
            };
            if let Ok(saved) = RunContext::read(dir.path()) {
                let _ = Target::for_publish(&saved, &ActionsContext::default());
            }
        }
        _ => {
            if let Ok(payload) = serde_json::from_slice::<serde_json::Value>(body) {
                ActionsContext::default().apply_payload(&payload);
            }
        }
    }
}

/// Structure-aware inputs: shadow structs that `arbitrary` builds from the fuzzer's bytes and that render as the
/// YAML or JSON a user would write, so that runs get past the parser into validation (plain bytes rarely make a
/// well-formed `mlgate.yml` or Table Schema).
pub mod shapes {
    use arbitrary::{Arbitrary, Unstructured};
    use serde_json::{json, Map, Value};

    /// A word from a list the validators know, or now and then any text (names, types, paths, formats...).
    #[derive(Debug)]
    pub struct Word<const LIST: usize>(pub String);

    const WORDS: [&[&str]; 6] = [
        // 0: names
        &[
            "id", "name", "age", "x", "label", "a b", "", "ünï", "people", "wine",
        ],
        // 1: field types
        &[
            "string",
            "number",
            "integer",
            "boolean",
            "date",
            "datetime",
            "time",
            "year",
            "yearmonth",
            "duration",
            "any",
            "geopoint",
        ],
        // 2: paths
        &[
            "people.csv",
            "people.schema.json",
            "data/x.jsonl",
            "model.onnx",
            "../outside.csv",
            "/abs.csv",
            "a.parquet",
            "metrics.json",
            "s.yaml",
            "*.csv",
        ],
        // 3: formats and tasks
        &[
            "csv",
            "tsv",
            "jsonl",
            "parquet",
            "classification",
            "regression",
            "xml",
        ],
        // 4: metrics and gate words
        &[
            "accuracy",
            "f1",
            "roc_auc",
            "rmse",
            "mae",
            "r2",
            "precision",
            "recall",
            "log_loss",
            "higher_is_better",
            "lower_is_better",
            "fail",
            "warn",
            "skip",
        ],
        // 5: drift tests, patterns, dates
        &[
            "ks",
            "chi2",
            "psi",
            "wasserstein",
            "jensenshannon",
            "l_infinity",
            "^[a-z]+$",
            "(a+)+$",
            "2024-01-01",
            "[",
            "\\d{3}",
        ],
    ];

    impl<'a, const LIST: usize> Arbitrary<'a> for Word<LIST> {
        fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
            let list = WORDS[LIST];
            let i = u.int_in_range(0..=list.len())?;
            Ok(Word(match list.get(i) {
                Some(w) => w.to_string(),
                None => String::arbitrary(u)?,
            }))
        }
    }

    /// A number as YAML/JSON would carry it: small integers, fractions, huge and odd values.
    #[derive(Debug, Arbitrary)]
    pub enum Num {
        Int(i8),
        Big(i64),
        Float(f64),
        Text(Word<5>),
    }

    impl Num {
        fn value(&self) -> Value {
            match self {
                Num::Int(i) => json!(i),
                Num::Big(i) => json!(i),
                Num::Float(f) => {
                    serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
                }
                Num::Text(w) => json!(w.0),
            }
        }
    }

    #[derive(Debug, Arbitrary)]
    pub struct Field {
        name: Word<0>,
        kind: Option<Word<1>>,
        format: Option<Word<5>>,
        required: Option<bool>,
        unique: Option<bool>,
        minimum: Option<Num>,
        maximum: Option<Num>,
        min_length: Option<Num>,
        max_length: Option<Num>,
        pattern: Option<Word<5>>,
        enumeration: Option<Vec<Num>>,
        missing: Option<Vec<Word<0>>>,
    }

    #[derive(Debug, Arbitrary)]
    pub struct TableSchema {
        fields: Vec<Field>,
        primary_key: Option<Vec<Word<0>>>,
        missing_values: Option<Vec<Word<0>>>,
        foreign_key: Option<(Word<0>, Word<0>)>,
        extra: Option<(Word<0>, Num)>,
        yaml: bool,
    }

    fn put<T>(m: &mut Map<String, Value>, key: &str, v: &Option<T>, f: impl Fn(&T) -> Value) {
        if let Some(v) = v {
            m.insert(key.into(), f(v));
        }
    }

    impl Field {
        fn value(&self) -> Value {
            let mut m = Map::new();
            m.insert("name".into(), json!(self.name.0));
            put(&mut m, "type", &self.kind, |w| json!(w.0));
            put(&mut m, "format", &self.format, |w| json!(w.0));
            put(&mut m, "missingValues", &self.missing, |v| {
                json!(v.iter().map(|w| &w.0).collect::<Vec<_>>())
            });
            let mut c = Map::new();
            put(&mut c, "required", &self.required, |b| json!(b));
            put(&mut c, "unique", &self.unique, |b| json!(b));
            put(&mut c, "minimum", &self.minimum, Num::value);
            put(&mut c, "maximum", &self.maximum, Num::value);
            put(&mut c, "minLength", &self.min_length, Num::value);
            put(&mut c, "maxLength", &self.max_length, Num::value);
            put(&mut c, "pattern", &self.pattern, |w| json!(w.0));
            put(&mut c, "enum", &self.enumeration, |v| {
                Value::Array(v.iter().map(Num::value).collect())
            });
            if !c.is_empty() {
                m.insert("constraints".into(), Value::Object(c));
            }
            Value::Object(m)
        }
    }

    impl TableSchema {
        /// The schema's text and the file name that tells its syntax.
        pub fn render(&self) -> (String, &'static str) {
            let mut m = Map::new();
            m.insert(
                "fields".into(),
                Value::Array(self.fields.iter().map(Field::value).collect()),
            );
            put(&mut m, "primaryKey", &self.primary_key, |v| {
                json!(v.iter().map(|w| &w.0).collect::<Vec<_>>())
            });
            put(&mut m, "missingValues", &self.missing_values, |v| {
                json!(v.iter().map(|w| &w.0).collect::<Vec<_>>())
            });
            put(
                &mut m,
                "foreignKeys",
                &self.foreign_key,
                |(a, b)| json!([{"fields": a.0, "reference": {"resource": "", "fields": b.0}}]),
            );
            if let Some((k, v)) = &self.extra {
                m.insert(k.0.clone(), v.value());
            }
            render(&Value::Object(m), self.yaml, "schema.yaml", "schema.json")
        }
    }

    /// YAML (block style, as users write it) or JSON.
    fn render(
        v: &Value,
        yaml: bool,
        yaml_name: &'static str,
        json_name: &'static str,
    ) -> (String, &'static str) {
        if yaml {
            if let Ok(text) = serde_saphyr::to_string(v) {
                return (text, yaml_name);
            }
        }
        (
            serde_json::to_string_pretty(v).unwrap_or_default(),
            json_name,
        )
    }

    #[derive(Debug, Arbitrary)]
    pub struct Dataset {
        name: Word<0>,
        path: Word<2>,
        schema: Word<2>,
        format: Option<Word<3>>,
        delimiter: Option<char>,
        header: Option<bool>,
        header_row: Option<Num>,
        encoding: Option<Word<0>>,
        duplicate_rows: Option<bool>,
        drift: Option<Drift>,
    }

    /// A dataset's `drift:`: reference, drift share, and per column a test and a threshold.
    type Drift = (
        Word<2>,
        Option<Num>,
        Vec<(Word<0>, Option<Word<5>>, Option<Num>)>,
    );

    /// A model's `eval:`: data, label, features, batch size.
    type Eval = (Word<2>, Word<0>, Option<Vec<Word<0>>>, Option<Num>);

    #[derive(Debug, Arbitrary)]
    pub struct Gate {
        metric: Word<4>,
        min: Option<Num>,
        max: Option<Num>,
        max_drop: Option<Num>,
        max_relative_drop: Option<Num>,
        direction: Option<Word<4>>,
        missing: Option<Word<4>>,
    }

    #[derive(Debug, Arbitrary)]
    pub struct ModelEntry {
        name: Word<0>,
        path: Option<Word<2>>,
        task: Option<Word<3>>,
        eval: Option<Eval>,
        metrics_file: Option<Word<2>>,
        baseline: Option<(Option<Word<0>>, Option<Word<2>>)>,
        gates: Vec<Gate>,
        require_significance: Option<bool>,
        bootstrap: Option<(Option<Num>, Option<Num>)>,
        class_names: Option<Vec<Word<0>>>,
    }

    #[derive(Debug, Arbitrary)]
    pub struct Config {
        version: Num,
        datasets: Vec<Dataset>,
        artifacts: Vec<Word<2>>,
        models: Vec<ModelEntry>,
        unknown_key: Option<Word<0>>,
        yaml: bool,
    }

    impl Dataset {
        fn value(&self) -> Value {
            let mut m = Map::new();
            m.insert("path".into(), json!(self.path.0));
            m.insert("schema".into(), json!(self.schema.0));
            put(&mut m, "format", &self.format, |w| json!(w.0));
            if self.delimiter.is_some()
                || self.header.is_some()
                || self.header_row.is_some()
                || self.encoding.is_some()
            {
                let mut d = Map::new();
                put(&mut d, "delimiter", &self.delimiter, |c| {
                    json!(c.to_string())
                });
                put(&mut d, "header", &self.header, |b| json!(b));
                put(&mut d, "header_row", &self.header_row, Num::value);
                put(&mut d, "encoding", &self.encoding, |w| json!(w.0));
                m.insert("dialect".into(), Value::Object(d));
            }
            put(&mut m, "duplicate_rows", &self.duplicate_rows, |b| json!(b));
            put(
                &mut m,
                "drift",
                &self.drift,
                |(reference, share, columns)| {
                    let mut d = Map::new();
                    d.insert("reference".into(), json!(reference.0));
                    put(&mut d, "drift_share", share, Num::value);
                    let mut cols = Map::new();
                    for (name, test, threshold) in columns {
                        let mut c = Map::new();
                        put(&mut c, "test", test, |w| json!(w.0));
                        put(&mut c, "threshold", threshold, Num::value);
                        cols.insert(name.0.clone(), Value::Object(c));
                    }
                    if !cols.is_empty() {
                        d.insert("columns".into(), Value::Object(cols));
                    }
                    Value::Object(d)
                },
            );
            Value::Object(m)
        }
    }

    impl ModelEntry {
        fn value(&self) -> Value {
            let mut m = Map::new();
            put(&mut m, "path", &self.path, |w| json!(w.0));
            put(&mut m, "task", &self.task, |w| json!(w.0));
            put(
                &mut m,
                "eval",
                &self.eval,
                |(data, label, features, batch)| {
                    let mut e = Map::new();
                    e.insert("data".into(), json!(data.0));
                    e.insert("label".into(), json!(label.0));
                    put(&mut e, "features", features, |v| {
                        json!(v.iter().map(|w| &w.0).collect::<Vec<_>>())
                    });
                    put(&mut e, "batch_size", batch, Num::value);
                    Value::Object(e)
                },
            );
            put(&mut m, "metrics_file", &self.metrics_file, |w| json!(w.0));
            put(&mut m, "baseline", &self.baseline, |(r, rep)| {
                let mut b = Map::new();
                put(&mut b, "ref", r, |w| json!(w.0));
                put(&mut b, "report", rep, |w| json!(w.0));
                Value::Object(b)
            });
            let mut gates = Map::new();
            for g in &self.gates {
                let mut v = Map::new();
                put(&mut v, "min", &g.min, Num::value);
                put(&mut v, "max", &g.max, Num::value);
                put(&mut v, "max_drop", &g.max_drop, Num::value);
                put(
                    &mut v,
                    "max_relative_drop",
                    &g.max_relative_drop,
                    Num::value,
                );
                put(&mut v, "direction", &g.direction, |w| json!(w.0));
                put(&mut v, "missing", &g.missing, |w| json!(w.0));
                gates.insert(g.metric.0.clone(), Value::Object(v));
            }
            if !gates.is_empty() {
                m.insert("gates".into(), Value::Object(gates));
            }
            put(
                &mut m,
                "require_significance",
                &self.require_significance,
                |b| json!(b),
            );
            put(&mut m, "bootstrap", &self.bootstrap, |(r, s)| {
                let mut b = Map::new();
                put(&mut b, "resamples", r, Num::value);
                put(&mut b, "seed", s, Num::value);
                Value::Object(b)
            });
            put(&mut m, "class_names", &self.class_names, |v| {
                json!(v.iter().map(|w| &w.0).collect::<Vec<_>>())
            });
            Value::Object(m)
        }
    }

    impl Config {
        /// The config's text and the file name that tells its syntax.
        pub fn render(&self) -> (String, &'static str) {
            let mut m = Map::new();
            m.insert("version".into(), self.version.value());
            let ds: Map<String, Value> = self
                .datasets
                .iter()
                .map(|d| (d.name.0.clone(), d.value()))
                .collect();
            if !ds.is_empty() {
                m.insert("datasets".into(), Value::Object(ds));
            }
            if !self.artifacts.is_empty() {
                m.insert(
                    "artifacts".into(),
                    json!(self.artifacts.iter().map(|w| &w.0).collect::<Vec<_>>()),
                );
            }
            let models: Map<String, Value> = self
                .models
                .iter()
                .map(|e| (e.name.0.clone(), e.value()))
                .collect();
            if !models.is_empty() {
                m.insert("models".into(), Value::Object(models));
            }
            if let Some(k) = &self.unknown_key {
                m.insert(k.0.clone(), json!(1));
            }
            // mlgate.yml is YAML; JSON is YAML too, and reaches the same validation through another syntax.
            render(&Value::Object(m), self.yaml, "mlgate.yml", "mlgate.yml")
        }
    }
}

/// A structure-aware Table Schema (YAML or JSON), loaded, then a few rows of text validated against it.
pub fn schema_structured(data: &[u8]) {
    let mut u = arbitrary::Unstructured::new(data);
    let Ok(schema) = <shapes::TableSchema as arbitrary::Arbitrary>::arbitrary(&mut u) else {
        return;
    };
    let (text, name) = schema.render();
    let Ok(schema) = crate::data::Schema::parse(&text, name) else {
        return;
    };
    // The rest of the input as CSV rows under the schema's own header.
    let header: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    let mut csv = header.join(",").into_bytes();
    csv.push(b'\n');
    csv.extend_from_slice(u.take_rest());
    let Some((_dir, path)) = temp_file("data.csv", &csv) else {
        return;
    };
    if let Ok(source) = Source::new(path, Some(Format::Csv), Dialect::default()) {
        let opts = crate::data::ValidateOptions {
            subject: "data".into(),
            max_findings: 10,
            duplicate_rows: true,
            workers: 0,
        };
        let _ = crate::data::validate(&source, Some(&schema), &opts);
    }
}

/// A structure-aware `mlgate.yml`.
pub fn config_structured(data: &[u8]) {
    let mut u = arbitrary::Unstructured::new(data);
    if let Ok(config) = <shapes::Config as arbitrary::Arbitrary>::arbitrary(&mut u) {
        let (text, name) = config.render();
        let _ = crate::config::Config::parse(&text, std::path::Path::new(name));
    }
}

/// Every record as text, the header first (what [`csv_records`] returns).
#[derive(Default)]
struct Collect(Vec<Vec<String>>);

impl RecordSink for Collect {
    fn labels(&mut self, labels: Option<&[String]>) {
        if let Some(l) = labels {
            self.0.push(l.to_vec());
        }
    }
    fn record(&mut self, record: &Record<'_>) {
        self.0
            .push(record.cells.iter().map(|c| c.display()).collect());
    }
}

/// The records mlgate's CSV reader reads from `data` (default dialect: comma, `"`, a header), header first; None
/// when it refuses the file.
pub fn csv_records(data: &[u8]) -> Option<Vec<Vec<String>>> {
    let (_dir, path) = temp_file("data.csv", data)?;
    let source = Source::new(path, Some(Format::Csv), Dialect::default()).ok()?;
    let mut sink = Collect::default();
    reader::read(&source, &mut sink).ok()?;
    Some(sink.0)
}

/// Differential: on input that `reference` (the `csv` crate, passed in by the fuzz target and the corpus test,
/// which have it) reads without error, as UTF-8 without a byte-order mark, with the same number of fields in every
/// record, mlgate must read the same records. Panics on a difference: that is the finding.
pub fn csv_differential(data: &[u8], reference: impl Fn(&[u8]) -> Option<Vec<Vec<String>>>) {
    if std::str::from_utf8(data).is_err() || data.starts_with(b"\xEF\xBB\xBF") {
        return;
    }
    let Some(expected) = reference(data) else {
        return;
    };
    if expected.is_empty() || expected.iter().any(|r| r.len() != expected[0].len()) {
        return;
    }
    let got = csv_records(data);
    assert_eq!(
        got.as_ref(),
        Some(&expected),
        "mlgate's CSV reader and the csv crate differ on {:?}",
        String::from_utf8_lossy(data)
    );
}
