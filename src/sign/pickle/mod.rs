//! The pickle scan: model files in pickle-based formats run code when they are loaded, so before such a file is
//! released its pickles are walked opcode by opcode and every global they import is held against an allow-list
//! ([`policy`]).
//!
//! What is read does not depend on a file's name. Every file is read as `pickle.load` would read it: a file that
//! is no pickle makes the unpickler stop before it names anything, and is then skipped; one that names or calls
//! something is judged, whatever its name or first bytes. Files whose first bytes another loader recognises are
//! also read as that loader reads them: joblib files (arrays inline; zlib- or gzip-compressed too), legacy
//! `torch.save` files (several pickles in a row), zip archives as `torch.load` reads them (every entry, flag bits
//! and CRC ignored; a zip directory appended to another file too), NumPy `.npy` with object arrays and `.npz`.
//! A joblib file is read both as joblib reads it and, from its first array on, as `pickle.load` would.
//!
//! Findings: `pickle-dangerous-global` (a global known to run code), `pickle-unknown-global` (not on the
//! allow-list), `pickle-unresolved-global` (a global the scan cannot name), `pickle-indirect-call` (a call of a
//! value that is no named global), `pickle-global-mutation` (BUILD on a module, class or function: later names
//! may mean something else), `pickle-malformed` (the unpickler would stop with an error there; what came before
//! was still scanned), `pickle-unscannable` (a part the scan cannot read, e.g. bz2-compressed joblib).
//! Each fails the check: what cannot be shown safe is not passed.

pub mod policy;
mod vm;

use std::collections::BTreeSet;
use std::io::{Read, Seek};
use std::path::Path;

use indexmap::IndexMap;
use serde_json::json;

use super::SignError;
use crate::report::{Check, Finding, Severity, Status};
use vm::{Input, StreamError};

/// The check kind of a scan.
pub const KIND: &str = "artifact-safety";

/// How to scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Globals allowed beyond the built-in list: `module.Name`, or `package.*` for a package and its
    /// submodules. The deny-list still applies.
    pub allow: Vec<String>,
}

/// What a walk found, accumulated over every pickle of a file.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    entries: IndexMap<(String, String), Acc>,
    pub globals: BTreeSet<String>,
    pub opcodes: u64,
    pub pickles: u64,
    pub protocol: Option<u8>,
    pub joblib_arrays: u64,
    /// Calls the stream makes (REDUCE, INST, OBJ, NEWOBJ).
    pub calls: u64,
}

#[derive(Debug)]
struct Acc {
    entry: String,
    offset: u64,
    message: String,
    count: u64,
}

impl Findings {
    /// Records a finding; the same code and value again only counts.
    pub(crate) fn add(
        &mut self,
        code: &str,
        value: &str,
        entry: &str,
        offset: u64,
        message: String,
    ) {
        self.entries
            .entry((code.to_string(), value.to_string()))
            .and_modify(|a| a.count += 1)
            .or_insert(Acc {
                entry: entry.to_string(),
                offset,
                message,
                count: 1,
            });
    }

