//! static-int8: weights and activations in int8, activation ranges measured ahead of time on calibration data.
//!
//! The calibration rows run through tract with the float model, with the input and output of every candidate
//! MatMul, Gemm and Conv added as extra outputs (through Identity nodes). Each range is symmetric: the largest
//! |x| (`minmax`) or its 99.99th percentile (`percentile`), over every value of the tensor, gives the int8 scale
//! `absmax / 127` with zero point 0. Each quantized node then becomes (QOperator, S8S8, per-tensor activations):
//!
//! ```text
//! x ─ QuantizeLinear(x_scale, 0) ─ x_q (int8, shared by every consumer of x)
//! QLinearMatMul(x_q, W_q per-tensor) | QLinearConv(x_q, W_q per output filter, int32 bias)   y_q (int8)
//! DequantizeLinear(y_scale, 0) [─ Add(bias), MatMul and Gemm] ─ the node's original output
//! ```
//!
//! - QLinearMatMul's `b_scale` stays per-tensor (one scale for the weight); QLinearConv's `w_scale` is per output
//!   filter, which the operator allows from opset 10.
//! - Gemm: alpha is folded into the weight scale, B is transposed when `transB=1`, `beta·C` is added in float after
//!   the DequantizeLinear. Its output scale is calibrated on the Gemm's output; the product before the bias is
//!   bounded by that range plus the largest |beta·C|.
//! - Conv's bias becomes int32 with the scale `x_scale · w_scale[c]`, inside QLinearConv.
//! - Every other operator (Softmax included: tract's Q/DQ folding around Softmax is wrong) stays in float.
//! - A quantized node that reads the output of another one directly (a depthwise Conv feeding a pointwise Conv)
//!   takes its int8 output as it is: the DequantizeLinear ─ QuantizeLinear pair between them would round-trip
//!   exactly (same tensor, so same calibrated scale, zero point 0), so it is left out, and a DequantizeLinear
//!   nothing reads any more is dropped. The outputs are unchanged; the file is smaller.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::dynamic::{quantize_per_channel, transpose, DynamicSummary, Names};
use super::onnx::{
    self, attr_float, attr_int, float_tensor, float_values, int8_tensor, node, DataType,
    ModelProto, NodeProto, TensorProto,
};
use super::walk;
use super::QuantizeError;
use crate::model::{eval, input, DataSpec, Model};

/// How the activation ranges are taken from the calibration values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Calibrate {
    /// The largest |x|.
    #[default]
    MinMax,
    /// The 99.99th percentile of |x|: a few outliers do not stretch the scale.
    Percentile,
}

impl Calibrate {
    pub fn as_str(self) -> &'static str {
        match self {
            Calibrate::MinMax => "minmax",
            Calibrate::Percentile => "percentile",
        }
    }
}

/// The calibration data and method.
#[derive(Debug, Clone)]
pub struct Calibration {
    pub data: DataSpec,
    pub method: Calibrate,
    /// Rows run at a time (for models that need a fixed batch).
    pub batch_size: usize,
}

/// The percentile of |x| the `percentile` method keeps.
const PERCENTILE: f64 = 99.99;

fn default_domain(n: &NodeProto) -> bool {
    n.domain.is_empty() || n.domain == "ai.onnx"
}

/// The tensors whose ranges the rewrite needs: the activation input and the output of every MatMul, Gemm and
/// Conv whose weight is a constant float initializer, in graph order, without repeats.
pub fn calibration_tensors(model: &ModelProto) -> Vec<String> {
    let Some(g) = model.graph.as_ref() else {
        return vec![];
    };
    let inputs: BTreeSet<&str> = g.input.iter().map(|i| i.name.as_str()).collect();
    let inits: BTreeSet<&str> = g
        .initializer
        .iter()
        .filter(|t| !inputs.contains(t.name.as_str()))
        .map(|t| t.name.as_str())
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = vec![];
    for n in &g.node {
        if !default_domain(n)
            || !matches!(n.op_type.as_str(), "MatMul" | "Gemm" | "Conv")
            || n.output.len() != 1
            || n.input.len() < 2
            || !inits.contains(n.input[1].as_str())
        {
            continue;
        }
        for t in [&n.input[0], &n.output[0]] {
            if seen.insert(t.clone()) {
                out.push(t.clone());
            }
        }
    }
    out
}

