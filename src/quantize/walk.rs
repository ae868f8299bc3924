//! The graph walk both int8 modes share: every MatMul, Gemm and Conv goes to the mode's rewriter, a node it
//! refuses stays in float and is listed with the reason, and float weights that nothing reads any more are
//! dropped. The modes differ only in what they put in place of one node.

use std::collections::{BTreeMap, BTreeSet};

use super::dynamic::DynamicSummary;
use super::onnx::{self, GraphProto, ModelProto, NodeProto, TensorProto};
use super::QuantizeError;

/// What a quantization mode puts in place of one node.
pub(super) trait NodeRewriter {
    /// Pushes the nodes that replace `n` to `out`, or says why `n` stays in float.
    fn rewrite(&mut self, n: &NodeProto, out: &mut Vec<NodeProto>) -> Result<(), String>;
    /// The initializers the rewrites added, in the order they were made.
    fn take_new_initializers(&mut self) -> Vec<TensorProto>;
}

/// The model's graph, once its default opset is at least `min_opset` (`needs`: "X needs", "X and Y need").
pub(super) fn graph_at_opset<'a>(
    model: &'a mut ModelProto,
    path: &str,
    min_opset: i64,
    needs: &str,
) -> Result<&'a mut GraphProto, QuantizeError> {
    let opset = onnx::default_opset(model).unwrap_or(0);
    if opset < min_opset {
        return Err(QuantizeError::Unsupported {
            path: path.into(),
            message: format!(
                "the model imports ai.onnx opset {opset}; {needs} opset {min_opset} or later"
            ),
            help: "re-export the model with opset 13 or later (torch.onnx.export(..., opset_version=17), tf2onnx --opset 17)".into(),
        });
    }
    model
        .graph
        .as_mut()
        .ok_or_else(|| QuantizeError::Unsupported {
            path: path.into(),
            message: "the model has no graph".into(),
            help: "export the model again".into(),
        })
}

/// What a rewrite starts from: the graph's nodes and initializers, taken out of it to be written anew, and every
/// name already used in it (tensors and initializers included), so that no new name shadows one.
pub(super) struct Taken {
    pub nodes: Vec<NodeProto>,
    pub initializers: Vec<TensorProto>,
    pub used: BTreeSet<String>,
}

pub(super) fn take(graph: &mut GraphProto) -> Taken {
    let used = used_names(graph);
    Taken {
        nodes: std::mem::take(&mut graph.node),
        initializers: std::mem::take(&mut graph.initializer),
        used,
    }
}

/// The graph's constant initializers by name. Graph inputs may shadow initializers (IR < 4 models): such a
/// weight can change at run time, so it is not constant.
pub(super) fn constant_initializers<'a>(
    graph: &GraphProto,
    initializers: &'a [TensorProto],
) -> BTreeMap<String, &'a TensorProto> {
    let inputs: BTreeSet<&str> = graph.input.iter().map(|i| i.name.as_str()).collect();
    initializers
        .iter()
        .filter(|t| !inputs.contains(t.name.as_str()))
        .map(|t| (t.name.clone(), t))
        .collect()
}

/// Rewrites `old_nodes` (taken out of `graph`, as `old_inits` were) into `graph` with `rw`. Fails when no node
/// could be quantized.
pub(super) fn rewrite_graph(
    graph: &mut GraphProto,
    old_nodes: &[NodeProto],
    old_inits: &[TensorProto],
    rw: &mut impl NodeRewriter,
    path: &str,
) -> Result<DynamicSummary, QuantizeError> {
    let mut summary = DynamicSummary::default();
    let mut nodes: Vec<NodeProto> = Vec::with_capacity(old_nodes.len() * 2);
    for n in old_nodes {
        let candidate = matches!(n.op_type.as_str(), "MatMul" | "Gemm" | "Conv");
        if !candidate || n.output.len() != 1 {
            nodes.push(n.clone());
            continue;
        }
        let mut replaced = vec![];
        match rw.rewrite(n, &mut replaced) {
            Ok(()) => {
                *summary.quantized.entry(n.op_type.clone()).or_default() += 1;
                nodes.extend(replaced);
            }
            Err(reason) => {
                let label = if n.name.is_empty() {
                    format!("{} -> {}", n.op_type, n.output[0])
                } else {
                    format!("{} {}", n.op_type, n.name)
                };
                summary.skipped.push((label, reason));
                nodes.push(n.clone());
            }
        }
    }
    if summary.quantized.is_empty() {
        let ops: BTreeSet<&str> = old_nodes.iter().map(|n| n.op_type.as_str()).collect();
        let skipped: Vec<String> = summary
            .skipped
            .iter()
            .map(|(n, r)| format!("{n}: {r}"))
            .collect();
        return Err(QuantizeError::NothingToQuantize {
            path: path.into(),
            ops: ops.into_iter().collect::<Vec<_>>().join(", "),
            skipped: if skipped.is_empty() {
                String::new()
            } else {
                format!(" (left in float: {})", skipped.join("; "))
            },
        });
    }
    // Keep the float initializers something still reads (other nodes, graph outputs, subgraphs by name).
    let mut read: BTreeSet<&str> = BTreeSet::new();
    for n in &nodes {
        read.extend(n.input.iter().map(String::as_str));
        collect_subgraph_inputs(n, &mut read);
    }
    read.extend(graph.output.iter().map(|o| o.name.as_str()));
    let mut initializers: Vec<TensorProto> = old_inits
        .iter()
        .filter(|t| read.contains(t.name.as_str()))
        .cloned()
        .collect();
    initializers.extend(rw.take_new_initializers());
    graph.node = nodes;
    graph.initializer = initializers;
    Ok(summary)
}

/// Names read inside a node's subgraphs (If, Loop, Scan bodies may read outer initializers).
pub(super) fn collect_subgraph_inputs<'a>(n: &'a NodeProto, read: &mut BTreeSet<&'a str>) {
    for a in &n.attribute {
        for g in a.g.iter().chain(a.graphs.iter()) {
            for inner in &g.node {
                read.extend(inner.input.iter().map(String::as_str));
                collect_subgraph_inputs(inner, read);
            }
        }
    }
}

/// Every tensor name in the graph (inputs, outputs, initializers, node outputs, value_info) and node name.
pub(super) fn used_names(g: &GraphProto) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    used.extend(g.input.iter().map(|v| v.name.clone()));
    used.extend(g.output.iter().map(|v| v.name.clone()));
    used.extend(g.value_info.iter().map(|v| v.name.clone()));
    used.extend(g.initializer.iter().map(|t| t.name.clone()));
    for n in &g.node {
        used.extend(n.input.iter().cloned());
        used.extend(n.output.iter().cloned());
        used.insert(n.name.clone());
    }
    used
}
