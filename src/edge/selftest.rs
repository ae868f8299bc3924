//! A bundle's self-test: a small golden input and the outputs the bundled model gave on it when the bundle was
//! made (`mlgate bundle --selftest DATA`). A device runs the model on the input again (`mlgate run --selftest`,
//! and `mlgate pull` after each install) and holds the outputs to the expected ones within the manifest's
//! tolerance: a model that computes differently on the device (another tract, another CPU, a corrupted install)
//! is caught before it serves.
//!
//! Both files are ordinary bundle entries (`selftest/input.EXT`, `selftest/expected.json`): listed in SHA256SUMS,
//! signed and attested like the model. The input's extension keeps its format, as `mlgate run --input` reads it.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::manifest::Manifest;
use super::EdgeError;
use crate::model::eval::{plan_for, run_all, OutputRows};
use crate::model::{input, DataSpec, Model};
use crate::report::{Check, Finding, Severity, Status};

/// The folder of the self-test's entries in a bundle.
pub const DIR: &str = "selftest";
/// The expected outputs' entry.
pub const EXPECTED: &str = "selftest/expected.json";
/// The largest self-test input: it is golden data for a smoke test, not a data set, and every device keeps it.
pub const MAX_INPUT_BYTES: u64 = 1 << 20;
/// Default absolute tolerance: float32 outputs of the same model differ by ~1e-6 between CPUs and SIMD kernels.
pub const DEFAULT_ATOL: f64 = 1e-4;
/// Default relative tolerance (of the expected value's magnitude), for outputs far from 1 (regressors).
pub const DEFAULT_RTOL: f64 = 1e-4;
/// Rows per model run: the input is small, one batch is enough.
const BATCH: usize = 256;

/// What the manifest says about the self-test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfTestSpec {
    /// The input's entry (`selftest/input.csv`, `.npy`, ...).
    pub input: String,
    /// The expected outputs' entry ([`EXPECTED`]).
    pub expected: String,
    pub rows: usize,
    /// A float output passes when |got - expected| <= atol + rtol * |expected| for every value (numpy's
    /// `allclose`); integer outputs (class labels) must be equal.
    pub atol: f64,
    pub rtol: f64,
}

/// `selftest/expected.json`: every output of the model on the input, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub outputs: Vec<ExpectedOutput>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedOutput {
    pub name: String,
    /// tract's name of the element type (`F32`, `I64`, ...).
    pub dtype: String,
    /// Values per row.
    pub width: usize,
    pub values: Vec<f64>,
}

/// A self-test ready to be packed: the manifest's part and the two entries' bytes.
#[derive(Debug, Clone)]
pub struct SelfTest {
    pub spec: SelfTestSpec,
    pub input: Vec<u8>,
    pub expected: Expected,
}

impl Expected {
    /// Pretty JSON with a final newline (stable bytes, like the manifest).
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    fn from_outputs(outs: &[OutputRows]) -> Self {
        Expected {
            outputs: outs
                .iter()
                .map(|o| ExpectedOutput {
                    name: o.name.clone(),
                    dtype: format!("{:?}", o.dtype),
                    width: o.width,
                    values: o.data.clone(),
                })
                .collect(),
        }
    }
}

fn bad(path: &Path, message: impl Into<String>, help: &str) -> EdgeError {
    EdgeError::bundle(&path.display().to_string(), message, Some(help))
}

/// Reads DATA and runs `model` on it: the self-test to pack, with the expected outputs the model gives now.
pub fn prepare(model: &Path, data: &Path, atol: f64, rtol: f64) -> Result<SelfTest, EdgeError> {
    if !(atol >= 0.0 && rtol >= 0.0 && atol.is_finite() && rtol.is_finite()) {
        return Err(bad(
            data,
            format!(
                "the self-test tolerance must be a finite number >= 0 (atol {atol}, rtol {rtol})"
            ),
            "e.g. --selftest-tolerance 1e-4",
        ));
    }
    let io = |err| EdgeError::Io {
        path: data.display().to_string(),
        err,
    };
    let size = std::fs::metadata(data).map_err(io)?.len();
    if size > MAX_INPUT_BYTES {
        return Err(bad(
            data,
            format!("the self-test input is {size} bytes, over the limit of {MAX_INPUT_BYTES} bytes (1 MiB)"),
            "a self-test is a few golden rows, not a data set: keep the first rows",
        ));
    }
    let ext = data
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .filter(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .ok_or_else(|| {
            bad(
                data,
                "the self-test input has no file extension, so its format is unknown",
                "name it .csv, .tsv, .jsonl, .parquet, .npy or .npz, as `mlgate run --input` reads it",
            )
        })?;
    let input = std::fs::read(data).map_err(io)?;
    let outs = evaluate(model, data)?;
    if let Some(o) = outs.iter().find(|o| o.data.iter().any(|v| !v.is_finite())) {
        return Err(bad(
            data,
            format!(
                "the model's output {} is not finite (NaN or infinity) on the self-test input",
                o.name
            ),
            "pick an input the model gives finite outputs for",
        ));
    }
    let rows = outs
        .first()
        .map(|o| o.data.len() / o.width.max(1))
        .unwrap_or(0);
    Ok(SelfTest {
        spec: SelfTestSpec {
            input: format!("{DIR}/input.{ext}"),
            expected: EXPECTED.into(),
            rows,
            atol,
            rtol,
        },
        input,
        expected: Expected::from_outputs(&outs),
    })
}

/// Runs the model file on the input file (every column or the one array is a feature, as in `mlgate run`).
pub fn evaluate(model: &Path, data: &Path) -> Result<Vec<OutputRows>, EdgeError> {
    let model = Model::load(model)?;
    let data = input::read(
        &DataSpec {
            path: data.to_path_buf(),
            label: String::new(),
            features: None,
            format: None,
        },
        &model.input.name,
    )?;
    let plan = plan_for(&model, &data, BATCH)?;
    Ok(run_all(&model, &plan, &data, BATCH)?.0)
}

/// The value that was furthest outside (or, when all pass, closest to) its tolerance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Worst {
    pub output: String,
    /// 1-based row of the input.
    pub row: usize,
    /// 0-based position within the row.
    pub column: usize,
    pub expected: f64,
    pub got: f64,
    pub difference: f64,
    pub allowed: f64,
}