/// The symmetric range (largest |x| to keep) of `values`.
fn absmax(values: &[f32], method: Calibrate) -> f32 {
    let mut abs: Vec<f32> = values
        .iter()
        .map(|v| v.abs())
        .filter(|v| v.is_finite())
        .collect();
    if abs.is_empty() {
        return 0.0;
    }
    match method {
        Calibrate::MinMax => abs.iter().copied().fold(0.0, f32::max),
        Calibrate::Percentile => {
            // The nearest-rank percentile.
            let rank = ((PERCENTILE / 100.0) * abs.len() as f64).ceil() as usize;
            let k = rank.clamp(1, abs.len()) - 1;
            let (_, v, _) = abs.select_nth_unstable_by(k, f32::total_cmp);
            *v
        }
    }
}

/// Runs the calibration data through the float model (with tract) and returns the range of each tensor named by
/// [`calibration_tensors`].
pub fn ranges(
    model: &ModelProto,
    cal: &Calibration,
    path: &str,
) -> Result<BTreeMap<String, f32>, QuantizeError> {
    let tensors = calibration_tensors(model);
    let mut probe = model.clone();
    let Some(graph) = probe.graph.as_mut() else {
        return Err(QuantizeError::NotOnnx {
            path: path.into(),
            message: "it has no graph".into(),
        });
    };
    let mut names = Names {
        used: walk::used_names(graph),
    };
    let first_extra = graph.output.len();
    for t in &tensors {
        let out = names.fresh(&format!("{t}_mlgate_calibration"));
        let id = names.fresh(&format!("{t}_mlgate_calibration_identity"));
        graph.node.push(node("Identity", &id, &[t], &[&out]));
        graph.output.push(onnx::value_info(&out));
    }
    let dir = tempfile::tempdir().map_err(|err| QuantizeError::Write {
        path: std::env::temp_dir().display().to_string(),
        err,
    })?;
    let probe_path = dir.path().join("calibration.onnx");
    std::fs::write(&probe_path, onnx::encode(&probe)).map_err(|err| QuantizeError::Write {
        path: probe_path.display().to_string(),
        err,
    })?;
    let mut m = Model::load(&probe_path)?;
    m.display = path.to_string();
    let data = input::read(&cal.data, &m.input.name)?;
    if data.rows() == 0 {
        return Err(QuantizeError::Usage(format!(
            "{}: the calibration data has no rows",
            cal.data.path.display()
        )));
    }
    // Data of the wrong shape or type is the caller's error (exit 2); a graph tract cannot run with the extra
    // outputs is a model static-int8 cannot handle (auto leaves the mode out).
    eval::check_input(&m, &data)?;
    let cannot_run = |e: crate::model::ModelError| QuantizeError::Unsupported {
        path: path.into(),
        message: format!("tract cannot run the calibration data through the model: {e}"),
        help: "use --mode dynamic-int8 or fp16".into(),
    };
    let plan = eval::plan_for(&m, &data, cal.batch_size).map_err(cannot_run)?;
    let (outs, _) = eval::run_all(&m, &plan, &data, cal.batch_size).map_err(cannot_run)?;
    let mut ranges = BTreeMap::new();
    for (i, t) in tensors.iter().enumerate() {
        let Some(o) = outs.get(first_extra + i) else {
            return Err(QuantizeError::Unsupported {
                path: path.into(),
                message: format!("tract gave no value for `{t}` during calibration"),
                help: "use --mode dynamic-int8".into(),
            });
        };
        let v: Vec<f32> = o.data.iter().map(|&x| x as f32).collect();
        ranges.insert(t.clone(), absmax(&v, cal.method));
    }
    Ok(ranges)
}

/// `absmax / 127`, or 1 for an all-zero (or unknown) range.
fn scale_of(absmax: f32) -> f32 {
    let s = absmax / 127.0;
    if s.is_finite() && s > f32::MIN_POSITIVE {
        s
    } else {
        1.0
    }
}

/// One int8 activation: QuantizeLinear's output, its scale and zero point.
#[derive(Clone)]
struct QuantizedInput {
    q: String,
    scale: String,
    zero_point: String,
    scale_value: f32,
}

