//! Generates prost code for onnx-ml.proto3 from a FileDescriptorSet (made by `python -m grpc_tools.protoc
//! --descriptor_set_out`), so that neither this program nor mlgate's build needs a protoc binary.
//!
//! Usage: onnx-proto-gen DESCRIPTOR_SET OUT_DIR

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, fds, out] = args.as_slice() else {
        return Err("usage: onnx-proto-gen DESCRIPTOR_SET OUT_DIR".into());
    };
    let bytes = std::fs::read(fds)?;
    let set = prost_types::FileDescriptorSet::decode(bytes.as_slice())?;
    let mut config = prost_build::Config::new();
    config.out_dir(out);
    // BTreeMap keeps map fields (none in ONNX today) in a stable order when written.
    config.btree_map(["."]);
    config.compile_fds(set)?;
    Ok(())
}
