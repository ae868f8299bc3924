//! Reading on its own thread: the parser fills batches of owned records and the caller's thread validates
//! them, so parsing and validation overlap on two cores. Order is kept (one channel, one producer), and memory
//! stays bounded (a few batches in flight).

use std::borrow::Cow;
use std::sync::mpsc::{sync_channel, SyncSender};

use super::{ReadStats, Record, RecordSink, Source, TextRecord};
use crate::data::value::Cell;
use crate::data::DataError;

/// Records per batch and batches in flight: large enough to amortise the hand-over, small enough for the cache.
const BATCH_RECORDS: usize = 2048;
const IN_FLIGHT: usize = 4;

#[derive(Debug, Clone, Copy)]
enum Slot {
    Null,
    Text(u32, u32),
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Debug, Clone, Copy)]
struct Meta {
    row: u64,
    line: Option<u64>,
    plain: bool,
    cells: u32,
}

#[derive(Default)]
struct Batch {
    text: String,
    slots: Vec<Slot>,
    records: Vec<Meta>,
}

impl Batch {
    fn push(&mut self, record: &Record<'_>) {
        for c in record.cells {
            let slot = match c {
                Cell::Null => Slot::Null,
                Cell::Text(t) => {
                    let start = self.text.len() as u32;
                    self.text.push_str(t);
                    Slot::Text(start, self.text.len() as u32)
                }
                Cell::Int(i) => Slot::Int(*i),
                Cell::Float(x) => Slot::Float(*x),
                Cell::Bool(b) => Slot::Bool(*b),
            };
            self.slots.push(slot);
        }
        self.records.push(Meta {
            row: record.row,
            line: record.line,
            plain: record.plain,
            cells: record.cells.len() as u32,
        });
    }

    /// A text record in one copy: its text appended whole, its cells as ranges shifted into the batch's text.
    fn push_text(&mut self, meta: TextRecord, text: &str, ranges: &[(u32, u32)]) {
        let base = self.text.len() as u32;
        self.text.push_str(text);
        self.slots
            .extend(ranges.iter().map(|&(a, b)| Slot::Text(base + a, base + b)));
        self.records.push(Meta {
            row: meta.row,
            line: meta.line,
            plain: meta.plain,
            cells: ranges.len() as u32,
        });
    }

    fn replay(&self, sink: &mut dyn RecordSink) {
        let mut cells: Vec<Cell<'_>> = Vec::new();
        let mut at = 0usize;
        for m in &self.records {
            cells.clear();
            let n = m.cells as usize;
            cells.extend(self.slots[at..at + n].iter().map(|s| match *s {
                Slot::Null => Cell::Null,
                Slot::Text(a, b) => Cell::Text(Cow::Borrowed(
                    self.text.get(a as usize..b as usize).unwrap_or(""),
                )),
                Slot::Int(i) => Cell::Int(i),
                Slot::Float(x) => Cell::Float(x),
                Slot::Bool(b) => Cell::Bool(b),
            }));
            at += n;
            sink.record(&Record {
                row: m.row,
                line: m.line,
                cells: &cells,
                plain: m.plain,
            });
        }
    }
}

enum Message {
    Labels(Option<Vec<String>>),
    Batch(Batch),
}

/// Runs on the reading thread: collects records into batches and sends them on.
struct Batcher {
    tx: SyncSender<Message>,
    batch: Batch,
    /// The receiving side hung up (it only does so when it stops early); stop sending.
    closed: bool,
}

impl Batcher {
    fn send(&mut self, m: Message) {
        if !self.closed && self.tx.send(m).is_err() {
            self.closed = true;
        }
    }

    fn flush(&mut self) {
        if !self.batch.records.is_empty() {
            let b = std::mem::take(&mut self.batch);
            self.send(Message::Batch(b));
        }
    }
}

impl RecordSink for Batcher {
    fn labels(&mut self, labels: Option<&[String]>) {
        self.send(Message::Labels(labels.map(<[String]>::to_vec)));
    }

    fn record(&mut self, record: &Record<'_>) {
        self.batch.push(record);
        if self.batch.records.len() >= BATCH_RECORDS {
            self.flush();
        }
    }

    fn text_record(&mut self, meta: TextRecord, text: &str, ranges: &[(u32, u32)]) {
        self.batch.push_text(meta, text, ranges);
        if self.batch.records.len() >= BATCH_RECORDS {
            self.flush();
        }
    }
}

type ReadFn = fn(&Source, &mut dyn RecordSink) -> Result<ReadStats, DataError>;

/// Reads `source` with `read` on a second thread, feeding `sink` on this one.
pub fn threaded(
    source: &Source,
    sink: &mut dyn RecordSink,
    read: ReadFn,
) -> Result<ReadStats, DataError> {
    let (tx, rx) = sync_channel::<Message>(IN_FLIGHT);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut b = Batcher {
                tx,
                batch: Batch::default(),
                closed: false,
            };
            let result = read(source, &mut b);
            b.flush();
            result
        });
        for message in rx {
            match message {
                Message::Labels(l) => sink.labels(l.as_deref()),
                Message::Batch(b) => b.replay(sink),
            }
        }
        match reader.join() {
            Ok(result) => result,
            // A panic on the reading thread is a bug: let it surface as one.
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}
