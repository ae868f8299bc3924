//! The `release:` block of `mlgate.yml`: what `mlgate init --release` turns into the release, channel-refresh and
//! deploy workflows. Which models ship to which device targets, how each is quantized, labelled, preprocessed and
//! self-tested in its bundle, where the channel lives, and the names of the secrets the workflows read. Only
//! parses and checks; the workflows are rendered by `init::release`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{locate_after, ModelConfig};

/// The release pipeline, as written.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ReleaseConfig {
    /// The models to release, each a name under `models:`, with its device targets.
    pub models: Vec<ReleaseModelConfig>,
    /// The bundles' public key (committed), pinned by the channels and by the staging device.
    pub pubkey: String,
    /// Where the channel's metadata is kept and served.
    pub channel: ReleaseChannelConfig,
    /// Host the bundles as GitHub Release assets of the tag (`mlgate publish --github`); false copies them into
    /// the channel folder (default true).
    #[serde(default)]
    pub github_release: Option<bool>,
    /// GitHub artifact attestations of the bundles (`actions/attest`); public repositories and
    /// plans that offer them (default true).
    #[serde(default)]
    pub attest: Option<bool>,
    /// A command the staging device runs after each install (`mlgate pull --health-cmd`), besides the
    /// bundle's self-test.
    #[serde(default)]
    pub health_cmd: Option<String>,
    /// The names of the repository secrets the workflows read (each passed to mlgate as `env:NAME`).
    #[serde(default)]
    pub secrets: ReleaseSecretsConfig,
}

/// One model to release.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ReleaseModelConfig {
    /// A name under `models:` (its `path` is the model bundled).
    pub model: String,
    /// The bundle's name (default: the model's name); a tag `NAME@vX.Y.Z` releases this model alone.
    #[serde(default)]
    pub name: Option<String>,
    /// Device targets: linux-x86_64, linux-aarch64, linux-armv7.
    pub targets: Vec<String>,
    /// Quantize before bundling (`mlgate bundle --quantize`), gated on the model's `eval` data.
    #[serde(default)]
    pub quantize: Option<ReleaseQuantizeConfig>,
    /// Class names in the order of the model's outputs (`mlgate bundle --labels`).
    #[serde(default)]
    pub labels: Vec<String>,
    /// A JSON file describing the input preprocessing (`mlgate bundle --preprocessing`).
    #[serde(default)]
    pub preprocessing: Option<String>,
    /// A small input packed as the bundle's self-test (`mlgate bundle --selftest`), checked on every install.
    #[serde(default)]
    pub selftest: Option<String>,
}

/// A quantization mode, as `mlgate bundle --quantize` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseQuantizeMode {
    DynamicInt8,
    StaticInt8,
    Fp16,
    Auto,
}

impl ReleaseQuantizeMode {
    pub fn flag(self) -> &'static str {
        match self {
            Self::DynamicInt8 => "dynamic-int8",
            Self::StaticInt8 => "static-int8",
            Self::Fp16 => "fp16",
            Self::Auto => "auto",
        }
    }
}

/// Quantization under the accuracy gate (`mlgate bundle --quantize MODE --data --label ...`); the data, label
/// and features are the model's `eval`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ReleaseQuantizeConfig {
    /// dynamic-int8, static-int8, fp16 or auto.
    pub mode: ReleaseQuantizeMode,
    /// The gated metric (default: accuracy for classifiers, r2 for regressors).
    #[serde(default)]
    pub metric: Option<String>,
    /// The largest allowed drop of the metric (default 0.01 for accuracy-like metrics).
    #[serde(default)]
    pub max_drop: Option<f64>,
    /// Calibration data for static-int8 (default: the eval data).
    #[serde(default)]
    pub calibration: Option<String>,
}

/// The channel: TUF metadata kept on a git branch (folders `beta/` and `stable/`) and served by GitHub Pages.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ReleaseChannelConfig {
    /// Where the branch is served, ending in `/` (e.g. https://OWNER.github.io/REPO/): devices pull
    /// URL + `beta/` or URL + `stable/`.
    pub url: String,
    /// The branch holding `beta/` and `stable/` (made with `mlgate channel init`; default mlgate-channel).
    #[serde(default)]
    pub branch: Option<String>,
    /// The beta channel's root.json, committed: the staging device's pinned root.
    pub root: String,
    /// Deploy the branch to GitHub Pages after each change (`actions/deploy-pages`; default true).
    #[serde(default)]
    pub pages: Option<bool>,
}

/// Names of repository secrets (valid environment variable names).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ReleaseSecretsConfig {
    /// The bundle signing key (default MLGATE_SIGNING_KEY).
    #[serde(default)]
    pub signing_key: Option<String>,
    /// The beta channel's targets, snapshot and timestamp keys (default MLGATE_CHANNEL_KEY).
    #[serde(default)]
    pub channel_key: Option<String>,
    /// The stable channel's keys, used on promotion (default MLGATE_STABLE_CHANNEL_KEY).
    #[serde(default)]
    pub stable_channel_key: Option<String>,
}

