//! The graph walk both int8 modes share: every MatMul, Gemm and Conv goes to the mode's rewriter, a node it
//! refuses stays in float and is listed with the reason, and float weights that nothing reads any more are
//! dropped. The modes differ only in what they put in place of one node.

use std::collections::{BTreeMap, BTreeSet};

use super::dynamic::DynamicSummary;
use super::onnx::{GraphProto, NodeProto, TensorProto};
use super::QuantizeError;

/// What a quantization mode puts in place of one node.
pub(super) trait NodeRewriter {
    /// Pushes the nodes that replace `n` to `out`, or says why `n` stays in float.
    fn rewrite(&mut self, n: &NodeProto, out: &mut Vec<NodeProto>) -> Result<(), String>;
    /// The initializers the rewrites added, in the order they were made.
    fn take_new_initializers(&mut self) -> Vec<TensorProto>;
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
