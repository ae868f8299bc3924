//! dynamic-int8: weights of MatMul, Gemm and Conv to int8 ahead of time, activations quantized at run time.
//!
//! Each quantized node becomes the layout of ONNX Runtime's `quantize_dynamic` (QOperator, IntegerOps):
//!
//! ```text
//! x ─ DynamicQuantizeLinear ─ x_q (uint8), x_scale, x_zp
//! MatMulInteger(x_q, W_q, x_zp) | ConvInteger(x_q, W_q, x_zp, attributes of the Conv)   int32
//! Cast(to float) ─ Mul(x_scale × W_scale) [─ Add(bias)] ─ the node's original output
//! ```
//!
//! Differences from ORT, and why:
//! - weights are int8 symmetric (zero point 0, range -127..127, ORT's default QInt8) and always per output channel
//!   (MatMul: per column of B, Conv: per output filter). With a zero point of 0 the per-channel scale is only a
//!   broadcast Mul after the integer op, which every runtime supports; ORT is per-tensor unless `per_channel=True`.
//! - the full 8-bit range is used (ORT's MatMulInteger uses `reduce_range`, 7 bits, against int16 saturation of
//!   AVX2 u8×s8 kernels without VNNI). tract accumulates in int32, as do ORT's VNNI and ARM kernels.
//! - Gemm is quantized too (ORT's dynamic mode leaves it float): alpha is folded into the weight scale, B is
//!   transposed when `transB=1`, and `beta·C` is added after the scale Mul.
//! - Conv's bias is stored already shaped `[1, M, 1, 1]` rather than reshaped by a Reshape node.

use std::collections::{BTreeMap, BTreeSet};

use super::onnx::{
    self, attr_float, attr_int, float_tensor, float_values, int8_tensor, node, ModelProto,
    NodeProto, TensorProto,
};
use super::walk;
use super::QuantizeError;

/// What was quantized, for the report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DynamicSummary {
    /// Quantized nodes per operator type (`MatMul`, `Gemm`, `Conv`).
    pub quantized: BTreeMap<String, usize>,
    /// Candidate nodes left in float, with the reason.
    pub skipped: Vec<(String, String)>,
}

/// Per-channel symmetric int8 quantization of `values`, channels along `axis` of `dims`. Returns the int8 values
/// and one scale per channel. A channel of zeros gets scale 1 (ORT does the same), so nothing divides by zero.
pub fn quantize_per_channel(values: &[f32], dims: &[usize], axis: usize) -> (Vec<i8>, Vec<f32>) {
    let channels = dims[axis];
    let inner: usize = dims[axis + 1..].iter().product();
    let mut absmax = vec![0f32; channels];
    for (i, v) in values.iter().enumerate() {
        let c = (i / inner) % channels;
        absmax[c] = absmax[c].max(v.abs());
    }
    // ORT: scale = (rmax - rmin) / (qmax - qmin) in float64 with rmin = -absmax, qmin = -127, then float32.
    let scales: Vec<f32> = absmax
        .iter()
        .map(|&m| {
            let s = (2.0 * m as f64 / 254.0) as f32;
            if s.is_finite() && s > f32::MIN_POSITIVE {
                s
            } else {
                1.0
            }
        })
        .collect();
    let q = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let s = scales[(i / inner) % channels];
            // NumPy rounds half to even; so does round_ties_even.
            (v / s).round_ties_even().clamp(-127.0, 127.0) as i8
        })
        .collect();
    (q, scales)
}

/// Transposes a row-major `[rows, cols]` matrix.
pub(super) fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0f32; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// Names that do not clash with any in the graph.
pub(super) struct Names {
    pub(super) used: BTreeSet<String>,
}

impl Names {
    pub(super) fn fresh(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut i = 1;
        while self.used.contains(&name) {
            name = format!("{base}_{i}");
            i += 1;
        }
        self.used.insert(name.clone());
        name
    }
}

/// The quantized activation of one tensor: DynamicQuantizeLinear's three outputs, shared by every consumer.
#[derive(Clone)]
struct QuantizedInput {
    q: String,
    scale: String,
    zero_point: String,
}

