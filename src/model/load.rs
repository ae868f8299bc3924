//! Loading a model with tract: the format told by the file's content, the operators checked before typing (so an
//! unsupported one is named), the input fact set so that a symbolic or unnamed batch dimension types, and a plan
//! built for a batch size. What tract is known to answer wrongly is recorded here so that `outputs` can avoid it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tract_onnx::pb;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

use super::error::{chain, ModelError, TRACT_VERSION};
use super::outputs::OutputFact;

/// The outputs: their names (the ONNX output names, outlet labels, else the node names) and the type and shape
/// the graph declares for them, read from each outlet's fact by `$facts`.
macro_rules! output_specs {
    ($model:expr, $facts:expr) => {{
        let m = $model;
        m.output_outlets().and_then(|outlets| {
            outlets
                .iter()
                .map(|o| {
                    let (dtype, dims) = $facts(m.outlet_fact(*o)?);
                    Ok(OutputSpec {
                        name: m
                            .outlet_label(*o)
                            .map(str::to_string)
                            .unwrap_or_else(|| m.node(o.node).name.clone()),
                        dtype,
                        dims,
                    })
                })
                .collect::<TractResult<Vec<_>>>()
        })
    }};
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFormat {
    Onnx,
    Tflite,
    /// tract's own format, a gzipped tar of graph.nnef and .dat tensors (what `mlgate quantize --mode fp16`
    /// writes).
    Nnef,
}

impl ModelFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelFormat::Onnx => "ONNX",
            ModelFormat::Tflite => "TFLite",
            ModelFormat::Nnef => "NNEF",
        }
    }
}

/// Field tags that can open an ONNX `ModelProto` (fields 1-8 and 14, wire types varint or bytes): exporters write
/// `ir_version` first, but protobuf does not require it.
const ONNX_FIRST_TAGS: [u8; 9] = [0x08, 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72];

/// The format of a model file from its first bytes: TFLite has the `TFL3` identifier at bytes 4..8, ONNX is a
/// protobuf whose first byte is one of `ModelProto`'s field tags. `None` for anything else.
pub fn detect(bytes: &[u8]) -> Option<ModelFormat> {
    if bytes.get(4..8) == Some(b"TFL3") {
        return Some(ModelFormat::Tflite);
    }
    // gzip's magic: a .nnef.tgz (a protobuf never starts with 0x1f, the tag of a field 3 of wire type 7).
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Some(ModelFormat::Nnef);
    }
    match bytes.first() {
        Some(b) if ONNX_FIRST_TAGS.contains(b) => Some(ModelFormat::Onnx),
        _ => None,
    }
}

/// What the first bytes of a file that is not a model look like, for the error message.
fn describe_head(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "the file is empty".into();
    }
    let known: [(&[u8], &str); 7] = [
        (
            b"PK\x03\x04",
            "a zip archive (a PyTorch .pt or Keras .keras file?)",
        ),
        (b"\x80", "a Python pickle"),
        (b"\x89HDF", "an HDF5 file (a Keras .h5 model?)"),
        (b"\x93NUMPY", "a NumPy array"),
        (
            b"version https://git-lfs",
            "a Git LFS pointer: the model itself was not fetched",
        ),
        (b"{", "JSON text"),
        (b"PAR1", "a Parquet file"),
    ];
    for (magic, what) in known {
        if bytes.starts_with(magic) {
            return what.into();
        }
    }
    let head: String = bytes
        .iter()
        .take(8)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                (b as char).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect();
    format!("it starts with `{head}`")
}

/// One dimension of the model's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    Fixed(usize),
    /// A named symbol (`batch`, `N`, `X_d0`).
    Symbol(String),
    /// Left empty by the exporter (skl2onnx's batch).
    Unknown,
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Symbol(s) => write!(f, "{s}"),
            Dim::Unknown => write!(f, "?"),
        }
    }
}

/// The model's single input.
#[derive(Debug, Clone)]
pub struct InputSpec {
    pub name: String,
    /// `None` when the model does not say.
    pub dtype: Option<DatumType>,
    /// `None` when the rank is unknown.
    pub dims: Option<Vec<Dim>>,
}

