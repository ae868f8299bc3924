//! Row-level checks on cast values: statistics, unique fields, primary, unique and foreign keys,
//! duplicate rows. Keys are remembered as 16-byte fingerprints, or as the integer when the key is one integer
//! field (see [`seen`](super::seen)), never as values.
//!
//! The checks come in two steps so that the first can run on worker threads: [`Validator::key_ops`] turns a
//! record into fingerprints (it needs only the record), [`Validator::probe`] holds each against the keys of all
//! earlier records (it needs them in order), and [`Validator::report`] writes the finding of a repeat.

use super::*;

/// Which of a record's values a key finding shows.
#[derive(Debug, Clone, Copy)]
pub(super) enum SiteOf {
    /// None: the finding names the row only.
    Row,
    /// The cell of a field.
    Cell(usize),
    Key(KeyOf),
}

#[derive(Debug, Clone, Copy)]
pub(super) enum KeyOf {
    Primary,
    Unique(usize),
    /// A foreign key's own fields.
    Foreign(usize),
}

/// The record of a key check, as its finding shows it: row, line, the cell's column, the value or key shown.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct Site {
    pub(super) row: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) line: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) column: Option<u64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(super) shown: String,
}

/// A key check that found something to report.
#[derive(Debug, Clone, Copy)]
pub(super) enum Hit {
    /// A `unique` field's value repeats the one first seen on a row.
    Unique(usize, u64),
    PkEmpty,
    Pk(u64),
    UniqueKey(usize, u64),
    /// A foreign key's value not (yet) among the referenced values.
    FkPending(usize, Fingerprint),
    DuplicateRow(u64),
}

