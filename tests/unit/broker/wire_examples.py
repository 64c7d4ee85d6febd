#!/usr/bin/env python3
"""Independent computation of the worked examples in docs/protocol.md, "Byte strings".

Written from the document alone (hashlib, struct, json and the `cryptography` package's RFC 8032
Ed25519), not from Sigil's code: tests/unit/broker/wire_examples_test.cpp asserts that the real
code produces the same bytes, so the document, this script and the code cannot drift apart.
Run: python3 tests/unit/broker/wire_examples.py
"""
import base64
import hashlib
import json
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def canonical(obj):
    # Keys sorted, no whitespace, UTF-8 kept (docs/protocol.md, "Canonical JSON").
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def show(name, b):
    print(f"{name} ({len(b)} bytes):\n  {b.hex()}")


# 1. Release HPKE info and artifact id.
enc = bytes(range(0x00, 0x20))
sealed_dek = bytes(range(0x20, 0x50))
artifact_id = hashlib.sha256(struct.pack(">I", len(enc)) + enc + sealed_dek).hexdigest()
print("artifact_id:", artifact_id)
info = b"\x00".join([b"sigil/v1/release", b"acme", b"model", b"1", artifact_id.encode("ascii")])
show("release info", info)
show("dek seal info", b"\x00".join([b"sigil/v1/dek", b"acme", b"model", b"1"]))

# 2. Audit chain: the genesis record of tenant acme and one more, then the chain checkpoint over the second.
seed = bytes([0x01] * 32)
sk = Ed25519PrivateKey.from_private_bytes(seed)
pub = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
print("audit public key:", pub.hex(), "=", b64url(pub))
audit_key_id = hashlib.sha256(pub).hexdigest()
print("audit key id:", audit_key_id)
r1 = canonical({"seq": 1, "time_ms": 1700000000000, "tenant": "acme", "request_id": "0000000000000001",
                "actor": "admin:alice", "action": "tenant.genesis", "decision": "ok",
                "reason": "tenant created", "client": "127.0.0.1", "audit_key_id": audit_key_id,
                "prev": "0" * 64})
h0 = bytes(32)
h1 = hashlib.sha256(h0 + r1).digest()
print("record 1:", r1.decode())
print("hash 1:", h1.hex())
r2 = canonical({"seq": 2, "time_ms": 1700000000001, "tenant": "acme", "request_id": "0000000000000002",
                "actor": "admin:alice", "action": "admin.key.create", "key": "model", "version": 1,
                "decision": "ok", "reason": "key created", "client": "127.0.0.1", "prev": h1.hex()})
h2 = hashlib.sha256(h1 + r2).digest()
print("record 2:", r2.decode())
print("hash 2:", h2.hex())
msg = b"\x00".join([b"sigil/v1/checkpoint", b"acme", b"2", h2.hex().encode("ascii"), b"1700000000001"])
show("checkpoint message", msg)
print("checkpoint signature (base64url):", b64url(sk.sign(msg)))

# 3. The C2SP checkpoint of the same two records (RFC 9162 tree), signed at 1700000000002.
leaf1 = hashlib.sha256(b"\x00" + r1).digest()
leaf2 = hashlib.sha256(b"\x00" + r2).digest()
root = hashlib.sha256(b"\x01" + leaf1 + leaf2).digest()
print("root:", root.hex())
name = "sigil-audit/acme"
text = f"{name}\n2\n{base64.b64encode(root).decode()}\ntime 1700000000002\n".encode()
show("note text", text)
key_id = hashlib.sha256(name.encode() + b"\x0a\x01" + pub).digest()[:4]
print("key id:", key_id.hex())
typed_pub = base64.b64encode(b"\x01" + pub).decode()
print("verifier key:", f"{name}+{key_id.hex()}+{typed_pub}")
note = text + b"\n\xe2\x80\x94 " + name.encode() + b" " + base64.b64encode(key_id + sk.sign(text)) + b"\n"
print("note:")
print(note.decode(), end="")
