//! Reading on its own thread: the parser fills batches of owned records and the caller's thread consumes
//! them, so parsing and the work on the records overlap. Order is kept (one channel, one producer), and memory
//! stays bounded (a few batches in flight).
//!
//! [`parallel`] goes further for sinks whose per-record work splits in two: a part that needs only the record
//! (casting cells, checking constraints) runs on several worker threads, batch by batch, and a part that needs
//! every earlier record (remembering keys) runs on the caller's thread, which takes the workers' results back
//! in batch order. Workers take batches from one shared queue, numbered, and the caller puts their outputs back in
//! order; a window of tickets keeps the batches in flight few.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use super::{text_cell, ReadStats, Record, RecordSink, Source, TextRecord};
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
    /// A text record: its cells are in `spans`, not `slots`.
    text: bool,
    /// The record's first slot (or span), and how many it has.
    start: u32,
    cells: u32,
}

/// A run of records in one allocation: their text, their cells as slots into it (or, for text records, as
/// byte ranges of it), and their positions.
#[derive(Default)]
pub(crate) struct Batch {
    /// The part of a partitioned source its records come from (0 for a plain file).
    part: u32,
    text: String,
    slots: Vec<Slot>,
    /// The cells of text records, as byte ranges of `text`: replayed through [`RecordSink::text_record`], so
    /// a sink that can check text cells where they lie never has them built into [`Cell`]s.
    spans: Vec<(u32, u32)>,
    records: Vec<Meta>,
}

impl Batch {
    fn push(&mut self, record: &Record<'_>) {
        let start = self.slots.len() as u32;
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
            text: false,
            start,
            cells: record.cells.len() as u32,
        });
    }

    /// An empty batch with this one's room.
    fn empty_like(&self) -> Batch {
        Batch {
            part: 0,
            text: String::with_capacity(self.text.capacity()),
            slots: Vec::with_capacity(self.slots.capacity()),
            spans: Vec::with_capacity(self.spans.capacity()),
            records: Vec::with_capacity(self.records.capacity()),
        }
    }

    /// A text record in one copy: its text appended whole, its cells as ranges shifted into the batch's text.
    fn push_text(&mut self, meta: TextRecord, text: &str, ranges: &[(u32, u32)]) {
        let base = self.text.len() as u32;
        let start = self.spans.len() as u32;
        self.text.push_str(text);
        self.spans
            .extend(ranges.iter().map(|&(a, b)| (base + a, base + b)));
        self.records.push(Meta {
            row: meta.row,
            line: meta.line,
            plain: meta.plain,
            text: true,
            start,
            cells: ranges.len() as u32,
        });
    }

    fn cells_into<'b>(&'b self, m: &Meta, cells: &mut Vec<Cell<'b>>) {
        cells.clear();
        let (a, n) = (m.start as usize, m.cells as usize);
        if m.text {
            cells.extend(
                self.spans[a..a + n]
                    .iter()
                    .map(|&r| text_cell(&self.text, r)),
            );
            return;
        }
        cells.extend(self.slots[a..a + n].iter().map(|s| match *s {
            Slot::Null => Cell::Null,
            Slot::Text(a, b) => text_cell(&self.text, (a, b)),
            Slot::Int(i) => Cell::Int(i),
            Slot::Float(x) => Cell::Float(x),
            Slot::Bool(b) => Cell::Bool(b),
        }));
    }

    pub(crate) fn part(&self) -> u32 {
        self.part
    }

    /// Hands every record to `sink`, in order.
    pub(crate) fn replay(&self, sink: &mut dyn RecordSink) {
        sink.begin_part(self.part);
        let mut cells: Vec<Cell<'_>> = Vec::new();
        for m in &self.records {
            if m.text {
                let meta = TextRecord {
                    row: m.row,
                    line: m.line,
                    plain: m.plain,
                };
                let (a, n) = (m.start as usize, m.cells as usize);
                sink.text_record(meta, &self.text, &self.spans[a..a + n]);
                continue;
            }
            self.cells_into(m, &mut cells);
            sink.record(&Record {
                row: m.row,
                line: m.line,
                cells: &cells,
                plain: m.plain,
            });
        }
    }

    /// Calls `f` with the batch's `i`-th record (none past the end).
    pub(crate) fn with_record<R>(&self, i: usize, f: impl FnOnce(&Record<'_>) -> R) -> Option<R> {
        let m = self.records.get(i)?;
        let mut cells = Vec::new();
        self.cells_into(m, &mut cells);
        Some(f(&Record {
            row: m.row,
            line: m.line,
            cells: &cells,
            plain: m.plain,
        }))
    }
}