struct Rewriter<'a> {
    names: Names,
    initializers: BTreeMap<String, &'a TensorProto>,
    ranges: &'a BTreeMap<String, f32>,
    activations: BTreeMap<String, QuantizedInput>,
    /// Float outputs of quantized nodes that a quantized consumer may read in int8 (see [`Rewriter::chain`]).
    chained: BTreeSet<String>,
    new_initializers: Vec<TensorProto>,
}

impl Rewriter<'_> {
    fn range(&self, name: &str) -> Result<f32, String> {
        self.ranges
            .get(name)
            .copied()
            .ok_or_else(|| format!("no calibrated range for `{name}`"))
    }

    /// A scalar scale and int8 zero point 0, as initializers.
    fn scale_and_zero(&mut self, base: &str, scale: f32) -> (String, String) {
        let s = self.names.fresh(&format!("{base}_scale"));
        self.new_initializers.push(float_tensor(&s, &[], &[scale]));
        let z = self.names.fresh(&format!("{base}_zero_point"));
        self.new_initializers.push(int8_tensor(&z, &[], &[0]));
        (s, z)
    }

    fn quantize_input(
        &mut self,
        input: &str,
        out: &mut Vec<NodeProto>,
    ) -> Result<QuantizedInput, String> {
        if let Some(q) = self.activations.get(input) {
            return Ok(q.clone());
        }
        let scale_value = scale_of(self.range(input)?);
        let (scale, zero_point) = self.scale_and_zero(input, scale_value);
        let q = QuantizedInput {
            q: self.names.fresh(&format!("{input}_quantized")),
            scale,
            zero_point,
            scale_value,
        };
        let name = self.names.fresh(&format!("{input}_QuantizeLinear"));
        out.push(node(
            "QuantizeLinear",
            &name,
            &[input, &q.scale, &q.zero_point],
            &[&q.q],
        ));
        self.activations.insert(input.to_string(), q.clone());
        Ok(q)
    }

    /// Records that the float tensor `output` is exactly `DequantizeLinear(y_q, y_scale, 0)`, with the scale a
    /// consumer of `output` would calibrate for it (the same tensor's range): a quantized consumer reads `y_q`.
    fn chain(
        &mut self,
        output: &str,
        q: String,
        scale: String,
        zero_point: String,
        scale_value: f32,
    ) {
        self.chained.insert(output.to_string());
        self.activations.insert(
            output.to_string(),
            QuantizedInput {
                q,
                scale,
                zero_point,
                scale_value,
            },
        );
    }

    fn weight(&self, name: &str) -> Result<(Vec<f32>, Vec<usize>), String> {
        let t = self
            .initializers
            .get(name)
            .ok_or_else(|| format!("its weight `{name}` is not a constant initializer"))?;
        let values = float_values(t).map_err(|e| format!("its weight `{name}` {e}"))?;
        if t.dims.iter().any(|&d| d <= 0) {
            return Err(format!("its weight `{name}` has an empty dimension"));
        }
        Ok((values, t.dims.iter().map(|&d| d as usize).collect()))
    }

    fn replace(&mut self, n: &NodeProto, out: &mut Vec<NodeProto>) -> Result<(), String> {
        if !default_domain(n) {
            return Err("not in the default domain".into());
        }
        match n.op_type.as_str() {
            "MatMul" | "Gemm" => self.matmul(n, out),
            "Conv" => self.conv(n, out),
            _ => Err("not MatMul, Gemm or Conv".into()),
        }
    }

    fn base(n: &NodeProto) -> String {
        if n.name.is_empty() {
            n.output[0].clone()
        } else {
            n.name.clone()
        }
    }

    /// MatMul, and Gemm with a constant (or no) C: QLinearMatMul with a per-tensor weight scale.
    fn matmul(&mut self, n: &NodeProto, out: &mut Vec<NodeProto>) -> Result<(), String> {
        let gemm = n.op_type == "Gemm";
        let (a, b) = match n.input.as_slice() {
            [a, b] => (a, b),
            [a, b, _] if gemm => (a, b),
            _ => return Err(format!("{} without two inputs", n.op_type)),
        };
        let (mut alpha, mut beta, mut trans_b) = (1.0, 1.0, false);
        if gemm {
            if attr_int(n, "transA", 0) != 0 {
                return Err("Gemm with transA=1".into());
            }
            alpha = attr_float(n, "alpha", 1.0);
            beta = attr_float(n, "beta", 1.0);
            trans_b = attr_int(n, "transB", 0) != 0;
        }
        let (w, dims) = self.weight(b)?;
        if dims.len() != 2 {
            return Err(format!("its weight `{b}` is not 2-D ({dims:?})"));
        }
        let (w, k, m) = if trans_b {
            (transpose(&w, dims[0], dims[1]), dims[1], dims[0])
        } else {
            (w, dims[0], dims[1])
        };
        let bias: Option<Vec<f32>> = match n.input.get(2).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                let t = self
                    .initializers
                    .get(c.as_str())
                    .ok_or_else(|| format!("its C `{c}` is not a constant initializer"))?;
                let v = float_values(t).map_err(|e| format!("its C `{c}` {e}"))?;
                Some(v.iter().map(|x| x * beta).collect())
            }
        };
        let bias_max = bias
            .as_ref()
            .map_or(0.0, |v| v.iter().fold(0f32, |m, x| m.max(x.abs())));
        let y_scale_value = scale_of(self.range(&n.output[0])? + bias_max);
        let x = self.quantize_input(a, out)?;
        let (q, scales) = quantize_per_channel(&w, &[1, k * m], 0);
        let base = Self::base(n);
        let w_q = self.names.fresh(&format!("{b}_quantized"));
        self.new_initializers
            .push(int8_tensor(&w_q, &[k as i64, m as i64], &q));
        let (w_scale, w_zero) = self.scale_and_zero(&w_q, scales[0] * alpha);
        let output = n.output[0].clone();
        let (y_scale, y_zero) = self.scale_and_zero(&format!("{output}_quantized"), y_scale_value);
        let y_q = self.names.fresh(&format!("{output}_quantized"));
        out.push(node(
            "QLinearMatMul",
            &self.names.fresh(&format!("{base}_quant")),
            &[
                &x.q,
                &x.scale,
                &x.zero_point,
                &w_q,
                &w_scale,
                &w_zero,
                &y_scale,
                &y_zero,
            ],
            &[&y_q],
        ));
        let dq_out = match &bias {
            Some(_) => self.names.fresh(&format!("{output}_dequantized")),
            None => output.clone(),
        };
        out.push(node(
            "DequantizeLinear",
            &self.names.fresh(&format!("{output}_DequantizeLinear")),
            &[&y_q, &y_scale, &y_zero],
            &[&dq_out],
        ));
        if bias.is_none() {
            self.chain(&output, y_q, y_scale, y_zero, y_scale_value);
        }
        if let Some(bias) = bias {
            let c = &n.input[2];
            let name = self.names.fresh(&format!("{c}_bias"));
            let t = self.initializers[c.as_str()];
            self.new_initializers
                .push(float_tensor(&name, &t.dims, &bias));
            out.push(node(
                "Add",
                &self.names.fresh(&format!("{output}_bias_add")),
                &[&dq_out, &name],
                &[&output],
            ));
        }
        Ok(())
    }

    /// Conv: QLinearConv with per-filter weight scales and an int32 bias.
    fn conv(&mut self, n: &NodeProto, out: &mut Vec<NodeProto>) -> Result<(), String> {
        let (x_name, w_name) = match n.input.as_slice() {
            [x, w] | [x, w, _] => (x, w),
            _ => return Err("Conv without two or three inputs".into()),
        };
        let (w, dims) = self.weight(w_name)?;
        if dims.len() < 3 {
            return Err(format!("its weight `{w_name}` has rank {}", dims.len()));
        }
        let m = dims[0];
        let bias = match n.input.get(2).filter(|b| !b.is_empty()) {
            None => None,
            Some(b) => {
                let t = self
                    .initializers
                    .get(b.as_str())
                    .ok_or_else(|| format!("its bias `{b}` is not a constant initializer"))?;
                let v = float_values(t).map_err(|e| format!("its bias `{b}` {e}"))?;
                if v.len() != m {
                    return Err(format!(
                        "its bias `{b}` has {} values for {m} filters",
                        v.len()
                    ));
                }
                Some((b.clone(), v))
            }
        };
        let y_scale_value = scale_of(self.range(&n.output[0])?);
        let x = self.quantize_input(x_name, out)?;
        let (q, scales) = quantize_per_channel(&w, &dims, 0);
        let base = Self::base(n);
        let w_dims: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
        let w_q = self.names.fresh(&format!("{w_name}_quantized"));
        self.new_initializers.push(int8_tensor(&w_q, &w_dims, &q));
        let w_scale = self.names.fresh(&format!("{w_q}_scale"));
        self.new_initializers
            .push(float_tensor(&w_scale, &[m as i64], &scales));
        let w_zero = self.names.fresh(&format!("{w_q}_zero_point"));
        self.new_initializers
            .push(int8_tensor(&w_zero, &[m as i64], &vec![0; m]));
        let output = n.output[0].clone();
        let (y_scale, y_zero) = self.scale_and_zero(&format!("{output}_quantized"), y_scale_value);
        let y_q = self.names.fresh(&format!("{output}_quantized"));
        let mut inputs: Vec<String> = vec![
            x.q.clone(),
            x.scale.clone(),
            x.zero_point.clone(),
            w_q,
            w_scale,
            w_zero,
            y_scale.clone(),
            y_zero.clone(),
        ];
        if let Some((b, v)) = bias {
            let q: Vec<i32> = v
                .iter()
                .zip(&scales)
                .map(|(b, s)| {
                    let s = x.scale_value as f64 * *s as f64;
                    (*b as f64 / s)
                        .round_ties_even()
                        .clamp(i32::MIN as f64, i32::MAX as f64) as i32
                })
                .collect();
            let name = self.names.fresh(&format!("{b}_quantized"));
            self.new_initializers.push(TensorProto {
                name: name.clone(),
                dims: vec![m as i64],
                data_type: DataType::Int32 as i32,
                raw_data: q.iter().flat_map(|v| v.to_le_bytes()).collect(),
                ..Default::default()
            });
            inputs.push(name);
        }
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let mut conv = node(
            "QLinearConv",
            &self.names.fresh(&format!("{base}_quant")),
            &refs,
            &[&y_q],
        );
        // QLinearConv takes Conv's attributes as they are.
        conv.attribute = n.attribute.clone();
        out.push(conv);
        out.push(node(
            "DequantizeLinear",
            &self.names.fresh(&format!("{output}_DequantizeLinear")),
            &[&y_q, &y_scale, &y_zero],
            &[&output],
        ));
        self.chain(&output, y_q, y_scale, y_zero, y_scale_value);
        Ok(())
    }
}

