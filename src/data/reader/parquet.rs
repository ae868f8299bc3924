//! Parquet, read batch by batch through arrow-rs. Integers, floats, booleans and strings become typed cells
//! without copying; every other Arrow type (dates, timestamps, decimals, ...) is formatted as text by arrow's
//! display, which is the form Table Schema casts from. Parquet has no lines, so findings carry rows only.

use std::borrow::Cow;
use std::fs::File;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{io_err, ReadStats, Record, RecordSink, Source};
use crate::data::source::remote::{ChunksFrom, RemoteChunks};
use crate::data::value::Cell;
use crate::data::DataError;

const BATCH: usize = 8192;

fn cell_at<'a>(col: &'a ArrayRef, fmt: Option<&ArrayFormatter<'a>>, i: usize) -> Cell<'a> {
    if col.is_null(i) {
        return Cell::Null;
    }
    match col.data_type() {
        DataType::Boolean => Cell::Bool(col.as_boolean().value(i)),
        DataType::Int8 => Cell::Int(col.as_primitive::<Int8Type>().value(i) as i64),
        DataType::Int16 => Cell::Int(col.as_primitive::<Int16Type>().value(i) as i64),
        DataType::Int32 => Cell::Int(col.as_primitive::<Int32Type>().value(i) as i64),
        DataType::Int64 => Cell::Int(col.as_primitive::<Int64Type>().value(i)),
        DataType::UInt8 => Cell::Int(col.as_primitive::<UInt8Type>().value(i) as i64),
        DataType::UInt16 => Cell::Int(col.as_primitive::<UInt16Type>().value(i) as i64),
        DataType::UInt32 => Cell::Int(col.as_primitive::<UInt32Type>().value(i) as i64),
        DataType::UInt64 => {
            let v = col.as_primitive::<UInt64Type>().value(i);
            i64::try_from(v)
                .map(Cell::Int)
                .unwrap_or(Cell::Float(v as f64))
        }
        DataType::Float32 => Cell::Float(col.as_primitive::<Float32Type>().value(i) as f64),
        DataType::Float64 => Cell::Float(col.as_primitive::<Float64Type>().value(i)),
        DataType::Utf8 => Cell::Text(Cow::Borrowed(col.as_string::<i32>().value(i))),
        DataType::LargeUtf8 => Cell::Text(Cow::Borrowed(col.as_string::<i64>().value(i))),
        DataType::Utf8View => Cell::Text(Cow::Borrowed(col.as_string_view().value(i))),
        _ => match fmt {
            Some(f) => Cell::Text(Cow::Owned(f.value(i).to_string())),
            None => Cell::Null,
        },
    }
}

/// Runs a step of the Parquet decoder, turning a panic of the decoder into an error: arrow-rs' decoders panic on
/// some malformed files (fuzzing found a shift overflow in the delta bit-packing decoder, with overflow checks on;
/// fuzz/regressions/parquet/), and a malformed file is bad input, not a bug of mlgate's.
fn no_panic<T>(
    source: &Source,
    step: impl FnOnce() -> Result<T, DataError>,
) -> Result<T, DataError> {
    crate::untrusted::catch(step).unwrap_or_else(|why| {
        Err(DataError::Format {
            path: source.display.clone(),
            message: format!(
                "not a readable Parquet file: the decoder failed on malformed data ({why})"
            ),
            help: None,
        })
    })
}

/// The row groups shard `index` (1-based) of `count` reads: a contiguous run, by the footer (no data page is
/// read; of a remote file only the footer's byte ranges). `None` when the footer cannot be read, and for
/// DVC-tracked data (checked whole against its MD5): then every shard reads the file whole, and the reader says
/// what is wrong with it, as one run does.
pub fn plan(source: &Source, index: u32, count: u32) -> Option<super::Window> {
    use crate::data::source::Origin;
    let meta = match &source.origin {
        Origin::Local => footer(source, &File::open(&source.path).ok()?)?,
        Origin::Remote(r) => {
            let bytes = r.size().ok()?;
            footer(
                source,
                &RemoteFile(Arc::new(RemoteChunks::new(r.clone(), bytes))),
            )?
        }
        Origin::Dvc(_) => return None,
    };
    let groups: Vec<u64> = meta
        .row_groups()
        .iter()
        .map(|g| g.num_rows().max(0) as u64)
        .collect();
    let n = groups.len() as u64;
    let (i, count) = (u64::from(index.max(1) - 1), u64::from(count.max(1)));
    let (start, end) = (n * i / count, n * (i + 1) / count);
    let rows = groups[..start as usize].iter().sum();
    Some(super::Window::RowGroups { start, end, rows })
}

fn footer<T: parquet::file::reader::ChunkReader>(
    source: &Source,
    file: &T,
) -> Option<parquet::file::metadata::ParquetMetaData> {
    no_panic(source, || {
        parquet::file::metadata::ParquetMetaDataReader::new()
            .parse_and_finish(file)
            .map_err(|e| DataError::Format {
                path: source.display.clone(),
                message: e.to_string(),
                help: None,
            })
    })
    .ok()
}

