use super::*;
use crate::report::Verdict;
use serde_json::json;

fn key() -> EcKeyPair {
    EcKeyPair::from_seed(&[9; 32])
}

/// A model folder: `a.b`, `a.txt`, `sub/b.bin` (in OMS order: `a.b` < `a.txt` < `sub/b.bin`), a `.git` folder
/// left out, and the signature written to `out/model.sig` beside it.
fn model() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    std::fs::create_dir_all(m.join("sub")).unwrap();
    std::fs::create_dir_all(m.join(".git")).unwrap();
    std::fs::write(m.join("a.txt"), "hello\n").unwrap();
    std::fs::write(m.join("a.b"), "y\n").unwrap();
    std::fs::write(m.join("sub/b.bin"), "x\n").unwrap();
    std::fs::write(m.join(".git/HEAD"), "ref\n").unwrap();
    let sig = dir.path().join("model.sig");
    (dir, m, sig)
}

fn sign_to(k: &EcKeyPair, m: &Path, sig: &Path) {
    std::fs::write(sig, sign_model(k, m, sig).unwrap()).unwrap();
}

fn codes(r: &Report) -> Vec<String> {
    r.checks
        .iter()
        .flat_map(|c| c.findings.iter().map(|f| f.code.clone()))
        .collect()
}

