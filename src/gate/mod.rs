//! Gates: a metric held against absolute thresholds and against its baseline, with a significance interval.
//! Pure decisions on numbers already computed; the evaluation that produces them lives in `model`.

pub mod bootstrap;
pub mod threshold;

pub use bootstrap::{paired_bootstrap, Interval, SplitMix64};
pub use threshold::{direction_of, evaluate, Direction, GateOutcome, GateSpec, Missing};