/// A checked `release:` block: defaults filled in, names resolved. Paths stay as written (relative to the
/// config's folder): the workflows run in the repository.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    pub models: Vec<ReleaseModel>,
    pub pubkey: String,
    pub channel_url: String,
    pub branch: String,
    pub root: String,
    pub pages: bool,
    pub github_release: bool,
    pub attest: bool,
    pub health_cmd: Option<String>,
    pub signing_key: String,
    pub channel_key: String,
    pub stable_channel_key: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseModel {
    /// The bundle's name.
    pub name: String,
    /// The model file, as written under `models:`.
    pub path: String,
    pub targets: Vec<String>,
    pub quantize: Option<ReleaseQuantize>,
    pub labels: Vec<String>,
    pub preprocessing: Option<String>,
    pub selftest: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseQuantize {
    pub mode: ReleaseQuantizeMode,
    pub data: String,
    pub label: String,
    pub features: Option<Vec<String>>,
    pub class_names: Option<Vec<String>>,
    pub metric: Option<String>,
    pub max_drop: Option<f64>,
    pub calibration: Option<String>,
}

/// A problem in the block: the text to find (after `release:`) for the line, the message and a help line.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseProblem {
    pub near: String,
    pub message: String,
    pub help: String,
}

fn problem(near: &str, message: String, help: &str) -> ReleaseProblem {
    ReleaseProblem {
        near: near.to_string(),
        message,
        help: help.to_string(),
    }
}

/// GitHub's rule for secret names, which are the environment variables the workflows set: letters, digits and
/// `_`, not starting with a digit, and not `GITHUB_`.
pub fn valid_secret_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.to_ascii_uppercase().starts_with("GITHUB_")
}

/// A bundle name or git branch: what a tag, a file name and a shell word can all hold as they are.
fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(['-', '.'])
        && !s.contains("..")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
}

/// Checks the block against `models:`; `Err` names the first problem.
pub fn check(
    raw: ReleaseConfig,
    models: &IndexMap<String, ModelConfig>,
) -> Result<Release, ReleaseProblem> {
    if raw.models.is_empty() {
        return Err(problem(
            "models",
            "`release.models` is empty".into(),
            "list the models to release: `- {model: NAME, targets: [linux-aarch64]}`",
        ));
    }
    let mut out = vec![];
    for m in raw.models {
        let checked = check_model(m, models)?;
        if out.iter().any(|o: &ReleaseModel| o.name == checked.name) {
            return Err(problem(
                &checked.name,
                format!("release: bundle name {:?} is listed twice", checked.name),
                "each released model has its own bundle name (`name:`)",
            ));
        }
        out.push(checked);
    }
    let url = raw.channel.url.trim().to_string();
    if !(url.starts_with("https://") || url.starts_with("http://")) || !url.ends_with('/') {
        return Err(problem(
            "url",
            format!("release.channel.url {url:?} must be an http(s) URL ending in `/`"),
            "where GitHub Pages serves the channel branch, e.g. https://OWNER.github.io/REPO/",
        ));
    }
    let branch = raw
        .channel
        .branch
        .unwrap_or_else(|| "mlgate-channel".into());
    if !plain_name(&branch) {
        return Err(problem(
            "branch",
            format!("release.channel.branch {branch:?} is not a plain branch name"),
            "letters, digits, `_`, `-`, `.` and `/`",
        ));
    }
    if raw.pubkey.trim().is_empty() || raw.channel.root.trim().is_empty() {
        return Err(problem(
            "pubkey",
            "release: `pubkey` and `channel.root` must name files".into(),
            "the bundles' public key and the beta channel's root.json, both committed",
        ));
    }
    let s = raw.secrets;
    let mut secrets = vec![];
    for (key, given, default) in [
        ("signing_key", s.signing_key, "MLGATE_SIGNING_KEY"),
        ("channel_key", s.channel_key, "MLGATE_CHANNEL_KEY"),
        (
            "stable_channel_key",
            s.stable_channel_key,
            "MLGATE_STABLE_CHANNEL_KEY",
        ),
    ] {
        let name = given.unwrap_or_else(|| default.into());
        if !valid_secret_name(&name) {
            return Err(problem(
                key,
                format!("release.secrets.{key}: {name:?} is not a valid secret name"),
                "GitHub secret names (the environment variables the workflows set) are letters, digits and `_`, \
                 do not start with a digit, and do not start with GITHUB_",
            ));
        }
        secrets.push(name);
    }
    let [signing_key, channel_key, stable_channel_key] = <[String; 3]>::try_from(secrets)
        .map_err(|_| problem("secrets", "bug: three secrets".into(), ""))?;
    Ok(Release {
        models: out,
        pubkey: raw.pubkey,
        channel_url: url,
        branch,
        root: raw.channel.root,
        pages: raw.channel.pages.unwrap_or(true),
        github_release: raw.github_release.unwrap_or(true),
        attest: raw.attest.unwrap_or(true),
        health_cmd: raw.health_cmd.filter(|c| !c.trim().is_empty()),
        signing_key,
        channel_key,
        stable_channel_key,
    })
}