enum Message {
    Labels(Option<Vec<String>>),
    Batch(Batch),
}

/// Runs on the reading thread: collects records into batches and sends them on.
struct Batcher {
    tx: SyncSender<Message>,
    /// Batches the consumer is done with, to fill again: their buffers keep their size, so the reading does not
    /// ask the system for fresh pages (and fault them in) for every batch.
    spare: Receiver<Batch>,
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
            // No spare yet: a new batch as large as this one, not one grown by doubling (each doubling copied the
            // batch so far).
            let mut fresh = self
                .spare
                .try_recv()
                .unwrap_or_else(|_| self.batch.empty_like());
            fresh.part = self.batch.part;
            fresh.text.clear();
            fresh.slots.clear();
            fresh.spans.clear();
            fresh.records.clear();
            let b = std::mem::replace(&mut self.batch, fresh);
            self.send(Message::Batch(b));
        }
    }
}

impl RecordSink for Batcher {
    fn labels(&mut self, labels: Option<&[String]>) {
        self.send(Message::Labels(labels.map(<[String]>::to_vec)));
    }

    /// A batch holds the records of one part: a new part starts a new batch.
    fn begin_part(&mut self, index: u32) {
        self.flush();
        self.batch.part = index;
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

/// The reading thread's work: `read` fills batches, sent on `tx`, reusing the ones that come back on `spare`.
fn read_batches(
    source: &Source,
    read: ReadFn,
    tx: SyncSender<Message>,
    spare: Receiver<Batch>,
) -> Result<ReadStats, DataError> {
    let mut b = Batcher {
        tx,
        spare,
        batch: Batch::default(),
        closed: false,
    };
    let result = read(source, &mut b);
    b.flush();
    result
}

/// Hands every message to `sink` on this thread, and each replayed batch back to the reader.
fn consume(
    messages: impl IntoIterator<Item = Message>,
    sink: &mut dyn RecordSink,
    spare: &SyncSender<Batch>,
) {
    for message in messages {
        match message {
            Message::Labels(l) => sink.labels(l.as_deref()),
            Message::Batch(b) => {
                b.replay(sink);
                // Full means the reader has enough spares: this one is dropped.
                let _ = spare.try_send(b);
            }
        }
    }
}

/// A finished thread's result; a panic on it is a bug, so it surfaces as one here.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match handle.join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Reads `source` with `read` on a second thread, feeding `sink` on this one.
pub fn threaded(
    source: &Source,
    sink: &mut dyn RecordSink,
    read: ReadFn,
) -> Result<ReadStats, DataError> {
    let (tx, rx) = sync_channel::<Message>(IN_FLIGHT);
    let (spare_tx, spare) = sync_channel::<Batch>(IN_FLIGHT);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_batches(source, read, tx, spare));
        consume(rx, sink, &spare_tx);
        joined(reader)
    })
}

/// The part of a sink's work that runs on a worker thread, one batch at a time.
pub(crate) trait BatchWorker: Send {
    /// What the caller's thread needs from one batch.
    type Output: Send;
    fn run(&mut self, batch: &Batch) -> Self::Output;
}

/// A sink that can hand the per-record part of its work to [`BatchWorker`]s.
pub(crate) trait ParallelSink: RecordSink {
    type Worker: BatchWorker;
    /// A worker, asked once the labels are in; `None` keeps every record on the caller's thread.
    fn worker(&self) -> Option<Self::Worker>;
    /// Takes one batch's output, in batch order; the batch is there for the records the output points at.
    fn merge(&mut self, batch: &Batch, output: <Self::Worker as BatchWorker>::Output);
}

/// Batches taken by workers and not yet merged, per worker: enough that a worker finds the next batch waiting
/// while the caller merges, few enough that memory stays a few batches.
const WINDOW_PER_WORKER: usize = 3;

/// What the workers share: the reader's batches, numbered as they are taken, the tickets, and whether the batches
/// have run out.
struct Queue<I> {
    batches: I,
    tickets: Receiver<()>,
    taken: u64,
    ended: bool,
}

