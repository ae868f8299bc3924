//! Models: loading with tract (ONNX, TFLite), evaluation data from tables and NumPy arrays, running in batches,
//! reading outputs, and the metrics (scikit-learn's semantics).
//!
//! Knows nothing of config files or flags: callers pass a path, a [`DataSpec`] and [`EvalOptions`].

pub mod error;
pub mod eval;
pub mod input;
pub mod load;
pub mod metrics;
pub mod metrics_file;
pub mod npy;
pub mod outputs;

pub use error::ModelError;
pub use eval::{evaluate, EvalOptions, Evaluation, Scored, Task};
pub use input::{DataSpec, EvalData};
pub use load::{Model, ModelFormat};
pub use outputs::{OutputFact, OutputRoles};

/// Loads a model and its data and evaluates it.
pub fn evaluate_file(
    model_path: &std::path::Path,
    data: &DataSpec,
    opts: &EvalOptions,
) -> Result<Evaluation, ModelError> {
    let model = Model::load(model_path)?;
    let data = input::read(data, &model.input.name)?;
    evaluate(&model, &data, opts)
}
