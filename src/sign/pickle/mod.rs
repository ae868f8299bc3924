//! The pickle scan: model files in pickle-based formats run code when they are loaded, so before such a file is
//! released its pickles are walked opcode by opcode and every global they import is held against an allow-list
//! ([`policy`]).
//!
//! Formats found by their first bytes: plain pickles (protocols 0 to 5, several in a row as legacy `torch.save`
//! writes them), joblib files (arrays inline; zlib- or gzip-compressed too), PyTorch zip archives (`*.pkl`
//! entries), NumPy `.npy` with object arrays and `.npz` archives. Files in formats that run no code on loading
//! (ONNX, TFLite, safetensors, GGUF, HDF5, NumPy arrays of plain numbers) are recognised and skipped.
//! A joblib file is read both as joblib reads it and, from its first array on, as `pickle.load` would.
//!
//! Findings: `pickle-dangerous-global` (a global known to run code), `pickle-unknown-global` (not on the
//! allow-list), `pickle-unresolved-global` (a global the scan cannot name), `pickle-indirect-call` (a call of a
//! value that is no named global), `pickle-malformed` (the unpickler would stop with an error there; what came
//! before was still scanned), `pickle-unscannable` (a part the scan cannot read, e.g. bz2-compressed joblib).
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

/// What the first bytes say.
enum Sniff {
    Pickle,
    TorchLegacy,
    Zip,
    Npy,
    Gzip,
    Zlib,
    /// Compressed in a way the scan does not read.
    Unreadable(&'static str),
    /// A format that runs no code on loading.
    NotPickle(&'static str),
}

const TORCH_LEGACY_MAGIC: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";

/// File name endings that mean a pickle whatever the first bytes.
const PICKLE_EXTENSIONS: &[&str] = &[
    "pkl", "pickle", "joblib", "jbl", "pt", "pth", "bin", "ckpt", "sav", "p", "dill", "pck", "pcl",
];

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
    if head.starts_with(b"GGUF") {
        return Sniff::NotPickle("GGUF");
    }
    if head.starts_with(b"\x89HDF\r\n\x1a\n") {
        return Sniff::NotPickle("HDF5");
    }
    if head.len() >= 8 && &head[4..8] == b"TFL3" {
        return Sniff::NotPickle("TFLite");
    }
    if head.len() >= 9
        && head[8] == b'{'
        && u64::from_le_bytes(head[..8].try_into().unwrap_or_default()) < 1 << 32
    {
        return Sniff::NotPickle("safetensors");
    }
    if ext == "onnx" {
        return Sniff::NotPickle("ONNX");
    }
    if PICKLE_EXTENSIONS.contains(&ext) {
        // Protocols 0 and 1 have no header: a pickle by its name.
        return Sniff::Pickle;
    }
    Sniff::NotPickle("not a pickle-based format")
}

/// Scans one file; `subject` names it in the check. A file that cannot be opened is an error; everything the
/// scan finds in it is in the returned check.
pub fn scan(path: &Path, subject: &str, opts: &ScanOptions) -> Result<Check, SignError> {
    let mut file = std::fs::File::open(path).map_err(|e| SignError::io(path, e))?;
    let size = file.metadata().map_err(|e| SignError::io(path, e))?.len();
    let mut head = [0u8; 16];
    let n = read_up_to(&mut file, &mut head).map_err(|e| SignError::io(path, e))?;
    file.rewind().map_err(|e| SignError::io(path, e))?;
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let mut out = Findings::default();
    let allow = &opts.allow;
    let format: String = match sniff(&head[..n], &ext) {
        Sniff::NotPickle(what) => return Ok(skipped(subject, what, size)),
        Sniff::Unreadable(how) => {
            out.add(
                "pickle-unscannable",
                "",
                "",
                0,
                format!("{how} data: the scan reads plain, gzip and zlib streams; save the file uncompressed or with zlib/gzip (joblib: compress=('zlib', 3))"),
            );
            how.to_string()
        }
        Sniff::Pickle => {
            walk_all(Input::new(file), &mut out, allow, "", None);
            pickle_format(&out, &ext, None)
        }
        Sniff::TorchLegacy => {
            // magic, protocol, system info, the object, the storage keys; raw tensor bytes follow.
            walk_all(Input::new(file), &mut out, allow, "", Some(5));
            "PyTorch (legacy)".into()
        }
        Sniff::Gzip | Sniff::Zlib => {
            let gz = matches!(sniff(&head[..n], &ext), Sniff::Gzip);
            let r: Box<dyn Read> = if gz {
                Box::new(flate2::read::GzDecoder::new(file))
            } else {
                Box::new(flate2::read::ZlibDecoder::new(file))
            };
            let mut input = Input::new(r);
            match input.peek() {
                Ok(Some(_)) => {
                    walk_all(input, &mut out, allow, "", None);
                    pickle_format(&out, &ext, Some(if gz { "gzip" } else { "zlib" }))
                }
                Ok(None) => return Ok(skipped(subject, "empty compressed stream", size)),
                Err(e) => {
                    out.stream_error(e, "");
                    "compressed".into()
                }
            }
        }
        Sniff::Npy => {
            if npy(file, &mut out, allow, "") {
                "NumPy .npy (object array)".into()
            } else {
                return Ok(skipped(subject, "NumPy .npy without Python objects", size));
            }
        }
        Sniff::Zip => match zip(file, &mut out, allow) {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(skipped(subject, "zip archive without pickles", size)),
            Err(e) => {
                out.add(
                    "pickle-malformed",
                    "",
                    "",
                    0,
                    format!("not a readable zip archive: {e}"),
                );
                "zip".into()
            }
        },
    };
    Ok(finish(
        subject,
        &format,
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

/// Walks pickles one after another while the next starts with PROTO (legacy `torch.save` writes several);
/// `max` stops after that many.
fn walk_all<R: Read>(
    mut input: Input<R>,
    out: &mut Findings,
    allow: &[String],
    entry: &str,
    max: Option<u64>,
) {
    let mut n = 0;
    loop {
        out.pickles += 1;
        n += 1;
        if let Err(e) = vm::walk(&mut input, out, allow, entry) {
            out.stream_error(e, entry);
            return;
        }
        if max.is_some_and(|m| n >= m) {
            return;
        }
        match input.peek() {
            Ok(Some(0x80)) => continue,
            Ok(_) => return,
            Err(e) => {
                out.stream_error(e, entry);
                return;
            }
        }
    }
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
    let header = String::from_utf8_lossy(&header);
    let descr = header
        .split("'descr':")
        .nth(1)
        .and_then(|d| d.split("'fortran_order'").next())
        .unwrap_or("");
    let object = ["'O", "'|O", "'<O", "'>O", "'=O"]
        .iter()
        .any(|p| descr.contains(p));
    if !object {
        return false;
    }
    walk_all(Input::new(r), out, allow, entry, Some(1));
    true
}

/// A zip archive: PyTorch's `*.pkl` entries, `.npy` members of an `.npz`. Returns the format, or None when no
/// entry holds a pickle.
fn zip(
    file: std::fs::File,
    out: &mut Findings,
    allow: &[String],
) -> Result<Option<String>, String> {
    let mut archive = zip::ZipArchive::new(file).map_err(|e| e.to_string())?;
    let mut format = None;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| e.to_string())?;
        let name = entry.name().map_err(|e| e.to_string())?.to_string();
        if name.ends_with(".pkl") {
            walk_all(Input::new(&mut entry), out, allow, &name, None);
            format = Some(if name.ends_with("data.pkl") {
                "PyTorch (zip)".to_string()
            } else {
                "zip with pickles".to_string()
            });
        } else if name.ends_with(".npy") {
            let npy_ok = npy(&mut entry, out, allow, &name);
            if npy_ok && format.is_none() {
                format = Some("NumPy .npz (object arrays)".to_string());
            }
        }
    }
    Ok(format)
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
        walk_all(Input::new(bytes), &mut out, &[], "", None);
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
        assert!(matches!(sniff(b"(dp0\n", "pkl"), Sniff::Pickle));
        assert!(matches!(sniff(b"(dp0\n", "txt"), Sniff::NotPickle(_)));
        assert!(matches!(
            sniff(b"\x08\x07\x12\x04", "onnx"),
            Sniff::NotPickle("ONNX")
        ));
        assert!(matches!(sniff(b"BZh91AY", "joblib"), Sniff::Unreadable(_)));
        assert!(matches!(
            sniff(TORCH_LEGACY_MAGIC, "pt"),
            Sniff::TorchLegacy
        ));
    }
}