#[test]
fn signs_in_the_oms_layout() {
    let (_d, m, sig) = model();
    let text = sign_model(&key(), &m, &sig).unwrap();
    let bundle: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(bundle["mediaType"], BUNDLE_MEDIA_TYPE);
    assert_eq!(
        bundle["verificationMaterial"]["publicKey"]["hint"],
        key().public().hint()
    );
    assert_eq!(bundle["verificationMaterial"]["tlogEntries"], json!([]));
    let env = &bundle["dsseEnvelope"];
    assert_eq!(env["payloadType"], PAYLOAD_TYPE);
    let payload = unb64(env["payload"].as_str().unwrap()).unwrap();
    let st: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(st["_type"], STATEMENT_TYPE);
    assert_eq!(st["predicateType"], PREDICATE_TYPE);
    assert_eq!(st["subject"][0]["name"], "m");
    let names: Vec<&str> = st["predicate"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a.b", "a.txt", "sub/b.bin"]);
    // The digests model_signing 1.1.1 wrote for the same files (see tests/oms_interop.rs).
    assert_eq!(
        st["subject"][0]["digest"]["sha256"],
        "4dc29c5368489f9809d77a3245832450f2735c259b72854028884d1ebb46ce35"
    );
    assert_eq!(
        st["predicate"]["serialization"],
        json!({"method": "files", "hash_type": "sha256", "allow_symlinks": false,
               "ignore_paths": [".git", ".github", ".gitattributes", ".gitignore"]})
    );
}

#[test]
fn a_signature_inside_the_model_is_left_out_and_recorded() {
    let (_d, m, _) = model();
    let sig = m.join("model.sig");
    sign_to(&key(), &m, &sig);
    let r = verify_oms(&[key().public()], &sig, &m).unwrap();
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", codes(&r));
    let bundle: Bundle = serde_json::from_str(&std::fs::read_to_string(&sig).unwrap()).unwrap();
    let payload = bundle.dsse_envelope.unwrap().payload_bytes().unwrap();
    assert!(String::from_utf8(payload)
        .unwrap()
        .contains("\"model.sig\""));
}

#[test]
fn a_single_file_model_is_the_resource_dot() {
    let (_d, m, sig) = model();
    let file = m.join("a.txt");
    sign_to(&key(), &file, &sig);
    let r = verify_oms(&[key().public()], &sig, &file).unwrap();
    assert_eq!(r.verdict, Verdict::Pass);
    std::fs::write(&file, "hellp\n").unwrap();
    let r = verify_oms(&[key().public()], &sig, &file).unwrap();
    assert_eq!(codes(&r), ["file-changed"]);
}

#[test]
fn verifies_and_refuses_each_tampering_naming_the_file() {
    let (_d, m, sig) = model();
    sign_to(&key(), &m, &sig);
    let keys = [key().public()];
    assert_eq!(verify_oms(&keys, &sig, &m).unwrap().verdict, Verdict::Pass);
    // git's own files are not part of the model.
    std::fs::write(m.join(".git/HEAD"), "other\n").unwrap();
    assert_eq!(verify_oms(&keys, &sig, &m).unwrap().verdict, Verdict::Pass);

    std::fs::write(m.join("sub/b.bin"), "z\n").unwrap();
    let r = verify_oms(&keys, &sig, &m).unwrap();
    assert_eq!(codes(&r), ["file-changed"]);
    let f = &r.checks[1].findings[0];
    assert!(
        f.message.contains("sub/b.bin changed after signing"),
        "{}",
        f.message
    );
    std::fs::write(m.join("sub/b.bin"), "x\n").unwrap();

    std::fs::write(m.join("extra.bin"), "new").unwrap();
    let r = verify_oms(&keys, &sig, &m).unwrap();
    assert_eq!(codes(&r), ["not-signed"]);
    assert!(r.checks[1].findings[0]
        .message
        .contains("extra.bin is not in the signature"));
    std::fs::remove_file(m.join("extra.bin")).unwrap();

    std::fs::remove_file(m.join("a.b")).unwrap();
    let r = verify_oms(&keys, &sig, &m).unwrap();
    assert_eq!(codes(&r), ["file-missing"]);
    assert!(r.checks[1].findings[0]
        .message
        .contains("a.b is signed but missing"));
}

#[test]
fn another_key_is_refused() {
    let (_d, m, sig) = model();
    sign_to(&key(), &m, &sig);
    let other = EcKeyPair::from_seed(&[10; 32]).public();
    let r = verify_oms(std::slice::from_ref(&other), &sig, &m).unwrap();
    assert_eq!(codes(&r), ["key-mismatch"]);
    assert_eq!(
        r.checks.len(),
        1,
        "the files are not judged against an untrusted list"
    );
    // Without the hint, the signature itself is checked with the key.
    let mut b: Bundle = serde_json::from_str(&std::fs::read_to_string(&sig).unwrap()).unwrap();
    b.verification_material.public_key = None;
    std::fs::write(&sig, serde_json::to_string(&b).unwrap()).unwrap();
    let r = verify_oms(&[other], &sig, &m).unwrap();
    assert_eq!(codes(&r), ["signature-invalid"]);
    assert_eq!(
        verify_oms(&[key().public()], &sig, &m).unwrap().verdict,
        Verdict::Pass
    );
}

/// Re-signs an edited statement with the right key, so only the check under test can refuse it.
fn resign(edit: impl Fn(&mut serde_json::Value)) -> Result<SignedModel, Refusal> {
    let (_d, m, sig) = model();
    let text = sign_model(&key(), &m, &sig).unwrap();
    let b: Bundle = serde_json::from_str(&text).unwrap();
    let payload = b.dsse_envelope.unwrap().payload_bytes().unwrap();
    let mut st: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    edit(&mut st);
    let payload = serde_json::to_vec(&st).unwrap();
    let sig = key().sign(&pae(PAYLOAD_TYPE, &payload));
    let b = json!({"mediaType": BUNDLE_MEDIA_TYPE, "verificationMaterial": {"publicKey": {"hint": key().public().hint()}},
        "dsseEnvelope": {"payload": b64(&payload), "payloadType": PAYLOAD_TYPE, "signatures": [{"sig": b64(&sig)}]}});
    open_bundle(&b.to_string(), &[key().public()])
}

#[test]
fn bad_bundles_are_refused_with_a_reason() {
    let keys = [key().public()];
    let e = open_bundle("{", &keys).unwrap_err();
    assert_eq!(e.0, "oms-malformed");
    assert!(e.1.starts_with("not a Sigstore bundle: line 1"), "{}", e.1);
    let e = open_bundle(r#"{"mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1", "verificationMaterial": {}}"#, &keys).unwrap_err();
    assert_eq!(e.0, "oms-unsupported");
    assert!(e.1.contains("media type"), "{}", e.1);
    let e = open_bundle(
        &format!(r#"{{"mediaType": "{BUNDLE_MEDIA_TYPE}", "verificationMaterial": {{}}}}"#),
        &keys,
    )
    .unwrap_err();
    assert!(e.1.contains("no dsseEnvelope"), "{}", e.1);

    let e = resign(|st| st["predicateType"] = json!("https://example.com/other")).unwrap_err();
    assert_eq!(e.0, "oms-unsupported");
    assert!(
        e.1.contains("predicate type \"https://example.com/other\""),
        "{}",
        e.1
    );
    let e = resign(|st| st["predicate"]["resources"][0]["digest"] = json!("00".repeat(32)))
        .unwrap_err();
    assert_eq!(e.0, "oms-inconsistent");
    let e = resign(|st| st["predicate"]["serialization"]["method"] = json!("shards")).unwrap_err();
    assert_eq!(e.0, "oms-unsupported");
    let e = resign(|st| st["predicate"] = json!({"resources": 3})).unwrap_err();
    assert_eq!(e.0, "oms-malformed");
    let e = resign(|st| st["subject"] = json!([])).unwrap_err();
    assert!(e.1.contains("0 subjects"), "{}", e.1);
    let e = resign(|st| st["predicate"]["resources"][0]["digest"] = json!("zz")).unwrap_err();
    assert!(e.1.contains("not hex"), "{}", e.1);
    assert!(resign(|_| ()).is_ok());
}

#[test]
fn an_altered_statement_does_not_verify() {
    let (_d, m, sig) = model();
    let text = sign_model(&key(), &m, &sig).unwrap();
    let mut b: Bundle = serde_json::from_str(&text).unwrap();
    let env = b.dsse_envelope.as_mut().unwrap();
    let payload = String::from_utf8(env.payload_bytes().unwrap()).unwrap();
    env.payload = b64(payload.replace("a.txt", "a.txu").as_bytes());
    let e = open_bundle(&serde_json::to_string(&b).unwrap(), &[key().public()]).unwrap_err();
    assert_eq!(e.0, "signature-invalid");
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_is_an_error() {
    let (_d, m, sig) = model();
    std::os::unix::fs::symlink("a.txt", m.join("link")).unwrap();
    let e = sign_model(&key(), &m, &sig).unwrap_err();
    assert!(e.to_string().contains("link: a symbolic link"), "{e}");
}

#[test]
fn component_order_is_not_string_order() {
    // "a/b" sorts before "a.txt" by components (as model_signing sorts paths), after it as a string.
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("a")).unwrap();
    std::fs::write(d.path().join("a/b"), "1").unwrap();
    std::fs::write(d.path().join("a.txt"), "2").unwrap();
    let names: Vec<String> = model_files(d.path(), &[], false)
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, ["a/b", "a.txt"]);
}
