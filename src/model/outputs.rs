//! What a model's outputs are (class labels, class probabilities, one value per row) and the task they tell.
//!
//! One rule for every reader: `mlgate eval` applies it to the outputs of a run, `mlgate init` to the output
//! facts of the loaded graph, so that init writes the task eval would find.

use tract_onnx::prelude::DatumType;

use super::eval::Task;

/// One output as the rule sees it: its element type and its values per row (the product of the dimensions after
/// the batch; 0 when the output is not read, as strings are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputFact {
    pub dtype: DatumType,
    pub width: usize,
}

impl OutputFact {
    /// Numbers mlgate reads (strings and opaque types are skipped, as a run's reader skips them).
    fn is_read(&self) -> bool {
        self.width > 0
            && (self.dtype.is_float()
                || self.dtype.is_integer()
                || matches!(self.dtype, DatumType::Bool | DatumType::TDim))
    }
}

/// The outputs that play each part, as indices into the outputs (the first that fits, in output order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputRoles {
    /// Class labels: an integer (or bool) output with one value per row (sklearn-onnx's `output_label`).
    pub label: Option<usize>,
    /// Class probabilities or scores: a float output with two or more columns (`output_probability`, a softmax).
    pub probabilities: Option<usize>,
    /// One float value per row: a regressor's prediction (or, with `task: classification`, a sigmoid).
    pub value: Option<usize>,
    /// Outputs whose type or width is not known (`None` facts): the task is not told while one of them could
    /// change it.
    pub unknown: usize,
}

impl OutputRoles {
    /// The roles of `facts`, in output order; `None` is an output whose type or width is not known.
    pub fn of(facts: &[Option<OutputFact>]) -> OutputRoles {
        let find = |fits: &dyn Fn(&OutputFact) -> bool| {
            facts
                .iter()
                .position(|f| f.as_ref().is_some_and(|f| f.is_read() && fits(f)))
        };
        OutputRoles {
            label: find(&|f| !f.dtype.is_float() && f.width == 1),
            probabilities: find(&|f| f.dtype.is_float() && f.width >= 2),
            value: find(&|f| f.dtype.is_float() && f.width == 1),
            unknown: facts.iter().filter(|f| f.is_none()).count(),
        }
    }

    /// The task the outputs tell: classification when there are labels or probabilities, regression when there is
    /// only one value per row. `None` when no output is read as either, or when an output of unknown type could
    /// still be labels or probabilities.
    pub fn task(&self) -> Option<Task> {
        if self.label.is_some() || self.probabilities.is_some() {
            Some(Task::Classification)
        } else if self.unknown > 0 {
            None
        } else if self.value.is_some() {
            Some(Task::Regression)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(dtype: DatumType, width: usize) -> Option<OutputFact> {
        Some(OutputFact { dtype, width })
    }

    #[test]
    fn labels_or_probabilities_are_a_classifier() {
        // sklearn-onnx: output_label int64 [N], output_probability float [N, 2].
        let r = OutputRoles::of(&[fact(DatumType::I64, 1), fact(DatumType::F32, 2)]);
        assert_eq!((r.label, r.probabilities), (Some(0), Some(1)));
        assert_eq!(r.task(), Some(Task::Classification));
        // A softmax alone, and labels alone.
        assert_eq!(
            OutputRoles::of(&[fact(DatumType::F32, 10)]).task(),
            Some(Task::Classification)
        );
        assert_eq!(
            OutputRoles::of(&[fact(DatumType::I32, 1)]).task(),
            Some(Task::Classification)
        );
        // Labels are known even when another output is not.
        assert_eq!(
            OutputRoles::of(&[None, fact(DatumType::I64, 1)]).task(),
            Some(Task::Classification)
        );
    }

    #[test]
    fn one_float_per_row_is_a_regressor() {
        let r = OutputRoles::of(&[fact(DatumType::F32, 1)]);
        assert_eq!(r.value, Some(0));
        assert_eq!(r.task(), Some(Task::Regression));
    }

    #[test]
    fn what_is_not_told() {
        // A string label output is not read; with nothing else, no task.
        assert_eq!(OutputRoles::of(&[fact(DatumType::String, 1)]).task(), None);
        // One float value, but another output of unknown type could be probabilities.
        assert_eq!(
            OutputRoles::of(&[fact(DatumType::F32, 1), None]).task(),
            None
        );
        assert_eq!(OutputRoles::of(&[]).task(), None);
    }
}
