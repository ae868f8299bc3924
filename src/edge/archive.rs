//! Bundle archives: tar.gz files that are byte-identical across runs and machines, and a reader that refuses
//! anything a hostile archive could use to write outside its folder, to smuggle entries past a check, or to exhaust
//! the device.
//!
//! Written: entries sorted by name, regular files only, mode 0644, uid/gid 0, no user or group names, a fixed
//! mtime, and a gzip header with mtime 0, no file name and OS "unknown" (255), at a fixed compression level.
//!
//! Read ([`read_entries`]): one pass over the file, in bounded memory, each entry's bytes streamed into an
//! [`EntrySink`] that decides, from the entry's name and size and before any of its bytes are read, whether to
//! read it, skip it or stop. The reader parses the tar headers itself (the `tar` crate reads GNU long names and PAX
//! headers whole into memory, and would apply PAX records that `tar -x` may read differently), and accepts only:
//! - exactly one gzip member, with nothing after it: `gzip -d` and `tar -xzf` read every member, so a second one
//!   would add or replace entries that a reader of the first member never saw;
//! - regular files (and plain folders) with relative, `/`-separated names of normal components, each once;
//!   a GNU long name (`L`) of at most [`MAX_NAME_BYTES`]; no links, devices, PAX or sparse entries;
//! - the end-of-archive block, then nothing but zeros (at most [`MAX_END_PADDING`] bytes of them);
//! - at most [`Limits::max_entries`] entries, each at most [`Limits::max_entry_bytes`] and all together at most
//!   [`Limits::max_total_bytes`] (checked from the headers, before the bytes are read).

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::Path;

use flate2::bufread::GzDecoder;
use flate2::{Compression, GzBuilder};
use tar::{EntryType, Header};

use super::EdgeError;

/// The mtime written into every entry: 1980-01-01, the earliest date every archive format and tool accepts.
pub const FIXED_MTIME: u64 = 315_532_800;

/// The longest entry name accepted, in bytes (Linux's PATH_MAX is 4096; bundles use short names).
pub const MAX_NAME_BYTES: u64 = 1024;

/// The most zero bytes accepted after the end-of-archive block. GNU tar pads archives to whole records of 10 KiB;
/// more than this is no tar tool's padding, and a gzip bomb of zeros would otherwise cost minutes of inflating.
pub const MAX_END_PADDING: u64 = 1 << 20;

/// How much of an entry is handed to the sink at a time.
const CHUNK: usize = 256 << 10;

const BLOCK: usize = 512;

/// Limits a reader holds an archive to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest entry, in bytes.
    pub max_entry_bytes: u64,
    /// Largest total of all entries, in bytes.
    pub max_total_bytes: u64,
    /// Most entries.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entry_bytes: 4 << 30,
            max_total_bytes: 8 << 30,
            max_entries: 1_000,
        }
    }
}

/// What the reader knows of an entry before its bytes: its name, its size from the header, its place (1-based,
/// counting every header: folders and GNU long names too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryHead<'a> {
    pub name: &'a str,
    pub size: u64,
    pub number: usize,
}

/// What a sink wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Hand me the entry's bytes.
    Read,
    /// Pass over this entry's bytes (they are still inflated, to reach the next header, but never handed out).
    Skip,
    /// Stop reading the archive here: the sink has seen enough to refuse it.
    Stop,
}

