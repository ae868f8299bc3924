use crate::cli::DriftArgs;
use crate::data::drift::{self, ColumnOptions, DriftOptions, Test};
use crate::data::Schema;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::report::Report;

/// `COLUMN=TEST[:THRESHOLD]`.
fn parse_test(s: &str) -> Result<(String, ColumnOptions)> {
    let usage = || {
        Error::Usage(format!(
            "--test {s:?}: expected COLUMN=TEST[:THRESHOLD], e.g. age=psi:0.2 (tests: ks, chisquare, z, wasserstein, jensenshannon, psi, kl_div, l_infinity)"
        ))
    };
    let (col, rest) = s.rsplit_once('=').ok_or_else(usage)?;
    let (name, threshold) = match rest.split_once(':') {
        Some((n, t)) => {
            let t: f64 = t.parse().map_err(|_| usage())?;
            if !t.is_finite() || t < 0.0 {
                return Err(usage());
            }
            (n, Some(t))
        }
        None => (rest, None),
    };
    let test: Test =
        serde_json::from_value(serde_json::Value::String(name.to_string())).map_err(|_| usage())?;
    Ok((
        col.to_string(),
        ColumnOptions {
            test: Some(test),
            threshold,
        },
    ))
}

pub fn run(a: DriftArgs) -> Result<Exit> {
    if !(a.drift_share > 0.0 && a.drift_share <= 1.0) {
        return Err(Error::Usage(format!(
            "--drift-share must be in (0, 1], not {}",
            a.drift_share
        )));
    }
    let schema = a.schema.as_deref().map(Schema::load).transpose()?;
    let reference = super::source(&a.reference, &a.dialect)?;
    let current = super::source(&a.current, &a.dialect)?;
    let subject = current
        .naming_path()
        .file_name()
        .and_then(|s| s.to_str())
        .map(|s| s.split('.').next().unwrap_or(s).to_string())
        .unwrap_or_else(|| "data".into());
    let mut opts = DriftOptions::new(subject);
    opts.drift_share = a.drift_share;
    opts.exclude = a.exclude.clone();
    for t in &a.tests {
        let (col, o) = parse_test(t)?;
        opts.columns.insert(col, o);
    }
    let check = drift::drift(&reference, &current, schema.as_ref(), &opts)?;
    super::emit(&Report::new(vec![check]), a.output.format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_flags_parse() {
        let (c, o) = parse_test("age=psi:0.2").unwrap();
        assert_eq!(c, "age");
        assert_eq!(o.test, Some(Test::Psi));
        assert_eq!(o.threshold, Some(0.2));
        assert!(parse_test("age=anova").is_err());
        assert!(parse_test("age").is_err());
        assert!(parse_test("age=ks:-1").is_err());
    }
}