struct Rewriter<'a> {
    names: Names,
    initializers: BTreeMap<String, &'a TensorProto>,
    activations: BTreeMap<String, QuantizedInput>,
    new_initializers: Vec<TensorProto>,
}

impl Rewriter<'_> {
    fn quantize_input(&mut self, input: &str, out: &mut Vec<NodeProto>) -> QuantizedInput {
        if let Some(q) = self.activations.get(input) {
            return q.clone();
        }
        let q = QuantizedInput {
            q: self.names.fresh(&format!("{input}_quantized")),
            scale: self.names.fresh(&format!("{input}_scale")),
            zero_point: self.names.fresh(&format!("{input}_zero_point")),
        };
        let name = self.names.fresh(&format!("{input}_QuantizeLinear"));
        out.push(node(
            "DynamicQuantizeLinear",
            &name,
            &[input],
            &[&q.q, &q.scale, &q.zero_point],
        ));
        self.activations.insert(input.to_string(), q.clone());
        q
    }

    /// The constant float weight named `name` and its dims, or why it cannot be used.
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

    /// Replaces one node, or returns `Err(reason)` to leave it as it is.
    fn replace(&mut self, n: &NodeProto, out: &mut Vec<NodeProto>) -> Result<(), String> {
        if !(n.domain.is_empty() || n.domain == "ai.onnx") {
            return Err("not in the default domain".into());
        }
        match n.op_type.as_str() {
            "MatMul" => self.matmul(n, out),
            "Gemm" => self.gemm(n, out),
            "Conv" => self.conv(n, out),
            _ => Err("not MatMul, Gemm or Conv".into()),
        }
    }

    /// The integer op, its Cast and the scale Mul. `scale_dims` shapes the per-channel weight scale for the
    /// broadcast; returns the name of the scaled float output (before any bias).
    #[allow(clippy::too_many_arguments)]
    fn integer_op(
        &mut self,
        n: &NodeProto,
        op: &str,
        input: &str,
        w_q: TensorProto,
        w_scale: Vec<f32>,
        scale_dims: &[i64],
        attributes: Vec<onnx::AttributeProto>,
        scaled_output: &str,
        out: &mut Vec<NodeProto>,
    ) {
        let base = if n.name.is_empty() {
            n.output[0].clone()
        } else {
            n.name.clone()
        };
        let x = self.quantize_input(input, out);
        let w_q_name = w_q.name.clone();
        self.new_initializers.push(w_q);
        let w_scale_name = self.names.fresh(&format!("{w_q_name}_scale"));
        self.new_initializers
            .push(float_tensor(&w_scale_name, scale_dims, &w_scale));
        let int_out = self
            .names
            .fresh(&format!("{}_output_quantized", n.output[0]));
        let mut int_node = node(
            op,
            &self.names.fresh(&format!("{base}_quant")),
            &[&x.q, &w_q_name, &x.zero_point],
            &[&int_out],
        );
        int_node.attribute = attributes;
        out.push(int_node);
        let cast_out = self.names.fresh(&format!("{int_out}_cast_output"));
        let mut cast = node(
            "Cast",
            &self.names.fresh(&format!("{int_out}_cast")),
            &[&int_out],
            &[&cast_out],
        );
        cast.attribute
            .push(onnx::int_attr("to", onnx::DataType::Float as i32 as i64));
        out.push(cast);
        let scales = self.names.fresh(&format!("{base}_quant_scales_mul:0"));
        out.push(node(
            "Mul",
            &self.names.fresh(&format!("{base}_quant_scales_mul")),
            &[&x.scale, &w_scale_name],
            &[&scales],
        ));
        out.push(node(
            "Mul",
            &self.names.fresh(&format!("{base}_quant_output_scale_mul")),
            &[&cast_out, &scales],
            &[scaled_output],
        ));
    }

    fn matmul(&mut self, n: &NodeProto, out: &mut Vec<NodeProto>) -> Result<(), String> {
        let [a, b] = n.input.as_slice() else {
            return Err("MatMul without two inputs".into());
        };
        let (w, dims) = self.weight(b)?;
        if dims.len() != 2 {
            return Err(format!("its weight `{b}` is not 2-D ({dims:?})"));
        }
        let (q, scales) = quantize_per_channel(&w, &dims, 1);
        let w_q = int8_tensor(
            &self.names.fresh(&format!("{b}_quantized")),
            &[dims[0] as i64, dims[1] as i64],
            &q,
        );
        let output = n.output[0].clone();
        self.integer_op(
            n,
            "MatMulInteger",
            a,
            w_q,
            scales,
            &[dims[1] as i64],
            vec![],
            &output,
            out,
        );
        Ok(())
    }

    fn gemm(&mut self, n: &NodeProto, out: &mut Vec<NodeProto>) -> Result<(), String> {
        if attr_int(n, "transA", 0) != 0 {
            return Err("Gemm with transA=1".into());
        }
        let (a, b) = match n.input.as_slice() {
            [a, b] | [a, b, _] => (a, b),
            _ => return Err("Gemm without two or three inputs".into()),
        };
        let c = n.input.get(2).filter(|c| !c.is_empty());
        let alpha = attr_float(n, "alpha", 1.0);
        let beta = attr_float(n, "beta", 1.0);
        let (w, dims) = self.weight(b)?;
        if dims.len() != 2 {
            return Err(format!("its weight `{b}` is not 2-D ({dims:?})"));
        }
        let (w, k, m) = if attr_int(n, "transB", 0) != 0 {
            (transpose(&w, dims[0], dims[1]), dims[1], dims[0])
        } else {
            (w, dims[0], dims[1])
        };
        // The bias is added after the scale Mul: `beta·C`, folded when C is constant.
        let bias = match c {
            None => None,
            Some(c) => match self.initializers.get(c.as_str()) {
                Some(t) if beta != 1.0 => {
                    let v = float_values(t).map_err(|e| format!("its bias `{c}` {e}"))?;
                    let scaled: Vec<f32> = v.iter().map(|x| x * beta).collect();
                    let name = self.names.fresh(&format!("{c}_beta"));
                    self.new_initializers
                        .push(float_tensor(&name, &t.dims, &scaled));
                    Some(name)
                }
                Some(_) => Some(c.clone()),
                None if beta == 1.0 => Some(c.clone()),
                None => return Err("Gemm with beta≠1 and a C that is not constant".into()),
            },
        };
        let (q, mut scales) = quantize_per_channel(&w, &[k, m], 1);
        for s in &mut scales {
            *s *= alpha;
        }
        let w_q = int8_tensor(
            &self.names.fresh(&format!("{b}_quantized")),
            &[k as i64, m as i64],
            &q,
        );
        let output = n.output[0].clone();
        let scaled = match &bias {
            Some(_) => self.names.fresh(&format!("{output}_quant_scaled_output")),
            None => output.clone(),
        };
        self.integer_op(
            n,
            "MatMulInteger",
            a,
            w_q,
            scales,
            &[m as i64],
            vec![],
            &scaled,
            out,
        );
        if let Some(bias) = bias {
            out.push(node(
                "Add",
                &self.names.fresh(&format!("{output}_bias_add")),
                &[&scaled, &bias],
                &[&output],
            ));
        }
        Ok(())
    }

    fn conv(&mut self, n: &NodeProto, out: &mut Vec<NodeProto>) -> Result<(), String> {
        let (x, w_name) = match n.input.as_slice() {
            [x, w] | [x, w, _] => (x, w),
            _ => return Err("Conv without two or three inputs".into()),
        };
        let (w, dims) = self.weight(w_name)?;
        if dims.len() < 3 {
            return Err(format!("its weight `{w_name}` has rank {}", dims.len()));
        }
        let m = dims[0];
        let rank = dims.len();
        // [1, M, 1, 1...]: broadcasts over the output [N, M, H, W].
        let mut channel_dims = vec![1i64; rank];
        channel_dims[1] = m as i64;
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
                let name = self.names.fresh(&format!("{b}_reshaped"));
                self.new_initializers
                    .push(float_tensor(&name, &channel_dims, &v));
                Some(name)
            }
        };
        let (q, scales) = quantize_per_channel(&w, &dims, 0);
        let w_dims: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
        let w_q = int8_tensor(
            &self.names.fresh(&format!("{w_name}_quantized")),
            &w_dims,
            &q,
        );
        let output = n.output[0].clone();
        let scaled = match &bias {
            Some(_) => self.names.fresh(&format!("{output}quant_scaled_output")),
            None => output.clone(),
        };
        // ConvInteger takes Conv's attributes as they are (auto_pad, dilations, group, kernel_shape, pads, strides).
        self.integer_op(
            n,
            "ConvInteger",
            x,
            w_q,
            scales,
            &channel_dims,
            n.attribute.clone(),
            &scaled,
            out,
        );
        if let Some(bias) = bias {
            out.push(node(
                "Add",
                &self.names.fresh(&format!("{output}_bias_add")),
                &[&scaled, &bias],
                &[&output],
            ));
        }
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