impl Validator<'_> {
    pub(super) fn fingerprint<'a>(
        buf: &mut Vec<u8>,
        vals: impl Iterator<Item = &'a Val<'a>>,
    ) -> Fingerprint {
        buf.clear();
        for v in vals {
            v.canonical_bytes(buf);
            buf.push(0xff);
        }
        xxh3_128(buf)
    }

    /// What the key checks remember of the values of `fields`: the integer itself when the key is one integer
    /// field, else the values' fingerprint. The choice depends on the fields only, so a key never changes kind.
    fn key(&mut self, fields: &[usize], vals: &[Option<Val<'_>>]) -> Key {
        if let [fi] = fields {
            if let (true, Some(Val::Int(i))) = (self.int_field[*fi], &vals[*fi]) {
                return Key::Int(*i);
            }
        }
        Key::Fp(Self::fingerprint(
            &mut self.key_buf,
            fields.iter().filter_map(|&i| vals[i].as_ref()),
        ))
    }

    pub(super) fn key_text(&self, fields: &[usize], vals: &[Option<Val<'_>>]) -> (String, String) {
        let names: Vec<&str> = fields
            .iter()
            .map(|&i| self.schema().fields[i].name.as_str())
            .collect();
        let values: Vec<String> = fields
            .iter()
            .map(|&i| vals[i].as_ref().map(show_val).unwrap_or_default())
            .collect();
        (names.join(", "), values.join(", "))
    }

    /// Row-level checks on the cast values: statistics here, key checks here or, on a worker, in `ops` for the
    /// merging thread.
    pub(super) fn after_cells(&mut self, record: &Record<'_>, vals: &[Option<Val<'_>>]) {
        self.key_ops(record, vals);
        if self.deferred {
            return;
        }
        let ops = std::mem::take(&mut self.ops);
        for op in &ops {
            if let Some(hit) = self.probe(op) {
                self.report(hit, record, vals);
            }
        }
        self.ops = ops;
        self.ops.clear();
    }

    /// Counts the statistics of the record's kept values (see `Validator::kept`; every value is counted in
    /// `record`) and appends its key checks to `ops`.
    pub(super) fn key_ops(&mut self, record: &Record<'_>, vals: &[Option<Val<'_>>]) {
        let (rec, row) = (self.rec, self.global_row(record.row));
        let op = |kind| KeyOp { rec, row, kind };
        // Only kept fields have values (see `Validator::kept`).
        for k in 0..self.kept_fields.len() {
            let fi = self.kept_fields[k];
            let Some(v) = &vals[fi] else { continue };
            let st = &mut self.stats[fi];
            if st.numeric_wanted {
                if let Some(x) = v.as_f64() {
                    st.numeric += 1;
                    st.sum.add(x);
                    st.min = Some(st.min.map_or(x, |m| m.min(x)));
                    st.max = Some(st.max.map_or(x, |m| m.max(x)));
                }
            }
            if st
                .distinct
                .as_ref()
                .is_some_and(|d| d.len() < st.distinct_cap)
            {
                let fp = Self::fingerprint(&mut self.key_buf, std::iter::once(v));
                if let Some(d) = self.stats[fi].distinct.as_mut() {
                    d.insert(fp);
                }
            }
        }
        for k in 0..self.kept_fields.len() {
            let fi = self.kept_fields[k];
            if self.unique_seen[fi].is_some() && vals[fi].is_some() {
                let key = self.key(&[fi], vals);
                self.ops.push(op(KeyKind::Unique(fi, key)));
            }
        }
        let no_keys = self.keys.primary.is_empty()
            && self.keys.unique.is_empty()
            && self.keys.foreign.is_empty();
        let keys = if no_keys {
            None
        } else {
            Some(self.keys.clone())
        };
        if let Some(keys) = &keys {
            self.record_key_ops(keys, &op, vals);
        }
        if self.opts.duplicate_rows && !record.cells.is_empty() {
            self.key_buf.clear();
            for c in record.cells {
                self.key_buf.extend_from_slice(c.display().as_bytes());
                self.key_buf.push(0x1f);
            }
            self.ops
                .push(op(KeyKind::DuplicateRow(xxh3_128(&self.key_buf))));
        }
    }

    /// The checks of the primary, unique and foreign keys.
    fn record_key_ops(
        &mut self,
        keys: &KeyFields,
        op: &impl Fn(KeyKind) -> KeyOp,
        vals: &[Option<Val<'_>>],
    ) {
        if !keys.primary.is_empty() {
            if keys.primary.iter().any(|&i| vals[i].is_none()) {
                self.ops.push(op(KeyKind::PkEmpty));
            } else {
                let key = self.key(&keys.primary, vals);
                self.ops.push(op(KeyKind::Pk(key)));
            }
        }
        for (k, key) in keys.unique.iter().enumerate() {
            if key.iter().any(|&i| vals[i].is_none()) {
                continue;
            }
            let key = self.key(key, vals);
            self.ops.push(op(KeyKind::UniqueKey(k, key)));
        }
        for (k, (own, reference)) in keys.foreign.iter().enumerate() {
            if reference.iter().all(|&i| vals[i].is_some()) {
                let fp = Self::fingerprint(
                    &mut self.key_buf,
                    reference.iter().filter_map(|&i| vals[i].as_ref()),
                );
                self.ops.push(op(KeyKind::FkRef(k, fp)));
            }
            if own.iter().all(|&i| vals[i].is_some()) {
                let fp = Self::fingerprint(
                    &mut self.key_buf,
                    own.iter().filter_map(|&i| vals[i].as_ref()),
                );
                self.ops.push(op(KeyKind::FkOwn(k, fp)));
            }
        }
    }

    /// Holds one key check against the keys of every earlier record, and remembers this record's.
    pub(super) fn probe(&mut self, op: &KeyOp) -> Option<Hit> {
        let row = op.row;
        match op.kind {
            KeyKind::Unique(fi, key) => {
                let seen = self.unique_seen[fi].as_mut()?;
                seen.first_sighting(key, row)
                    .map(|first| Hit::Unique(fi, first))
            }
            KeyKind::PkEmpty => Some(Hit::PkEmpty),
            KeyKind::Pk(key) => self.pk_seen.first_sighting(key, row).map(Hit::Pk),
            KeyKind::UniqueKey(k, key) => self.uk_seen[k]
                .first_sighting(key, row)
                .map(|first| Hit::UniqueKey(k, first)),
            KeyKind::FkRef(k, fp) => {
                self.fk_refs[k].insert(fp);
                None
            }
            KeyKind::FkOwn(k, fp) => {
                (!self.fk_refs[k].contains(&fp)).then_some(Hit::FkPending(k, fp))
            }
            KeyKind::DuplicateRow(fp) => self
                .dup_rows
                .first_sighting(Key::Fp(fp), row)
                .map(Hit::DuplicateRow),
        }
    }

    /// Writes the finding of a key check that hit, from the record and its values.
    pub(super) fn report(&mut self, hit: Hit, record: &Record<'_>, vals: &[Option<Val<'_>>]) {
        let site = match hit {
            Hit::Unique(fi, _) => self.site(SiteOf::Cell(fi), record, vals),
            Hit::PkEmpty | Hit::DuplicateRow(_) => self.site(SiteOf::Row, record, vals),
            Hit::Pk(_) => self.site(SiteOf::Key(KeyOf::Primary), record, vals),
            Hit::UniqueKey(k, _) => self.site(SiteOf::Key(KeyOf::Unique(k)), record, vals),
            Hit::FkPending(k, _) => self.site(SiteOf::Key(KeyOf::Foreign(k)), record, vals),
        };
        self.report_at(hit, &site);
    }

    /// What a key finding needs of its record: positions and the value shown. A shard writes one per key check
    /// (see [`shard`](super::shard)), since only the merge knows which of them repeat.
    pub(super) fn site(&self, of: SiteOf, record: &Record<'_>, vals: &[Option<Val<'_>>]) -> Site {
        let mut site = Site {
            row: record.row,
            line: record.line,
            column: None,
            shown: String::new(),
        };
        match of {
            SiteOf::Row => {}
            SiteOf::Cell(fi) => {
                let ci = self.column_of[fi].unwrap_or(fi);
                site.shown = record.cells.get(ci).map(Cell::display).unwrap_or_default();
                site.column = Self::column_number(record, ci);
            }
            SiteOf::Key(k) => {
                let fields = match k {
                    KeyOf::Primary => &self.keys.primary[..],
                    KeyOf::Unique(k) => &self.keys.unique[k][..],
                    KeyOf::Foreign(k) => &self.keys.foreign[k].0[..],
                };
                site.shown = self.key_text(fields, vals).1;
            }
        }
        site
    }

    fn site_finding(&self, code: &str, site: &Site, message: String) -> Finding {
        let mut f = self.finding(code, message);
        f.line = site.line;
        f.row = Some(site.row);
        f
    }

    /// Writes the finding of a key check that hit, from what its record left in `site`.
    pub(super) fn report_at(&mut self, hit: Hit, site: &Site) {
        let shown = site.shown.clone();
        match hit {
            Hit::Unique(fi, first) => {
                let ci = self.column_of[fi].unwrap_or(fi);
                let name = self.schema().fields[fi].name.clone();
                let mut f = self.site_finding(
                    "unique-error",
                    site,
                    format!(
                        "{shown:?} in unique field {name:?} repeats {}",
                        self.row_text(first)
                    ),
                );
                f.column = site.column;
                f.field = Some(name);
                f.field_number = Some(ci as u64 + 1);
                f.value = Some(clip(&shown, 200));
                self.push(f, fi, C_UNIQUE);
            }
            Hit::PkEmpty => {
                let names = self.key_names(&self.keys.primary);
                let f = self.site_finding(
                    "primary-key",
                    site,
                    format!("the primary key ({names}) is empty or not valid"),
                );
                self.push(f, NO_FIELD, NO_CONSTRAINT);
            }
            Hit::Pk(first) => {
                let names = self.key_names(&self.keys.primary);
                let mut f = self.site_finding(
                    "primary-key",
                    site,
                    format!(
                        "the primary key ({names}) = ({shown}) repeats {}",
                        self.row_text(first)
                    ),
                );
                f.value = Some(shown);
                self.push(f, NO_FIELD, NO_CONSTRAINT);
            }
            Hit::UniqueKey(k, first) => {
                let names = self.key_names(&self.keys.unique[k]);
                let mut f = self.site_finding(
                    "unique-error",
                    site,
                    format!(
                        "the unique key ({names}) = ({shown}) repeats {}",
                        self.row_text(first)
                    ),
                );
                f.value = Some(shown);
                self.push(f, NO_FIELD, NO_CONSTRAINT);
            }
            Hit::FkPending(k, fp) => {
                let row = self.global_row(site.row);
                self.fk_pending[k].push((fp, row, site.line, shown));
            }
            Hit::DuplicateRow(first) => {
                let f = self.site_finding(
                    "duplicate-row",
                    site,
                    format!("the row repeats {}", self.row_text(first)),
                );
                self.push(f, NO_FIELD, NO_CONSTRAINT);
            }
        }
    }

    fn key_names(&self, fields: &[usize]) -> String {
        let names: Vec<&str> = fields
            .iter()
            .map(|&i| self.schema().fields[i].name.as_str())
            .collect();
        names.join(", ")
    }
}
