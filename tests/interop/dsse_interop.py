"""Checks mlgate's DSSE envelopes with securesystemslib, and makes one for mlgate to check.

    python dsse_interop.py verify ENVELOPE PUBLIC_PEM [BASE_DIR]
        # exit 0 when securesystemslib accepts mlgate's envelope; with BASE_DIR, also when every subject's file
        # (relative to BASE_DIR) has the attested SHA-256, as an in-toto verifier checks its artifacts
    python dsse_interop.py sign STATEMENT SECRET_PEM OUT # securesystemslib signs STATEMENT (JSON) into OUT

The keys are the PEM files `mlgate keygen` writes. `verify` prints the key ID securesystemslib computes and the
statement's subjects; the Rust test (tests/signing.rs) runs it with the Python that $MLGATE_INTEROP_PYTHON
names (.ci/run sets it up from requirements.txt beside this file).
"""

import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives.serialization import (
    load_pem_private_key,
    load_pem_public_key,
)
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey


def verify(envelope_path: str, pem_path: str, base_dir: str | None = None) -> int:
    with open(pem_path, "rb") as f:
        key = SSlibKey.from_crypto(load_pem_public_key(f.read()))
    with open(envelope_path, encoding="utf-8") as f:
        envelope = Envelope.from_dict(json.loads(f.read()))
    accepted = envelope.verify([key], 1)  # raises VerificationError when no signature holds
    assert key.keyid in accepted, accepted
    statement = json.loads(envelope.payload)
    assert envelope.payload_type == "application/vnd.in-toto+json", envelope.payload_type
    assert statement["_type"] == "https://in-toto.io/Statement/v1", statement["_type"]
    print(f"verified keyid={key.keyid}")
    status = 0
    for s in statement["subject"]:
        print(f"subject {s['name']} sha256={s['digest']['sha256']}")
        if base_dir is not None:
            with open(os.path.join(base_dir, s["name"]), "rb") as f:
                actual = hashlib.sha256(f.read()).hexdigest()
            if actual != s["digest"]["sha256"]:
                print(f"DIGEST MISMATCH {s['name']}: {actual}", file=sys.stderr)
                status = 1
    return status


def sign(statement_path: str, secret_pem_path: str, out_path: str) -> int:
    with open(secret_pem_path, "rb") as f:
        signer = CryptoSigner(load_pem_private_key(f.read(), None))
    with open(statement_path, "rb") as f:
        payload = f.read()
    envelope = Envelope(payload, "application/vnd.in-toto+json", {})
    envelope.sign(signer)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(json.dumps(envelope.to_dict()) + "\n")
    print(f"signed keyid={signer.public_key.keyid}")
    return 0


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    sys.exit({"verify": verify, "sign": sign}[cmd](*args))