/// Where a reader's entries go: hashers, a staging folder, memory for small metadata.
pub trait EntrySink {
    /// Called for each file entry before any of its bytes are read.
    fn begin(&mut self, entry: &EntryHead<'_>) -> Result<Flow, EdgeError>;
    /// The bytes of the entry `begin` asked to read, in order, in chunks.
    fn data(&mut self, bytes: &[u8]) -> Result<(), EdgeError>;
    /// After the last chunk of an entry that was read. [`Flow::Stop`] stops the reading; anything else goes on.
    fn end(&mut self, entry: &EntryHead<'_>) -> Result<Flow, EdgeError>;
}

/// How a reading ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The whole archive was read and has the shape this module accepts.
    Complete { entries: usize },
    /// The sink stopped the reading: the rest of the archive was not read (nor checked).
    Stopped,
}

/// Writes `files` (archive name -> bytes) as a deterministic tar.gz.
pub fn write_tar_gz(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, EdgeError> {
    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::new(6));
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    // BTreeMap iterates in byte order of the names: the same order on every machine.
    for (name, bytes) in files {
        check_name(name).map_err(|m| EdgeError::Archive {
            path: "(bundle being written)".into(),
            message: format!("entry {name:?}: {m}"),
        })?;
        let mut h = Header::new_ustar();
        h.set_entry_type(EntryType::Regular);
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(FIXED_MTIME);
        tar.append_data(&mut h, name, bytes.as_slice())
            .map_err(|e| EdgeError::Archive {
                path: "(bundle being written)".into(),
                message: format!("entry {name:?}: {e}"),
            })?;
    }
    let gz = tar.into_inner().map_err(|e| EdgeError::Archive {
        path: "(bundle being written)".into(),
        message: e.to_string(),
    })?;
    gz.finish().map_err(|e| EdgeError::Archive {
        path: "(bundle being written)".into(),
        message: e.to_string(),
    })
}

/// A name this module writes and accepts: relative, `/`-separated, only normal components, no control characters.
/// Strict on purpose: `a//b`, `a/` and `./a` name the same file as `a/b`, `a` and `a` to `tar -x`, so accepting
/// them would let one file appear under two names.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an empty name".into());
    }
    if name.len() as u64 > MAX_NAME_BYTES {
        return Err(format!("a name longer than {MAX_NAME_BYTES} bytes"));
    }
    if name.starts_with('/') || name.starts_with('\\') || name.contains(':') {
        return Err("an absolute path".into());
    }
    if name.contains('\\') {
        return Err("a backslash in the name".into());
    }
    if name.chars().any(char::is_control) {
        return Err("a control character in the name".into());
    }
    for part in name.split('/') {
        match part {
            "" => return Err("an empty component (`//` or a trailing `/`)".into()),
            ".." => return Err("a `..` component: it would point outside the bundle".into()),
            "." => return Err("a `.` component".into()),
            _ => {}
        }
    }
    Ok(())
}

/// The decompressed stream, with the position of the next byte (for messages and the end-of-archive checks).
struct Stream {
    gz: GzDecoder<BufReader<Counted<std::fs::File>>>,
    pos: u64,
}

impl Stream {
    /// Fills `buf` unless the stream ends first; returns how many bytes were read.
    fn fill(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            match self.gz.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.pos += got as u64;
        Ok(got)
    }
}

