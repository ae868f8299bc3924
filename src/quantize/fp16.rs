//! fp16: the float model's weights and compute in float16 through tract's f32→f16 translator, written as NNEF
//! (tract's own format: ONNX Runtime's f16 support is not what tract runs, and tract writes what it translated).
//!
//! The model keeps a float32 interface: its input is cast to f16 on entry and its float outputs back to f32 on
//! exit, so the same data and the same devices' code feed both variants.

use std::collections::HashMap;
use std::io::Write;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::floats::FloatPrecisionTranslator;
use tract_onnx::tract_core::model::translator::Translate;
use tract_onnx::tract_core::ops::cast::cast;
use tract_onnx::tract_core::ops::source::TypedSource;
use tract_onnx::WithOnnx;

use crate::model::Model;

/// f32 → f16 inside, f32 at the edges.
#[derive(Debug)]
struct F16WithF32Io(FloatPrecisionTranslator);

impl Translate<TypedFact, Box<dyn TypedOp>, TypedFact, Box<dyn TypedOp>> for F16WithF32Io {
    fn translate_node(
        &self,
        source: &TypedModel,
        node: &TypedNode,
        target: &mut TypedModel,
        mapping: &HashMap<OutletId, OutletId>,
    ) -> TractResult<TVec<OutletId>> {
        if let Some(src) = node.op_as::<TypedSource>() {
            let wire = target.add_source(&node.name, src.fact.clone())?;
            if src.fact.datum_type == DatumType::F32 {
                return target.wire_node(
                    format!("{}.to_f16", node.name),
                    cast(DatumType::F16),
                    &[wire],
                );
            }
            return Ok(tvec![wire]);
        }
        let outlets = self.0.translate_node(source, node, target, mapping)?;
        let mut out = tvec![];
        for (ix, o) in outlets.into_iter().enumerate() {
            let is_output = source.outputs.contains(&OutletId::new(node.id, ix));
            if is_output && target.outlet_fact(o)?.datum_type == DatumType::F16 {
                out.push(
                    target.wire_node(
                        format!("{}.to_f32.{ix}", node.name),
                        cast(DatumType::F32),
                        &[o],
                    )?[0],
                );
            } else {
                out.push(o);
            }
        }
        Ok(out)
    }
}

/// The translated model as a deterministic `.nnef.tgz`: tract's tar with its fixed 1980 mtime, in a gzip stream
/// with no name and mtime 0. `batch`: `None` keeps the batch symbolic; Keras exports through tf2onnx need a
/// concrete one.
pub fn to_nnef(model: &Model, item: &[usize], batch: Option<usize>) -> TractResult<Vec<u8>> {
    let typed = model
        .typed(batch, item)
        .map_err(|e| TractError::msg(e.to_string()))?;
    let mut f16 = F16WithF32Io(FloatPrecisionTranslator::new(
        DatumType::F32,
        DatumType::F16,
    ))
    .translate_model(&typed)?;
    // translate_model maps the interface through the translation: the input is the source, not its cast.
    let sources: Vec<OutletId> = f16
        .nodes()
        .iter()
        .filter(|n| n.op_as::<TypedSource>().is_some())
        .map(|n| OutletId::new(n.id, 0))
        .collect();
    f16.inputs = sources;
    // Folds the casts of the constants: the weights are stored as f16.
    let f16 = f16.into_decluttered()?;
    let tar = tract_nnef::nnef()
        .with_onnx()
        .write_to_tar_with_config(&f16, vec![], false, true)?;
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(vec![], flate2::Compression::best());
    gz.write_all(&tar)?;
    Ok(gz.finish()?)
}
