//! Row-level checks on cast values: statistics, unique fields, primary, unique and foreign keys,
//! duplicate rows. Keys are remembered as 16-byte fingerprints, never as values.

use super::*;

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

    /// Row-level checks on the cast values: statistics, unique fields, keys, duplicate rows.
    pub(super) fn after_cells(&mut self, record: &Record<'_>, vals: &[Option<Val<'_>>]) {
        for (fi, v) in vals.iter().enumerate() {
            let Some(v) = v else { continue };
            let st = &mut self.stats[fi];
            st.values += 1;
            if st.numeric_wanted {
                if let Some(x) = v.as_f64() {
                    st.numeric += 1;
                    st.sum += x;
                    st.min = Some(st.min.map_or(x, |m| m.min(x)));
                    st.max = Some(st.max.map_or(x, |m| m.max(x)));
                }
            }
            let needs_fp = st.distinct.is_some() || self.unique_seen[fi].is_some();
            if !needs_fp {
                continue;
            }
            let fp = Self::fingerprint(&mut self.key_buf, std::iter::once(v));
            let st = &mut self.stats[fi];
            if let Some(d) = st.distinct.as_mut() {
                if d.len() < st.distinct_cap {
                    d.insert(fp);
                }
            }
            if let Some(seen) = self.unique_seen[fi].as_mut() {
                // One probe: the first sighting is remembered, a repeat names it.
                let first = match seen.entry(fp) {
                    std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(record.row);
                        None
                    }
                };
                if let Some(first) = first {
                    let ci = self.column_of[fi].unwrap_or(fi);
                    let shown = record.cells.get(ci).map(Cell::display).unwrap_or_default();
                    let name = self.schema().fields[fi].name.clone();
                    let f = self.cell_finding(
                        "unique-error",
                        record,
                        fi,
                        ci,
                        Some(shown.clone()),
                        format!("{shown:?} in unique field {name:?} repeats row {first}"),
                    );
                    self.push(f, fi, C_UNIQUE);
                }
            }
        }
        let pk = std::rc::Rc::clone(&self.keys.primary);
        if !pk.is_empty() {
            if pk.iter().any(|&i| vals[i].is_none()) {
                let (names, _) = self.key_text(&pk, vals);
                let f = self.row_finding(
                    "primary-key",
                    record,
                    format!("the primary key ({names}) is empty or not valid"),
                );
                self.push(f, NO_FIELD, NO_CONSTRAINT);
            } else {
                let fp = Self::fingerprint(
                    &mut self.key_buf,
                    pk.iter().filter_map(|&i| vals[i].as_ref()),
                );
                if let Some(&first) = self.pk_seen.get(&fp) {
                    let (names, shown) = self.key_text(&pk, vals);
                    let mut f = self.row_finding(
                        "primary-key",
                        record,
                        format!("the primary key ({names}) = ({shown}) repeats row {first}"),
                    );
                    f.value = Some(shown);
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                } else {
                    self.pk_seen.insert(fp, record.row);
                }
            }
        }
        let unique_keys = std::rc::Rc::clone(&self.keys.unique);
        for (k, key) in unique_keys.iter().enumerate() {
            if key.iter().any(|&i| vals[i].is_none()) {
                continue;
            }
            let fp = Self::fingerprint(
                &mut self.key_buf,
                key.iter().filter_map(|&i| vals[i].as_ref()),
            );
            if let Some(&first) = self.uk_seen[k].get(&fp) {
                let (names, shown) = self.key_text(key, vals);
                let mut f = self.row_finding(
                    "unique-error",
                    record,
                    format!("the unique key ({names}) = ({shown}) repeats row {first}"),
                );
                f.value = Some(shown);
                self.push(f, NO_FIELD, NO_CONSTRAINT);
            } else {
                self.uk_seen[k].insert(fp, record.row);
            }
        }
        let foreign_keys = std::rc::Rc::clone(&self.keys.foreign);
        for (k, (own, reference)) in foreign_keys.iter().enumerate() {
            if reference.iter().all(|&i| vals[i].is_some()) {
                let fp = Self::fingerprint(
                    &mut self.key_buf,
                    reference.iter().filter_map(|&i| vals[i].as_ref()),
                );
                self.fk_refs[k].insert(fp);
            }
            if own.iter().all(|&i| vals[i].is_some()) {
                let fp = Self::fingerprint(
                    &mut self.key_buf,
                    own.iter().filter_map(|&i| vals[i].as_ref()),
                );
                if !self.fk_refs[k].contains(&fp) {
                    let (_, shown) = self.key_text(own, vals);
                    self.fk_pending[k].push((fp, record.row, record.line, shown));
                }
            }
        }
        if self.opts.duplicate_rows && !record.cells.is_empty() {
            self.key_buf.clear();
            for c in record.cells {
                self.key_buf.extend_from_slice(c.display().as_bytes());
                self.key_buf.push(0x1f);
            }
            let fp = xxh3_128(&self.key_buf);
            if let Some(&first) = self.dup_rows.get(&fp) {
                let f = self.row_finding(
                    "duplicate-row",
                    record,
                    format!("the row repeats row {first}"),
                );
                self.push(f, NO_FIELD, NO_CONSTRAINT);
            } else {
                self.dup_rows.insert(fp, record.row);
            }
        }
    }
}
