//! A pickle opcode walker: it follows the unpickler's stack and memo (protocols 0 to 5) without running anything,
//! so that it knows which globals the stream imports — including those that protocol 4's `STACK_GLOBAL` takes
//! from strings on the stack or in the memo — and which values it calls.
//!
//! Values are tracked as far as the scan needs them (strings, small integers, tuples, dicts, globals and the
//! objects calls make), within caps; everything else is an opaque value. joblib's arrays, whose raw bytes sit
//! in the middle of the stream after their wrapper's `BUILD`, are stepped over as joblib reads them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::rc::Rc;

use super::policy::{classify, Class};
use super::Findings;

/// Longest string kept (a module or class name is far shorter; longer ones are opaque).
const MAX_STR: u64 = 1024;
/// Items kept per tuple, list or dict (a joblib wrapper's state has 6, a dtype's 8).
const MAX_ITEMS: usize = 32;
/// Longest text line (protocol 0 arguments).
const MAX_LINE: usize = 64 * 1024;
/// Nested pickles (joblib object arrays) followed.
const MAX_DEPTH: usize = 8;
/// Longest nested pickle kept to be read a second time (see [`Vm::plain_reading`]).
const MAX_RECORD: usize = 16 << 20;
/// Values held on the stack and under its marks at once (a pickle of data holds a few thousand at most: the
/// pickler batches appends by 1,000); more is a stream made to exhaust memory. Checked every [`HELD_EVERY`]
/// opcodes, which is when it can have grown by that many.
const MAX_HELD: usize = 2 << 20;
const HELD_EVERY: u64 = 1 << 16;

/// Why a stream could not be walked to its end.
#[derive(Debug)]
pub(super) enum StreamError {
    /// The bytes are not a pickle the unpickler would load (it would stop there with an error).
    Malformed {
        offset: u64,
        message: String,
    },
    /// The walker cannot follow what comes next (e.g. a joblib array it cannot size).
    Unscannable {
        offset: u64,
        message: String,
    },
    Io(std::io::Error),
}

impl From<std::io::Error> for StreamError {
    fn from(e: std::io::Error) -> Self {
        StreamError::Io(e)
    }
}

/// A byte source that knows its offset.
pub(super) struct Input<R> {
    r: BufReader<R>,
    pub(super) pos: u64,
    /// When set, every byte read is also kept here (up to [`MAX_RECORD`]; `None` inside means it overflowed).
    record: Option<Option<Vec<u8>>>,
}

impl<R: Read> Input<R> {
    pub(super) fn new(r: R) -> Self {
        Input {
            r: BufReader::with_capacity(1 << 16, r),
            pos: 0,
            record: None,
        }
    }

    fn keep(&mut self, b: &[u8]) {
        if let Some(rec) = &mut self.record {
            match rec {
                Some(v) if v.len() + b.len() <= MAX_RECORD => v.extend_from_slice(b),
                _ => *rec = None,
            }
        }
    }

    fn truncated(&self) -> StreamError {
        StreamError::Malformed {
            offset: self.pos,
            message: "the stream ends in the middle of a pickle".into(),
        }
    }

    pub(super) fn peek(&mut self) -> Result<Option<u8>, StreamError> {
        Ok(self.r.fill_buf()?.first().copied())
    }

    fn byte(&mut self) -> Result<u8, StreamError> {
        let b = self.peek()?.ok_or_else(|| self.truncated())?;
        self.r.consume(1);
        self.pos += 1;
        self.keep(&[b]);
        Ok(b)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], StreamError> {
        let mut a = [0u8; N];
        match self.r.read_exact(&mut a) {
            Ok(()) => {
                self.pos += N as u64;
                self.keep(&a);
                Ok(a)
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(self.truncated()),
            Err(e) => Err(e.into()),
        }
    }

    fn bytes(&mut self, n: u64) -> Result<Vec<u8>, StreamError> {
        let mut v = Vec::with_capacity(n.min(MAX_STR) as usize);
        let got = (&mut self.r).take(n).read_to_end(&mut v)? as u64;
        self.pos += got;
        self.keep(&v);
        if got < n {
            return Err(self.truncated());
        }
        Ok(v)
    }

    pub(super) fn skip(&mut self, n: u64) -> Result<(), StreamError> {
        if self.record.is_some() {
            // Recording: read through keep() (a record that grows past its cap stops recording).
            let mut left = n;
            while left > 0 {
                let chunk = self.bytes(left.min(1 << 16))?;
                left -= chunk.len() as u64;
            }
            return Ok(());
        }
        let got = std::io::copy(&mut (&mut self.r).take(n), &mut std::io::sink())?;
        self.pos += got;
        if got < n {
            return Err(self.truncated());
        }
        Ok(())
    }

    fn line(&mut self) -> Result<Vec<u8>, StreamError> {
        let mut v = vec![];
        let got = (&mut self.r)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut v)?;
        self.pos += got as u64;
        self.keep(&v);
        if v.last() != Some(&b'\n') {
            return Err(if got > MAX_LINE {
                StreamError::Malformed {
                    offset: self.pos,
                    message: "a text argument longer than 64 KiB".into(),
                }
            } else {
                self.truncated()
            });
        }
        v.pop();
        if v.last() == Some(&b'\r') {
            v.pop();
        }
        Ok(v)
    }
}