/// The comparison of a run with the expected outputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub passed: bool,
    pub values: usize,
    pub atol: f64,
    pub rtol: f64,
    /// Set when the outputs' shapes or names differ (then nothing was compared value by value).
    pub mismatch: Option<String>,
    pub worst: Option<Worst>,
}

/// Holds `got` to `expected` within the spec's tolerance.
pub fn compare(spec: &SelfTestSpec, expected: &Expected, got: &[OutputRows]) -> Outcome {
    let mut out = Outcome {
        passed: true,
        values: 0,
        atol: spec.atol,
        rtol: spec.rtol,
        mismatch: None,
        worst: None,
    };
    // The report's worst value: the furthest over its allowance when something fails, else the largest difference.
    let mut over: Option<(f64, Worst)> = None;
    let mut largest: Option<(f64, Worst)> = None;
    for want in &expected.outputs {
        let Some(have) = got.iter().find(|o| o.name == want.name) else {
            out.passed = false;
            out.mismatch = Some(format!("the model has no output {}", want.name));
            return out;
        };
        if have.width != want.width || have.data.len() != want.values.len() {
            out.passed = false;
            out.mismatch = Some(format!(
                "output {}: {} values ({} per row), expected {} ({} per row)",
                want.name,
                have.data.len(),
                have.width,
                want.values.len(),
                want.width
            ));
            return out;
        }
        let exact = !have.dtype.is_float();
        for (i, (&e, &g)) in want.values.iter().zip(&have.data).enumerate() {
            let difference = (g - e).abs();
            let allowed = if exact {
                0.0
            } else {
                spec.atol + spec.rtol * e.abs()
            };
            // NaN never passes (`difference <= allowed` is false for it) and counts as the worst.
            let within = difference <= allowed;
            let excess = if difference.is_nan() {
                f64::INFINITY
            } else {
                difference - allowed
            };
            out.passed &= within;
            out.values += 1;
            let at = || Worst {
                output: want.name.clone(),
                row: i / want.width.max(1) + 1,
                column: i % want.width.max(1),
                expected: e,
                got: g,
                difference,
                allowed,
            };
            let size = if difference.is_nan() {
                f64::INFINITY
            } else {
                difference
            };
            if over.as_ref().is_none_or(|(x, _)| excess > *x) {
                over = Some((excess, at()));
            }
            if largest.as_ref().is_none_or(|(x, _)| size > *x) {
                largest = Some((size, at()));
            }
        }
    }
    out.worst = if out.passed { largest } else { over }.map(|(_, w)| w);
    out
}

impl Outcome {
    /// One line: pass or fail, and the worst value (which output, where, how far).
    pub fn describe(&self) -> String {
        let verdict = if self.passed { "passed" } else { "failed" };
        if let Some(m) = &self.mismatch {
            return format!("self-test {verdict}: {m}");
        }
        match &self.worst {
            None => format!("self-test {verdict}: the model has no outputs to compare"),
            Some(w) => format!(
                "self-test {verdict}: {} values compared (atol {}, rtol {}); worst difference {} at output {} \
                 row {} column {} (expected {}, got {}, allowed {})",
                self.values,
                self.atol,
                self.rtol,
                short(w.difference),
                w.output,
                w.row,
                w.column,
                w.expected,
                w.got,
                short(w.allowed)
            ),
        }
    }