impl InputSpec {
    /// `float32 [?, 30]`.
    pub fn describe(&self) -> String {
        let dt = self.dtype.map(dtype_name).unwrap_or("any type");
        match &self.dims {
            Some(d) => {
                let dims: Vec<String> = d.iter().map(|d| d.to_string()).collect();
                format!("{dt} [{}]", dims.join(", "))
            }
            None => format!("{dt} of any shape"),
        }
    }
}

/// NumPy's name of a tract datum type.
pub fn dtype_name(dt: DatumType) -> &'static str {
    match dt {
        DatumType::F32 => "float32",
        DatumType::F64 => "float64",
        DatumType::F16 => "float16",
        DatumType::I64 => "int64",
        DatumType::I32 => "int32",
        DatumType::I16 => "int16",
        DatumType::I8 => "int8",
        DatumType::U8 => "uint8",
        DatumType::U16 => "uint16",
        DatumType::Bool => "bool",
        DatumType::String => "string",
        DatumType::TDim => "int64 (dim)",
        _ => "a quantized or unusual type",
    }
}

/// One of the model's outputs: its name, and its type and shape as far as the graph tells them.
#[derive(Debug, Clone)]
pub struct OutputSpec {
    pub name: String,
    /// `None` when the graph does not say.
    pub dtype: Option<DatumType>,
    /// `None` when the rank is unknown.
    pub dims: Option<Vec<Dim>>,
}

impl OutputSpec {
    /// What the task rule needs ([`OutputRoles`](super::outputs::OutputRoles)): the type, and the values per row
    /// when every dimension after the batch is fixed. A non-numeric output is known not to be read whatever its
    /// shape. `None` when the graph leaves the type or a dimension open.
    pub fn fact(&self) -> Option<OutputFact> {
        let dtype = self.dtype?;
        // A run reads these as numbers (an ONNX ArgMax label can type as TDim).
        if !(dtype.is_float()
            || dtype.is_integer()
            || matches!(dtype, DatumType::Bool | DatumType::TDim))
        {
            return Some(OutputFact { dtype, width: 0 });
        }
        let (_batch, item) = self.dims.as_deref()?.split_first()?;
        let width = item.iter().try_fold(1usize, |w, d| match d {
            Dim::Fixed(n) => w.checked_mul(*n),
            _ => None,
        })?;
        Some(OutputFact { dtype, width })
    }

    /// `float32 [?, 2]`, as [`InputSpec::describe`].
    pub fn describe(&self) -> String {
        InputSpec {
            name: self.name.clone(),
            dtype: self.dtype,
            dims: self.dims.clone(),
        }
        .describe()
    }
}

/// The graph as loaded, before a batch size is chosen.
#[derive(Clone)]
enum Graph {
    Onnx(Box<InferenceModel>),
    /// TFLite and NNEF graphs, typed as the file writes them.
    Typed(Box<TypedModel>),
}

/// A loaded model: what it takes, what it gives, and what mlgate knows about its quirks.
#[derive(Clone)]
pub struct Model {
    pub path: PathBuf,
    pub display: String,
    pub format: ModelFormat,
    pub file_size: u64,
    pub input: InputSpec,
    pub outputs: Vec<OutputSpec>,
    /// The classes of an ai.onnx.ml classifier (`classlabels_ints`), in the order of its probability columns.
    pub class_labels: Option<Vec<i64>>,
    /// Class names from the model's metadata (`class_names`, `classes` or `labels`: a JSON list or commas).
    pub class_names: Option<Vec<String>>,
    /// The model's label output is known to be wrong in tract (binary TreeEnsembleClassifier: always 0); the
    /// label is then the argmax of the probabilities.
    pub label_output_unreliable: bool,
    /// Elements of every constant tensor (weights, biases).
    pub parameter_count: u64,
    graph: Graph,
}

/// A plan ready to run, for a fixed batch size or (`None`) any.
pub struct Plan {
    runnable: Arc<TypedRunnableModel>,
    pub batch: Option<usize>,
}

impl Plan {
    pub fn run(&self, input: Tensor) -> TractResult<TVec<Tensor>> {
        let out = self.runnable.run(tvec!(input.into()))?;
        Ok(out.into_iter().map(|v| v.into_tensor()).collect())
    }
}

