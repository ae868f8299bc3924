"""python-tuf's client (ngclient.Updater) against a channel mlgate wrote: tests/channel_interop.rs runs it.

usage: tuf_client.py METADATA_DIR BASE_URL [TARGET_NAME OUT_DIR [TARGET_BASE_URL]]

METADATA_DIR holds the trusted root.json (and what earlier runs trusted since); BASE_URL serves the channel folder;
TARGET_BASE_URL (default BASE_URL/targets/) serves the targets, e.g. a GitHub Release's download folder.
Prints one JSON object: {"ok": true, ...} or {"ok": false, "error": EXCEPTION_CLASS, "message": ...}.
"""

import hashlib
import json
import sys

from tuf.api import exceptions
from tuf.ngclient import Updater


def main() -> int:
    metadata_dir, base_url = sys.argv[1], sys.argv[2].rstrip("/")
    target, out_dir = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else (None, None)
    target_base = sys.argv[5] if len(sys.argv) > 5 else base_url + "/targets/"
    updater = Updater(
        metadata_dir=metadata_dir,
        # None: start from the root.json this device already trusts in METADATA_DIR (updated as it walks roots).
        bootstrap=None,
        metadata_base_url=base_url + "/",
        target_dir=out_dir,
        target_base_url=target_base,
    )
    result = {"ok": True}
    try:
        updater.refresh()
        trusted = updater._trusted_set  # versions, for the test's assertions only
        result["root_version"] = trusted.root.version
        result["timestamp_version"] = trusted.timestamp.version
        result["targets_version"] = trusted.targets.version
        if target is not None:
            info = updater.get_targetinfo(target)
            if info is None:
                result.update(ok=False, error="TargetNotFound", message=target)
            else:
                path = updater.download_target(info)
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                result["target"] = {
                    "path": path,
                    "length": info.length,
                    "sha256": digest,
                    "custom": info.custom,
                }
    except exceptions.RepositoryError as e:
        result = {"ok": False, "error": type(e).__name__, "message": str(e)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
