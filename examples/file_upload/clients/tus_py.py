"""The upload server against tuspy (the Python tus client).

Usage: tus_py.py SERVER_BINARY

Uploads in chunks (with Upload-Checksum: sha1), stops midway, kills the
server mid-PATCH, starts it again on the same folder and port, resumes from
the offset HEAD reports, and checks the SHA-256 that GET /files lists.
Prints "N passed, N failed".
"""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from tusclient import client
from tusclient.exceptions import TusCommunicationError, TusUploadFailed

BIN = sys.argv[1]
MIB = 1 << 20
results = {"passed": 0, "failed": 0}


def check(name, expected, actual):
    if expected == actual:
        results["passed"] += 1
        print(f"ok   {name}")
    else:
        results["failed"] += 1
        print(f"FAIL {name}: expected {expected!r}, got {actual!r}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(folder, port):
    """The server on 127.0.0.1:port; returns the process once it listens."""
    p = subprocess.Popen(
        [BIN, "serve", "--listen", f"127.0.0.1:{port}", "--dir", folder],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = p.stdout.readline()
    assert line.startswith("listening on "), line
    return p


def files(base):
    with urllib.request.urlopen(base + "/files") as r:
        return {f["name"]: f for f in json.load(r)}


work = tempfile.mkdtemp()
server = None
try:
    folder = os.path.join(work, "uploads")
    os.mkdir(folder)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(folder, port)
    tus = client.TusClient(base + "/tus/")

    # A plain upload in 1 MiB chunks, each with a sha1 checksum.
    small = os.path.join(work, "small.bin")
    with open(small, "wb") as f:
        f.write(os.urandom(5 * MIB + 123))
    up = tus.uploader(small, chunk_size=MIB, metadata={"filename": "small.bin"}, upload_checksum=True)
    up.upload()
    listed = files(base)
    check("chunked upload with sha1 checksums: listed", True, "small.bin" in listed)
    with open(small, "rb") as f:
        small_sha = hashlib.sha256(f.read()).hexdigest()
    check("chunked upload: sha256", small_sha, listed.get("small.bin", {}).get("sha256"))

    # Stop after 3 chunks, kill the server mid-PATCH, restart, resume.
    big = os.path.join(work, "big.bin")
    h = hashlib.sha256()
    with open(big, "wb") as f:
        for _ in range(96):
            block = os.urandom(MIB)
            h.update(block)
            f.write(block)
    big_sha = h.hexdigest()
    up = tus.uploader(big, chunk_size=4 * MIB, metadata={"filename": "big.bin"})
    for _ in range(3):
        up.upload_chunk()
    url = up.url
    check("offset after 3 chunks (HEAD)", 12 * MIB, up.get_offset())

    # The rest in one 84 MiB PATCH, cut off by killing the server.
    up = tus.uploader(big, url=url, metadata={"filename": "big.bin"})
    errors = []

    def rest():
        try:
            up.upload()
        except (TusCommunicationError, TusUploadFailed, OSError) as e:
            errors.append(e)

    t = threading.Thread(target=rest)
    t.start()
    time.sleep(0.15)
    server.kill()
    server.wait()
    t.join()
    check("the upload was cut by the kill", True, bool(errors) or "big.bin" not in os.listdir(folder))
    check("nothing published after the cut", False, "big.bin" in os.listdir(folder))

    server = start(folder, port)
    resumed = tus.uploader(big, url=url, metadata={"filename": "big.bin"})
    offset = resumed.offset  # from HEAD, when the uploader is made with a url
    print(f"     resuming at {offset} of {96 * MIB} bytes")
    check("resume offset is within what was sent", True, 12 * MIB <= offset <= 96 * MIB)
    resumed.upload()
    listed = files(base)
    check("resumed upload: sha256 from GET /files", big_sha, listed.get("big.bin", {}).get("sha256"))
    with open(os.path.join(folder, "big.bin"), "rb") as f:
        check("resumed upload: bytes on disk", big_sha, hashlib.file_digest(f, "sha256").hexdigest())

    # The same name again: the server refuses at creation (409).
    try:
        tus.uploader(small, chunk_size=MIB, metadata={"filename": "small.bin"}).upload()
        check("existing name refused", 409, 201)
    except TusCommunicationError as e:
        check("existing name refused", 409, e.status_code)
finally:
    if server:
        server.kill()
        server.wait()
    shutil.rmtree(work, ignore_errors=True)

print(f"{results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