/// Workarounds for ai.onnx.ml operators tract lacks (measured with tract 0.23.9, see README).
fn unsupported_help(op: &str) -> Option<String> {
    Some(match op {
        "ZipMap" => "export the classifier without ZipMap: skl2onnx `options={id(model): {'zipmap': False}}`; mlgate then reads the label and probability tensors".into(),
        "Scaler" => "replace the Scaler by Sub(offset) then Mul(scale), or fold the scaling into the next layer's weights".into(),
        "TreeEnsembleRegressor" => "rewrite it as a TreeEnsembleClassifier with one score column (README, \"What tract cannot run\"), or gate the model on a `metrics_file`".into(),
        _ => return Some(format!("tract {TRACT_VERSION} has no {op}; replace it with supported operators when exporting, or gate the model on a `metrics_file` its training job writes")),
    })
}

impl Model {
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let display = path.display().to_string();
        // A model in an object store or a DVC remote is fetched whole: tract reads bytes.
        let remote =
            crate::data::source::read_whole_if_remote(path).map_err(|e| ModelError::Io {
                path: display.clone(),
                err: std::io::Error::other(e.to_string()),
            })?;
        let bytes = match remote {
            Some(b) => b,
            None => std::fs::read(path).map_err(|err| ModelError::Io {
                path: display.clone(),
                err,
            })?,
        };
        // tract is a large dependency fed with outside data: `from_bytes` turns a panic inside it into an error.
        Self::from_bytes(path, &display, &bytes)
    }

    /// [`Model::from_bytes_unguarded`], with a panic of tract's loaders turned into an error: they panic on some
    /// malformed files (fuzzing found a TFLite flatbuffer whose operator names a tensor index out of range:
    /// fuzz/regressions/model/), and a malformed model is bad input, not a bug of mlgate's.
    fn from_bytes(path: &Path, display: &str, bytes: &[u8]) -> Result<Model, ModelError> {
        let load = || Self::from_bytes_unguarded(path, display, bytes);
        crate::untrusted::catch(load).unwrap_or_else(|why| {
            Err(ModelError::Corrupt {
                path: display.to_string(),
                format: detect(bytes).map_or("model", ModelFormat::as_str),
                message: format!("tract's loader failed on it ({why})"),
            })
        })
    }

    fn from_bytes_unguarded(path: &Path, display: &str, bytes: &[u8]) -> Result<Model, ModelError> {
        let format = detect(bytes).ok_or_else(|| ModelError::NotAModel {
            path: display.to_string(),
            what: describe_head(bytes),
        })?;
        let corrupt = |message: String| ModelError::Corrupt {
            path: display.to_string(),
            format: format.as_str(),
            message,
        };
        let load_err = |e: TractError| ModelError::Load {
            path: display.to_string(),
            message: chain(&e),
        };
        let mut model = match format {
            ModelFormat::Onnx => {
                let onnx = tract_onnx::onnx();
                let proto = onnx
                    .proto_model_for_read(&mut &bytes[..])
                    .map_err(|e| corrupt(chain(&e)))?;
                let graph = proto
                    .graph
                    .as_ref()
                    .ok_or_else(|| corrupt("the ModelProto has no graph".into()))?;
                if let Some(node) = graph
                    .node
                    .iter()
                    .find(|n| !onnx.op_register.0.contains_key(&n.op_type))
                {
                    let op = if node.domain.is_empty() {
                        node.op_type.clone()
                    } else {
                        format!("{} ({})", node.op_type, node.domain)
                    };
                    return Err(ModelError::Unsupported {
                        path: display.to_string(),
                        help: unsupported_help(&node.op_type),
                        op,
                        node: node.name.clone(),
                        version: TRACT_VERSION,
                    });
                }
                let inference = onnx.model_for_proto_model(&proto).map_err(load_err)?;
                onnx_model(path, display, bytes, &proto, inference)?
            }
            ModelFormat::Tflite => {
                let tflite = tract_tflite::tflite();
                let proto = tflite
                    .proto_model_for_read(&mut &bytes[..])
                    .map_err(|e| corrupt(chain(&e)))?;
                let typed = tflite.model_for_proto_model(&proto).map_err(|e| {
                    let text = chain(&e);
                    match text.find("Unsupported: ") {
                        Some(_) => ModelError::Unsupported {
                            path: display.to_string(),
                            op: tflite_op_name(&text),
                            node: String::new(),
                            version: TRACT_VERSION,
                            help: Some("tract-tflite runs float32 models with a fixed batch; convert the model with `python -m tf2onnx.convert --tflite` and gate the ONNX file".into()),
                        },
                        None => load_err(e),
                    }
                })?;
                tflite_model(path, display, bytes, typed)?
            }
            ModelFormat::Nnef => {
                let mut tar = vec![];
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut tar)
                    .map_err(|e| corrupt(format!("not a gzip file: {e}")))?;
                // Any gzip file starts like an NNEF archive: say what it is when graph.nnef is missing.
                let has_graph = tar::Archive::new(&tar[..]).entries().is_ok_and(|entries| {
                    entries.flatten().any(|e| {
                        e.path().is_ok_and(|p| {
                            p.file_name() == Some(std::ffi::OsStr::new("graph.nnef"))
                        })
                    })
                });
                if !has_graph {
                    return Err(ModelError::NotAModel {
                        path: display.to_string(),
                        what: "a gzip archive without graph.nnef, so not NNEF either; `mlgate run` runs bundles".into(),
                    });
                }
                use tract_onnx::WithOnnx;
                let typed = tract_nnef::nnef()
                    .with_onnx()
                    .model_for_read(&mut &tar[..])
                    .map_err(load_err)?;
                // Typed as written, like a TFLite graph.
                tflite_model(path, display, bytes, typed)?
            }
        };
        model.format = format;
        Ok(model)
    }

    /// A plan for `batch` rows at a time (`None`: any number, when the model's batch dimension allows it).
    /// `item` is the shape of one row of data, used where the model leaves a dimension open.
    pub fn plan(&self, batch: Option<usize>, item: &[usize]) -> Result<Plan, ModelError> {
        let display = self.display.clone();
        let planned = crate::untrusted::catch(|| self.plan_inner(batch, item));
        match planned {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(e)) => Err(ModelError::Load {
                path: display,
                message: chain(&e),
            }),
            Err(why) => Err(ModelError::Load {
                path: display,
                message: format!("tract panicked: {why}"),
            }),
        }
    }

    /// The typed, decluttered graph with its input fact set as for [`Model::plan`] (mlgate quantize's fp16
    /// mode translates it).
    pub fn typed(&self, batch: Option<usize>, item: &[usize]) -> Result<TypedModel, ModelError> {
        let load = |message: String| ModelError::Load {
            path: self.display.clone(),
            message,
        };
        match crate::untrusted::catch(|| self.typed_inner(batch, item)) {
            Ok(Ok(t)) => Ok(t),
            Ok(Err(e)) => Err(load(chain(&e))),
            Err(why) => Err(load(format!("tract panicked: {why}"))),
        }
    }

    /// The outputs with the type and shape of each, for telling the task without data ([`OutputSpec::fact`]).
    /// Where the ONNX graph leaves an output open (tract does not take the declared output types; tf2onnx and
    /// torch exports leave dimensions open), the graph is typed for the input's declared shape, which tells every
    /// output; what even that does not tell stays open.
    pub fn typed_outputs(&self) -> Vec<OutputSpec> {
        if self.outputs.iter().all(|o| o.fact().is_some()) {
            return self.outputs.clone();
        }
        let item: Option<Vec<usize>> = self.input.dims.as_ref().and_then(|d| {
            d.get(1..)?
                .iter()
                .map(|d| match d {
                    Dim::Fixed(n) => Some(*n),
                    _ => None,
                })
                .collect()
        });
        let typed = item.and_then(|item| self.typed(None, &item).ok());
        let from_typed = typed
            .and_then(|t| output_specs!(&t, typed_fact).ok())
            .filter(|t| t.len() == self.outputs.len());
        let Some(from_typed) = from_typed else {
            return self.outputs.clone();
        };
        self.outputs
            .iter()
            .zip(from_typed)
            .map(|(declared, typed)| match declared.fact() {
                Some(_) => declared.clone(),
                None => OutputSpec {
                    name: declared.name.clone(),
                    ..typed
                },
            })
            .collect()
    }

    fn typed_inner(&self, batch: Option<usize>, item: &[usize]) -> TractResult<TypedModel> {
        match &self.graph {
            Graph::Onnx(m) => {
                let mut m = (**m).clone();
                let dt = self.input.dtype.unwrap_or(DatumType::F32);
                let mut dims: TVec<TDim> = tvec![];
                // A batch the model fixes wins over the one asked for.
                let batch_dim = match (batch, self.input.dims.as_ref().and_then(|d| d.first())) {
                    (_, Some(Dim::Fixed(b))) => b.to_dim(),
                    (Some(b), _) => b.to_dim(),
                    // Keep the model's own symbol: value_info may name it (ORT's quantizer writes `X_d0`).
                    (None, Some(Dim::Symbol(s))) => m.symbols.sym(s).to_dim(),
                    (None, _) => m.symbols.sym("N").to_dim(),
                };
                dims.push(batch_dim);
                for (i, &n) in item.iter().enumerate() {
                    let declared = self.input.dims.as_ref().and_then(|d| d.get(i + 1));
                    dims.push(match declared {
                        Some(Dim::Fixed(f)) => f.to_dim(),
                        _ => n.to_dim(),
                    });
                }
                m.set_input_fact(0, TypedFact::dt_shape(dt, dims).into())?;
                m.into_typed()?.into_decluttered()
            }
            // A typed graph (TFLite, NNEF) is used as written: its batch is what the file says.
            Graph::Typed(m) => Ok((**m).clone()),
        }
    }

    fn plan_inner(&self, batch: Option<usize>, item: &[usize]) -> TractResult<Plan> {
        let batch_fixed = match (
            &self.graph,
            batch,
            self.input.dims.as_ref().and_then(|d| d.first()),
        ) {
            (_, _, Some(Dim::Fixed(b))) => Some(*b),
            (Graph::Onnx(_), Some(b), _) => Some(b),
            _ => None,
        };
        // A model may declare a batch of 0 (found by fuzzing: batches of 0 rows never end a run).
        if batch_fixed == Some(0) {
            return Err(TractError::msg(
                "the model's input fixes its batch dimension at 0: no row can be run through it",
            ));
        }
        let runnable = self
            .typed_inner(batch, item)?
            .into_optimized()?
            .into_runnable()?;
        Ok(Plan {
            runnable,
            batch: batch_fixed,
        })
    }
}