/// Reads the tar.gz at `path` once, handing each file entry to `sink` (see the module's documentation for what is
/// refused). Memory stays bounded whatever the archive holds: one header, one chunk, and what the sink keeps.
pub fn read_entries(
    path: &Path,
    limits: Limits,
    sink: &mut dyn EntrySink,
) -> Result<Ending, EdgeError> {
    let shown = path.display().to_string();
    let io = |e| EdgeError::Io {
        path: shown.clone(),
        err: e,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    check_gzip_header(&mut file, &shown)?;
    file.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
    let mut reader = Reader {
        shown: &shown,
        limits,
        stream: Stream {
            gz: GzDecoder::new(BufReader::new(Counted {
                inner: file,
                read: 0,
            })),
            pos: 0,
        },
        names: HashSet::new(),
        entries: 0,
        total: 0,
        buf: vec![0; CHUNK],
    };
    if reader.entries(sink)? {
        return Ok(Ending::Stopped);
    }
    let entries = reader.entries;
    reader.check_end()?;
    Ok(Ending::Complete { entries })
}

/// The gzip header [`write_tar_gz`] writes: magic, deflate, no flags, mtime 0, no extra flags (level 6), OS
/// "unknown". RFC 1952 leaves these bytes outside the CRC, so a reader that took any header would accept a changed
/// bundle as the signed one; bundles are written only by mlgate, and anything else in them is refused.
pub const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// Refuses a file that does not start with [`GZIP_HEADER`], naming the first byte that differs.
fn check_gzip_header(file: &mut std::fs::File, shown: &str) -> Result<(), EdgeError> {
    let mut head = Vec::with_capacity(GZIP_HEADER.len());
    file.take(GZIP_HEADER.len() as u64)
        .read_to_end(&mut head)
        .map_err(|e| EdgeError::Io {
            path: shown.to_string(),
            err: e,
        })?;
    let bad = |message: String| EdgeError::Archive {
        path: shown.to_string(),
        message,
    };
    if head.len() < 2 || head[..2] != GZIP_HEADER[..2] {
        return Err(bad(
            "not a tar.gz archive: it does not start with gzip's magic bytes 1f 8b".into(),
        ));
    }
    if let Some(at) = (0..GZIP_HEADER.len()).find(|&i| head.get(i) != Some(&GZIP_HEADER[i])) {
        return Err(bad(format!(
            "the gzip header is not the one `mlgate bundle` writes (no flags, mtime 0, level 6, OS 255): byte {at} \
             is {}, expected {:02x}; bundles are not repacked by other tools",
            head.get(at).map_or("missing".to_string(), |b| format!("{b:02x}")),
            GZIP_HEADER[at]
        )));
    }
    Ok(())
}

/// Reads every file of the tar.gz at `path` into memory: for small archives and tests. A device checks bundles
/// with [`crate::edge::check_bundle`], which streams.
pub fn read_tar_gz(path: &Path, limits: Limits) -> Result<BTreeMap<String, Vec<u8>>, EdgeError> {
    #[derive(Default)]
    struct Collect {
        files: BTreeMap<String, Vec<u8>>,
        current: Vec<u8>,
    }
    impl EntrySink for Collect {
        fn begin(&mut self, _: &EntryHead<'_>) -> Result<Flow, EdgeError> {
            self.current.clear();
            Ok(Flow::Read)
        }
        fn data(&mut self, bytes: &[u8]) -> Result<(), EdgeError> {
            self.current.extend_from_slice(bytes);
            Ok(())
        }
        fn end(&mut self, entry: &EntryHead<'_>) -> Result<Flow, EdgeError> {
            self.files
                .insert(entry.name.to_string(), std::mem::take(&mut self.current));
            Ok(Flow::Read)
        }
    }
    let mut c = Collect::default();
    read_entries(path, limits, &mut c)?;
    Ok(c.files)
}

struct Reader<'a> {
    shown: &'a str,
    limits: Limits,
    stream: Stream,
    /// Every name met so far: a second entry of the same name would replace what was checked.
    names: HashSet<String>,
    entries: usize,
    total: u64,
    buf: Vec<u8>,
}

/// What one header announces.
enum Next {
    File { name: String, size: u64 },
    Folder,
    End,
}