    /// Adds what another walk found.
    fn merge(&mut self, other: Findings) {
        for (key, acc) in other.entries {
            match self.entries.entry(key) {
                indexmap::map::Entry::Occupied(mut e) => e.get_mut().count += acc.count,
                indexmap::map::Entry::Vacant(e) => {
                    e.insert(acc);
                }
            }
        }
        self.globals.extend(other.globals);
        self.opcodes += other.opcodes;
        self.pickles += other.pickles;
        self.joblib_arrays += other.joblib_arrays;
        self.calls += other.calls;
        self.protocol = match (self.protocol, other.protocol) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    fn stream_error(&mut self, e: StreamError, entry: &str) {
        match e {
            StreamError::Malformed { offset, message } => self.add(
                "pickle-malformed",
                "",
                entry,
                offset,
                format!("not a valid pickle: {message}"),
            ),
            StreamError::Unscannable { offset, message } => {
                self.add("pickle-unscannable", "", entry, offset, message)
            }
            StreamError::Io(e) => self.add(
                "pickle-malformed",
                "",
                entry,
                0,
                format!("cannot read: {e}"),
            ),
        }
    }
}

/// What the first bytes say: which loaders read the file besides `pickle.load` (which reads every file, whatever
/// its name or first bytes: the scan always reads it that way too).
enum Sniff {
    /// Starts with PROTO: a pickle by intent, so a stream the unpickler rejects is a finding.
    Pickle,
    TorchLegacy,
    /// `torch.load`, `numpy.load` (.npz) and `zipfile` readers.
    Zip,
    Npy,
    Gzip,
    Zlib,
    /// Compressed in a way the scan does not read (joblib reads it).
    Unreadable(&'static str),
    /// No other loader: only `pickle.load`'s reading applies. The text names the format for the summary.
    Other(&'static str),
}

const TORCH_LEGACY_MAGIC: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";

fn sniff(head: &[u8], ext: &str) -> Sniff {
    if head.starts_with(TORCH_LEGACY_MAGIC) {
        return Sniff::TorchLegacy;
    }
    if head.len() >= 2 && head[0] == 0x80 && head[1] <= 5 {
        return Sniff::Pickle;
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Sniff::Zip;
    }
    if head.starts_with(b"\x93NUMPY") {
        return Sniff::Npy;
    }
    if head.starts_with(b"\x1f\x8b") {
        return Sniff::Gzip;
    }
    if head.len() >= 2 && head[0] == 0x78 && matches!(head[1], 0x01 | 0x5e | 0x9c | 0xda) {
        return Sniff::Zlib;
    }
    if head.starts_with(b"BZh") {
        return Sniff::Unreadable("bz2-compressed");
    }
    if head.starts_with(b"\xfd7zXZ\x00") || head.starts_with(b"\x5d\x00\x00") {
        return Sniff::Unreadable("xz/lzma-compressed");
    }
    if head.starts_with(b"\x04\x22\x4d\x18") {
        return Sniff::Unreadable("lz4-compressed");
    }
    // Labels only: whether these run code is decided by reading them as pickle.load would.
    if head.starts_with(b"GGUF") {
        return Sniff::Other("GGUF");
    }
    if head.starts_with(b"\x89HDF\r\n\x1a\n") {
        return Sniff::Other("HDF5");
    }
    if head.len() >= 8 && &head[4..8] == b"TFL3" {
        return Sniff::Other("TFLite");
    }
    if head.len() >= 9
        && head[8] == b'{'
        && u64::from_le_bytes(head[..8].try_into().unwrap_or_default()) < 1 << 32
    {
        return Sniff::Other("safetensors");
    }
    if ext == "onnx" {
        return Sniff::Other("ONNX");
    }
    Sniff::Other("not a pickle-based format")
}

/// Scans one file; `subject` names it in the check. A file that cannot be opened is an error; everything the
/// scan finds in it is in the returned check.
///
/// What the scan reads does not depend on the file's name: every file is read as `pickle.load` would read it
/// (a file that is no pickle stops the unpickler before it names anything, and is then not a pickle), and
/// as each loader that recognises its first bytes would (joblib's compressed streams, `numpy.load`,
/// `torch.load`), and as a zip archive wherever its directory is.
pub fn scan(path: &Path, subject: &str, opts: &ScanOptions) -> Result<Check, SignError> {
    let mut file = std::fs::File::open(path).map_err(|e| SignError::io(path, e))?;
    let size = file.metadata().map_err(|e| SignError::io(path, e))?.len();
    let mut head = [0u8; 512];
    let n = read_up_to(&mut file, &mut head).map_err(|e| SignError::io(path, e))?;
    file.rewind().map_err(|e| SignError::io(path, e))?;
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let mut out = Findings::default();
    let allow = &opts.allow;
    let mut formats: Vec<String> = vec![];
    let sniffed = sniff(&head[..n], &ext);
    let mut label = "not a pickle-based format";
    match sniffed {
        Sniff::Pickle => {
            walk_all(Input::new(&file), &mut out, allow, "", None, true);
            formats.push(pickle_format(&out, &ext, None));
        }
        Sniff::TorchLegacy => {
            // magic, protocol, system info, the object, the storage keys; raw tensor bytes follow.
            walk_all(Input::new(&file), &mut out, allow, "", Some(5), true);
            formats.push("PyTorch (legacy)".into());
        }
        _ => {
            if walk_all(Input::new(&file), &mut out, allow, "", None, false) {
                formats.push(pickle_format(&out, &ext, None));
            }
            file.rewind().map_err(|e| SignError::io(path, e))?;
        }
    }
    match sniffed {
        Sniff::Pickle | Sniff::TorchLegacy => {}
        Sniff::Other(what) => label = what,
        Sniff::Unreadable(how) => {
            out.add(
                "pickle-unscannable",
                "",
                "",
                0,
                format!("{how} data: the scan reads plain, gzip and zlib streams; save the file uncompressed or with zlib/gzip (joblib: compress=('zlib', 3))"),
            );
            formats.push(how.to_string());
        }
        Sniff::Gzip | Sniff::Zlib => {
            let gz = matches!(sniffed, Sniff::Gzip);
            // Python's gzip module reads every member of a multi-member file, and so does joblib.
            let r: Box<dyn Read> = if gz {
                Box::new(flate2::read::MultiGzDecoder::new(&file))
            } else {
                Box::new(flate2::read::ZlibDecoder::new(&file))
            };
            let mut input = Input::new(r);
            label = "empty compressed stream";
            match input.peek() {
                Ok(Some(_)) => {
                    walk_all(input, &mut out, allow, "", None, true);
                    formats.push(pickle_format(
                        &out,
                        &ext,
                        Some(if gz { "gzip" } else { "zlib" }),
                    ));
                }
                Ok(None) => {}
                Err(e) => {
                    out.stream_error(e, "");
                    formats.push("compressed".into());
                }
            }
        }
        Sniff::Npy => {
            label = "NumPy .npy without Python objects";
            if npy(&file, &mut out, allow, "") {
                formats.push("NumPy .npy (object array)".into());
            }
        }
        Sniff::Zip => {
            label = "zip archive without pickles";
            match zip(&file, &mut out, allow) {
                Ok(Some(f)) => formats.push(f),
                Ok(None) => {}
                Err(e) => {
                    out.add(
                        "pickle-malformed",
                        "",
                        "",
                        0,
                        format!("not a readable zip archive: {e}"),
                    );
                    formats.push("zip".into());
                }
            }
        }
    }
    if n >= 262 && &head[257..262] == b"ustar" {
        file.rewind().map_err(|e| SignError::io(path, e))?;
        match tar(&file, &mut out, allow) {
            Ok(true) => formats.push("tar with pickles (legacy torch.save)".into()),
            Ok(false) => label = "tar archive without pickles",
            Err(e) => {
                out.add(
                    "pickle-malformed",
                    "",
                    "",
                    0,
                    format!("not a readable tar archive: {e}"),
                );
                formats.push("tar".into());
            }
        }
    }
    if !matches!(sniffed, Sniff::Zip) {
        // A zip directory at the end of a file that starts otherwise: `zipfile` readers find it there.
        file.rewind().map_err(|e| SignError::io(path, e))?;
        if let Ok(Some(f)) = zip(&file, &mut out, allow) {
            formats.push(format!("{f} (appended)"));
        }
    }
    if formats.is_empty() && out.entries.is_empty() {
        return Ok(skipped(subject, label, size));
    }
    if formats.is_empty() {
        formats.push("pickle".into());
    }
    Ok(finish(
        subject,
        &formats.join(" and "),
        size,
        out,
        &path.display().to_string(),
    ))
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// `joblib pickle (protocol 4, zlib)`.
fn pickle_format(out: &Findings, ext: &str, compression: Option<&str>) -> String {
    let base = if out.joblib_arrays > 0 || ext == "joblib" {
        "joblib pickle"
    } else {
        "pickle"
    };
    let protocol = match out.protocol {
        Some(p) => format!("protocol {p}"),
        None => "protocol 0/1".to_string(),
    };
    match compression {
        Some(c) => format!("{base} ({protocol}, {c})"),
        None => format!("{base} ({protocol})"),
    }
}

/// Walks pickles one after another, as `pickle.load` called in a loop reads them (legacy `torch.save` writes
/// several): one that starts with PROTO is a pickle by intent, and read strictly (what the unpickler rejects is
/// a finding); the first one too when `strict`. Any other is read as [`plain_one`] does. `max` stops after that
/// many. Returns whether any pickle was read.
fn walk_all<R: Read>(
    mut input: Input<R>,
    out: &mut Findings,
    allow: &[String],
    entry: &str,
    max: Option<u64>,
    mut strict: bool,
) -> bool {
    let mut n = 0;
    loop {
        if strict {
            out.pickles += 1;
            if let Err(e) = vm::walk(&mut input, out, allow, entry) {
                out.stream_error(e, entry);
                return true;
            }
        } else if !plain_one(&mut input, out, allow, entry) {
            return n > 0;
        }
        n += 1;
        if max.is_some_and(|m| n >= m) {
            return true;
        }
        match input.peek() {
            Ok(Some(b)) => strict = b == 0x80,
            Ok(None) => return true,
            Err(e) => {
                out.stream_error(e, entry);
                return true;
            }
        }
    }
}

/// Reads bytes as `pickle.load` would, not knowing whether they are a pickle: they are one if the unpickler
/// reaches STOP, or does something the scan reports before it stops with an error; otherwise they are not, and
/// nothing is recorded. Text often starts like a GLOBAL (`click\nnumpy\n` in a requirements file names
/// `lick.numpy`): a global that is only unknown, never called, in a stream that then fails is such an accident
/// (importing a module runs code only when the module is there to run, and known ones are on the deny-list).
fn plain_one<R: Read>(
    input: &mut Input<R>,
    out: &mut Findings,
    allow: &[String],
    entry: &str,
) -> bool {
    let mut mine = Findings::default();
    match vm::walk_plain(input, &mut mine, allow, entry) {
        Ok(()) => {}
        Err(e @ StreamError::Io(_)) => mine.stream_error(e, entry),
        Err(_) if mine.entries.is_empty() => return false,
        Err(_)
            if mine.calls == 0
                && mine
                    .entries
                    .keys()
                    .all(|(code, _)| code == "pickle-unknown-global") =>
        {
            return false
        }
        Err(e) => mine.stream_error(e, entry),
    }
    mine.pickles += 1;
    out.merge(mine);
    true
}

/// A `.npy` stream: magic, version, header length, a Python-literal header; an object array's data is a pickle.
/// Returns whether there was a pickle to scan.
fn npy<R: Read>(mut r: R, out: &mut Findings, allow: &[String], entry: &str) -> bool {
    let bad = |out: &mut Findings, m: &str| {
        out.add(
            "pickle-malformed",
            "",
            entry,
            0,
            format!("not a valid .npy file: {m}"),
        );
        true
    };
    let mut pre = [0u8; 8];
    if read_up_to(&mut r, &mut pre).unwrap_or(0) < 8 {
        return bad(out, "truncated header");
    }
    let header_len = match pre[6] {
        1 => {
            let mut l = [0u8; 2];
            if r.read_exact(&mut l).is_err() {
                return bad(out, "truncated header");
            }
            u16::from_le_bytes(l) as u64
        }
        2 | 3 => {
            let mut l = [0u8; 4];
            if r.read_exact(&mut l).is_err() {
                return bad(out, "truncated header");
            }
            u32::from_le_bytes(l) as u64
        }
        v => return bad(out, &format!("unknown version {v}")),
    };
    if header_len > 1 << 20 {
        return bad(out, "header longer than 1 MiB");
    }
    let mut header = vec![];
    if (&mut r)
        .take(header_len)
        .read_to_end(&mut header)
        .unwrap_or(0) as u64
        != header_len
    {
        return bad(out, "truncated header");
    }
    if !quoted_strings(&String::from_utf8_lossy(&header))
        .iter()
        .any(|s| is_object_code(s))
    {
        return false;
    }
    walk_all(Input::new(r), out, allow, entry, Some(1), true);
    true
}

/// The quoted strings of a Python literal (a `.npy` header is one, read with `ast.literal_eval`): either quote,
/// backslash escapes kept as they are. Key order, spacing and quote style do not matter to NumPy, so they do not
/// matter here.
fn quoted_strings(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\'' && c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(d) = chars.next() {
            match d {
                '\\' => {
                    s.push(d);
                    s.extend(chars.next());
                }
                d if d == c => break,
                d => s.push(d),
            }
        }
        out.push(s);
    }
    out
}

/// A NumPy type code of Python objects (`O`, `|O`, `<O8`): an array with such a field is pickled.
fn is_object_code(s: &str) -> bool {
    s.trim_start_matches(['|', '<', '>', '='])
        .strip_prefix('O')
        .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()))
}

/// A tar archive, as `torch.load` reads its oldest format (members `sys_info`, `pickle`, `storages`, `tensors`,
/// each holding pickles): every regular member is read as `pickle.load` would. Returns whether a member held a
/// pickle.
fn tar<R: Read>(mut r: R, out: &mut Findings, allow: &[String]) -> Result<bool, String> {
    let mut any = false;
    let mut header = [0u8; 512];
    loop {
        let n = read_up_to(&mut r, &mut header).map_err(|e| e.to_string())?;
        if n < 512 || header.iter().all(|b| *b == 0) {
            return Ok(any);
        }
        let name = String::from_utf8_lossy(&header[..100])
            .trim_end_matches('\0')
            .to_string();
        let size = tar_size(&header[124..136])
            .ok_or_else(|| format!("member {name:?} has a size that is not a number"))?;
        let mut member = (&mut r).take(size);
        if matches!(header[156], b'0' | 0 | b'7') {
            any |= walk_all(Input::new(&mut member), out, allow, &name, None, false);
        }
        let padding = size.div_ceil(512) * 512 - size;
        std::io::copy(&mut member, &mut std::io::sink()).map_err(|e| e.to_string())?;
        std::io::copy(&mut (&mut r).take(padding), &mut std::io::sink())
            .map_err(|e| e.to_string())?;
    }
}

/// A tar header's size: octal digits, or base-256 when the first byte has its high bit set.
fn tar_size(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        return field[1..]
            .iter()
            .try_fold(0u64, |acc, b| acc.checked_mul(256)?.checked_add(*b as u64));
    }
    let digits = std::str::from_utf8(field).ok()?;
    let digits = digits.trim_matches(|c: char| c == '\0' || c == ' ');
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok()
}