/// `builtin_code: DEQUANTIZE` out of tract-tflite's debug print of the operator code (not the
/// `deprecated_builtin_code: 6` before it). Plain string search: this was the device build's only regex, and
/// without it the regex engine and its Unicode tables stay out of that binary (README "The device build").
fn tflite_op_name(text: &str) -> String {
    const KEY: &str = "builtin_code: ";
    let word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(KEY)
        .filter(|(at, _)| !text[..*at].ends_with(word))
        .find_map(|(at, _)| {
            let rest = &text[at + KEY.len()..];
            let len = rest
                .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..len];
            name.starts_with(|c: char| c.is_ascii_uppercase())
                .then(|| name.to_string())
        })
        .unwrap_or_else(|| "(unnamed TFLite builtin)".into())
}

fn dims_of_tdims(dims: &[TDim]) -> Vec<Dim> {
    dims.iter()
        .map(|d| match d.as_i64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) => Dim::Fixed(n),
            None => Dim::Symbol(d.to_string()),
        })
        .collect()
}

/// The type and dimensions an ONNX graph declares for a tensor, as far as it declares them.
fn inference_fact(fact: &InferenceFact) -> (Option<DatumType>, Option<Vec<Dim>>) {
    let dims = if fact.shape.is_open() {
        None
    } else {
        Some(
            fact.shape
                .dims()
                .map(|d| match d.concretize() {
                    None => Dim::Unknown,
                    Some(t) => dims_of_tdims(&[t])[0].clone(),
                })
                .collect(),
        )
    };
    (fact.datum_type.concretize(), dims)
}

