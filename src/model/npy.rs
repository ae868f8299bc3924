//! NumPy `.npy` arrays and `.npz` archives (a zip of `.npy` files), read strictly: little-endian or
//! byte-sized dtypes, C order, a header that says exactly what the data holds. Anything else is an error that
//! names the file and what was found.

use std::io::Read;
use std::path::Path;

/// The element types mlgate reads.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I64(Vec<i64>),
    I32(Vec<i32>),
    U8(Vec<u8>),
    I8(Vec<i8>),
    Bool(Vec<bool>),
}

impl NpyData {
    /// NumPy's name of the dtype, for messages.
    pub fn dtype(&self) -> &'static str {
        match self {
            NpyData::F32(_) => "float32",
            NpyData::F64(_) => "float64",
            NpyData::I64(_) => "int64",
            NpyData::I32(_) => "int32",
            NpyData::U8(_) => "uint8",
            NpyData::I8(_) => "int8",
            NpyData::Bool(_) => "bool",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            NpyData::F32(v) => v.len(),
            NpyData::F64(v) => v.len(),
            NpyData::I64(v) => v.len(),
            NpyData::I32(v) => v.len(),
            NpyData::U8(v) => v.len(),
            NpyData::I8(v) => v.len(),
            NpyData::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every element as f64 (exact for all the types above).
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            NpyData::F32(v) => v.iter().map(|&x| x as f64).collect(),
            NpyData::F64(v) => v.clone(),
            NpyData::I64(v) => v.iter().map(|&x| x as f64).collect(),
            NpyData::I32(v) => v.iter().map(|&x| x as f64).collect(),
            NpyData::U8(v) => v.iter().map(|&x| x as f64).collect(),
            NpyData::I8(v) => v.iter().map(|&x| x as f64).collect(),
            NpyData::Bool(v) => v.iter().map(|&x| x as u8 as f64).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: NpyData,
}

impl NpyArray {
    /// `float32 [450, 8, 8, 1]`.
    pub fn describe(&self) -> String {
        format!("{} {:?}", self.data.dtype(), self.shape)
    }
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// Parses one `.npy` file's bytes. The error is a sentence without the file name.
pub fn parse_npy(bytes: &[u8]) -> Result<NpyArray, String> {
    if !bytes.starts_with(MAGIC) {
        return Err("not a .npy file (no \\x93NUMPY magic)".into());
    }
    let major = *bytes.get(6).ok_or("truncated .npy header")?;
    let (header_len, start) = match major {
        1 => {
            let b = bytes.get(8..10).ok_or("truncated .npy header")?;
            (u16::from_le_bytes([b[0], b[1]]) as usize, 10)
        }
        2 | 3 => {
            let b = bytes.get(8..12).ok_or("truncated .npy header")?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
        }
        v => {
            return Err(format!(
                ".npy format version {v} is not supported (1, 2 or 3)"
            ))
        }
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or("truncated .npy header")?;
    let header = std::str::from_utf8(header).map_err(|_| "the .npy header is not text")?;
    let descr = dict_value(header, "descr").ok_or("the .npy header has no 'descr'")?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let fortran =
        dict_value(header, "fortran_order").ok_or("the .npy header has no 'fortran_order'")?;
    if fortran.trim() != "False" {
        return Err(
            "the array is in Fortran order; save it in C order (np.ascontiguousarray)".into(),
        );
    }
    let shape_text = dict_value(header, "shape").ok_or("the .npy header has no 'shape'")?;
    let shape: Vec<usize> = shape_text
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("the .npy shape {shape_text} is not a tuple of sizes"))?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or("the .npy shape is too large")?;
    let body = &bytes[start + header_len..];
    let (width, data): (usize, fn(&[u8]) -> NpyData) = match descr {
        "<f4" => (4, |b| {
            NpyData::F32(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
        }),
        "<f8" => (8, |b| {
            NpyData::F64(b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect())
        }),
        "<i8" => (8, |b| {
            NpyData::I64(b.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect())
        }),
        "<i4" => (4, |b| {
            NpyData::I32(b.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
        }),
        "|u1" => (1, |b| NpyData::U8(b.to_vec())),
        "|i1" => (1, |b| NpyData::I8(b.iter().map(|&x| x as i8).collect())),
        "|b1" => (1, |b| NpyData::Bool(b.iter().map(|&x| x != 0).collect())),
        other => {
            return Err(format!(
                "dtype {other:?} is not supported (float32, float64, int64, int32, uint8, int8, bool; little-endian)"
            ))
        }
    };
    let need = count
        .checked_mul(width)
        .ok_or("the .npy shape is too large")?;
    if body.len() < need {
        return Err(format!(
            "truncated: the header says {count} elements of {width} bytes ({need} bytes), the file holds {}",
            body.len()
        ));
    }
    Ok(NpyArray {
        shape,
        data: data(&body[..need]),
    })
}

/// The text of `'key': VALUE` in a Python dict literal, up to the next top-level comma.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = &header[at + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let mut depth = 0i32;
    for (i, ch) in rest.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(rest[..i].trim()),
            _ => {}
        }
    }
    None
}

/// Reads a `.npy` file, or every array of a `.npz` archive (names without `.npy`, in archive order).
pub fn read_arrays(path: &Path) -> Result<Vec<(String, NpyArray)>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    if bytes.starts_with(MAGIC) {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("array")
            .to_string();
        return Ok(vec![(stem, parse_npy(&bytes)?)]);
    }
    if !bytes.starts_with(b"PK") {
        return Err("neither a .npy file nor a .npz archive".into());
    }
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a valid .npz archive: {e}"))?;
    let mut out = vec![];
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| format!("not a valid .npz archive: {e}"))?;
        let name = entry
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| format!("entry {i}"));
        let Some(stem) = name.strip_suffix(".npy") else {
            continue;
        };
        let mut buf = Vec::with_capacity(entry.size().min(1 << 30) as usize);
        entry
            .read_to_end(&mut buf)
            .map_err(|e| format!("{name}: cannot unpack: {e}"))?;
        let array = parse_npy(&buf).map_err(|e| format!("{name}: {e}"))?;
        out.push((stem.to_string(), array));
    }
    if out.is_empty() {
        return Err("the .npz archive holds no .npy array".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
        npy_order(descr, "False", shape, body)
    }

    fn npy_order(descr: &str, fortran: &str, shape: &str, body: &[u8]) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = MAGIC.to_vec();
        out.extend([1, 0]);
        out.extend((header.len() as u16).to_le_bytes());
        out.extend(header.as_bytes());
        out.extend(body);
        out
    }

    #[test]
    fn reads_float32_and_int64() {
        let body: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let a = parse_npy(&npy("<f4", "(2,)", &body)).unwrap();
        assert_eq!(a.shape, vec![2]);
        assert_eq!(a.data, NpyData::F32(vec![1.5, -2.0]));
        let body: Vec<u8> = [7i64, 9, 11, 13]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let a = parse_npy(&npy("<i8", "(2, 2)", &body)).unwrap();
        assert_eq!(a.shape, vec![2, 2]);
        assert_eq!(a.describe(), "int64 [2, 2]");
        let scalar = parse_npy(&npy("<f8", "()", &2.5f64.to_le_bytes())).unwrap();
        assert_eq!(scalar.shape, Vec::<usize>::new());
    }

    #[test]
    fn strict_about_what_it_cannot_read() {
        assert!(parse_npy(&npy(">f4", "(1,)", &[0; 4]))
            .unwrap_err()
            .contains("not supported"));
        assert!(parse_npy(&npy("<f4", "(3,)", &[0; 8]))
            .unwrap_err()
            .contains("truncated"));
        assert!(parse_npy(b"\x93NUMPY").unwrap_err().contains("truncated"));
        assert!(parse_npy(b"hello").unwrap_err().contains("magic"));
        assert!(parse_npy(&npy_order("<f4", "True", "(1,)", &[0; 4]))
            .unwrap_err()
            .contains("Fortran"));
        // Elements that fit a usize but whose bytes do not (found by the fuzzer: the product overflowed).
        let shape = format!("({},)", usize::MAX / 4);
        assert!(parse_npy(&npy("<i8", &shape, &[0; 8]))
            .unwrap_err()
            .contains("too large"));
    }
}
