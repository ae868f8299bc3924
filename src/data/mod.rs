//! Datasets: readers (CSV, TSV, JSON Lines, Parquet), Table Schema, validation and schema inference.
//! Knows nothing of config files or flags: callers pass plain option structs.

pub mod drift;
mod error;
pub mod infer;
pub mod reader;
pub mod schema;
pub mod source;
pub mod validate;
pub mod value;

pub use error::DataError;
pub use reader::{Dialect, Format, Source};
pub use schema::Schema;
#[cfg(feature = "full")]
pub use validate::{
    merge_shards, share_of, validate_shard, write_key_runs, Section, ShardSpec, ShardState, Share,
    Split,
};
pub use validate::{validate, ValidateOptions, Validation, DEFAULT_BLOCK_ROWS};
