//! The `device` build has no arrow/parquet (they are most of its size): a Parquet file is a clear error that says
//! which build reads it. Tables on a device are CSV or JSON Lines, arrays `.npy`/`.npz`.

use super::{ReadStats, RecordSink, Source};
use crate::data::DataError;

pub fn read(source: &Source, _sink: &mut dyn RecordSink) -> Result<ReadStats, DataError> {
    Err(DataError::Format {
        path: source.path.display().to_string(),
        message: "Parquet is not read by this build of mlgate (the `device` build has no arrow/parquet)".into(),
        help: Some(
            "convert the data to CSV, JSON Lines or .npy/.npz, or use the full build (the default features)"
                .into(),
        ),
    })
}