/// A zip archive, read as `torch.load` (miniz) reads it: entries by the central directory, their bytes where the
/// local header says, with the encryption and other flag bits ignored and no CRC check. Every entry is read as
/// `pickle.load` would read it (strictly when its name ends in `.pkl`), and as `numpy.load` would when it is a
/// `.npy`. Returns the format, or None when no entry holds a pickle.
fn zip<R: Read + Seek>(
    reader: R,
    out: &mut Findings,
    allow: &[String],
) -> Result<Option<String>, String> {
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| e.to_string())?;
    let (mut torch, mut pickles, mut npz) = (false, false, false);
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| e.to_string())?;
        let name = entry.name().map_err(|e| e.to_string())?.to_string();
        let mut data: Box<dyn Read + '_> = match entry.compression() {
            zip::CompressionMethod::Stored => Box::new(entry),
            zip::CompressionMethod::Deflated => Box::new(flate2::read::DeflateDecoder::new(entry)),
            other => {
                out.add(
                    "pickle-unscannable",
                    "",
                    &name,
                    0,
                    format!("compressed with {other}, which the scan does not read"),
                );
                continue;
            }
        };
        let mut head = [0u8; 6];
        let n = match read_up_to(&mut data, &mut head) {
            Ok(n) => n,
            Err(e) => {
                out.stream_error(StreamError::Io(e), &name);
                continue;
            }
        };
        let whole = (&head[..n]).chain(data);
        if head[..n].starts_with(b"\x93NUMPY") {
            npz |= npy(whole, out, allow, &name);
        } else if walk_all(
            Input::new(whole),
            out,
            allow,
            &name,
            None,
            name.ends_with(".pkl"),
        ) {
            pickles = true;
            torch |= name.ends_with("data.pkl");
        }
    }
    Ok(if torch {
        Some("PyTorch (zip)".to_string())
    } else if pickles {
        Some("zip with pickles".to_string())
    } else if npz {
        Some("NumPy .npz (object arrays)".to_string())
    } else {
        None
    })
}