/// Reads `source` with `read` on one thread, runs `workers` of `sink`'s workers on as many threads and merges
/// their outputs on this one, in the order of the records.
///
/// Workers take the next batch from one shared queue as soon as they are free, so a worker that is slow on a batch
/// (or preempted: there are more threads than cores) never holds the others back, as a fixed round robin did;
/// outputs come back in any order and are merged in batch order. Tickets bound the batches between the oldest one
/// not merged and the newest one taken (a worker takes a ticket with each batch, the caller gives it back when it
/// has merged one), so a stalled worker cannot make the others buffer the whole file.
pub(crate) fn parallel<S: ParallelSink>(
    source: &Source,
    sink: &mut S,
    read: ReadFn,
    workers: usize,
) -> Result<ReadStats, DataError> {
    let (tx, rx) = sync_channel::<Message>(IN_FLIGHT);
    // Room for every batch that can be out at once (queued, taken, being merged, being filled), so that each one
    // comes back to the reader to be filled again.
    let (spare_tx, spare) = sync_channel::<Batch>(IN_FLIGHT + workers * WINDOW_PER_WORKER + 2);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_batches(source, read, tx, spare));
        let mut rx = rx.into_iter();
        // The labels come first; batches before them (never, from our readers) are replayed here.
        let mut early = Vec::new();
        for message in rx.by_ref() {
            match message {
                Message::Labels(l) => {
                    sink.labels(l.as_deref());
                    break;
                }
                Message::Batch(b) => early.push(b),
            }
        }
        for b in &early {
            b.replay(sink);
        }
        let crew: Vec<S::Worker> = if early.is_empty() {
            (0..workers).map_while(|_| sink.worker()).collect()
        } else {
            vec![]
        };
        if crew.is_empty() {
            consume(rx, sink, &spare_tx);
        } else {
            run_crew(scope, rx, crew, sink, &spare_tx);
        }
        joined(reader)
    })
}

/// Runs `crew` on threads of `scope` over the reader's `batches` and merges their outputs into `sink` in batch
/// order, handing each merged batch back to the reader through `spare` (see [`parallel`]).
fn run_crew<'scope, S: ParallelSink>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    batches: std::sync::mpsc::IntoIter<Message>,
    crew: Vec<S::Worker>,
    sink: &mut S,
    spare: &SyncSender<Batch>,
) where
    S::Worker: 'scope,
{
    type Out<S> = <<S as ParallelSink>::Worker as BatchWorker>::Output;
    let window = crew.len() * WINDOW_PER_WORKER;
    let (ticket_tx, tickets) = sync_channel::<()>(window);
    for _ in 0..window {
        let _ = ticket_tx.try_send(());
    }
    let queue = std::sync::Arc::new(std::sync::Mutex::new(Queue {
        batches,
        tickets,
        taken: 0,
        ended: false,
    }));
    let (out_tx, out_rx) = sync_channel::<(u64, Batch, Out<S>)>(window);
    let mut handles = Vec::new();
    for mut w in crew {
        let (out_tx, queue) = (out_tx.clone(), queue.clone());
        handles.push(scope.spawn(move || {
            while let Some((seq, batch)) = take(&queue) {
                let out = w.run(&batch);
                if out_tx.send((seq, batch, out)).is_err() {
                    break;
                }
            }
        }));
    }
    drop(out_tx);
    // Outputs that came back before an earlier batch's, by batch number.
    let mut waiting = std::collections::BTreeMap::new();
    let mut next = 0u64;
    for (seq, batch, out) in out_rx {
        waiting.insert(seq, (batch, out));
        while let Some((batch, out)) = waiting.remove(&next) {
            sink.merge(&batch, out);
            let _ = spare.try_send(batch);
            let _ = ticket_tx.try_send(());
            next += 1;
        }
    }
    // Everything a worker counted went back with its batches; joining only surfaces a panic.
    for h in handles {
        joined(h);
    }
}

/// A worker's next batch and its number, once a ticket is free; `None` when the reader's batches have run out (or
/// a thread panicked holding the queue: the panic surfaces when that thread is joined).
fn take<I: Iterator<Item = Message>>(queue: &std::sync::Mutex<Queue<I>>) -> Option<(u64, Batch)> {
    let mut q = queue.lock().ok()?;
    loop {
        if q.ended {
            return None;
        }
        // Waiting for a ticket with the queue held is what keeps the numbering in order; the caller gives tickets
        // back without the queue, so this cannot deadlock.
        q.tickets.recv().ok()?;
        match q.batches.next() {
            Some(Message::Batch(b)) => {
                let seq = q.taken;
                q.taken += 1;
                return Some((seq, b));
            }
            // Labels come once, before any batch: one later is not for the workers (its ticket is spent).
            Some(Message::Labels(_)) => continue,
            None => {
                q.ended = true;
                return None;
            }
        }
    }
}