#[derive(Debug, Clone)]
pub(super) struct Global {
    pub module: String,
    pub name: String,
    class: Class,
}

#[derive(Debug, Clone)]
struct Obj {
    class: V,
    args: V,
    state: Option<V>,
}

#[derive(Debug, Clone)]
enum V {
    Str(Rc<str>),
    Int(i64),
    Bool(bool),
    None,
    Tuple(Rc<Vec<V>>),
    List(Rc<Vec<V>>),
    Dict(Rc<Vec<(V, V)>>),
    Global(Rc<Global>),
    /// Shared with the memo: BUILD sets the state that a later memo read sees.
    Obj(Rc<RefCell<Obj>>),
    Other,
}

impl V {
    fn str(&self) -> Option<&str> {
        match self {
            V::Str(s) => Some(s),
            _ => None,
        }
    }
    fn int(&self) -> Option<i64> {
        match self {
            V::Int(i) => Some(*i),
            V::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }
    fn items(&self) -> Option<&[V]> {
        match self {
            V::Tuple(t) | V::List(t) => Some(t),
            _ => None,
        }
    }
    fn get(&self, key: &str) -> Option<&V> {
        match self {
            V::Dict(d) => d.iter().find(|(k, _)| k.str() == Some(key)).map(|(_, v)| v),
            _ => None,
        }
    }
}

fn capped(mut v: Vec<V>) -> Vec<V> {
    v.truncate(MAX_ITEMS);
    v
}

fn text(b: Vec<u8>) -> V {
    match String::from_utf8(b) {
        Ok(s) => V::Str(s.into()),
        Err(_) => V::Other,
    }
}

/// Walks one pickle, from its first opcode through `STOP`. `entry` names where the stream is (a zip entry).
pub(super) fn walk<R: Read>(
    input: &mut Input<R>,
    out: &mut Findings,
    allow: &[String],
    entry: &str,
) -> Result<(), StreamError> {
    Vm::new(allow, entry, 0).run(input, out)
}

/// Walks one pickle as `pickle.load` reads bytes of any file: with no persistent-ID loader, and stopping with an
/// error wherever the unpickler would (a name that cannot be imported, a number that does not parse), so that a
/// file that is no pickle ends at once, before it names anything.
pub(super) fn walk_plain<R: Read>(
    input: &mut Input<R>,
    out: &mut Findings,
    allow: &[String],
    entry: &str,
) -> Result<(), StreamError> {
    let mut vm = Vm::new(allow, entry, 0);
    vm.plain_load = true;
    vm.run(input, out)
}

struct Vm<'a> {
    stack: Vec<V>,
    meta: Vec<Vec<V>>,
    memo: HashMap<u64, V>,
    allow: &'a [String],
    entry: &'a str,
    depth: usize,
    /// Reading the stream as `pickle.load` would where joblib reads it otherwise (see [`Vm::plain_reading`]):
    /// only importable names on the deny-list are findings, and errors end the reading quietly.
    shadow: bool,
    /// Whether the first joblib array, where the two readings part, was seen.
    parted: bool,
    /// Reading a file as `pickle.load` does (see [`walk_plain`]): what the unpickler rejects is an error here.
    plain_load: bool,
}

/// A value the unpickler's STACK_GLOBAL rejects ("STACK_GLOBAL requires str"); a value the walker does not know
/// (an object a call made, or a global whose value a BUILD replaced) might be a string.
fn surely_not_str(v: &V) -> bool {
    matches!(
        v,
        V::Int(_) | V::Bool(_) | V::None | V::Tuple(_) | V::List(_) | V::Dict(_)
    )
}

/// Encodings `_codecs.encode` is called with in pickles (protocol 2 writes bytes as `encode(text, 'latin1')`).
/// Any other name makes the codec registry import a module by that name.
const PLAIN_ENCODINGS: &[&str] = &[
    "latin1",
    "latin-1",
    "latin_1",
    "iso-8859-1",
    "utf-8",
    "utf8",
    "ascii",
];

