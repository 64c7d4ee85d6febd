#!/usr/bin/env python3
"""Independent verifier of the broker's audit-log proofs (audit_proof_test runs it).

Usage: audit_proof_verify.py inclusion|consistency RESPONSE.json AUDIT_PUB_JSON
       audit_proof_verify.py export EXPORT.jsonl AUDIT_PUB_JSON

RESPONSE.json is the JSON of POST /v1/admin/tenants/T/audit/proof as `sigil --json audit proof`
prints it (extra members such as "verified" are ignored). AUDIT_PUB_JSON is ADMIN_DIR/audit.pub:
{"public_key": base64url (unpadded) of the 32-byte Ed25519 audit public key}.

EXPORT.jsonl is a `sigil audit export` file (docs/protocol.md "Audit proofs", export format):
its "tlog-checkpoint" note must open with the audit key under "sigil-audit/" + the header's
tenant, and state a tree of exactly the file's "record" lines (size = their number, root = the
RFC 9162 MTH over their bytes in file order). The hash chain and the chain checkpoint are not
checked here (that is `sigil audit verify --file`); this checks the signed tree head alone.

Re-implemented from the specifications, not from Sigil's C++ code:
  - RFC 9162 section 2.1.1 (leaf hash SHA-256(0x00 || data), node hash SHA-256(0x01 || l || r)),
    section 2.1.3.2 (verifying an inclusion proof) and section 2.1.4.2 (verifying a consistency
    proof);
  - c2sp.org/signed-note and c2sp.org/tlog-checkpoint, through the note and checkpoint parser of
    tests/unit/broker/checkpoint_note_verify.py (itself written from those specs). The signer is
    the audit key under key name "sigil-audit/" + tenant; key id = SHA-256(name || "\\n" || 0x01 ||
    public key)[:4].

A leaf is one audit record: its data is the record's exact stored bytes ("record" as UTF-8, or
the standard base64 "record_b64"), its index seq - 1.

Prints "OK" and exits 0 when every check passes; otherwise prints the reason and exits 1
(2 for bad usage).
"""

import base64
import binascii
import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "broker"))
import checkpoint_note_verify as note  # noqa: E402  (C2SP signed-note + tlog-checkpoint)

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey  # noqa: E402

MAX_RESPONSE = 16 << 20
MAX_PROOF = 128  # a 2^64-leaf tree needs at most 64 (inclusion) or about 128 (consistency) hashes
ORIGIN_PREFIX = "sigil-audit/"


class Refused(Exception):
    pass


# --- RFC 9162 section 2.1.1 -------------------------------------------------------------------

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def lsb(x):
    return x & 1