impl Reader<'_> {
    fn bad(&self, message: String) -> EdgeError {
        EdgeError::Archive {
            path: self.shown.to_string(),
            message,
        }
    }

    /// An I/O error of the decompressed stream: a corrupt or cut gzip member.
    fn broken(&self, what: &str, e: std::io::Error) -> EdgeError {
        self.bad(format!(
            "not a valid tar.gz archive: {what} at byte {} of the uncompressed stream: {e}",
            self.stream.pos
        ))
    }

    /// Reads the headers and entries up to the end-of-archive block; true when the sink stopped the reading.
    fn entries(&mut self, sink: &mut dyn EntrySink) -> Result<bool, EdgeError> {
        loop {
            let (name, size) = match self.next_header()? {
                Next::End => return Ok(false),
                Next::Folder => continue,
                Next::File { name, size } => (name, size),
            };
            let head = EntryHead {
                name: &name,
                size,
                number: self.entries,
            };
            let flow = sink.begin(&head)?;
            if flow == Flow::Stop {
                return Ok(true);
            }
            self.body(&name, size, (flow == Flow::Read).then_some(&mut *sink))?;
            if flow == Flow::Read && sink.end(&head)? == Flow::Stop {
                return Ok(true);
            }
        }
    }

    /// Reads one header (and the GNU long name before it, if any) and checks what it announces.
    fn next_header(&mut self) -> Result<Next, EdgeError> {
        let mut long_name: Option<String> = None;
        loop {
            let at = self.stream.pos;
            let mut block = [0u8; BLOCK];
            let got = self
                .stream
                .fill(&mut block)
                .map_err(|e| self.broken("a header", e))?;
            if got == 0 {
                return Err(self.bad(format!(
                    "the tar archive stops at byte {at} without its end-of-archive block: it was cut short, \
                     or its end was removed so that more entries could be appended"
                )));
            }
            if got < BLOCK {
                return Err(self.bad(format!("a header cut short at byte {at}")));
            }
            if block.iter().all(|b| *b == 0) {
                if long_name.is_some() {
                    return Err(self.bad(format!(
                        "a GNU long name is followed by the end of the archive at byte {at}"
                    )));
                }
                return Ok(Next::End);
            }
            self.entries += 1;
            if self.entries > self.limits.max_entries {
                return Err(self.bad(format!("more than {} entries", self.limits.max_entries)));
            }
            let mut header = Header::new_old();
            header.as_mut_bytes().copy_from_slice(&block);
            let number = self.entries;
            check_header(&header, at).map_err(|m| self.bad(format!("entry {number}: {m}")))?;
            let kind = header.entry_type();
            if kind == EntryType::GNULongName {
                if long_name.is_some() {
                    return Err(self.bad(format!("entry {number}: two GNU long names in a row")));
                }
                long_name = Some(self.long_name(&header, number)?);
                continue;
            }
            let name = match long_name.take() {
                Some(n) => n,
                None => {
                    header_name(&header).map_err(|m| self.bad(format!("entry {number}: {m}")))?
                }
            };
            let size = header
                .size()
                .map_err(|e| self.bad(format!("entry {name:?}: unreadable size: {e}")))?;
            return match kind {
                EntryType::Regular | EntryType::Continuous => {
                    self.file(&name, size)?;
                    Ok(Next::File { name, size })
                }
                EntryType::Directory => {
                    check_name(name.strip_suffix('/').unwrap_or(&name))
                        .map_err(|m| self.bad(format!("entry {name:?}: {m}")))?;
                    if size != 0 {
                        return Err(self.bad(format!(
                            "entry {name:?} is a folder with {size} bytes of data"
                        )));
                    }
                    Ok(Next::Folder)
                }
                other => Err(self.bad(refused_kind(&name, other, &header))),
            };
        }
    }

    /// Checks a file entry's name and size against the rules and limits.
    fn file(&mut self, name: &str, size: u64) -> Result<(), EdgeError> {
        check_name(name).map_err(|m| self.bad(format!("entry {name:?}: {m}")))?;
        if size > self.limits.max_entry_bytes {
            return Err(self.bad(format!(
                "entry {name:?} is {size} bytes, over the limit of {} bytes",
                self.limits.max_entry_bytes
            )));
        }
        self.total = self.total.saturating_add(size);
        if self.total > self.limits.max_total_bytes {
            return Err(self.bad(format!(
                "the entries add up to more than {} bytes",
                self.limits.max_total_bytes
            )));
        }
        if !self.names.insert(name.to_string()) {
            return Err(self.bad(format!(
                "entry {name:?} appears twice: a later copy could replace what was checked"
            )));
        }
        Ok(())
    }

    /// The body of a GNU long name entry: the next header's name.
    fn long_name(&mut self, header: &Header, number: usize) -> Result<String, EdgeError> {
        let size = header
            .size()
            .map_err(|e| self.bad(format!("entry {number}: unreadable size: {e}")))?;
        if size > MAX_NAME_BYTES {
            return Err(self.bad(format!(
                "entry {number}: a GNU long name of {size} bytes, over the limit of {MAX_NAME_BYTES}"
            )));
        }
        let mut bytes = vec![0u8; padded(size) as usize];
        let got = self
            .stream
            .fill(&mut bytes)
            .map_err(|e| self.broken("a GNU long name", e))?;
        if got < bytes.len() {
            return Err(self.bad(format!("entry {number}: a GNU long name cut short")));
        }
        bytes.truncate(size as usize);
        let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
        bytes.truncate(end);
        String::from_utf8(bytes)
            .map_err(|_| self.bad(format!("entry {number}: a GNU long name that is not UTF-8")))
    }

    /// Reads an entry's `size` bytes and its padding, handing the bytes to `sink` when there is one.
    fn body(
        &mut self,
        name: &str,
        size: u64,
        mut sink: Option<&mut dyn EntrySink>,
    ) -> Result<(), EdgeError> {
        let mut left = padded(size);
        let mut data_left = size;
        while left > 0 {
            let want = left.min(CHUNK as u64) as usize;
            let mut buf = std::mem::take(&mut self.buf);
            let got = self.stream.fill(&mut buf[..want]);
            let result = match got {
                Err(e) => Err(self.broken(&format!("entry {name:?}"), e)),
                Ok(n) if n < want => Err(self.bad(format!(
                    "entry {name:?} is cut short: the archive ends at byte {} inside it",
                    self.stream.pos
                ))),
                Ok(n) => {
                    let data = (n as u64).min(data_left) as usize;
                    data_left -= data as u64;
                    left -= n as u64;
                    match sink.as_deref_mut() {
                        Some(s) if data > 0 => s.data(&buf[..data]),
                        _ => Ok(()),
                    }
                }
            };
            self.buf = buf;
            result?;
        }
        Ok(())
    }

    /// After the end-of-archive block: only zeros, then the end of the gzip member, then the end of the file.
    fn check_end(mut self) -> Result<(), EdgeError> {
        let end = self.stream.pos - BLOCK as u64;
        let mut padding = 0u64;
        let mut buf = std::mem::take(&mut self.buf);
        loop {
            let n = self
                .stream
                .fill(&mut buf)
                .map_err(|e| self.broken("the padding after the end of the tar archive", e))?;
            if n == 0 {
                break;
            }
            if let Some(i) = buf[..n].iter().position(|b| *b != 0) {
                return Err(self.bad(format!(
                    "non-zero bytes at byte {} after the end of the tar archive (at byte {end}): \
                     tar tools that read past the end (`tar -i`) would find more there",
                    padding + BLOCK as u64 + end + i as u64
                )));
            }
            padding += n as u64;
            if padding > MAX_END_PADDING {
                return Err(self.bad(format!(
                    "more than {MAX_END_PADDING} bytes of padding after the end of the tar archive"
                )));
            }
        }
        let mut rest = self.stream.gz.into_inner();
        // Where the gzip member ended: what was read from the file, less what is still buffered.
        let compressed_end = rest.get_ref().read - rest.buffer().len() as u64;
        let trailing = rest.fill_buf().map_err(|e| EdgeError::Io {
            path: self.shown.to_string(),
            err: e,
        })?;
        if trailing.is_empty() {
            return Ok(());
        }
        let message = if trailing.starts_with(&[0x1f, 0x8b]) {
            format!(
                "a second gzip member starts at byte {compressed_end}: `tar -xzf` would unpack its entries \
                 too, unchecked; a bundle is one gzip member"
            )
        } else {
            format!(
                "data after the end of the gzip stream (at byte {compressed_end}): a bundle ends with its gzip \
                 member"
            )
        };
        Err(EdgeError::Archive {
            path: self.shown.to_string(),
            message,
        })
    }
}

