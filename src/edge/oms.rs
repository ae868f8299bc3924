//! A bundle's OpenSSF Model Signing (OMS) signatures: `models/<file>.sig` next to `models/<file>`, what
//! `mlgate bundle --oms-key` writes (the signature `model_signing sign key` would write for the file).
//!
//! The entry is an ordinary one: listed in SHA256SUMS, signed and attested like the model. [`super::check`] keeps
//! it in memory (it is small) and [`oms_check`] holds it against the model's SHA-256 computed while the model
//! streamed, so the model is read once. With pinned P-256 keys the signature must verify; without, the bundle's
//! own signatures vouch for the entry and only its digest is compared (the report says it was not verified).

use std::collections::BTreeMap;

use serde_json::json;

use super::check::{fail, EntryDigest};
use super::manifest::Manifest;
use crate::report::{Check, Status};
use crate::sign::ecdsa::EcPublicKey;
use crate::sign::oms::{open_bundle, read_unverified, SignedModel};

/// The OMS signature entry of a model entry.
pub fn entry_name(model_entry: &str) -> String {
    format!("{model_entry}.sig")
}

/// The model entry whose OMS signature `name` is, when `name` is `A.sig` for an artifact `A` of the manifest.
pub fn signed_model(manifest: Option<&Manifest>, name: &str) -> Option<String> {
    let model = name.strip_suffix(".sig")?;
    manifest?
        .artifacts
        .iter()
        .any(|a| a.path == model)
        .then(|| model.to_string())
}

/// The OMS check: `None` when the bundle carries no OMS signature and no OMS key is pinned (the report is then
/// what it was before OMS signatures existed). A pinned key makes the signature required.
pub fn oms_check(
    subject: &str,
    manifest: Option<&Manifest>,
    signatures: &BTreeMap<String, Vec<u8>>,
    digests: &BTreeMap<String, EntryDigest>,
    keys: &[EcPublicKey],
    stopped: bool,
) -> Option<Check> {
    if signatures.is_empty() && keys.is_empty() {
        return None;
    }
    let mut c = Check::new(subject, "oms-signature");
    if stopped {
        c.status = Status::Skip;
        c.summary = "not checked: the bundle check stopped the reading".into();
        return Some(c);
    }
    if !keys.is_empty() {
        for a in manifest.iter().flat_map(|m| &m.artifacts) {
            if !signatures.contains_key(&a.path) {
                let sig = entry_name(&a.path);
                fail(
                    &mut c,
                    "oms-missing",
                    Some(&sig),
                    format!(
                        "--oms-pubkey pins an OMS key, but the bundle carries no OMS signature of {} ({sig})",
                        a.path
                    ),
                );
            }
        }
    }
    for (model, text) in signatures {
        let sig = entry_name(model);
        if let Err((code, m)) = check_one(model, text, digests, keys) {
            fail(&mut c, code, Some(&sig), format!("{sig}: {m}"));
        }
    }
    c.figures.insert("verified".into(), json!(!keys.is_empty()));
    c.summary = match (c.status == Status::Pass, keys.is_empty()) {
        (false, _) => "the model's OMS signature does not hold: do not run it".into(),
        (true, false) => format!(
            "{} OMS signature(s) verify with a pinned P-256 key and match the model",
            signatures.len()
        ),
        (true, true) => format!(
            "{} OMS signature(s) match the model, NOT verified: no --oms-pubkey (the bundle's own signatures \
             vouch for them)",
            signatures.len()
        ),
    };
    Some(c)
}

/// One signature: it verifies (with keys) and signs exactly the model entry's streamed SHA-256.
fn check_one(
    model: &str,
    text: &[u8],
    digests: &BTreeMap<String, EntryDigest>,
    keys: &[EcPublicKey],
) -> Result<(), (&'static str, String)> {
    let digest = digests.get(model).ok_or((
        "file-missing",
        format!("it signs {model}, which the bundle does not have"),
    ))?;
    let text =
        std::str::from_utf8(text).map_err(|_| ("oms-malformed", "not UTF-8 text".to_string()))?;
    let signed = if keys.is_empty() {
        read_unverified(text)?
    } else {
        open_bundle(text, keys)?
    };
    same_file(&signed, model, &digest.sha256_hex())
}

/// A bundle's model is one file: the signature must list exactly the resource `.` with the model's digest.
fn same_file(
    signed: &SignedModel,
    model: &str,
    sha256: &str,
) -> Result<(), (&'static str, String)> {
    let names: Vec<&str> = signed.resources.keys().map(String::as_str).collect();
    match signed.resources.get(".") {
        Some(want) if names.len() == 1 && want == sha256 => Ok(()),
        Some(want) if names.len() == 1 => Err((
            "file-changed",
            format!("{model} has sha256 {sha256}, the OMS signature signs {want}: the model changed after signing"),
        )),
        _ => Err((
            "oms-other-files",
            format!(
                "the OMS signature covers other files ({}), not the one model file {model}",
                names.join(", ")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::ecdsa::EcKeyPair;

    fn digest_of(bytes: &[u8]) -> EntryDigest {
        use sha2::Digest;
        EntryDigest {
            size: bytes.len() as u64,
            sha256: sha2::Sha256::digest(bytes).into(),
            blake2b512: None,
        }
    }

    #[test]
    fn no_signature_and_no_key_leaves_the_report_as_it_was() {
        let (sigs, digests) = (BTreeMap::new(), BTreeMap::new());
        assert!(oms_check("b", None, &sigs, &digests, &[], false).is_none());
    }

    #[test]
    fn a_signature_is_held_to_the_streamed_digest_with_and_without_a_key() {
        let key = EcKeyPair::generate().unwrap();
        let model = "models/m.onnx".to_string();
        let digests = BTreeMap::from([(model.clone(), digest_of(b"model"))]);
        let sig = crate::sign::oms::sign_file_digest(&key, "m.onnx", &digests[&model].sha256_hex())
            .unwrap();
        let sigs = BTreeMap::from([(model.clone(), sig.into_bytes())]);
        for keys in [vec![], vec![key.public()]] {
            let c = oms_check("b", None, &sigs, &digests, &keys, false).unwrap();
            assert_eq!(c.status, Status::Pass, "{c:?}");
        }
        let changed = BTreeMap::from([(model, digest_of(b"other"))]);
        let c = oms_check("b", None, &sigs, &changed, &[key.public()], false).unwrap();
        assert_eq!(c.findings[0].code, "file-changed", "{c:?}");
        let c = oms_check("b", None, &sigs, &changed, &[key.public()], true).unwrap();
        assert_eq!(c.status, Status::Skip);
    }
}
