#!/usr/bin/env python3
"""Independent verifier of Sigil release receipts (receipts_test runs it).

Usage: receipt_verify.py BUNDLE.json AUDIT_PUB_JSON

BUNDLE.json is the file `sigil audit receipts --out` writes (the JSON of POST
/v1/admin/tenants/T/audit/receipts); AUDIT_PUB_JSON is ADMIN_DIR/audit.pub.

Written from docs/protocol.md "Release receipts", not from Sigil's C++ code. For the bundle:
  - the checkpoint is a C2SP signed note by the audit key under key name "sigil-audit/" + tenant,
    with that origin and the bundle's tree_size;
and for every entry:
  - the receipt is a signed note by the same key and name; its text is exactly the 14 lines
    "sigil/v1/release-receipt", then "<name> <value>" for tenant, key, version, artifact, tee,
    measurement, evidence, policy, request, time, seq, leaf_index, leaf (values printable ASCII
    without spaces, canonical decimals, leaf_index = seq - 1, leaf canonical base64 of 32 bytes),
    plus a 15th line "signer <owner key id>" exactly when the record names a signer;
  - the record is an allowed release whose fields equal the receipt's (measurement "-" = none);
  - SHA-256(0x00 || record bytes) equals the receipt's leaf (RFC 9162 section 2.1.1);
  - the inclusion proof leads from that leaf, at index seq - 1, to the checkpoint's root
    (RFC 9162 section 2.1.3.2).
The checkpoint and Merkle code is audit_proof_verify.py's (from the specs, not from Sigil).

Prints "OK <n>" (the number of receipts) and exits 0, or prints "refused: <why>" and exits 1.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audit_proof_verify as apv  # noqa: E402  (RFC 9162 + C2SP checkpoints, from the specs)
from audit_proof_verify import Refused, field  # noqa: E402

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey  # noqa: E402

HEADER = "sigil/v1/release-receipt"
NAMES = ["tenant", "key", "version", "artifact", "tee", "measurement", "evidence", "policy",
         "request", "time", "seq", "leaf_index", "leaf"]
TOKEN = re.compile(r"[\x21-\x7e]{1,1024}")
DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


def parse_receipt_text(text):
    if not text.endswith("\n"):
        raise Refused("receipt text does not end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) not in (1 + len(NAMES), 2 + len(NAMES)) or lines[0] != HEADER:
        raise Refused("receipt text is not the header and %d field lines (+ signer)" % len(NAMES))
    values = {"signer": None}
    if len(lines) == 2 + len(NAMES):
        last = lines.pop()
        if not last.startswith("signer ") or not TOKEN.fullmatch(last[len("signer "):]):
            raise Refused("receipt line %r is not 'signer <value>'" % last)
        values["signer"] = last[len("signer "):]
    for name, line in zip(NAMES, lines[1:]):
        prefix = name + " "
        if not line.startswith(prefix) or not TOKEN.fullmatch(line[len(prefix):]):
            raise Refused("receipt line %r is not '%s <value>'" % (line, name))
        values[name] = line[len(prefix):]
    for name in ("version", "policy", "time", "seq", "leaf_index"):
        if not DECIMAL.fullmatch(values[name]):
            raise Refused("receipt %s is not a canonical decimal" % name)
        values[name] = int(values[name])
    if values["seq"] < 1 or values["leaf_index"] != values["seq"] - 1:
        raise Refused("receipt leaf_index is not seq - 1")
    leaf = apv.std_b64(values["leaf"], "receipt leaf")
    if len(leaf) != 32:
        raise Refused("receipt leaf is not 32 bytes")
    values["leaf"] = leaf
    return values


def open_receipt(note_text, public_key):
    if not isinstance(note_text, str) or not note_text.startswith(HEADER + "\ntenant "):
        raise Refused("not a release receipt")
    tenant = note_text[len(HEADER + "\ntenant "):].split("\n", 1)[0]
    name = apv.ORIGIN_PREFIX + tenant
    if not apv.note.valid_name(name):
        raise Refused("receipt tenant gives an invalid key name")
    trusted = (name, apv.note.key_id(name, public_key), Ed25519PublicKey.from_public_bytes(public_key))
    try:
        text = apv.note.open_note(note_text.encode("utf-8", errors="surrogatepass"), trusted)
    except apv.note.Refused as e:
        raise Refused("receipt: %s" % e) from e
    return parse_receipt_text(text)


def check_record(receipt, record_bytes):
    if apv.leaf_hash(record_bytes) != receipt["leaf"]:
        raise Refused("the record's leaf hash is not the receipt's leaf")
    try:
        rec = json.loads(record_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Refused("record is not JSON") from e
    if not isinstance(rec, dict) or rec.get("action") != "release" or rec.get("decision") != "allow":
        raise Refused("record is not an allowed release")
    want = {
        "tenant": rec.get("tenant"), "key": rec.get("key"), "version": rec.get("version"),
        "artifact": rec.get("artifact_id"), "tee": rec.get("tee"),
        "measurement": rec.get("measurement", "-"), "evidence": rec.get("evidence_digest"),
        "policy": rec.get("policy_version"), "request": rec.get("request_id"),
        "time": rec.get("time_ms"), "seq": rec.get("seq"), "signer": rec.get("signer"),
    }
    for name, value in want.items():
        if isinstance(value, bool) or receipt[name] != value:
            raise Refused("receipt %s differs from the record's" % name)


def check_bundle(bundle, public_key):
    if bundle.get("format") != "sigil-release-receipts/v1":
        raise Refused("not a receipt bundle")
    tenant = apv.tenant_of(bundle)
    tree_size = field(bundle, "tree_size", int)
    size, root = apv.open_checkpoint(bundle.get("checkpoint"), tenant, public_key, "checkpoint")
    if size != tree_size:
        raise Refused("checkpoint is for tree size %d, bundle says %d" % (size, tree_size))
    entries = field(bundle, "receipts", list)
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise Refused("receipts[%d] is not an object" % i)
        receipt = open_receipt(entry.get("receipt"), public_key)
        if receipt["tenant"] != tenant:
            raise Refused("receipts[%d] is another tenant's" % i)
        if field(entry, "seq", int, "entry") != receipt["seq"]:
            raise Refused("receipts[%d]: seq differs from the receipt's" % i)
        record = field(entry, "record", dict, "entry")
        if field(record, "seq", int, "record") != receipt["seq"]:
            raise Refused("receipts[%d]: the record is another seq" % i)
        check_record(receipt, apv.record_bytes(record))
        apv.verify_inclusion(receipt["seq"] - 1, size, receipt["leaf"], apv.proof_hashes(entry), root)
    return len(entries)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        bundle = apv.load_json(argv[1], "bundle")
        public_key = apv.load_audit_key(argv[2])
        n = check_bundle(bundle, public_key)
    except (Refused, OSError) as e:
        print("refused: %s" % e)
        return 1
    print("OK %d" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
