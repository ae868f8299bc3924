"""The peer: python-tuf's Metadata API adding the same bundles one by one, each time signing new targets,
snapshot and timestamp and writing them (as `mlgate publish` does). usage: peer_python_tuf.py DIST N"""

import hashlib
import os
import sys
import tempfile
from datetime import datetime, timedelta, timezone

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata, MetaFile, Root, Snapshot, TargetFile, Targets, Timestamp
from tuf.api.serialization.json import JSONSerializer

dist, n = sys.argv[1], int(sys.argv[2])
out = tempfile.mkdtemp()
signer = CryptoSigner.generate_ed25519()
exp = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=7)
root = Metadata(Root(expires=exp))
for role in ["root", "targets", "snapshot", "timestamp"]:
    root.signed.add_key(signer.public_key, role)
root.sign(signer)
root.to_file(os.path.join(out, "1.root.json"), JSONSerializer())
targets, snapshot, timestamp = Metadata(Targets(expires=exp)), Metadata(Snapshot(expires=exp)), Metadata(Timestamp(expires=exp))
names = sorted(f for f in os.listdir(dist) if f.startswith("bench-1.0."))[:n]
for name in names:
    path = os.path.join(dist, name)
    targets.signed.targets[name] = TargetFile.from_file(name, path, ["sha256"])
    targets.signed.version += 1
    targets.sign(signer)
    data = targets.to_bytes(JSONSerializer())
    with open(os.path.join(out, f"{targets.signed.version}.targets.json"), "wb") as f:
        f.write(data)
    snapshot.signed.meta["targets.json"] = MetaFile(targets.signed.version)
    snapshot.signed.version += 1
    snapshot.sign(signer)
    snapshot.to_file(os.path.join(out, f"{snapshot.signed.version}.snapshot.json"), JSONSerializer())
    timestamp.signed.snapshot_meta = MetaFile(snapshot.signed.version)
    timestamp.signed.version += 1
    timestamp.sign(signer)
    timestamp.to_file(os.path.join(out, "timestamp.json"), JSONSerializer())
print(f"{len(names)} additions written to {out}")