    /// The self-test as a report check (kind `selftest`).
    pub fn check(&self, subject: &str) -> Check {
        let mut c = Check::new(subject, "selftest");
        c.summary = self.describe();
        c.figures.insert("values".into(), json!(self.values));
        c.figures.insert("atol".into(), json!(self.atol));
        c.figures.insert("rtol".into(), json!(self.rtol));
        if let Some(w) = &self.worst {
            c.figures.insert("worst".into(), json!(w));
        }
        if !self.passed {
            c.status = Status::Fail;
            c.findings.push(Finding::new(
                "selftest-mismatch",
                Severity::Error,
                self.describe(),
            ));
            c.counts.insert("selftest-mismatch".into(), 1);
        }
        c
    }
}

/// A difference in a few digits: `0`, or `1.234e-5`.
fn short(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else {
        format!("{x:.3e}")
    }
}

/// Runs the self-test of a bundle whose files (model and self-test entries) were extracted, checked, under
/// `folder`. None: the bundle has no self-test.
pub fn run_in_folder(folder: &Path, manifest: &Manifest) -> Result<Option<Outcome>, EdgeError> {
    let Some(spec) = &manifest.selftest else {
        return Ok(None);
    };
    let shown = folder.display().to_string();
    let artifact = manifest
        .artifacts
        .iter()
        .find(|a| a.evaluable_by_tract)
        .ok_or_else(|| {
            EdgeError::bundle(
                &shown,
                "the bundle has a self-test but no model tract runs",
                None,
            )
        })?;
    let expected_path = folder.join(&spec.expected);
    let bytes = std::fs::read(&expected_path).map_err(|err| EdgeError::Io {
        path: expected_path.display().to_string(),
        err,
    })?;
    let expected: Expected = serde_json::from_slice(&bytes).map_err(|e| {
        EdgeError::bundle(
            &expected_path.display().to_string(),
            format!("not the expected outputs of a self-test: {e}"),
            None,
        )
    })?;
    let got = evaluate(&folder.join(&artifact.path), &folder.join(&spec.input))?;
    Ok(Some(compare(spec, &expected, &got)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::prelude::DatumType;

    fn spec(atol: f64, rtol: f64) -> SelfTestSpec {
        SelfTestSpec {
            input: "selftest/input.csv".into(),
            expected: EXPECTED.into(),
            rows: 2,
            atol,
            rtol,
        }
    }

    fn rows(name: &str, dtype: DatumType, data: &[f64]) -> OutputRows {
        OutputRows {
            name: name.into(),
            dtype,
            width: 2,
            data: data.to_vec(),
        }
    }

    #[test]
    fn values_within_atol_plus_rtol_pass_and_the_worst_is_named() {
        let got = [rows(
            "probabilities",
            DatumType::F32,
            &[0.1, 0.9, 0.5, 100.0],
        )];
        let want = Expected::from_outputs(&[rows(
            "probabilities",
            DatumType::F32,
            &[0.1, 0.9, 0.5001, 100.005],
        )]);
        let o = compare(&spec(2e-4, 1e-4), &want, &got);
        assert!(o.passed, "{}", o.describe());
        assert_eq!(o.values, 4);
        let o = compare(&spec(1e-5, 0.0), &want, &got);
        assert!(!o.passed);
        let w = o.worst.unwrap();
        assert_eq!(
            (w.output.as_str(), w.row, w.column),
            ("probabilities", 2, 1)
        );
        assert!((w.difference - 0.005).abs() < 1e-9, "{w:?}");
    }

    #[test]
    fn integer_outputs_must_be_equal_and_shapes_must_match() {
        let got = [rows("label", DatumType::I64, &[1.0, 2.0, 3.0, 4.0])];
        let want = Expected::from_outputs(&[rows("label", DatumType::I64, &[1.0, 2.0, 3.0, 5.0])]);
        let o = compare(&spec(10.0, 10.0), &want, &got);
        assert!(!o.passed);
        assert!(
            o.describe().contains("output label row 2 column 1"),
            "{}",
            o.describe()
        );
        let want = Expected::from_outputs(&[rows("other", DatumType::I64, &[1.0, 2.0, 3.0, 4.0])]);
        let o = compare(&spec(0.0, 0.0), &want, &got);
        assert_eq!(
            o.describe(),
            "self-test failed: the model has no output other"
        );
        let short = [rows("label", DatumType::I64, &[1.0, 2.0])];
        let want = Expected::from_outputs(&got);
        let o = compare(&spec(0.0, 0.0), &want, &short);
        assert!(
            o.describe().contains("2 values (2 per row), expected 4"),
            "{}",
            o.describe()
        );
    }

    #[test]
    fn nan_never_passes() {
        let got = [rows("y", DatumType::F32, &[f64::NAN, 0.0, 0.0, 0.0])];
        let want = Expected::from_outputs(&[rows("y", DatumType::F32, &[0.0; 4])]);
        let o = compare(&spec(1.0, 1.0), &want, &got);
        assert!(!o.passed);
        assert!(o.worst.unwrap().difference.is_nan());
    }
}