pub fn read(source: &Source, sink: &mut dyn RecordSink) -> Result<ReadStats, DataError> {
    use crate::data::source::Origin;
    match &source.origin {
        Origin::Local => {
            let file = File::open(&source.path).map_err(io_err(source))?;
            let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
            read_from(source, sink, file, bytes)
        }
        Origin::Remote(r) => {
            let bytes = r.size()?;
            let chunks = RemoteFile(Arc::new(RemoteChunks::new(r.clone(), bytes)));
            read_from(source, sink, chunks, bytes)
        }
        Origin::Dvc(_) => {
            // The whole object is needed to check its MD5 anyway: it is copied to a temporary file (checked on
            // the way) and read from there.
            let mut tmp = tempfile::tempfile().map_err(io_err(source))?;
            let mut stream = crate::data::source::open(source)?;
            let bytes = std::io::copy(&mut stream, &mut tmp).map_err(io_err(source))?;
            read_from(source, sink, tmp, bytes)
        }
    }
}

/// A remote Parquet file for parquet's synchronous reader.
struct RemoteFile(Arc<RemoteChunks>);

impl parquet::file::reader::Length for RemoteFile {
    fn len(&self) -> u64 {
        self.0.len()
    }
}

impl parquet::file::reader::ChunkReader for RemoteFile {
    type T = ChunksFrom;

    fn get_read(&self, start: u64) -> parquet::errors::Result<ChunksFrom> {
        Ok(ChunksFrom::new(self.0.clone(), start))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        self.0
            .bytes_at(start, length)
            .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))
    }
}

fn read_from<T: parquet::file::reader::ChunkReader + 'static>(
    source: &Source,
    sink: &mut dyn RecordSink,
    file: T,
    bytes: u64,
) -> Result<ReadStats, DataError> {
    if bytes == 0 {
        return Err(DataError::Empty {
            path: source.display.clone(),
        });
    }
    let bad = |e: parquet::errors::ParquetError| DataError::Format {
        path: source.display.clone(),
        message: format!("not a readable Parquet file: {e}"),
        help: None,
    };
    let builder = no_panic(source, || {
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(bad)
    })?;
    let labels: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    sink.labels(Some(&labels));
    // Progress in bytes on disk, by the share of rows read (Parquet is not read front to back).
    let total_rows = builder.metadata().file_metadata().num_rows().max(1) as u64;
    // A shard reads its row groups only; its rows are numbered after those of the groups before.
    let (builder, mut row) = match source.window {
        Some(super::Window::RowGroups { start, end, rows }) => {
            let groups = builder.metadata().num_row_groups() as u64;
            let pick = (start.min(groups)..end.min(groups)).map(|g| g as usize);
            (builder.with_row_groups(pick.collect()), 1 + rows)
        }
        _ => (builder, 1u64),
    };
    let mut reader = no_panic(source, || {
        builder.with_batch_size(BATCH).build().map_err(bad)
    })?;
    let opts = FormatOptions::default();
    let mut records = 0u64;
    while let Some(batch) = no_panic(source, || Ok(reader.next()))? {
        let batch = batch.map_err(|e| DataError::Format {
            path: source.display.clone(),
            message: format!("cannot decode a record batch: {e}"),
            help: None,
        })?;
        let cols = batch.columns();
        let fmts: Vec<Option<ArrayFormatter<'_>>> = cols
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).ok())
            .collect();
        crate::progress::advance(bytes * batch.num_rows() as u64 / total_rows);
        let mut cells: Vec<Cell<'_>> = Vec::with_capacity(cols.len());
        for i in 0..batch.num_rows() {
            row += 1;
            records += 1;
            cells.clear();
            cells.extend(
                cols.iter()
                    .zip(&fmts)
                    .map(|(c, f)| cell_at(c, f.as_ref(), i)),
            );
            sink.record(&Record {
                row,
                line: None,
                cells: &cells,
                plain: false,
            });
        }
    }
    Ok(ReadStats { bytes, records })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::reader::{Dialect, Format};

    struct Ignore;
    impl RecordSink for Ignore {
        fn labels(&mut self, _: Option<&[String]>) {}
        fn record(&mut self, _: &Record<'_>) {}
    }

    /// The file fuzzing found (fuzz/regressions/parquet/): a malformed delta-bit-packed column whose decoding
    /// panicked inside arrow-rs is an error naming the file.
    #[test]
    fn a_decoder_panic_is_an_error() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/regressions/parquet/delta-bit-pack-overflow.parquet");
        let source = Source::new(&path, Some(Format::Parquet), Dialect::default()).unwrap();
        let err = read(&source, &mut Ignore).unwrap_err().to_string();
        assert!(err.contains("delta-bit-pack-overflow.parquet"), "{err}");
        assert!(err.contains("not a readable Parquet file"), "{err}");
    }
}
