//! Gates: a metric held against absolute thresholds and against its baseline, with a significance interval.
//! Pure decisions on numbers already computed; the evaluation that produces them lives in `model`.

pub mod baseline;
pub mod bootstrap;
pub mod changes;
pub mod git;
pub mod model_check;
pub mod threshold;

pub use bootstrap::{paired_bootstrap, paired_bootstrap_many, Interval, SplitMix64};
pub use threshold::{direction_of, evaluate, Direction, GateOutcome, GateSpec, Missing};