def mth(leaves):
    """MTH(D[n]) of RFC 9162 section 2.1.1 over the leaf data (not hashes)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


# --- RFC 9162 section 2.1.3.2: verifying an inclusion proof ----------------------------------

def verify_inclusion(leaf_index, tree_size, leaf, inclusion_path, root):
    if leaf_index >= tree_size:
        raise Refused("leaf index %d is not below tree size %d" % (leaf_index, tree_size))
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in inclusion_path:
        if sn == 0:
            raise Refused("inclusion proof is longer than the tree is deep")
        if lsb(fn) or fn == sn:
            r = node_hash(p, r)
            if not lsb(fn):
                while not lsb(fn) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Refused("inclusion proof is shorter than the path to the root")
    if r != root:
        raise Refused("inclusion proof does not lead to the checkpoint's root")


# --- RFC 9162 section 2.1.4.2: verifying a consistency proof ---------------------------------

def verify_consistency(first, second, first_hash, second_hash, consistency_path):
    if first < 1:
        raise Refused("first tree size must be at least 1")
    if first > second:
        raise Refused("first tree size %d is larger than second tree size %d" % (first, second))
    if first == second:
        # Outside the RFC's algorithm (it fails an empty path): equal sizes are consistent
        # exactly when the roots are equal, and the proof must then be empty.
        if consistency_path:
            raise Refused("a proof between equal tree sizes must be empty")
        if first_hash != second_hash:
            raise Refused("two different roots for the same tree size")
        return
    if not consistency_path:
        raise Refused("empty consistency proof")
    path = list(consistency_path)
    if first & (first - 1) == 0:  # first is an exact power of 2
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    if lsb(fn):
        while lsb(fn):
            fn >>= 1
            sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Refused("consistency proof is too long")
        if lsb(fn) or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not lsb(fn):
                while not lsb(fn) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Refused("consistency proof is too short")
    if fr != first_hash:
        raise Refused("consistency proof does not reproduce the first checkpoint's root")
    if sr != second_hash:
        raise Refused("consistency proof does not reproduce the second checkpoint's root")


# --- Reading the response --------------------------------------------------------------------

def no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise Refused("duplicate member %r" % k)
        obj[k] = v
    return obj


def load_json(path, what):
    with open(path, "rb") as f:
        raw = f.read(MAX_RESPONSE + 1)
    if len(raw) > MAX_RESPONSE:
        raise Refused("%s is too large" % what)
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        raise Refused("%s is not JSON: %s" % (what, e)) from e
    if not isinstance(value, dict):
        raise Refused("%s is not a JSON object" % what)
    return value


def field(obj, name, kind, what="response"):
    if name not in obj:
        raise Refused("%s has no %r" % (what, name))
    value = obj[name]
    # bool is an int in Python: a JSON true must not pass as a size.
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise Refused("%s %r is not an integer" % (what, name))
    if kind is int and not 0 <= value < 1 << 64:
        raise Refused("%s %r is out of range" % (what, name))
    if kind is not int and not isinstance(value, kind):
        raise Refused("%s %r is not a %s" % (what, name, kind.__name__))
    return value


def std_b64(text, what):
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text):
        raise Refused("%s is not standard base64" % what)
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except binascii.Error as e:
        raise Refused("%s is not standard base64" % what) from e
    if base64.b64encode(raw).decode("ascii") != text:
        raise Refused("%s is not canonical base64" % what)
    return raw


def proof_hashes(response):
    proof = field(response, "proof", list)
    if len(proof) > MAX_PROOF:
        raise Refused("proof has %d hashes" % len(proof))
    out = []
    for i, h in enumerate(proof):
        raw = std_b64(h, "proof[%d]" % i)
        if len(raw) != 32:
            raise Refused("proof[%d] is %d bytes, not 32" % (i, len(raw)))
        out.append(raw)
    return out


def load_audit_key(path):
    key = load_json(path, "audit key file")
    text = field(key, "public_key", str, "audit key file")
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise Refused("audit public key is not unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as e:
        raise Refused("audit public key is not base64url") from e
    if len(raw) != 32 or base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != text:
        raise Refused("audit public key is not 32 bytes of canonical base64url")
    return raw


def open_checkpoint(text, tenant, public_key, what):
    """Verifies the signed note and returns (size, root bytes)."""
    if not isinstance(text, str):
        raise Refused("%s is not a string" % what)
    name = ORIGIN_PREFIX + tenant
    if not note.valid_name(name):
        raise Refused("%r is not a valid key name" % name)
    trusted = (name, note.key_id(name, public_key), Ed25519PublicKey.from_public_bytes(public_key))
    try:
        # surrogatepass: a lone surrogate from a JSON escape reaches open_note, which refuses it.
        body = note.open_note(text.encode("utf-8", errors="surrogatepass"), trusted)
        origin, size, root_hex, _time_ms = note.parse_checkpoint(body)
    except note.Refused as e:
        raise Refused("%s: %s" % (what, e)) from e
    if origin != name:
        raise Refused("%s has origin %r, not %r" % (what, origin, name))
    return size, bytes.fromhex(root_hex)


def tenant_of(response):
    tenant = field(response, "tenant", str)
    if not tenant or "/" in tenant:
        raise Refused("bad tenant %r" % tenant)
    return tenant


def record_bytes(record):
    has_text, has_b64 = "record" in record, "record_b64" in record
    if has_text == has_b64:
        raise Refused("record needs exactly one of \"record\" and \"record_b64\"")
    if has_text:
        try:
            return field(record, "record", str, "record").encode("utf-8")
        except UnicodeEncodeError as e:
            raise Refused("record is not valid Unicode (a lone surrogate?)") from e
    return std_b64(record["record_b64"], "record_b64")


def check_inclusion(response, public_key):
    tenant = tenant_of(response)
    seq = field(response, "seq", int)
    if seq < 1:
        raise Refused("seq %d: records are numbered from 1" % seq)
    leaf_index = field(response, "leaf_index", int)
    if leaf_index != seq - 1:
        raise Refused("leaf_index %d is not seq - 1 = %d" % (leaf_index, seq - 1))
    tree_size = field(response, "tree_size", int)
    record = field(response, "record", dict)
    if field(record, "seq", int, "record") != seq:
        raise Refused("the record is seq %r, not %d" % (record["seq"], seq))
    leaf = leaf_hash(record_bytes(record))
    size, root = open_checkpoint(response.get("checkpoint"), tenant, public_key, "checkpoint")
    if size != tree_size:
        raise Refused("checkpoint is for tree size %d, response says %d" % (size, tree_size))
    verify_inclusion(leaf_index, size, leaf, proof_hashes(response), root)


def check_consistency(response, public_key):
    tenant = tenant_of(response)
    first = field(response, "from", int)
    second = field(response, "to", int)
    first_size, first_root = open_checkpoint(response.get("from_checkpoint"), tenant, public_key,
                                             "from_checkpoint")
    second_size, second_root = open_checkpoint(response.get("checkpoint"), tenant, public_key,
                                               "checkpoint")
    if first_size != first:
        raise Refused("from_checkpoint is for tree size %d, response says from %d" % (first_size, first))
    if second_size != second:
        raise Refused("checkpoint is for tree size %d, response says to %d" % (second_size, second))
    verify_consistency(first, second, first_root, second_root, proof_hashes(response))


def check_export(path, public_key):
    with open(path, "rb") as f:
        raw = f.read(MAX_RESPONSE + 1)
    if len(raw) > MAX_RESPONSE:
        raise Refused("export is too large")
    try:
        lines = [json.loads(line, object_pairs_hook=no_duplicates)
                 for line in raw.decode("utf-8").split("\n") if line]
    except (UnicodeDecodeError, ValueError) as e:
        raise Refused("export line is not JSON: %s" % e) from e
    if not lines or not all(isinstance(x, dict) for x in lines):
        raise Refused("export lines must be JSON objects")
    header = lines[0]
    if header.get("type") != "sigil-audit-export" or header.get("format") != 1:
        raise Refused("not a sigil audit export (format 1)")
    tenant = tenant_of(header)
    records = [x for x in lines[1:] if x.get("type") == "record"]
    notes = [x for x in lines[1:] if x.get("type") == "tlog-checkpoint"]
    if len(notes) != 1:
        raise Refused("export has %d tlog-checkpoint lines, not 1" % len(notes))
    size, root = open_checkpoint(field(notes[0], "note", str, "tlog-checkpoint"), tenant, public_key,
                                 "tlog-checkpoint")
    if size != len(records):
        raise Refused("tlog-checkpoint is for tree size %d, the export has %d records" % (size, len(records)))
    for i, record in enumerate(records):
        if field(record, "seq", int, "record") != i + 1:
            raise Refused("record line %d is seq %r, not %d" % (i + 1, record["seq"], i + 1))
    if mth([record_bytes(r) for r in records]) != root:
        raise Refused("tlog-checkpoint root is not the Merkle root of the exported records")


def main(argv):
    if len(argv) == 4 and argv[1] == "export":
        try:
            check_export(argv[2], load_audit_key(argv[3]))
        except (Refused, OSError) as e:
            print("refused: %s" % e)
            return 1
        print("OK")
        return 0
    if len(argv) != 4 or argv[1] not in ("inclusion", "consistency"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        response = load_json(argv[2], "response")
        public_key = load_audit_key(argv[3])
        if argv[1] == "inclusion":
            check_inclusion(response, public_key)
        else:
            check_consistency(response, public_key)
    except (Refused, OSError) as e:
        print("refused: %s" % e)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
