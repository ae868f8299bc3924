//! Validation on several threads: workers check the cells of whole batches, the merging thread holds their key
//! checks against every earlier record and puts the findings back in the order one thread would have made them.
//!
//! Within a record, one thread reports the cell and row findings first, then the key findings; across records,
//! the order of the records. A worker tags each of its findings and key checks with the record's index in the
//! batch, and [`Validator::merge_batch`] interleaves the two on that index. Statistics are added batch by batch
//! in batch order, so the figures do not depend on how many workers ran.

use super::*;
use crate::data::reader::{Batch, BatchWorker, ParallelSink};

/// What a worker hands back for one batch.
pub(super) struct BatchOut {
    findings: Vec<Pending>,
    counts: IndexMap<String, u64>,
    first_rec: Vec<u32>,
    tally: HashMap<(usize, usize), u64>,
    data_rows: u64,
    blank_rows: u64,
    stats: Vec<FieldStats>,
    ops: Vec<KeyOp>,
}

impl<'s> Validator<'s> {
    /// A worker with this validator's schema and column map and nothing counted.
    fn spawn_worker(&self) -> Option<Validator<'s>> {
        let schema = self.schema.clone()?;
        let mut w = Validator::new(self.source, self.given, self.opts);
        w.column_of = self.column_of.clone();
        w.field_of = self.field_of.clone();
        w.width = self.width;
        w.missing = self.missing.clone();
        w.missing_is_empty = self.missing_is_empty.clone();
        w.all_missing_empty = self.all_missing_empty;
        w.stats = self.stats.iter().map(FieldStats::fresh).collect();
        // Only which fields are unique matters on a worker: it never probes.
        w.unique_seen = self
            .unique_seen
            .iter()
            .map(|u| u.as_ref().map(|_| SeenRows::default()))
            .collect();
        w.int_field = self.int_field.clone();
        w.kept = self.kept.clone();
        w.kept_fields = self.kept_fields.clone();
        w.quick = self.quick.clone();
        w.keys = self.keys.clone();
        w.schema = Some(schema);
        w.deferred = true;
        Some(w)
    }

    /// Takes one batch's results, in batch order: counts and statistics are added, the key checks run against
    /// the keys of all earlier records, and findings are kept in record order up to the cap.
    fn merge_batch(&mut self, batch: &Batch, out: BatchOut) {
        self.enter_part(batch.part());
        self.data_rows += out.data_rows;
        self.blank_rows += out.blank_rows;
        for (key, n) in out.tally {
            *self.tally.entry(key).or_insert(0) += n;
        }
        for (st, later) in self.stats.iter_mut().zip(out.stats) {
            st.absorb(later);
        }
        // The worker's findings and codes up to and including record `rec` come before that record's key
        // findings. Walked by index: the findings are large, and most records have none.
        let mut findings = out.findings.into_iter();
        let mut next_finding = findings.as_slice().first().map(|p| p.rec);
        let mut codes = 0usize;
        let mut catch_up = |v: &mut Self, rec: u32| {
            while next_finding.is_some_and(|r| r <= rec) {
                if let Some(p) = findings.next() {
                    if v.findings.len() < v.opts.max_findings {
                        v.findings.push(p);
                    }
                }
                next_finding = findings.as_slice().first().map(|p| p.rec);
            }
            while out.first_rec.get(codes).is_some_and(|&r| r <= rec) {
                if let Some((code, n)) = out.counts.get_index(codes) {
                    *v.counts.entry(code.clone()).or_insert(0) += n;
                }
                codes += 1;
            }
        };
        for op in &out.ops {
            catch_up(self, op.rec);
            if let Some(hit) = self.probe(op) {
                batch.with_record(op.rec as usize, |record| {
                    let vals = self.cast_row(record);
                    self.report(hit, record, &vals);
                });
            }
        }
        catch_up(self, u32::MAX);
    }
}

impl<'s> BatchWorker for Validator<'s> {
    type Output = BatchOut;

    fn run(&mut self, batch: &Batch) -> BatchOut {
        self.rec = 0;
        batch.replay(self);
        let fresh = self.stats.iter().map(FieldStats::fresh).collect();
        let room = self.ops.capacity();
        BatchOut {
            findings: std::mem::take(&mut self.findings),
            counts: std::mem::take(&mut self.counts),
            first_rec: std::mem::take(&mut self.first_rec),
            tally: std::mem::take(&mut self.tally),
            data_rows: std::mem::take(&mut self.data_rows),
            blank_rows: std::mem::take(&mut self.blank_rows),
            stats: std::mem::replace(&mut self.stats, fresh),
            // The next batch has about as many key checks: room for them up front, not grown by doubling
            // (each doubling copied every check made so far).
            ops: std::mem::replace(&mut self.ops, Vec::with_capacity(room)),
        }
    }
}

impl<'s> ParallelSink for Validator<'s> {
    type Worker = Validator<'s>;

    fn worker(&self) -> Option<Validator<'s>> {
        self.spawn_worker()
    }

    fn merge(&mut self, batch: &Batch, output: BatchOut) {
        self.merge_batch(batch, output);
    }
}