/// The type and dimensions of a typed graph's tensor (all known; the batch may be a symbol).
fn typed_fact(fact: &TypedFact) -> (Option<DatumType>, Option<Vec<Dim>>) {
    let shape: Vec<TDim> = fact.shape.iter().cloned().collect();
    (Some(fact.datum_type), Some(dims_of_tdims(&shape)))
}

fn onnx_model(
    path: &Path,
    display: &str,
    bytes: &[u8],
    proto: &pb::ModelProto,
    model: InferenceModel,
) -> Result<Model, ModelError> {
    let load_err = |e: TractError| ModelError::Load {
        path: display.to_string(),
        message: chain(&e),
    };
    let inputs = model.input_outlets().map_err(load_err)?.to_vec();
    if inputs.len() != 1 {
        return Err(ModelError::Input {
            path: display.to_string(),
            message: format!(
                "the model has {} inputs; mlgate evaluates models with one input tensor",
                inputs.len()
            ),
            help: Some("concatenate the features into one input when exporting".into()),
        });
    }
    let (dtype, dims) = inference_fact(model.input_fact(0).map_err(load_err)?);
    let input = InputSpec {
        name: model.node(inputs[0].node).name.clone(),
        dtype,
        dims,
    };
    let outputs = output_specs!(&model, inference_fact).map_err(load_err)?;
    let graph = proto.graph.as_ref();
    let nodes = graph.map(|g| g.node.as_slice()).unwrap_or_default();
    let mut class_labels = None;
    let mut unreliable = false;
    for n in nodes {
        if matches!(
            n.op_type.as_str(),
            "LinearClassifier" | "TreeEnsembleClassifier" | "SVMClassifier"
        ) {
            // LinearClassifier and SVMClassifier say `classlabels_ints`, TreeEnsembleClassifier `classlabels_int64s`.
            if let Some(a) = n
                .attribute
                .iter()
                .find(|a| a.name == "classlabels_ints" || a.name == "classlabels_int64s")
            {
                if !a.ints.is_empty() {
                    class_labels = Some(a.ints.clone());
                }
            }
            if n.op_type == "TreeEnsembleClassifier" {
                let k = class_labels.as_ref().map_or(0, |c| c.len());
                let strings = n
                    .attribute
                    .iter()
                    .find(|a| a.name == "classlabels_strings")
                    .map_or(0, |a| a.strings.len());
                // tract takes the argmax of the single score column before expanding it to [1-p, p].
                unreliable |= k == 2 || strings == 2;
            }
        }
    }
    let mut parameter_count: u64 = 0;
    if let Some(g) = graph {
        for t in &g.initializer {
            parameter_count += t.dims.iter().map(|&d| d.max(0) as u64).product::<u64>();
        }
        for n in nodes {
            for a in &n.attribute {
                if let Some(t) = &a.t {
                    parameter_count += t.dims.iter().map(|&d| d.max(0) as u64).product::<u64>();
                }
                // ai.onnx.ml operators keep their weights in float attributes (coefficients, intercepts,
                // tree thresholds and leaf weights).
                if n.domain == "ai.onnx.ml" {
                    parameter_count += a.floats.len() as u64;
                }
            }
        }
    }
    let class_names = proto
        .metadata_props
        .iter()
        .find(|p| matches!(p.key.as_str(), "class_names" | "classes" | "labels"))
        .map(|p| parse_names(&p.value));
    Ok(Model {
        path: path.to_path_buf(),
        display: display.to_string(),
        format: ModelFormat::Onnx,
        file_size: bytes.len() as u64,
        input,
        outputs,
        class_labels,
        class_names,
        label_output_unreliable: unreliable,
        parameter_count,
        graph: Graph::Onnx(Box::new(model)),
    })
}

