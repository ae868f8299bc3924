//! The end of a run: pending foreign keys, severities and tolerances decided on exact counts, the `schema`
//! check, and the `table` check of the extension block.

use super::*;

impl Validator<'_> {
    pub(super) fn finish(mut self, stats: ReadStats, seconds: f64) -> Validation {
        // Foreign keys whose value never appeared among the referenced values.
        for k in 0..self.fk_pending.len() {
            let pending = std::mem::take(&mut self.fk_pending[k]);
            let (fields, reference) = {
                let fk = &self.schema().foreign_keys[k];
                (fk.fields.clone(), fk.reference.clone())
            };
            let own: Vec<&str> = fields
                .iter()
                .map(|&i| self.schema().fields[i].name.as_str())
                .collect();
            let refs: Vec<&str> = reference
                .iter()
                .map(|&i| self.schema().fields[i].name.as_str())
                .collect();
            let (own, refs) = (own.join(", "), refs.join(", "));
            for (fp, row, line, value) in pending {
                if !self.fk_refs[k].contains(&fp) {
                    let mut f = self.finding(
                        "foreign-key",
                        format!("{own} = {value:?} is not among the values of {refs}"),
                    );
                    let (file, row) = self.split_row(row);
                    f.file = Some(file.to_string());
                    f.row = Some(row);
                    f.line = line;
                    f.value = Some(value);
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                }
            }
        }
        let schema = self.schema().clone();
        let ext = &schema.extension;
        let default_sev: Severity = ext.severity.map(Into::into).unwrap_or(Severity::Error);
        let field_ext = |fi: usize| schema.fields.get(fi).and_then(|f| ext.fields.get(&f.name));
        // Severity per (field, constraint), with `mostly` tolerances decided on exact counts.
        let mut tolerated: Vec<String> = vec![];
        let mut severity_of: HashMap<(usize, usize), Severity> = HashMap::new();
        for (&(fi, ci), &n) in &self.tally {
            let fe = field_ext(fi);
            let ce = fe
                .zip(TOLERABLE.get(ci))
                .and_then(|(fe, name)| fe.constraints.get(*name));
            let mut sev = ce
                .and_then(|c| c.severity)
                .or(fe.and_then(|f| f.severity))
                .map(Into::into)
                .unwrap_or(default_sev);
            if let Some(mostly) = ce.and_then(|c| c.mostly) {
                let st = &self.stats[fi];
                let denominator = if ci == C_REQUIRED {
                    self.data_rows
                } else {
                    st.values + n
                };
                let pass_share = if denominator == 0 {
                    1.0
                } else {
                    1.0 - n as f64 / denominator as f64
                };
                if pass_share >= mostly {
                    sev = Severity::Warning;
                    tolerated.push(format!(
                        "{} {}: {:.2}% pass, mostly {}",
                        schema.fields[fi].name,
                        TOLERABLE[ci],
                        pass_share * 100.0,
                        mostly
                    ));
                }
            }
            severity_of.insert((fi, ci), sev);
        }
        tolerated.sort();
        let mut errors = 0u64;
        let mut warnings = 0u64;
        for (key, &n) in &self.tally {
            match severity_of.get(key).copied().unwrap_or(default_sev) {
                Severity::Error => errors += n,
                Severity::Warning => warnings += n,
            }
        }
        let findings: Vec<Finding> = self
            .findings
            .drain(..)
            .map(|p| {
                let mut f = p.finding;
                f.severity = severity_of
                    .get(&(p.field, p.constraint))
                    .copied()
                    .unwrap_or(default_sev);
                f
            })
            .collect();
        let status = if errors > 0 {
            Status::Fail
        } else if warnings > 0 {
            Status::Warn
        } else {
            Status::Pass
        };
        let total = errors + warnings;
        let fields_n = schema.fields.len();
        let summary = if total == 0 {
            format!("{} rows × {} fields: valid", self.data_rows, fields_n)
        } else {
            let by_code: Vec<String> = self
                .counts
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect();
            format!(
                "{} finding{} in {} rows ({}){}",
                total,
                if total == 1 { "" } else { "s" },
                self.data_rows,
                by_code.join(", "),
                if warnings > 0 && errors > 0 {
                    format!("; {warnings} tolerated or warn-only")
                } else {
                    String::new()
                }
            )
        };
        let mut figures = IndexMap::new();
        figures.insert("rows".to_string(), json!(self.data_rows));
        figures.insert("fields".to_string(), json!(fields_n));
        figures.insert("bytes".to_string(), json!(stats.bytes));
        figures.insert("errors".to_string(), json!(errors));
        figures.insert("warnings".to_string(), json!(warnings));
        if !tolerated.is_empty() {
            figures.insert("tolerated".to_string(), json!(tolerated));
        }
        let truncated = total as usize > findings.len();
        let mut counts = std::collections::BTreeMap::new();
        for (c, n) in &self.counts {
            counts.insert(c.clone(), *n);
        }
        let mut checks = vec![Check {
            id: format!("{}/schema", self.opts.subject),
            kind: "schema".into(),
            subject: self.opts.subject.clone(),
            status,
            summary,
            figures,
            counts,
            findings,
            truncated,
        }];
        if let Some(table) = self.table_check(&schema, default_sev) {
            checks.push(table);
        }
        Validation {
            checks,
            rows: self.data_rows,
            bytes: stats.bytes,
            seconds,
        }
    }

    /// The checks of the extension block that look at the whole table.
    pub(super) fn table_check(&self, schema: &Schema, default_sev: Severity) -> Option<Check> {
        let ext = &schema.extension;
        let wants_fields = ext.fields.values().any(|f| {
            f.max_null_fraction.is_some()
                || f.min.is_some()
                || f.max.is_some()
                || f.mean.is_some()
                || f.max_distinct.is_some()
        });
        if ext.rows.is_none() && !wants_fields {
            return None;
        }
        let mut findings = vec![];
        let file = Some(self.source.display.clone());
        let mut add = |code: &str,
                       sev: Severity,
                       field: Option<(&str, usize)>,
                       value: String,
                       msg: String| {
            let mut f = Finding::new(code, sev, msg);
            f.file = file.clone();
            if let Some((name, i)) = field {
                f.field = Some(name.to_string());
                f.field_number = self
                    .column_of
                    .get(i)
                    .copied()
                    .flatten()
                    .map(|c| c as u64 + 1);
            }
            f.value = Some(value);
            findings.push(f);
        };
        if let Some(r) = ext.rows {
            let n = self.data_rows as f64;
            if !r.contains(n) {
                add(
                    "row-count",
                    default_sev,
                    None,
                    self.data_rows.to_string(),
                    format!(
                        "the table has {} rows; expected {}",
                        self.data_rows,
                        r.describe()
                    ),
                );
            }
        }
        let mut per_field = serde_json::Map::new();
        for (name, fe) in &ext.fields {
            let Some(fi) = schema.field_index(name) else {
                continue;
            };
            let st = &self.stats[fi];
            let sev = fe.severity.map(Into::into).unwrap_or(default_sev);
            let rows = self.data_rows.max(1) as f64;
            let null_fraction = st.nulls as f64 / rows;
            let mean = (st.numeric > 0).then(|| st.sum.value() / st.numeric as f64);
            let distinct = st.distinct.as_ref().map(|d| d.len());
            per_field.insert(
                name.clone(),
                json!({"nulls": st.nulls, "null_fraction": null_fraction, "min": st.min, "max": st.max, "mean": mean, "distinct": distinct}),
            );
            let at = Some((name.as_str(), fi));
            if let Some(maxf) = fe.max_null_fraction {
                if null_fraction > maxf {
                    add(
                        "null-fraction",
                        sev,
                        at,
                        format!("{null_fraction:.4}"),
                        format!(
                        "{name:?} has {} empty cells in {} rows ({:.2}%); at most {:.2}% allowed",
                        st.nulls, self.data_rows, null_fraction * 100.0, maxf * 100.0
                    ),
                    );
                }
            }
            for (code, what, range, got) in [
                ("field-min", "minimum", fe.min, st.min),
                ("field-max", "maximum", fe.max, st.max),
                ("field-mean", "mean", fe.mean, mean),
            ] {
                let Some(range) = range else { continue };
                match got {
                    Some(x) if range.contains(x) => {}
                    Some(x) => add(
                        code,
                        sev,
                        at,
                        format!("{x}"),
                        format!(
                            "the {what} of {name:?} is {}; expected {}",
                            crate::report::people(x),
                            range.describe()
                        ),
                    ),
                    None => add(
                        code,
                        sev,
                        at,
                        String::new(),
                        format!("{name:?} has no numeric values, so its {what} cannot be checked"),
                    ),
                }
            }
            if let (Some(maxd), Some(d)) = (fe.max_distinct, distinct) {
                if d as u64 > maxd {
                    add(
                        "distinct-count",
                        sev,
                        at,
                        format!("> {maxd}"),
                        format!("{name:?} has more than {maxd} distinct values"),
                    );
                }
            }
        }
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        let status = if errors > 0 {
            Status::Fail
        } else if !findings.is_empty() {
            Status::Warn
        } else {
            Status::Pass
        };
        let mut counts = std::collections::BTreeMap::new();
        for f in &findings {
            *counts.entry(f.code.clone()).or_insert(0u64) += 1;
        }
        let summary = if findings.is_empty() {
            "table checks hold".to_string()
        } else {
            let msgs: Vec<&str> = findings
                .iter()
                .take(3)
                .map(|f| f.message.as_str())
                .collect();
            msgs.join("; ")
        };
        let mut figures = IndexMap::new();
        figures.insert("rows".into(), json!(self.data_rows));
        figures.insert("fields".into(), serde_json::Value::Object(per_field));
        Some(Check {
            id: format!("{}/table", self.opts.subject),
            kind: "table".into(),
            subject: self.opts.subject.clone(),
            status,
            summary,
            figures,
            counts,
            findings,
            truncated: false,
        })
    }
}