/// A reader that counts the bytes read through it (the compressed file's position, for messages).
struct Counted<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// An entry's size rounded up to whole 512-byte blocks.
fn padded(size: u64) -> u64 {
    size.div_ceil(BLOCK as u64).saturating_mul(BLOCK as u64)
}

/// Checks the header's checksum and format: POSIX ustar, GNU, or the old (v7) format, nothing else.
fn check_header(header: &Header, at: u64) -> Result<(), String> {
    let stored = header
        .cksum()
        .map_err(|e| format!("the header at byte {at} is not a tar header: {e}"))?;
    let bytes = header.as_bytes();
    // The checksum is the sum of the header's bytes with its own field (148..156) counted as spaces.
    let sum: u32 = bytes[..148]
        .iter()
        .chain(&[b' '; 8])
        .chain(&bytes[156..])
        .map(|b| u32::from(*b))
        .sum();
    if stored != sum {
        return Err(format!(
            "the header at byte {at} has checksum {stored}, its bytes sum to {sum}: not a tar header, or altered"
        ));
    }
    let magic = &bytes[257..265];
    let known = magic == b"ustar\x0000" || magic == b"ustar  \x00" || magic.iter().all(|b| *b == 0);
    if !known {
        return Err(format!(
            "the header at byte {at} has the unknown format {:?} (expected ustar, GNU or v7)",
            String::from_utf8_lossy(magic)
        ));
    }
    Ok(())
}