/// A dotted Python name (`os.path`, `Class.attr`): what an import could find. Anything else fails to import.
fn importable(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// What Python's `int()` reads: an optional sign, then digits.
fn is_integer(t: &str) -> bool {
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The class an object is an instance of: the called class, or the class `copyreg` reconstructs.
fn instance_class(o: &Obj) -> Option<Rc<Global>> {
    let V::Global(g) = &o.class else { return None };
    let via_copyreg = matches!(g.module.as_str(), "copyreg" | "copy_reg")
        && matches!(
            g.name.as_str(),
            "_reconstructor" | "__newobj__" | "__newobj_ex__"
        );
    if !via_copyreg {
        return Some(g.clone());
    }
    match o.args.items()?.first()? {
        V::Global(c) => Some(c.clone()),
        _ => None,
    }
}

impl<'a> Vm<'a> {
    fn new(allow: &'a [String], entry: &'a str, depth: usize) -> Self {
        Vm {
            stack: vec![],
            meta: vec![],
            memo: HashMap::new(),
            allow,
            entry,
            depth,
            shadow: false,
            parted: false,
            plain_load: false,
        }
    }

    fn malformed(&self, offset: u64, message: impl Into<String>) -> StreamError {
        StreamError::Malformed {
            offset,
            message: message.into(),
        }
    }

    fn pop(&mut self, at: u64) -> Result<V, StreamError> {
        self.stack
            .pop()
            .ok_or_else(|| self.malformed(at, "an opcode takes from an empty stack"))
    }

    fn top(&mut self, at: u64) -> Result<&mut V, StreamError> {
        match self.stack.last_mut() {
            Some(v) => Ok(v),
            None => Err(StreamError::Malformed {
                offset: at,
                message: "an opcode works on an empty stack".into(),
            }),
        }
    }

    fn pop_mark(&mut self, at: u64) -> Result<Vec<V>, StreamError> {
        let outer = self
            .meta
            .pop()
            .ok_or_else(|| self.malformed(at, "an opcode looks for a MARK that is not there"))?;
        Ok(std::mem::replace(&mut self.stack, outer))
    }

    fn memo_get(&self, idx: u64, at: u64) -> Result<V, StreamError> {
        self.memo.get(&idx).cloned().ok_or_else(|| {
            self.malformed(at, format!("memo entry {idx} is read before it is written"))
        })
    }

    fn memo_put(&mut self, idx: u64, at: u64) -> Result<(), StreamError> {
        // Tuples, lists and dicts are not needed back from the memo (a joblib wrapper's state and a dtype's
        // arguments are built on the stack, and objects keep theirs), and keeping them would hold every record
        // of a data-heavy pickle.
        let v = match self.top(at)? {
            V::List(_) | V::Dict(_) | V::Tuple(_) => V::Other,
            v => v.clone(),
        };
        self.memo.insert(idx, v);
        Ok(())
    }

    fn global(&mut self, module: &str, name: &str, at: u64, out: &mut Findings, how: &str) -> V {
        if self.shadow && !(importable(module) && importable(name)) {
            return V::Other;
        }
        let how = if self.shadow {
            format!("read with pickle.load rather than joblib, {how}")
        } else {
            how.to_string()
        };
        let class = classify(module, name, self.allow);
        let full = format!("{module}.{name}");
        if !self.shadow || matches!(class, Class::Dangerous(_)) {
            out.globals.insert(full.clone());
        }
        match &class {
            Class::Dangerous(why) => out.add(
                "pickle-dangerous-global",
                &full,
                self.entry,
                at,
                format!("{how} `{full}`, which {why}"),
            ),
            // Read as pickle.load would, the bytes are array data or a pickle meant for a fresh memo: names that
            // come out of them are mostly accidents, so only the deny-list is held against them.
            Class::Unknown if self.shadow => {}
            Class::Unknown => out.add(
                "pickle-unknown-global",
                &full,
                self.entry,
                at,
                format!("{how} `{full}`, which is not on the allow-list"),
            ),
            Class::Safe | Class::Lookup => {}
        }
        V::Global(Rc::new(Global {
            module: module.to_string(),
            name: name.to_string(),
            class,
        }))
    }

    /// `callable(*args)`, as REDUCE, NEWOBJ, INST and OBJ do.
    fn call(&mut self, callable: V, args: V, at: u64, out: &mut Findings) -> V {
        out.calls += 1;
        match &callable {
            V::Global(g) if g.class == Class::Lookup => {
                let names = args
                    .items()
                    .map(|a| (a.first().and_then(V::str), a.get(1).and_then(V::str)));
                if let Some((Some(m), Some(n))) = names {
                    let how = format!("looks up (through {}.{})", g.module, g.name);
                    return self.global(m, n, at, out, &how);
                }
                if self.shadow {
                    return V::Other;
                }
                out.add(
                    "pickle-unresolved-global",
                    &format!("{}.{}", g.module, g.name),
                    self.entry,
                    at,
                    format!(
                        "calls {}.{} with names the scan cannot read",
                        g.module, g.name
                    ),
                );
                V::Other
            }
            V::Global(g) => {
                if !self.shadow {
                    self.check_call_args(g, &args, at, out);
                }
                V::Obj(Rc::new(RefCell::new(Obj {
                    class: callable,
                    args,
                    state: None,
                })))
            }
            _ if self.shadow => V::Other,
            _ => {
                out.add(
                    "pickle-indirect-call",
                    "",
                    self.entry,
                    at,
                    "calls a value that is not a named global (an object a previous call made): the scan cannot tell what runs".to_string(),
                );
                V::Other
            }
        }
    }

    /// Allowed globals that are safe as types but do more when a pickle calls them with text: `_codecs.encode`
    /// looks its encoding up in the codec registry, which imports a module by that name; `numpy.matrix` parses a
    /// string argument with `ast.literal_eval`.
    fn check_call_args(&self, g: &Global, args: &V, at: u64, out: &mut Findings) {
        let full = format!("{}.{}", g.module, g.name);
        let items = args.items().unwrap_or(&[]);
        let problem = match full.as_str() {
            "_codecs.encode" => match items.get(1) {
                None => None,
                Some(V::Str(e)) if PLAIN_ENCODINGS.contains(&e.to_ascii_lowercase().as_str()) => None,
                Some(V::Str(e)) => Some(format!(
                    "calls `_codecs.encode` with encoding `{e}`, which makes the codec registry import a module"
                )),
                Some(_) => Some(
                    "calls `_codecs.encode` with an encoding the scan cannot read (the codec registry imports a module by that name)"
                        .to_string(),
                ),
            },
            "numpy.matrix" if items.iter().any(|a| matches!(a, V::Str(_) | V::Other)) => Some(
                "calls `numpy.matrix` with text (or a value the scan cannot read), which it evaluates".to_string(),
            ),
            _ => None,
        };
        if let Some(message) = problem {
            out.add("pickle-dangerous-global", &full, self.entry, at, message);
        }
    }

    fn run<R: Read>(
        &mut self,
        input: &mut Input<R>,
        out: &mut Findings,
    ) -> Result<(), StreamError> {
        loop {
            let at = input.pos;
            let op = input.byte()?;
            out.opcodes += 1;
            if out.opcodes.is_multiple_of(HELD_EVERY)
                && self.stack.len() + self.meta.iter().map(Vec::len).sum::<usize>() > MAX_HELD
            {
                return Err(StreamError::Unscannable {
                    offset: at,
                    message: format!("the stream holds more than {MAX_HELD} values at once"),
                });
            }
            match op {
                b'(' => {
                    let inner = std::mem::take(&mut self.stack);
                    self.meta.push(inner);
                }
                b'.' => return Ok(()),
                b'0' => {
                    if self.stack.pop().is_none() {
                        self.pop_mark(at)?;
                    }
                }
                b'1' => {
                    self.pop_mark(at)?;
                }
                b'2' => {
                    let v = self.top(at)?.clone();
                    self.stack.push(v);
                }
                b'F' => {
                    let l = input.line()?;
                    let parses = std::str::from_utf8(&l)
                        .ok()
                        .is_some_and(|t| t.trim().parse::<f64>().is_ok());
                    if self.plain_load && !parses {
                        return Err(self.malformed(at, "FLOAT argument is not a number"));
                    }
                    self.stack.push(V::Other);
                }
                b'P' => {
                    input.line()?;
                    if self.plain_load {
                        return Err(
                            self.malformed(at, "a persistent ID, which pickle.load refuses")
                        );
                    }
                    self.stack.push(V::Other);
                }
                b'I' => {
                    let l = input.line()?;
                    let v = match l.as_slice() {
                        b"00" => V::Bool(false),
                        b"01" => V::Bool(true),
                        s => match std::str::from_utf8(s).ok().map(str::trim) {
                            Some(t) if is_integer(t) => t.parse().map_or(V::Other, V::Int),
                            _ if self.plain_load => {
                                return Err(self.malformed(at, "INT argument is not a number"))
                            }
                            _ => V::Other,
                        },
                    };
                    self.stack.push(v);
                }
                b'L' => {
                    let l = input.line()?;
                    let t = std::str::from_utf8(&l)
                        .ok()
                        .map(|s| s.trim().trim_end_matches('L'));
                    let v = match t {
                        Some(t) if is_integer(t) => t.parse().map_or(V::Other, V::Int),
                        _ if self.plain_load => {
                            return Err(self.malformed(at, "LONG argument is not a number"))
                        }
                        _ => V::Other,
                    };
                    self.stack.push(v);
                }
                b'J' => {
                    let v = i32::from_le_bytes(input.array()?);
                    self.stack.push(V::Int(v as i64));
                }
                b'K' => {
                    let v = input.byte()?;
                    self.stack.push(V::Int(v as i64));
                }
                b'M' => {
                    let v = u16::from_le_bytes(input.array()?);
                    self.stack.push(V::Int(v as i64));
                }
                b'N' => self.stack.push(V::None),
                0x88 => self.stack.push(V::Bool(true)),
                0x89 => self.stack.push(V::Bool(false)),
                b'G' => {
                    input.array::<8>()?;
                    self.stack.push(V::Other);
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a {
                        input.byte()? as u64
                    } else {
                        let n = i32::from_le_bytes(input.array()?);
                        if n < 0 {
                            return Err(self.malformed(at, "LONG4 with a negative length"));
                        }
                        n as u64
                    };
                    if n <= 8 {
                        let b = input.bytes(n)?;
                        let mut buf = [0u8; 8];
                        if b.last().is_some_and(|x| x & 0x80 != 0) {
                            buf = [0xff; 8];
                        }
                        buf[..b.len()].copy_from_slice(&b);
                        self.stack.push(V::Int(i64::from_le_bytes(buf)));
                    } else {
                        input.skip(n)?;
                        self.stack.push(V::Other);
                    }
                }
                b'S' => {
                    let l = input.line()?;
                    let s = l.as_slice();
                    let q = s.first().copied();
                    let inner = if (q == Some(b'\'') || q == Some(b'"'))
                        && s.len() >= 2
                        && s.last().copied() == q
                    {
                        s[1..s.len() - 1].to_vec()
                    } else {
                        return Err(self.malformed(at, "STRING argument is not quoted"));
                    };
                    self.stack.push(text(inner));
                }
                b'V' => {
                    let l = input.line()?;
                    self.stack.push(text(l));
                }
                b'T' | b'X' | b'U' | 0x8c | 0x8d => {
                    let n = match op {
                        b'T' => {
                            let n = i32::from_le_bytes(input.array()?);
                            if n < 0 {
                                return Err(self.malformed(at, "BINSTRING with a negative length"));
                            }
                            n as u64
                        }
                        b'X' => u32::from_le_bytes(input.array()?) as u64,
                        0x8d => u64::from_le_bytes(input.array()?),
                        _ => input.byte()? as u64,
                    };
                    if n <= MAX_STR {
                        let b = input.bytes(n)?;
                        self.stack.push(text(b));
                    } else {
                        input.skip(n)?;
                        self.stack.push(V::Other);
                    }
                }
                b'B' | b'C' | 0x8e | 0x96 => {
                    let n = match op {
                        b'B' => u32::from_le_bytes(input.array()?) as u64,
                        b'C' => input.byte()? as u64,
                        _ => u64::from_le_bytes(input.array()?),
                    };
                    input.skip(n)?;
                    self.stack.push(V::Other);
                }
                b'a' => {
                    let v = self.pop(at)?;
                    if let V::List(l) = self.top(at)? {
                        if l.len() < MAX_ITEMS {
                            Rc::make_mut(l).push(v);
                        }
                    }
                }
                b'e' => {
                    let items = self.pop_mark(at)?;
                    if let V::List(l) = self.top(at)? {
                        let l = Rc::make_mut(l);
                        let room = MAX_ITEMS.saturating_sub(l.len());
                        l.extend(items.into_iter().take(room));
                    }
                }
                b's' => {
                    let v = self.pop(at)?;
                    let k = self.pop(at)?;
                    if let V::Dict(d) = self.top(at)? {
                        if d.len() < MAX_ITEMS {
                            Rc::make_mut(d).push((k, v));
                        }
                    }
                }
                b'u' => {
                    let items = self.pop_mark(at)?;
                    if items.len() % 2 != 0 {
                        return Err(self.malformed(at, "SETITEMS with an odd number of items"));
                    }
                    if let V::Dict(d) = self.top(at)? {
                        let d = Rc::make_mut(d);
                        let mut it = items.into_iter();
                        while let (Some(k), Some(v)) = (it.next(), it.next()) {
                            if d.len() < MAX_ITEMS {
                                d.push((k, v));
                            }
                        }
                    }
                }
                b'd' => {
                    let items = self.pop_mark(at)?;
                    let mut pairs = vec![];
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        if pairs.len() < MAX_ITEMS {
                            pairs.push((k, v));
                        }
                    }
                    self.stack.push(V::Dict(Rc::new(pairs)));
                }
                b'}' => self.stack.push(V::Dict(Rc::default())),
                b']' => self.stack.push(V::List(Rc::default())),
                b')' => self.stack.push(V::Tuple(Rc::default())),
                0x8f => self.stack.push(V::Other),
                b'l' => {
                    let items = self.pop_mark(at)?;
                    self.stack.push(V::List(Rc::new(capped(items))));
                }
                b't' => {
                    let items = self.pop_mark(at)?;
                    self.stack.push(V::Tuple(Rc::new(capped(items))));
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    if self.stack.len() < n {
                        return Err(self.malformed(at, "TUPLE opcode on too short a stack"));
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.stack.push(V::Tuple(Rc::new(items)));
                }
                0x90 => {
                    self.pop_mark(at)?;
                    self.top(at)?;
                }
                0x91 => {
                    self.pop_mark(at)?;
                    self.stack.push(V::Other);
                }
                b'g' | b'h' | b'j' => {
                    let idx = match op {
                        b'g' => self.line_index(input, at)?,
                        b'h' => input.byte()? as u64,
                        _ => u32::from_le_bytes(input.array()?) as u64,
                    };
                    let v = self.memo_get(idx, at)?;
                    self.stack.push(v);
                }
                b'p' | b'q' | b'r' => {
                    let idx = match op {
                        b'p' => self.line_index(input, at)?,
                        b'q' => input.byte()? as u64,
                        _ => u32::from_le_bytes(input.array()?) as u64,
                    };
                    self.memo_put(idx, at)?;
                }
                0x94 => {
                    let idx = self.memo.len() as u64;
                    self.memo_put(idx, at)?;
                }
                b'c' | b'i' => {
                    let module = input.line()?;
                    let name = input.line()?;
                    if self.plain_load {
                        // The unpickler decodes both as UTF-8 and imports the module: otherwise it stops here.
                        let ok = |b: &[u8]| std::str::from_utf8(b).is_ok_and(importable);
                        if !(ok(&module) && ok(&name)) {
                            return Err(self.malformed(at, "GLOBAL names no importable module"));
                        }
                    }
                    let module = String::from_utf8_lossy(&module).into_owned();
                    let name = String::from_utf8_lossy(&name).into_owned();
                    let how = if op == b'c' {
                        "imports"
                    } else {
                        "instantiates"
                    };
                    let g = self.global(&module, &name, at, out, how);
                    if op == b'c' {
                        self.stack.push(g);
                    } else {
                        let args = self.pop_mark(at)?;
                        let v = self.call(g, V::Tuple(Rc::new(capped(args))), at, out);
                        self.stack.push(v);
                    }
                }
                0x93 => {
                    let name = self.pop(at)?;
                    let module = self.pop(at)?;
                    let v = match (module.str(), name.str()) {
                        (Some(m), Some(n)) => {
                            let (m, n) = (m.to_string(), n.to_string());
                            self.global(&m, &n, at, out, "imports")
                        }
                        _ if self.shadow => V::Other,
                        _ if self.plain_load
                            && (surely_not_str(&module) || surely_not_str(&name)) =>
                        {
                            return Err(self.malformed(at, "STACK_GLOBAL requires strings"));
                        }
                        _ => {
                            out.add(
                                "pickle-unresolved-global",
                                "",
                                self.entry,
                                at,
                                "STACK_GLOBAL takes a module or name the scan cannot read"
                                    .to_string(),
                            );
                            V::Other
                        }
                    };
                    self.stack.push(v);
                }
                b'R' => {
                    let args = self.pop(at)?;
                    let callable = self.pop(at)?;
                    let v = self.call(callable, args, at, out);
                    self.stack.push(v);
                }
                0x81 => {
                    let args = self.pop(at)?;
                    let cls = self.pop(at)?;
                    let v = self.call(cls, args, at, out);
                    self.stack.push(v);
                }
                0x92 => {
                    let _kwargs = self.pop(at)?;
                    let args = self.pop(at)?;
                    let cls = self.pop(at)?;
                    let v = self.call(cls, args, at, out);
                    self.stack.push(v);
                }
                b'o' => {
                    let mut items = self.pop_mark(at)?;
                    if items.is_empty() {
                        return Err(self.malformed(at, "OBJ without a class"));
                    }
                    let cls = items.remove(0);
                    let v = self.call(cls, V::Tuple(Rc::new(capped(items))), at, out);
                    self.stack.push(v);
                }
                b'b' => {
                    let state = self.pop(at)?;
                    let plain = self.shadow;
                    let entry = self.entry;
                    let top = self.top(at)?;
                    let mut wrapper = false;
                    if let V::Global(g) = top {
                        if !plain {
                            let full = format!("{}.{}", g.module, g.name);
                            out.add(
                                "pickle-global-mutation",
                                &full,
                                entry,
                                at,
                                format!("BUILD sets attributes of `{full}` (a module, class or function, not an object the pickle made): what its names mean afterwards cannot be told"),
                            );
                        }
                    }
                    if let V::Obj(o) = top {
                        let mut o = o.borrow_mut();
                        wrapper = !plain
                            && instance_class(&o).is_some_and(|g| {
                                g.name == "NumpyArrayWrapper" && g.module.ends_with("numpy_pickle")
                            });
                        o.state = Some(state);
                    }
                    if wrapper {
                        let v = std::mem::replace(top, V::Other);
                        self.joblib_array(&v, input, out)?;
                    }
                }
                0x80 => {
                    let p = input.byte()?;
                    if p > 5 {
                        return Err(
                            self.malformed(at, format!("pickle protocol {p} is newer than 5"))
                        );
                    }
                    out.protocol = Some(out.protocol.map_or(p, |q| q.max(p)));
                }
                0x95 => {
                    input.array::<8>()?;
                }
                0x82..=0x84 => {
                    let code = match op {
                        0x82 => input.byte()? as u32,
                        0x83 => u16::from_le_bytes(input.array()?) as u32,
                        _ => i32::from_le_bytes(input.array()?) as u32,
                    };
                    if !self.shadow {
                        out.add(
                        "pickle-unknown-global",
                        &format!("extension {code}"),
                        self.entry,
                        at,
                        format!("imports extension code {code} (copyreg's registry), which the scan cannot name"),
                    );
                    }
                    self.stack.push(V::Other);
                }
                b'Q' => {
                    self.pop(at)?;
                    if self.plain_load {
                        return Err(
                            self.malformed(at, "a persistent ID, which pickle.load refuses")
                        );
                    }
                    self.stack.push(V::Other);
                }
                0x97 => self.stack.push(V::Other),
                0x98 => {
                    self.top(at)?;
                }
                _ => {
                    return Err(self.malformed(at, format!("unknown opcode 0x{op:02x}")));
                }
            }
        }
    }

    fn line_index<R: Read>(&self, input: &mut Input<R>, at: u64) -> Result<u64, StreamError> {
        let l = input.line()?;
        std::str::from_utf8(&l)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| self.malformed(at, "a memo index that is not a number"))
    }

    /// joblib writes each array's bytes right after its `NumpyArrayWrapper`'s BUILD: a padding byte and padding
    /// when the wrapper has `numpy_array_alignment_bytes`, then `count × itemsize` bytes; an array of Python
    /// objects is a nested pickle instead, read with a fresh memo.
    ///
    /// At the first array, `pickle.load` and `joblib.load` part ways: `pickle.load` reads those bytes as opcodes,
    /// with the stack and memo it has. A file crafted for both is read both ways ([`Vm::plain_reading`]).
    fn joblib_array<R: Read>(
        &mut self,
        wrapper: &V,
        input: &mut Input<R>,
        out: &mut Findings,
    ) -> Result<(), StreamError> {
        let at = input.pos;
        let unscannable = |m: &str| StreamError::Unscannable {
            offset: at,
            message: format!("a joblib array {m}: the scan cannot step over its bytes"),
        };
        let V::Obj(o) = wrapper else { return Ok(()) };
        let o = o.borrow();
        let state = o
            .state
            .as_ref()
            .ok_or_else(|| unscannable("without state"))?;
        if matches!(state, V::Dict(d) if d.len() >= MAX_ITEMS) {
            return Err(unscannable("with more state than the scan keeps"));
        }
        let dtype = state
            .get("dtype")
            .ok_or_else(|| unscannable("without a dtype"))?;
        let (itemsize, has_object) =
            dtype_info(dtype, 0).ok_or_else(|| unscannable("whose dtype is not understood"))?;
        out.joblib_arrays += 1;
        let part = self.depth == 0 && !self.parted;
        self.parted = true;
        if has_object {
            if self.depth >= MAX_DEPTH {
                return Err(unscannable("nested too deep"));
            }
            let mut inner = Vm::new(self.allow, self.entry, self.depth + 1);
            inner.parted = true;
            out.pickles += 1;
            if part {
                input.record = Some(Some(vec![]));
            }
            let walked = inner.run(input, out);
            let record = input.record.take();
            walked?;
            if part {
                let Some(Some(bytes)) = record else {
                    return Err(unscannable(
                        "of objects longer than the scan keeps to read it as pickle.load would",
                    ));
                };
                let total = bytes.len() as u64;
                let mut src: &[u8] = &bytes;
                let mut region = Input::new(&mut src as &mut dyn Read);
                region.pos = at;
                self.plain_reading(&mut region, total, at, out)?;
            }
            return Ok(());
        }
        let shape = state
            .get("shape")
            .ok_or_else(|| unscannable("without a shape"))?;
        let count = match shape {
            V::Int(n) => u64::try_from(*n).ok(),
            other => other.items().and_then(|dims| {
                dims.iter().try_fold(1u64, |acc, d| {
                    acc.checked_mul(u64::try_from(d.int()?).ok()?)
                })
            }),
        }
        .ok_or_else(|| unscannable("whose shape is not understood"))?;
        let bytes = count
            .checked_mul(itemsize)
            .ok_or_else(|| unscannable("too large"))?;
        let aligned = state
            .get("numpy_array_alignment_bytes")
            .is_some_and(|v| !matches!(v, V::None));
        let padding = if aligned {
            // The padding byte says how much padding follows it.
            1 + input.peek()?.ok_or_else(|| input.truncated())? as u64
        } else {
            0
        };
        let total = padding + bytes;
        if part {
            let mut take = (&mut input.r).take(total);
            let mut region = Input::new(&mut take as &mut dyn Read);
            region.pos = at;
            self.plain_reading(&mut region, total, at, out)?;
            let read = region.pos - at + std::io::copy(&mut region.r, &mut std::io::sink())?;
            // Whatever the region's reader buffered came out of the take: it read exactly `read` bytes.
            input.pos += read;
            if read < total {
                return Err(input.truncated());
            }
            return Ok(());
        }
        input.skip(total)
    }

    /// Reads `region` (the first joblib array's bytes, `total` of them from offset `at`) as `pickle.load` would: as opcodes,
    /// from this walker's stack and memo. Globals that reading would import are findings. It ends where
    /// `pickle.load` would: at STOP, or at an error (what follows never runs). If it is still reading at the
    /// region's end, the two readings cannot be told apart from here, and that is unscannable.
    // A `dyn` reader: the shadow walker's own joblib arrays would otherwise instantiate a new reader type each.
    fn plain_reading(
        &self,
        region: &mut Input<&mut dyn Read>,
        total: u64,
        at: u64,
        out: &mut Findings,
    ) -> Result<(), StreamError> {
        let mut shadow = Vm {
            stack: self.stack.clone(),
            meta: self.meta.clone(),
            memo: self.memo.clone(),
            allow: self.allow,
            entry: self.entry,
            depth: self.depth,
            shadow: true,
            parted: true,
            plain_load: false,
        };
        match shadow.run(region, out) {
            Ok(()) => Ok(()),
            Err(StreamError::Io(e)) => Err(StreamError::Io(e)),
            Err(_) if region.pos < at + total => Ok(()),
            Err(_) => Err(StreamError::Unscannable {
                offset: at,
                message: "the first joblib array's bytes also read as pickle opcodes to their end: what pickle.load would do next cannot be told".into(),
            }),
        }
    }
}

/// A pickled `numpy.dtype`'s item size and whether it holds Python objects: the dtype is `REDUCE(numpy.dtype,
/// (code, False, True))` then `BUILD((3, byteorder, subarray, names, fields, elsize, alignment, flags))`.
/// Records (`fields`) and subarrays hold objects when any of their dtypes do; one the scan cannot read is None.
fn dtype_info(dtype: &V, depth: usize) -> Option<(u64, bool)> {
    let V::Obj(o) = dtype else { return None };
    let o = o.borrow();
    if !matches!(&o.class, V::Global(g) if g.name == "dtype") || depth > MAX_DEPTH {
        return None;
    }
    let code = o.args.items()?.first()?.str()?;
    let state = o.state.as_ref().and_then(V::items);
    let field = |i: usize| state.and_then(|s| s.get(i));
    let elsize = field(5).and_then(V::int).filter(|n| *n > 0);
    let flags = field(7).and_then(V::int).unwrap_or(0);
    let kind = code.trim_start_matches(['<', '>', '=', '|']);
    let letters: String = kind
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let digits: u64 = kind[letters.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0);
    let mut has_object = letters == "O" || flags & 1 != 0;
    // fields: {name: (dtype, offset[, title])}
    match field(4) {
        None | Some(V::None) => {}
        Some(V::Dict(d)) if d.len() < MAX_ITEMS => {
            for (_, f) in d.iter() {
                let sub = f.items()?.first()?;
                has_object |= dtype_info(sub, depth + 1)?.1;
            }
        }
        Some(_) => return None,
    }
    // subarray: (base dtype, shape)
    match field(2) {
        None | Some(V::None) => {}
        Some(V::Tuple(t)) => has_object |= dtype_info(t.first()?, depth + 1)?.1,
        Some(_) => return None,
    }
    let size = match (elsize, letters.as_str()) {
        (Some(n), _) => n as u64,
        (None, "U") => digits * 4,
        (None, "b" | "B" | "?") if digits == 0 => 1,
        (None, _) => digits,
    };
    (size > 0 || has_object).then_some((size, has_object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn importable_names() {
        assert!(importable("os"));
        assert!(importable("numpy._core.multiarray"));
        assert!(importable("Class.attr"));
        assert!(!importable(""));
        assert!(!importable("a..b"));
        assert!(!importable("9lives"));
        assert!(!importable("os\u{0}"));
        assert!(!importable("a b"));
    }
}