impl walk::NodeRewriter for Rewriter<'_> {
    fn rewrite(&mut self, n: &NodeProto, out: &mut Vec<NodeProto>) -> Result<(), String> {
        self.replace(n, out)
    }

    fn take_new_initializers(&mut self) -> Vec<TensorProto> {
        std::mem::take(&mut self.new_initializers)
    }
}

/// Quantizes `model` in place with the activation `ranges` from [`ranges`]. `path` names the file in errors.
pub fn quantize(
    model: &mut ModelProto,
    path: &str,
    ranges: &BTreeMap<String, f32>,
) -> Result<DynamicSummary, QuantizeError> {
    let graph = walk::graph_at_opset(model, path, 10, "QLinearMatMul and QLinearConv need")?;
    let taken = walk::take(graph);
    let mut rw = Rewriter {
        names: Names { used: taken.used },
        initializers: walk::constant_initializers(graph, &taken.initializers),
        ranges,
        activations: BTreeMap::new(),
        chained: BTreeSet::new(),
        new_initializers: vec![],
    };
    let summary = walk::rewrite_graph(graph, &taken.nodes, &taken.initializers, &mut rw, path)?;
    drop_unread_dequantize(graph, &rw.chained);
    Ok(summary)
}

/// Drops the DequantizeLinear nodes the rewrite made for the float tensors in `chained` when nothing reads them
/// any more (no node, subgraph or graph output): after a quantized node feeds another directly, the float copy
/// between them may have no reader left. The model's own nodes are never dropped.
fn drop_unread_dequantize(graph: &mut onnx::GraphProto, chained: &BTreeSet<String>) {
    let mut read: BTreeSet<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    for n in &graph.node {
        read.extend(n.input.iter().map(String::as_str));
        walk::collect_subgraph_inputs(n, &mut read);
    }
    let unread: BTreeSet<String> = chained
        .iter()
        .filter(|t| !read.contains(t.as_str()))
        .cloned()
        .collect();
    graph.node.retain(|n| {
        !(n.op_type == "DequantizeLinear" && n.output.len() == 1 && unread.contains(&n.output[0]))
    });
}