/// The entry's name from its header: POSIX ustar joins `prefix/name`; GNU and v7 headers have only `name`.
fn header_name(header: &Header) -> Result<String, String> {
    let bytes = header.as_bytes();
    let field = |range: std::ops::Range<usize>| {
        let f = &bytes[range];
        &f[..f.iter().position(|b| *b == 0).unwrap_or(f.len())]
    };
    let name = field(0..100);
    let mut full = Vec::with_capacity(256);
    if &bytes[257..263] == b"ustar\x00" {
        let prefix = field(345..500);
        if !prefix.is_empty() {
            full.extend_from_slice(prefix);
            full.push(b'/');
        }
    }
    full.extend_from_slice(name);
    String::from_utf8(full).map_err(|e| {
        format!(
            "a name that is not UTF-8 ({:?})",
            String::from_utf8_lossy(e.as_bytes())
        )
    })
}

/// Why an entry of `kind` is refused, naming the link target when there is one.
fn refused_kind(name: &str, kind: EntryType, header: &Header) -> String {
    let target = || {
        let t = &header.as_bytes()[157..257];
        String::from_utf8_lossy(&t[..t.iter().position(|b| *b == 0).unwrap_or(t.len())])
            .into_owned()
    };
    match kind {
        EntryType::Symlink => format!(
            "entry {name:?} is a symbolic link (to {}): bundles hold regular files only",
            target()
        ),
        EntryType::Link => format!(
            "entry {name:?} is a hard link (to {}): bundles hold regular files only",
            target()
        ),
        EntryType::XHeader | EntryType::XGlobalHeader => format!(
            "entry {name:?} is a PAX extended header: bundles have none (its records could rename or resize \
             the next entry for one tar tool and not for another)"
        ),
        other => format!("entry {name:?} is a {other:?} entry: bundles hold regular files only"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_outside_the_bundle_are_refused() {
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "C:/x",
            "a\\b",
            "./a",
            "",
            "a//b",
            "a/",
            "a/./b",
            "a\nb",
            "a\u{7f}",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name(&"a".repeat(1025)).is_err());
        for good in ["manifest.json", "models/m.onnx", "a/b/c.bin", "..a", "a..b"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
    }

    fn written(files: &[(&str, &[u8])]) -> Vec<u8> {
        let map: BTreeMap<String, Vec<u8>> = files
            .iter()
            .map(|(n, b)| (n.to_string(), b.to_vec()))
            .collect();
        write_tar_gz(&map).unwrap()
    }

    fn on_disk(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("b.tar.gz");
        std::fs::write(&p, bytes).unwrap();
        (d, p)
    }

    #[test]
    fn output_is_byte_identical() {
        let files = BTreeMap::from([
            ("b.txt".to_string(), b"bee".to_vec()),
            ("a/model.onnx".to_string(), vec![7u8; 5000]),
        ]);
        let one = write_tar_gz(&files).unwrap();
        let two = write_tar_gz(&files).unwrap();
        assert_eq!(one, two);
        // gzip header: magic, deflate, no flags, mtime 0, OS 255.
        assert_eq!(&one[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        let (_d, p) = on_disk(&one);
        assert_eq!(read_tar_gz(&p, Limits::default()).unwrap(), files);
    }

    /// Records what the reader hands out; skips entries named `skip*`, stops at `stop*`.
    #[derive(Default)]
    struct Log(Vec<String>);

    impl EntrySink for Log {
        fn begin(&mut self, e: &EntryHead<'_>) -> Result<Flow, EdgeError> {
            self.0
                .push(format!("begin {} {} #{}", e.name, e.size, e.number));
            Ok(if e.name.starts_with("skip") {
                Flow::Skip
            } else if e.name.starts_with("stop") {
                Flow::Stop
            } else {
                Flow::Read
            })
        }
        fn data(&mut self, bytes: &[u8]) -> Result<(), EdgeError> {
            self.0.push(format!("data {}", bytes.len()));
            Ok(())
        }
        fn end(&mut self, e: &EntryHead<'_>) -> Result<Flow, EdgeError> {
            self.0.push(format!("end {}", e.name));
            Ok(Flow::Read)
        }
    }

    #[test]
    fn entries_stream_in_chunks_and_skipped_ones_are_never_handed_out() {
        let big = vec![1u8; CHUNK + 10];
        let bytes = written(&[("a.bin", &big), ("skip.bin", b"secret"), ("z", b"")]);
        let (_d, p) = on_disk(&bytes);
        let mut log = Log::default();
        let ending = read_entries(&p, Limits::default(), &mut log).unwrap();
        assert_eq!(ending, Ending::Complete { entries: 3 });
        assert_eq!(
            log.0,
            [
                format!("begin a.bin {} #1", CHUNK + 10),
                format!("data {CHUNK}"),
                "data 10".into(),
                "end a.bin".into(),
                "begin skip.bin 6 #2".into(),
                "begin z 0 #3".into(),
                "end z".into(),
            ]
        );
    }

    #[test]
    fn a_sink_can_stop_the_reading_before_an_entry_is_read() {
        let mut bytes = written(&[("a", b"x"), ("stop", b"y")]);
        // Whatever follows is never looked at: the reading stopped.
        bytes.extend_from_slice(b"trailing junk");
        let (_d, p) = on_disk(&bytes);
        let mut log = Log::default();
        assert_eq!(
            read_entries(&p, Limits::default(), &mut log).unwrap(),
            Ending::Stopped
        );
        assert_eq!(log.0.last().unwrap(), "begin stop 1 #2");
    }

    #[test]
    fn long_names_are_read_from_gnu_long_name_entries() {
        let long = format!("models/{}.onnx", "x".repeat(200));
        let bytes = written(&[(&long, b"m")]);
        let (_d, p) = on_disk(&bytes);
        let files = read_tar_gz(&p, Limits::default()).unwrap();
        assert_eq!(files.keys().collect::<Vec<_>>(), [&long]);
    }

    fn refused(bytes: &[u8]) -> String {
        let (_d, p) = on_disk(bytes);
        read_tar_gz(&p, Limits::default())
            .expect_err("refused")
            .to_string()
    }

    /// The uncompressed tar of `files`, as `write_tar_gz` writes it.
    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = written(files);
        let mut d = flate2::read::GzDecoder::new(&gz[..]);
        let mut out = vec![];
        d.read_to_end(&mut out).unwrap();
        out
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
        std::io::Write::write_all(&mut e, bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn what_follows_the_archive_is_refused() {
        let one = written(&[("a", b"x")]);
        let mut two = one.clone();
        two.extend_from_slice(&written(&[("evil.sh", b"rm -rf /")]));
        let e = refused(&two);
        assert!(
            e.contains(&format!(
                "a second gzip member starts at byte {}",
                one.len()
            )),
            "{e}"
        );

        let mut junk = one.clone();
        junk.extend_from_slice(b"PK\x03\x04");
        let e = refused(&junk);
        assert!(
            e.contains(&format!(
                "data after the end of the gzip stream (at byte {})",
                one.len()
            )),
            "{e}"
        );

        let mut tar = tar_of(&[("a", b"x")]);
        let end = tar.len() - 1024;
        tar.extend_from_slice(&[0, 0, 7]);
        let e = refused(&gz(&tar));
        assert!(
            e.contains(&format!(
                "non-zero bytes at byte {} after the end of the tar archive (at byte {end})",
                tar.len() - 1
            )),
            "{e}"
        );

        let mut tar = tar_of(&[("a", b"x")]);
        tar.resize(tar.len() + MAX_END_PADDING as usize, 0);
        let e = refused(&gz(&tar));
        assert!(e.contains("bytes of padding after the end"), "{e}");

        // GNU tar pads to 10 KiB records: accepted.
        let mut tar = tar_of(&[("a", b"x")]);
        tar.resize(10240, 0);
        let (_d, p) = on_disk(&gz(&tar));
        assert!(read_tar_gz(&p, Limits::default()).is_ok());
    }

    #[test]
    fn an_archive_without_its_end_is_refused() {
        let tar = tar_of(&[("a", b"x")]);
        let e = refused(&gz(&tar[..tar.len() - 1024]));
        assert!(
            e.contains("the tar archive stops at byte 1024 without its end-of-archive block"),
            "{e}"
        );
        let e = refused(&gz(&tar[..700]));
        assert!(e.contains("entry \"a\" is cut short"), "{e}");
        let e = refused(&gz(&tar[..100]));
        assert!(e.contains("a header cut short at byte 0"), "{e}");
        let whole = written(&[("a", b"x")]);
        let e = refused(&whole[..whole.len() - 4]);
        assert!(e.contains("not a valid tar.gz archive"), "{e}");
        let e = refused(b"junk");
        assert!(e.contains("does not start with gzip's magic bytes"), "{e}");
    }

    #[test]
    fn only_the_gzip_header_mlgate_writes_is_read() {
        let whole = written(&[("a", b"x")]);
        assert_eq!(whole[..GZIP_HEADER.len()], GZIP_HEADER);
        let mut changed = whole.clone();
        changed[4] = 1; // an mtime: outside gzip's CRC
        let e = refused(&changed);
        assert!(
            e.contains("the gzip header is not the one `mlgate bundle` writes")
                && e.contains("byte 4 is 01, expected 00"),
            "{e}"
        );
        let e = refused(&whole[..5]);
        assert!(e.contains("byte 5 is missing"), "{e}");
    }

    #[test]
    fn headers_must_be_sound() {
        let mut tar = tar_of(&[("a", b"x")]);
        tar[0] = b'b';
        let e = refused(&gz(&tar));
        assert!(
            e.contains("entry 1: the header at byte 0 has checksum"),
            "{e}"
        );

        let mut h = Header::new_ustar();
        h.set_path("pax").unwrap();
        h.set_entry_type(EntryType::XHeader);
        h.set_size(0);
        h.set_cksum();
        let mut tar = h.as_bytes().to_vec();
        tar.extend_from_slice(&[0; 1024]);
        let e = refused(&gz(&tar));
        assert!(e.contains("is a PAX extended header"), "{e}");

        let mut h = Header::new_old();
        h.as_mut_bytes()[257..265].copy_from_slice(b"ustar\x00xx");
        h.set_path("a").unwrap();
        h.set_size(0);
        h.set_cksum();
        let mut tar = h.as_bytes().to_vec();
        tar.extend_from_slice(&[0; 1024]);
        let e = refused(&gz(&tar));
        assert!(e.contains("unknown format"), "{e}");
    }

    #[test]
    fn limits_hold_before_bytes_are_read() {
        let bytes = written(&[("a", &[0u8; 3000]), ("b", b"x")]);
        let (_d, p) = on_disk(&bytes);
        let mut log = Log::default();
        let strict = Limits {
            max_entry_bytes: 1000,
            ..Limits::default()
        };
        let e = read_entries(&p, strict, &mut log).unwrap_err().to_string();
        assert!(
            e.contains("entry \"a\" is 3000 bytes, over the limit of 1000"),
            "{e}"
        );
        assert!(log.0.is_empty(), "{:?}", log.0);
        let few = Limits {
            max_entries: 1,
            ..Limits::default()
        };
        let e = read_tar_gz(&p, few).unwrap_err().to_string();
        assert!(e.contains("more than 1 entries"), "{e}");
        let total = Limits {
            max_total_bytes: 3000,
            ..Limits::default()
        };
        let e = read_tar_gz(&p, total).unwrap_err().to_string();
        assert!(e.contains("add up to more than 3000 bytes"), "{e}");
    }
}