fn check_model(
    m: ReleaseModelConfig,
    models: &IndexMap<String, ModelConfig>,
) -> Result<ReleaseModel, ReleaseProblem> {
    let key = m.model.as_str();
    let Some(entry) = models.get(key) else {
        let known: Vec<&str> = models.keys().map(String::as_str).collect();
        return Err(problem(
            key,
            format!("release: model {key:?} is not under `models:`"),
            &if known.is_empty() {
                "add it under `models:` with its `path` and `eval`".to_string()
            } else {
                format!("the models are: {}", known.join(", "))
            },
        ));
    };
    let Some(path) = entry.path.clone() else {
        return Err(problem(
            key,
            format!("release: model {key:?} has no `path` under `models:` (a file to bundle)"),
            "a released model needs its ONNX or TFLite file",
        ));
    };
    let name = m.name.unwrap_or_else(|| key.to_string());
    if !plain_name(&name) || name.contains('/') || name.contains('@') {
        return Err(problem(
            &name,
            format!("release: bundle name {name:?} must be letters, digits, `_`, `-` and `.`"),
            "it names the bundle file and the `NAME@vX.Y.Z` tag",
        ));
    }
    if m.targets.is_empty() {
        return Err(problem(
            "targets",
            format!("release: model {key:?} has no `targets`"),
            "e.g. `targets: [linux-aarch64, linux-x86_64]`",
        ));
    }
    for t in &m.targets {
        if let Err(e) = crate::edge::Target::named(t) {
            return Err(problem(
                t,
                format!("release: model {key:?}: {e}"),
                "`targets` lists device profiles (`mlgate bundle --target`)",
            ));
        }
    }
    let quantize = match m.quantize {
        None => None,
        Some(q) => Some(check_quantize(key, &path, entry, q)?),
    };
    Ok(ReleaseModel {
        name,
        path,
        targets: m.targets,
        quantize,
        labels: m.labels,
        preprocessing: m.preprocessing,
        selftest: m.selftest,
    })
}

fn check_quantize(
    key: &str,
    path: &str,
    entry: &ModelConfig,
    q: ReleaseQuantizeConfig,
) -> Result<ReleaseQuantize, ReleaseProblem> {
    if !path.to_ascii_lowercase().ends_with(".onnx") {
        return Err(problem(
            "quantize",
            format!("release: model {key:?}: `quantize` takes an ONNX model, not {path:?}"),
            "mlgate quantizes ONNX models; bundle a TFLite model as it is",
        ));
    }
    let Some(eval) = &entry.eval else {
        return Err(problem(
            "quantize",
            format!("release: model {key:?}: `quantize` needs the model's `eval` (its data and label column)"),
            "the quantized model is gated on the same held-out data as the model",
        ));
    };
    if let Some(d) = q.max_drop {
        if !d.is_finite() || d < 0.0 {
            return Err(problem(
                "max_drop",
                format!(
                    "release: model {key:?}: `quantize.max_drop` must be a number ≥ 0, not {d}"
                ),
                "0.01 allows one point of accuracy",
            ));
        }
    }
    Ok(ReleaseQuantize {
        mode: q.mode,
        data: eval.data.clone(),
        label: eval.label.clone(),
        features: eval.features.clone(),
        class_names: entry.class_names.clone(),
        metric: q.metric,
        max_drop: q.max_drop,
        calibration: q.calibration,
    })
}

/// Every path the block names, with its key, for the repository confinement check.
pub fn paths(raw: &ReleaseConfig) -> Vec<(String, String)> {
    let mut p = vec![
        ("release.pubkey".to_string(), raw.pubkey.clone()),
        ("release.channel.root".to_string(), raw.channel.root.clone()),
    ];
    for (i, m) in raw.models.iter().enumerate() {
        let fields = [
            ("preprocessing", &m.preprocessing),
            ("selftest", &m.selftest),
            (
                "quantize.calibration",
                &m.quantize.as_ref().and_then(|q| q.calibration.clone()),
            ),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                p.push((format!("release.models[{i}].{k}"), v.clone()));
            }
        }
    }
    p
}

