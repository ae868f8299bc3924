//! `mlgate init --release`: the release, deploy and channel-refresh workflows, rendered from the `release:` block
//! of `mlgate.yml` (checked by `config::release`). Without that block nothing is written: the error shows a
//! starter block derived from the config's models.

use std::path::Path;

use serde::Serialize;

use crate::config::release::{Release, ReleaseModel};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::templates::sh_word;

pub const RELEASE_WORKFLOW: &str = ".github/workflows/mlgate-release.yml";
pub const DEPLOY_WORKFLOW: &str = ".github/workflows/mlgate-deploy.yml";
pub const REFRESH_WORKFLOW: &str = ".github/workflows/mlgate-channel-refresh.yml";

/// The runner GitHub offers for each target a staging device can be (armv7 has none).
const STAGING_RUNNERS: &[(&str, &str)] = &[
    ("linux-aarch64", "ubuntu-24.04-arm"),
    ("linux-x86_64", "ubuntu-latest"),
];

/// The three workflows (path, text), and notes for the user.
#[derive(Debug, Default)]
pub struct Rendered {
    pub files: Vec<(String, String)>,
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
struct MatrixEntry {
    model: String,
    target: String,
}

#[derive(Debug, Serialize)]
struct BundleEntry {
    name: String,
    /// The model and the options of `mlgate bundle` that come from the config, as shell words.
    args: String,
}

#[derive(Debug, Serialize)]
struct StagingEntry {
    name: String,
    target: String,
}

/// What `render` found: the workflows, or no `release:` block and a starter block for it.
#[derive(Debug)]
pub enum Found {
    Workflows(Rendered),
    NoBlock { starter: String },
}

/// Reads and checks `config` (relative to `root`), then renders the workflows from its `release:` block.
pub fn render(root: &Path, config: &str, version: &str, action: &str) -> Result<Found> {
    let path = root.join(config);
    if !path.exists() {
        return Err(Error::Usage(format!(
            "{}: no config; `mlgate init` writes a starter one, then add its `release:` block and run `mlgate init --release`",
            path.display()
        )));
    }
    let loaded = Config::load(&path)?;
    match &loaded.release {
        Some(release) => render_release(release, config, version, action).map(Found::Workflows),
        None => Ok(Found::NoBlock {
            starter: starter_block(&loaded),
        }),
    }
}

/// The three workflows for a checked `release:` block.
pub fn render_release(
    release: &Release,
    config: &str,
    version: &str,
    action: &str,
) -> Result<Rendered> {
    let mut out = Rendered::default();
    let mut matrix = vec![];
    let mut bundles = vec![];
    for m in &release.models {
        for t in &m.targets {
            matrix.push(MatrixEntry {
                model: m.name.clone(),
                target: t.clone(),
            });
        }
        bundles.push(BundleEntry {
            name: m.name.clone(),
            args: bundle_args(m)?,
        });
    }
    let (staging_runner, staging) = staging(release);
    if staging.is_empty() {
        out.notes.push(
            "no released model has a linux-aarch64 or linux-x86_64 target, which GitHub's runners run: the deploy \
             workflow's staging job installs nothing"
                .into(),
        );
    } else if staging.len() < release.models.len() {
        let left: Vec<&str> = release
            .models
            .iter()
            .filter(|m| !staging.iter().any(|s| s.name == m.name))
            .map(|m| m.name.as_str())
            .collect();
        out.notes.push(format!(
            "staging runs on {staging_runner}; {} {} no bundle for it and {} promoted without a staging pull",
            left.join(", "),
            if left.len() == 1 { "has" } else { "have" },
            if left.len() == 1 { "is" } else { "are" },
        ));
    }
    let beta_url = format!("{}beta/", release.channel_url);
    let names: Vec<String> = release.models.iter().map(|m| m.name.clone()).collect();
    let ctx = minijinja::context! {
        mlgate_version => version,
        action => action,
        config => config,
        names => names,
        matrix => minijinja::Value::from(minijinja::value::Serde(&matrix)),
        bundles => minijinja::Value::from(minijinja::value::Serde(&bundles)),
        staging => minijinja::Value::from(minijinja::value::Serde(&staging)),
        staging_runner => staging_runner,
        beta_url => beta_url,
        root_sh => sh_word(&release.root),
        pubkey_sh => sh_word(&release.pubkey),
        branch => release.branch.clone(),
        pages => release.pages,
        github_release => release.github_release,
        attest => release.attest,
        health_cmd => release.health_cmd.clone(),
        signing_key => release.signing_key.clone(),
        channel_key => release.channel_key.clone(),
        stable_channel_key => release.stable_channel_key.clone(),
    };
    for (path, template) in [
        (RELEASE_WORKFLOW, "workflow-release.yml.j2"),
        (DEPLOY_WORKFLOW, "workflow-deploy.yml.j2"),
        (REFRESH_WORKFLOW, "workflow-refresh.yml.j2"),
    ] {
        let text = crate::templates::render(template, ctx.clone(), |_| {})
            .map_err(|e| Error::Usage(format!("bug: {e}")))?;
        out.files.push((path.to_string(), text));
    }
    Ok(out)
}

/// The runner of the staging job and the models it pulls: those with a linux-aarch64 bundle on GitHub's ARM
/// runner, else those with a linux-x86_64 bundle.
fn staging(release: &Release) -> (&'static str, Vec<StagingEntry>) {
    for (target, runner) in STAGING_RUNNERS {
        let models: Vec<StagingEntry> = release
            .models
            .iter()
            .filter(|m| m.targets.iter().any(|t| t == target))
            .map(|m| StagingEntry {
                name: m.name.clone(),
                target: target.to_string(),
            })
            .collect();
        if !models.is_empty() {
            return (runner, models);
        }
    }
    (STAGING_RUNNERS[0].1, vec![])
}

/// `MODEL --name NAME [--labels ...] [--preprocessing F] [--selftest F] [--quantize MODE --data ...]`, each word
/// quoted for the shell. A value with a control character is refused: it would break the workflow's YAML.
fn bundle_args(m: &ReleaseModel) -> Result<String> {
    let mut words: Vec<String> = vec![m.path.clone(), "--name".into(), m.name.clone()];
    if !m.labels.is_empty() {
        words.push("--labels".into());
        words.push(m.labels.join(","));
    }
    for (flag, v) in [
        ("--preprocessing", &m.preprocessing),
        ("--selftest", &m.selftest),
    ] {
        if let Some(v) = v {
            words.push(flag.into());
            words.push(v.clone());
        }
    }
    if let Some(q) = &m.quantize {
        words.extend([
            "--quantize".into(),
            q.mode.flag().into(),
            "--data".into(),
            q.data.clone(),
            "--label".into(),
            q.label.clone(),
        ]);
        if let Some(f) = &q.features {
            words.push("--features".into());
            words.push(f.join(","));
        }
        if let Some(c) = &q.class_names {
            words.push("--class-names".into());
            words.push(c.join(","));
        }
        if let Some(metric) = &q.metric {
            words.push("--metric".into());
            words.push(metric.clone());
        }
        if let Some(d) = q.max_drop {
            words.push("--max-drop".into());
            words.push(d.to_string());
        }
        if let Some(c) = &q.calibration {
            words.push("--calibration".into());
            words.push(c.clone());
        }
    }
    if let Some(bad) = words.iter().find(|w| w.chars().any(char::is_control)) {
        return Err(Error::Usage(format!(
            "release: model {:?}: {bad:?} holds a control character (a line break?), which a workflow cannot carry",
            m.name
        )));
    }
    Ok(words
        .iter()
        .map(|w| sh_word(w))
        .collect::<Vec<_>>()
        .join(" "))
}

/// A `release:` block for the config's models that have a file, as YAML text to paste.
pub fn starter_block(config: &Config) -> String {
    let mut s = String::from("release:\n  models:\n");
    let with_path: Vec<_> = config.models.iter().filter(|m| m.path.is_some()).collect();
    if with_path.is_empty() {
        s.push_str("    - model: NAME               # a model under `models:` with its `path`\n");
        s.push_str("      targets: [linux-aarch64, linux-x86_64]\n");
    }
    for m in with_path {
        s.push_str(&format!("    - model: {}\n", m.name));
        s.push_str("      targets: [linux-aarch64, linux-x86_64]\n");
        if let Some(names) = &m.class_names {
            s.push_str(&format!("      labels: [{}]\n", names.join(", ")));
        }
        s.push_str("      # quantize: {mode: dynamic-int8, max_drop: 0.01}   # gated on the model's eval data\n");
        s.push_str("      # selftest: data/selftest.csv                      # a few rows of features, no label\n");
    }
    s.push_str(
        "  pubkey: mlgate.pub                      # the bundles' public key (`mlgate keygen`)\n  \
         channel:\n    \
         url: https://OWNER.github.io/REPO/      # where GitHub Pages serves the channel branch\n    \
         root: channels/beta.root.json         # the beta channel's root.json, committed\n  \
         secrets: {signing_key: MLGATE_SIGNING_KEY, channel_key: MLGATE_CHANNEL_KEY, stable_channel_key: MLGATE_STABLE_CHANNEL_KEY}\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::release::ReleaseQuantize;
    use crate::config::release::ReleaseQuantizeMode;

    fn release() -> Release {
        Release {
            models: vec![ReleaseModel {
                name: "wine".into(),
                path: "models/my wine.onnx".into(),
                targets: vec!["linux-armv7".into(), "linux-x86_64".into()],
                quantize: Some(ReleaseQuantize {
                    mode: ReleaseQuantizeMode::Fp16,
                    data: "data/test.csv".into(),
                    label: "target".into(),
                    features: Some(vec!["a".into(), "b".into()]),
                    class_names: None,
                    metric: None,
                    max_drop: Some(0.02),
                    calibration: None,
                }),
                labels: vec!["x".into(), "y's".into()],
                preprocessing: None,
                selftest: Some("data/golden.csv".into()),
            }],
            pubkey: "mlgate.pub".into(),
            channel_url: "https://o.github.io/r/".into(),
            branch: "mlgate-channel".into(),
            root: "channels/beta.root.json".into(),
            pages: false,
            github_release: false,
            attest: false,
            health_cmd: None,
            signing_key: "SIGN".into(),
            channel_key: "BETA".into(),
            stable_channel_key: "STABLE".into(),
        }
    }

    #[test]
    fn options_off_leave_their_steps_out_and_values_are_quoted() {
        let r = render_release(&release(), "mlgate.yml", "mlgate 0", "mlgate/mlgate@v0").unwrap();
        let all: String = r.files.iter().map(|(_, t)| t.as_str()).collect();
        for absent in [
            "deploy-pages",
            "actions/attest@",
            "--github",
            "id-token",
            "health-cmd",
        ] {
            assert!(!all.contains(absent), "{absent}");
        }
        let (_, wf) = &r.files[0];
        assert!(
            wf.contains("mlgate bundle 'models/my wine.onnx' --name wine --labels 'x,y'\\''s' --selftest data/golden.csv --quantize fp16 --data data/test.csv --label target --features a,b --max-drop 0.02"),
            "{wf}"
        );
        assert!(wf.contains("SIGN: ${{ secrets.SIGN }}"), "{wf}");
        // No linux-aarch64 bundle: staging runs on x86-64 GitHub runners.
        let (_, deploy) = &r.files[1];
        assert!(deploy.contains("runs-on: ubuntu-latest\n"), "{deploy}");
        assert!(
            deploy.contains("--target linux-x86_64 --model wine"),
            "{deploy}"
        );
        assert!(r.notes.is_empty(), "{:?}", r.notes);
    }

    #[test]
    fn a_control_character_in_a_value_is_refused() {
        let mut r = release();
        r.models[0].labels = vec!["a\nb".into()];
        let e = render_release(&r, "mlgate.yml", "mlgate 0", "mlgate/mlgate@v0").unwrap_err();
        assert!(e.to_string().contains("control character"), "{e}");
    }

    #[test]
    fn armv7_only_models_are_not_staged_and_init_says_so() {
        let mut r = release();
        r.models[0].targets = vec!["linux-armv7".into()];
        let out = render_release(&r, "mlgate.yml", "mlgate 0", "mlgate/mlgate@v0").unwrap();
        assert!(out.notes[0].contains("installs nothing"), "{:?}", out.notes);
    }
}
