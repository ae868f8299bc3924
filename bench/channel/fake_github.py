"""A minimal fake GitHub Releases API for the benchmark of `mlgate publish --github` (stdlib only).

usage: fake_github.py PORT   ($FAKE_GITHUB_BYTES_PER_SEC: read uploads at most that fast, a slow link)

Serves the API and the upload host on one 127.0.0.1 port (so GITHUB_API_URL and MLGATE_GITHUB_UPLOAD_URL are
both http://127.0.0.1:PORT). Uploads are read in 1 MiB chunks and hashed, never kept, so the fake's memory stays
small and the measured process is mlgate. Answers carry the fields mlgate reads from GitHub's documented payloads.
Not a test fixture: tests/github_release.rs has the full fake.
"""

import hashlib
import json
import os
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPO = re.compile(r"^/repos/([^/]+/[^/]+)/releases(.*)$")
STATE = {"releases": [], "next": 1}
RATE = int(os.environ.get("FAKE_GITHUB_BYTES_PER_SEC", "0"))


def new_id():
    STATE["next"] += 1
    return STATE["next"]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def base(self):
        return f"http://127.0.0.1:{self.server.server_port}"

    def release_json(self, repo, r):
        return {
            "id": r["id"],
            "tag_name": r["tag"],
            "draft": r["draft"],
            "immutable": False,
            "html_url": f"https://github.com/{repo}/releases/tag/{r['tag']}",
            "upload_url": f"{self.base()}/repos/{repo}/releases/{r['id']}/assets{{?name,label}}",
        }

    def asset_json(self, repo, r, a):
        return {
            "id": a["id"],
            "name": a["name"],
            "state": "uploaded",
            "size": a["size"],
            "digest": "sha256:" + a["sha256"],
            "browser_download_url": f"https://github.com/{repo}/releases/download/{r['tag']}/{a['name']}",
        }

    def route(self):
        path, _, query = self.path.partition("?")
        m = REPO.match(path)
        if not m:
            return None, None, None
        return m.group(1), m.group(2), query

    def do_GET(self):
        repo, rest, _ = self.route()
        if rest == "":
            return self.send(200, [self.release_json(repo, r) for r in STATE["releases"]])
        m = re.match(r"^/(\d+)/assets$", rest or "")
        if m:
            r = next(r for r in STATE["releases"] if r["id"] == int(m.group(1)))
            return self.send(200, [self.asset_json(repo, r, a) for a in r["assets"]])
        self.send(404, {"message": "Not Found"})

    def do_POST(self):
        repo, rest, query = self.route()
        length = int(self.headers.get("content-length", "0"))
        if rest == "":
            body = json.loads(self.rfile.read(length))
            r = {"id": new_id(), "tag": body["tag_name"], "draft": True, "assets": []}
            STATE["releases"].append(r)
            return self.send(201, self.release_json(repo, r))
        m = re.match(r"^/(\d+)/assets$", rest or "")
        if m:
            name = re.search(r"name=([^&]+)", query).group(1)
            h, left = hashlib.sha256(), length
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    break
                h.update(chunk)
                left -= len(chunk)
                if RATE:
                    time.sleep(len(chunk) / RATE)
            r = next(r for r in STATE["releases"] if r["id"] == int(m.group(1)))
            a = {"id": new_id(), "name": name, "size": length, "sha256": h.hexdigest()}
            r["assets"].append(a)
            return self.send(201, self.asset_json(repo, r, a))
        self.send(404, {"message": "Not Found"})

    def do_PATCH(self):
        repo, rest, _ = self.route()
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length))
        r = next(r for r in STATE["releases"] if r["id"] == int(rest.strip("/")))
        r["draft"] = bool(body.get("draft", r["draft"]))
        self.send(200, self.release_json(repo, r))


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