/// Where a problem is: the first `near` after the `release:` key (else anywhere).
pub fn position(text: &str, p: &ReleaseProblem) -> (u64, u64) {
    locate_after(text, "release:", &p.near)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    const MODELS: &str = "version: 1\nmodels:\n  wine:\n    path: models/wine.onnx\n    eval: {data: data/test.csv, label: target}\n  remote:\n    metrics_file: m.json\n";
    const RELEASE: &str = "release:\n  models:\n    - model: wine\n      targets: [linux-aarch64]\n  pubkey: mlgate.pub\n  channel:\n    url: https://o.github.io/r/\n    root: channels/beta.root.json\n";

    fn parse(release: &str) -> Result<Release, String> {
        Config::parse(&format!("{MODELS}{release}"), Path::new("mlgate.yml"))
            .map(|c| c.release.unwrap())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_minimal_block_gets_its_defaults() {
        let r = parse(RELEASE).unwrap();
        assert_eq!(r.models[0].name, "wine");
        assert_eq!(r.models[0].path, "models/wine.onnx");
        assert_eq!(r.branch, "mlgate-channel");
        assert!(r.pages && r.github_release && r.attest);
        assert_eq!(
            (
                r.signing_key.as_str(),
                r.channel_key.as_str(),
                r.stable_channel_key.as_str()
            ),
            (
                "MLGATE_SIGNING_KEY",
                "MLGATE_CHANNEL_KEY",
                "MLGATE_STABLE_CHANNEL_KEY"
            )
        );
        let q = parse(&RELEASE.replace(
            "      targets: [linux-aarch64]\n",
            "      targets: [linux-aarch64]\n      quantize: {mode: static-int8, max_drop: 0.02}\n",
        ))
        .unwrap();
        let q = q.models[0].quantize.as_ref().unwrap();
        assert_eq!(
            (q.mode, q.data.as_str(), q.label.as_str()),
            (ReleaseQuantizeMode::StaticInt8, "data/test.csv", "target")
        );
    }

    #[test]
    fn each_mistake_is_named_at_its_line() {
        let cases = [
            // (replace, with, line, message)
            (
                "      targets: [linux-aarch64]\n",
                "      targets: [linux-aarch64]\n      lables: [a]\n",
                12,
                "lables",
            ),
            (
                "model: wine",
                "model: whine",
                10,
                "model \"whine\" is not under `models:`",
            ),
            ("model: wine", "model: remote", 10, "has no `path`"),
            (
                "[linux-aarch64]",
                "[linux-arm64]",
                11,
                "unknown target \"linux-arm64\"",
            ),
            ("[linux-aarch64]", "[]", 11, "has no `targets`"),
            (
                "https://o.github.io/r/",
                "ftp://o/r",
                14,
                "must be an http(s) URL",
            ),
            (
                "  channel:",
                "  secrets: {signing_key: MY-KEY}\n  channel:",
                13,
                "\"MY-KEY\" is not a valid secret name",
            ),
            (
                "  channel:",
                "  secrets: {channel_key: GITHUB_TOKEN}\n  channel:",
                13,
                "not a valid secret name",
            ),
            (
                "      targets: [linux-aarch64]\n",
                "      targets: [linux-aarch64]\n      quantize: {mode: int4}\n",
                12,
                "int4",
            ),
            (
                "    - model: wine\n",
                "    - model: wine\n      name: a/b\n",
                11,
                "bundle name \"a/b\"",
            ),
        ];
        for (from, to, line, msg) in cases {
            let block = RELEASE.replace(from, to);
            assert_ne!(block, RELEASE, "{from}");
            let e = parse(&block).unwrap_err();
            assert!(e.starts_with(&format!("mlgate.yml:{line}:")), "{to}: {e}");
            assert!(e.contains(msg), "{to}: {e}");
        }
        let e = parse(&RELEASE.replace(
            "  pubkey:",
            "    - model: wine\n      targets: [linux-x86_64]\n  pubkey:",
        ))
        .unwrap_err();
        assert!(e.contains("listed twice"), "{e}");
        let two = MODELS.replace(
            "  remote:\n    metrics_file: m.json\n",
            "  tfl:\n    path: m.tflite\n    eval: {data: t.csv, label: y}\n",
        );
        let e = Config::parse(
            &format!(
                "{two}{}",
                RELEASE.replace(
                    "model: wine\n      targets: [linux-aarch64]\n",
                    "model: tfl\n      targets: [linux-aarch64]\n      quantize: {mode: fp16}\n"
                )
            ),
            Path::new("mlgate.yml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`quantize` takes an ONNX model"), "{e}");
    }

    #[test]
    fn secret_names_are_environment_variable_names() {
        assert!(valid_secret_name("MLGATE_SIGNING_KEY"));
        assert!(valid_secret_name("_K2"));
        for bad in [
            "",
            "2KEY",
            "MY-KEY",
            "GITHUB_TOKEN",
            "github_x",
            "A B",
            "K$",
        ] {
            assert!(!valid_secret_name(bad), "{bad}");
        }
    }
}