/// A JSON list of strings, or names separated by commas.
fn parse_names(text: &str) -> Vec<String> {
    if let Ok(v) = serde_json::from_str::<Vec<String>>(text) {
        return v;
    }
    text.split(',').map(|s| s.trim().to_string()).collect()
}

fn tflite_model(
    path: &Path,
    display: &str,
    bytes: &[u8],
    model: TypedModel,
) -> Result<Model, ModelError> {
    let load_err = |e: TractError| ModelError::Load {
        path: display.to_string(),
        message: chain(&e),
    };
    let inputs = model.input_outlets().map_err(load_err)?.to_vec();
    if inputs.len() != 1 {
        return Err(ModelError::Input {
            path: display.to_string(),
            message: format!(
                "the model has {} inputs; mlgate evaluates models with one input tensor",
                inputs.len()
            ),
            help: None,
        });
    }
    let (dtype, dims) = typed_fact(model.input_fact(0).map_err(load_err)?);
    let input = InputSpec {
        name: model.node(inputs[0].node).name.clone(),
        dtype,
        dims,
    };
    let outputs = output_specs!(&model, typed_fact).map_err(load_err)?;
    let parameter_count = model
        .nodes()
        .iter()
        .filter_map(|n| n.op_as::<tract_onnx::tract_core::ops::konst::Const>())
        .map(|c| c.val().len() as u64)
        .sum();
    Ok(Model {
        path: path.to_path_buf(),
        display: display.to_string(),
        format: ModelFormat::Tflite,
        file_size: bytes.len() as u64,
        input,
        outputs,
        class_labels: None,
        class_names: None,
        label_output_unreliable: false,
        parameter_count,
        graph: Graph::Typed(Box::new(model)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file fuzzing found (fuzz/regressions/model/, after the harness's first byte): a TFLite operator naming a
    /// tensor out of range made tract's loader panic; it is an error naming the file.
    #[test]
    fn a_loader_panic_is_an_error() {
        let found = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fuzz/regressions/model/tflite-tensor-index-out-of-range"),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.tflite");
        std::fs::write(&path, &found[1..]).unwrap();
        let Err(err) = Model::load(&path) else {
            panic!("the malformed model loaded");
        };
        let err = err.to_string();
        assert!(
            err.contains("model.tflite: not a valid TFLite model"),
            "{err}"
        );
        assert!(err.contains("tract's loader failed on it"), "{err}");
    }

    #[test]
    fn formats_are_told_by_content() {
        assert_eq!(detect(b"\x1c\0\0\0TFL3rest"), Some(ModelFormat::Tflite));
        assert_eq!(detect(b"\x08\x08\x12\x07skl2onnx"), Some(ModelFormat::Onnx));
        assert_eq!(detect(b"hello"), None);
        assert_eq!(detect(b""), None);
        assert_eq!(
            describe_head(b"PK\x03\x04..."),
            "a zip archive (a PyTorch .pt or Keras .keras file?)"
        );
        assert_eq!(describe_head(b"hello\x01"), "it starts with `hello\\x01`");
    }

    #[test]
    fn output_facts_need_the_type_and_every_dimension_after_the_batch() {
        let spec = |dtype, dims: Option<Vec<Dim>>| OutputSpec {
            name: "y".into(),
            dtype,
            dims,
        };
        let fact = |dtype, width| Some(OutputFact { dtype, width });
        let f32 = Some(DatumType::F32);
        assert_eq!(
            spec(Some(DatumType::I64), Some(vec![Dim::Unknown])).fact(),
            fact(DatumType::I64, 1)
        );
        assert_eq!(
            spec(f32, Some(vec![Dim::Symbol("N".into()), Dim::Fixed(2)])).fact(),
            fact(DatumType::F32, 2)
        );
        assert_eq!(
            spec(f32, Some(vec![Dim::Unknown, Dim::Unknown])).fact(),
            None
        );
        assert_eq!(spec(f32, None).fact(), None);
        assert_eq!(spec(None, Some(vec![Dim::Unknown])).fact(), None);
        // A scalar has no batch dimension: eval cannot read it per row either.
        assert_eq!(spec(f32, Some(vec![])).fact(), None);
        // Strings are never read, whatever their shape.
        assert_eq!(
            spec(Some(DatumType::String), None).fact(),
            fact(DatumType::String, 0)
        );
        assert_eq!(
            spec(f32, Some(vec![Dim::Unknown, Dim::Fixed(2)])).describe(),
            "float32 [?, 2]"
        );
    }

    #[test]
    fn names_from_metadata() {
        assert_eq!(parse_names(r#"["cat", "dog"]"#), vec!["cat", "dog"]);
        assert_eq!(parse_names("cat, dog"), vec!["cat", "dog"]);
    }

    #[test]
    fn tflite_operator_is_named() {
        assert_eq!(
            tflite_op_name("Unsupported: OperatorCode { deprecated_builtin_code: 6, builtin_code: DEQUANTIZE }"),
            "DEQUANTIZE"
        );
        assert_eq!(tflite_op_name("builtin_code: CONV_2D, x"), "CONV_2D");
        assert_eq!(tflite_op_name("xbuiltin_code: A builtin_code: B2c"), "B2");
        for none in [
            "OperatorCode { deprecated_builtin_code: 6 }",
            "builtin_code: dequantize",
            "",
        ] {
            assert_eq!(tflite_op_name(none), "(unnamed TFLite builtin)", "{none}");
        }
    }
}