/// Calibrates and quantizes `model` in place.
pub fn calibrate_and_quantize(
    model: &mut ModelProto,
    path: &Path,
    cal: &Calibration,
) -> Result<DynamicSummary, QuantizeError> {
    let display = path.display().to_string();
    if calibration_tensors(model).is_empty() {
        // Nothing to calibrate: the rewrite says why.
        return quantize(model, &display, &BTreeMap::new());
    }
    let r = ranges(model, cal, &display)?;
    quantize(model, &display, &r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// x ─ Conv(w1) ─ a ─ Conv(w2) ─ y, and `a` is also a graph output.
    fn two_convs(a_is_output: bool) -> ModelProto {
        let mut g = onnx::GraphProto {
            node: vec![
                node("Conv", "c1", &["x", "w1"], &["a"]),
                node("Conv", "c2", &["a", "w2"], &["y"]),
            ],
            initializer: vec![
                float_tensor("w1", &[2, 1, 1, 1], &[0.5, -1.0]),
                float_tensor("w2", &[1, 2, 1, 1], &[1.0, 0.25]),
            ],
            input: vec![onnx::value_info("x")],
            output: vec![onnx::value_info("y")],
            ..Default::default()
        };
        if a_is_output {
            g.output.push(onnx::value_info("a"));
        }
        ModelProto {
            graph: Some(g),
            opset_import: vec![onnx::OperatorSetIdProto {
                domain: String::new(),
                version: 17,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_quantized_node_feeds_the_next_one_in_int8() {
        let ranges = BTreeMap::from([
            ("x".to_string(), 1.0),
            ("a".to_string(), 2.0),
            ("y".to_string(), 3.0),
        ]);
        let mut m = two_convs(false);
        quantize(&mut m, "two.onnx", &ranges).unwrap();
        let g = m.graph.unwrap();
        let ops: Vec<&str> = g.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(
            ops,
            [
                "QuantizeLinear",
                "QLinearConv",
                "QLinearConv",
                "DequantizeLinear"
            ]
        );
        // The second QLinearConv reads the first one's int8 output with its output scale.
        assert_eq!(g.node[2].input[0], g.node[1].output[0]);
        assert_eq!(g.node[2].input[1], g.node[1].input[6]);
        assert_eq!(g.node[3].output[0], "y");

        // When the float tensor between them is a graph output, its DequantizeLinear stays.
        let mut m = two_convs(true);
        quantize(&mut m, "two.onnx", &ranges).unwrap();
        let g = m.graph.unwrap();
        let ops: Vec<&str> = g.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(
            ops,
            [
                "QuantizeLinear",
                "QLinearConv",
                "DequantizeLinear",
                "QLinearConv",
                "DequantizeLinear"
            ]
        );
        assert_eq!(g.node[3].input[0], g.node[1].output[0]);
    }

    #[test]
    fn minmax_and_percentile_ranges() {
        let mut v: Vec<f32> = (0..=10000).map(|i| i as f32 / 10000.0).collect();
        v.push(-50.0);
        assert_eq!(absmax(&v, Calibrate::MinMax), 50.0);
        // 10002 values: rank ceil(0.9999 * 10002) = 10001, the largest in [0, 1].
        assert_eq!(absmax(&v, Calibrate::Percentile), 1.0);
        assert_eq!(absmax(&[], Calibrate::MinMax), 0.0);
        assert_eq!(scale_of(0.0), 1.0);
        assert_eq!(scale_of(127.0), 1.0);
    }
}
