//! Models: evaluation metrics (this module today; loading with tract and evaluation come with issue 4).

pub mod metrics;