fn base_check(subject: &str, size: u64) -> Check {
    let mut c = Check::new(subject, KIND);
    c.figures.insert("bytes".into(), json!(size));
    c
}

fn skipped(subject: &str, what: &str, size: u64) -> Check {
    let mut c = base_check(subject, size);
    c.status = Status::Skip;
    c.figures.insert("format".into(), json!(what));
    c.summary =
        if what.contains("not a pickle") || what.contains("without") || what.contains("empty") {
            format!("{what}: nothing runs on loading")
        } else {
            format!("{what}: not a pickle-based format, nothing runs on loading")
        };
    c
}

/// Globals listed by name in a summary.
const NAMED_IN_SUMMARY: usize = 3;

fn finish(subject: &str, format: &str, size: u64, out: Findings, file: &str) -> Check {
    let mut c = base_check(subject, size);
    c.figures.insert("format".into(), json!(format));
    c.figures.insert("pickles".into(), json!(out.pickles));
    c.figures.insert("opcodes".into(), json!(out.opcodes));
    if out.joblib_arrays > 0 {
        c.figures
            .insert("joblib_arrays".into(), json!(out.joblib_arrays));
    }
    c.figures.insert("globals".into(), json!(out.globals));
    let mut by_code: IndexMap<&str, Vec<&str>> = IndexMap::new();
    for ((code, value), acc) in &out.entries {
        by_code
            .entry(code.as_str())
            .or_default()
            .push(value.as_str());
        let mut f = Finding::new(code.clone(), Severity::Error, {
            let place = if acc.entry.is_empty() {
                format!("byte {}", acc.offset)
            } else {
                format!("{}, byte {}", acc.entry, acc.offset)
            };
            let times = if acc.count > 1 {
                format!(" ({} times)", acc.count)
            } else {
                String::new()
            };
            format!("{place}: {}{times}", acc.message)
        });
        f.file = Some(file.to_string());
        if !value.is_empty() {
            f.value = Some(value.clone());
        }
        *c.counts.entry(code.clone()).or_insert(0) += acc.count;
        c.findings.push(f);
    }
    if c.findings.is_empty() {
        c.summary = format!(
            "{format}: {} globals, all on the allow-list",
            out.globals.len()
        );
        return c;
    }
    c.status = Status::Fail;
    let parts: Vec<String> = by_code
        .iter()
        .map(|(code, values)| {
            let n = values.len();
            let named: Vec<&str> = values
                .iter()
                .copied()
                .filter(|v| !v.is_empty())
                .take(NAMED_IN_SUMMARY)
                .collect();
            let more = if named.len() < values.iter().filter(|v| !v.is_empty()).count() {
                ", …"
            } else {
                ""
            };
            let names = if named.is_empty() {
                String::new()
            } else {
                format!(" ({}{more})", named.join(", "))
            };
            let what = match *code {
                "pickle-dangerous-global" => plural(n, "dangerous global"),
                "pickle-unknown-global" => format!("{} not on the allow-list", plural(n, "global")),
                "pickle-unresolved-global" => plural(n, "unresolved global"),
                "pickle-indirect-call" => "calls of unnamed values".to_string(),
                "pickle-global-mutation" => format!("{} changed by BUILD", plural(n, "global")),
                "pickle-malformed" => "malformed".to_string(),
                _ => "a part the scan cannot read".to_string(),
            };
            format!("{what}{names}")
        })
        .collect();
    c.summary = format!("{format}: {}", parts.join("; "));
    c
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(bytes: &[u8]) -> Findings {
        let mut out = Findings::default();
        walk_all(Input::new(bytes), &mut out, &[], "", None, true);
        out
    }

    fn codes(bytes: &[u8]) -> Vec<String> {
        walk(bytes)
            .entries
            .keys()
            .map(|(code, value)| {
                if value.is_empty() {
                    code.clone()
                } else {
                    format!("{code} {value}")
                }
            })
            .collect()
    }

    #[test]
    fn plain_data_is_clean() {
        // {"a": [1, 2.5, "x"], "b": (None, True)} at protocol 4, with a FRAME.
        let p = b"\x80\x04\x95\x24\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94]\x94(K\x01G@\x04\x00\x00\x00\x00\x00\x00\x8c\x01x\x94e\x8c\x01b\x94N\x88\x86\x94u.";
        assert_eq!(codes(p), Vec::<String>::new());
        assert_eq!(walk(p).protocol, Some(4));
    }

    #[test]
    fn inst_of_a_dangerous_class() {
        assert_eq!(
            codes(b"(S'ls'\nisubprocess\ncheck_output\n."),
            ["pickle-dangerous-global subprocess.check_output"]
        );
    }

    #[test]
    fn stack_global_without_strings_is_unresolved() {
        assert_eq!(
            codes(b"\x80\x04K\x01K\x02\x93."),
            ["pickle-unresolved-global"]
        );
        // A name that is not UTF-8 cannot be read either.
        assert_eq!(
            codes(b"\x80\x04\x8c\x02osC\x01x\x93."),
            ["pickle-unresolved-global"]
        );
    }

    #[test]
    fn calling_the_result_of_a_call_is_flagged() {
        assert_eq!(
            codes(b"\x80\x02c__builtin__\nset\n)R)R."),
            ["pickle-indirect-call"]
        );
    }

    #[test]
    fn pop_on_an_empty_frame_pops_the_mark() {
        assert_eq!(
            codes(b"(0cos\nsystem\n."),
            ["pickle-dangerous-global os.system"]
        );
    }

    #[test]
    fn broken_streams_are_malformed() {
        assert_eq!(codes(b"\x80\x02\xff"), ["pickle-malformed"]);
        assert_eq!(codes(b"\x80\x02R."), ["pickle-malformed"]);
        assert_eq!(codes(b"\x80\x02h\x05."), ["pickle-malformed"]);
        assert_eq!(codes(b"\x80\x09N."), ["pickle-malformed"]);
        // A length far past the end is found out without reading (or allocating) that much.
        assert_eq!(
            codes(b"\x80\x04\x8e\x00\x00\x00\x00\x00\x00\x00\x10."),
            ["pickle-malformed"]
        );
        assert_eq!(
            codes(b"\x80\x04\x8d\x00\x00\x00\x00\x00\x00\x00\x10."),
            ["pickle-malformed"]
        );
    }

    #[test]
    fn extension_codes_cannot_be_named() {
        assert_eq!(
            codes(b"\x80\x02\x82\x01."),
            ["pickle-unknown-global extension 1"]
        );
    }

    #[test]
    fn pickles_in_a_row_are_all_walked_and_trailing_bytes_are_not() {
        assert_eq!(
            codes(b"\x80\x02N.\x80\x02cos\nsystem\n."),
            ["pickle-dangerous-global os.system"]
        );
        let f = walk(b"\x80\x02N.raw tensor bytes");
        assert_eq!(f.pickles, 1);
        assert!(f.entries.is_empty());
    }

    #[test]
    fn a_global_named_twice_is_one_finding_counted_twice() {
        let f = walk(b"\x80\x02cos\nsystem\n0cos\nsystem\n.");
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.entries.values().next().unwrap().count, 2);
    }

    #[test]
    fn sniffing() {
        assert!(matches!(sniff(b"\x80\x04\x95", ""), Sniff::Pickle));
        // Protocols 0 and 1 have no header: they are found by reading, whatever the name says.
        assert!(matches!(sniff(b"(dp0\n", "pkl"), Sniff::Other(_)));
        assert!(matches!(
            sniff(b"\x08\x07\x12\x04", "onnx"),
            Sniff::Other("ONNX")
        ));
        assert!(matches!(sniff(b"BZh91AY", "joblib"), Sniff::Unreadable(_)));
        assert!(matches!(
            sniff(TORCH_LEGACY_MAGIC, "pt"),
            Sniff::TorchLegacy
        ));
    }

    /// Reads bytes as `pickle.load` reads any file: None when they are no pickle.
    fn plain(bytes: &[u8]) -> Option<Vec<String>> {
        let mut out = Findings::default();
        walk_all(Input::new(bytes), &mut out, &[], "", None, false).then(|| {
            out.entries
                .keys()
                .map(|(code, value)| format!("{code} {value}").trim().to_string())
                .collect()
        })
    }

    #[test]
    fn files_that_are_no_pickle_stop_before_naming_anything() {
        for text in [
            &b"class,label\ncat,1\n"[..],
            b"ID,name\n1,a\n",
            b"{\"a\": 1}",
            b"# title\n",
            b"\x89PNG\r\n\x1a\n",
            b"cmod\n\xf8\n",
            b"P1\n.",
            b"F1.5x\n.",
            b"GGUF\x03\x00\x00\x00\x00\x00\x00\x00",
            b"click\nnumpy\nrequests\n",
        ] {
            assert_eq!(plain(text), None, "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn a_pickle_is_read_whatever_it_starts_with() {
        let system = || Some(vec!["pickle-dangerous-global posix.system".to_string()]);
        assert_eq!(plain(b"cposix\nsystem\n(S'ls'\ntR."), system());
        assert_eq!(plain(b"(dp0\nS'a'\nI1\ns."), Some(vec![]));
        // Unknown and called, or unknown in a stream the unpickler reads to its end: judged.
        assert_eq!(
            plain(b"cmypkg\nrun\n(S'x'\ntRq"),
            Some(vec![
                "pickle-unknown-global mypkg.run".to_string(),
                "pickle-malformed".to_string()
            ])
        );
        assert_eq!(
            plain(b"cmypkg\nThing\n."),
            Some(vec!["pickle-unknown-global mypkg.Thing".to_string()])
        );
        // Importing it runs code: on the deny-list, it counts even if the stream then fails.
        assert_eq!(
            plain(b"cantigravity\nx\n\xff"),
            Some(vec![
                "pickle-dangerous-global antigravity.x".to_string(),
                "pickle-malformed".to_string()
            ])
        );
        // GGUF's magic and version read as a BINFLOAT, POP, then the payload.
        assert_eq!(
            plain(b"GGUF\x03\x00\x00\x00\x000cposix\nsystem\n(S'ls'\ntR."),
            system()
        );
        // BININT takes TFLite's identifier at bytes 4-7.
        assert_eq!(plain(b"NNNJTFL30cposix\nsystem\n(S'ls'\ntR."), system());
        // A second pickle without PROTO after a first one, as pickle.load in a loop reads them.
        let mut out = Findings::default();
        walk_all(
            Input::new(&b"\x80\x02N.cposix\nsystem\n(S'ls'\ntR."[..]),
            &mut out,
            &[],
            "",
            None,
            true,
        );
        assert_eq!(out.pickles, 2);
        assert_eq!(out.entries.len(), 1);
    }

    #[test]
    fn a_stream_that_piles_up_values_is_stopped() {
        let mut p = b"\x80\x04".to_vec();
        p.extend(std::iter::repeat_n(b'N', (2 << 20) + (1 << 17)));
        p.push(b'.');
        assert_eq!(codes(&p), ["pickle-unscannable"]);
        // Read as pickle.load reads any file, it names nothing: no pickle.
        assert_eq!(plain(&p[2..]), None);
    }

    #[test]
    fn npy_headers_are_read_as_python_literals() {
        let strings = quoted_strings(r#"{"descr" : '|O', 'shape': (1,), "a\"b": 1}"#);
        assert_eq!(strings, ["descr", "|O", "shape", "a\\\"b"]);
        for code in ["O", "|O", "<O8", "=O"] {
            assert!(is_object_code(code), "{code}");
        }
        for code in ["Output", "<f8", "|b1", ""] {
            assert!(!is_object_code(code), "{code}");
        }
    }

    #[test]
    fn tar_sizes_and_bad_headers() {
        assert_eq!(tar_size(b"00000000012\0"), Some(10));
        assert_eq!(tar_size(b"\x80\0\0\0\0\0\0\0\0\0\x01\0"), Some(256));
        assert_eq!(tar_size(b"not octal\0\0\0"), None);
        let mut header = [0u8; 512];
        header[..4].copy_from_slice(b"evil");
        header[124..128].copy_from_slice(b"zzzz");
        header[257..262].copy_from_slice(b"ustar");
        let err = tar(&header[..], &mut Findings::default(), &[]).unwrap_err();
        assert!(
            err.contains("\"evil\" has a size that is not a number"),
            "{err}"
        );
    }

    #[test]
    fn zip_entries_in_methods_the_scan_does_not_read_are_unscannable() {
        let mut z = std::fs::read("tests/fixtures/pickles/corpus/benign/benign.zip").unwrap();
        // Compression method 12 (bzip2) in the local header and in the central directory.
        z[8] = 12;
        let cd = z.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
        z[cd + 10] = 12;
        let mut out = Findings::default();
        zip(std::io::Cursor::new(z), &mut out, &[]).unwrap();
        let (key, acc) = out.entries.iter().next().unwrap();
        assert_eq!(key.0, "pickle-unscannable");
        assert!(
            acc.message.contains("which the scan does not read"),
            "{}",
            acc.message
        );
    }

    #[test]
    fn build_on_a_global_is_flagged() {
        assert_eq!(
            codes(b"\x80\x04\x8c\x0bcollections\x8c\x0bOrderedDict\x93}b."),
            ["pickle-global-mutation collections.OrderedDict"]
        );
    }

    #[test]
    fn codecs_encode_only_with_plain_encodings() {
        // _codecs.encode('x', 'latin1'): how protocol 2 writes bytes.
        assert_eq!(
            codes(b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x06\x00\x00\x00latin1\x86R."),
            Vec::<String>::new()
        );
        assert_eq!(
            codes(b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x03\x00\x00\x00foo\x86R."),
            ["pickle-dangerous-global _codecs.encode"]
        );
    }
}