/// Quantizes `model` in place. `path` names the file in errors.
pub fn quantize(model: &mut ModelProto, path: &str) -> Result<DynamicSummary, QuantizeError> {
    let graph = walk::graph_at_opset(model, path, 11, "DynamicQuantizeLinear needs")?;
    let taken = walk::take(graph);
    let mut rw = Rewriter {
        names: Names { used: taken.used },
        initializers: walk::constant_initializers(graph, &taken.initializers),
        activations: BTreeMap::new(),
        new_initializers: vec![],
    };
    walk::rewrite_graph(graph, &taken.nodes, &taken.initializers, &mut rw, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_channel_scales_follow_the_axis() {
        // [2, 3] matrix, channels along axis 1 (columns).
        let w = [1.1, -2.0, 0.0, -0.3, 1.5, 0.0];
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-7);
        let (q, s) = quantize_per_channel(&w, &[2, 3], 1);
        assert!(close(&s, &[1.1 / 127.0, 2.0 / 127.0, 1.0]), "{s:?}");
        assert_eq!(q, vec![127, -127, 0, -35, 95, 0]);
        // Channels along axis 0 (rows).
        let (q, s) = quantize_per_channel(&w, &[2, 3], 0);
        assert!(close(&s, &[2.0 / 127.0, 1.5 / 127.0]), "{s:?}");
        assert_eq!(q, vec![70, -127, 0, -25, 127, 0]);
    }

    #[test]
    fn halves_round_to_even() {
        // 0.5 / (127/127) steps: 63.5 -> 64, 62.5 -> 62.
        let w = [127.0, 63.5, 62.5];
        let (q, _) = quantize_per_channel(&w, &[3, 1], 1);
        assert_eq!(q, vec![127, 64, 62]);
    }

    #[test]
    fn new_names_never_shadow_a_tensor_already_in_the_graph() {
        use super::onnx::{float_tensor, node, GraphProto, OperatorSetIdProto};
        // `X_quantized` is the name the quantizer would give X's quantized activation; here it is taken.
        let graph = GraphProto {
            node: vec![
                node("MatMul", "mm", &["X", "W"], &["Y"]),
                node("Relu", "relu", &["Y"], &["X_quantized"]),
            ],
            initializer: vec![float_tensor("W", &[2, 2], &[1.0, -0.5, 0.25, 2.0])],
            ..GraphProto::default()
        };
        let mut model = ModelProto {
            ir_version: 8,
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: 17,
            }],
            graph: Some(graph),
            ..ModelProto::default()
        };
        quantize(&mut model, "test.onnx").expect("the MatMul is quantized");
        let graph = model.graph.expect("graph");
        let mut written: Vec<&str> = graph
            .node
            .iter()
            .flat_map(|n| n.output.iter().map(String::as_str))
            .collect();
        let all = written.len();
        written.sort_unstable();
        written.dedup();
        assert_eq!(written.len(), all, "two nodes write the same tensor");
    }
}
