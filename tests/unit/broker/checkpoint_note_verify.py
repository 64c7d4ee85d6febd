#!/usr/bin/env python3
"""Independent verifier of Sigil's signed checkpoints (checkpoint_note_test runs it).

Usage: checkpoint_note_verify.py NOTE_FILE KEY_FILE

Re-implements, from the specs and not from Sigil's C++ code, c2sp.org/signed-note v1.0.0
(Ed25519 key id, verifier key text, note splitting, signature lines) and c2sp.org/tlog-checkpoint
(origin, tree size, root hash, extension lines) plus Sigil's "time <unix ms>" extension line.
Ed25519 comes from python3-cryptography (Debian package python3-cryptography).

On success prints, one per line: origin=, size=, root= (lower-case hex), time_ms=, and exits 0.
On any refusal prints the reason to stderr and exits 1.
"""

import base64
import binascii
import hashlib
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

MAX_NOTE = 1 << 20
MAX_SIGNATURES = 100
EM_DASH_SPACE = "\u2014 "
DECIMAL = re.compile(r"(0|[1-9][0-9]*)\Z")


class Refused(Exception):
    pass


def valid_name(name):
    # Non-empty, no '+', no Unicode white space (str.isspace covers White_Space), no controls.
    return bool(name) and "+" not in name and not any(
        c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in name)


def strict_b64(text):
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as e:
        raise Refused("bad base64") from e
    if base64.b64encode(raw).decode("ascii") != text:
        raise Refused("non-canonical base64")
    return raw


def key_id(name, public_key):
    return hashlib.sha256(name.encode("utf-8") + b"\n\x01" + public_key).digest()[:4]


def parse_key(text):
    name, sep1, rest = text.partition("+")
    hex_id, sep2, material = rest.partition("+")
    if not sep1 or not sep2 or not valid_name(name):
        raise Refused("malformed verifier key")
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise Refused("malformed key id")
    raw = strict_b64(material)
    if len(raw) != 33 or raw[0] != 1:
        raise Refused("not an Ed25519 verifier key")
    if key_id(name, raw[1:]) != bytes.fromhex(hex_id):
        raise Refused("key id does not match")
    return name, bytes.fromhex(hex_id), Ed25519PublicKey.from_public_bytes(raw[1:])


def open_note(data, key):
    name, kid, public_key = key
    if len(data) > MAX_NOTE:
        raise Refused("note too large")
    try:
        note = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise Refused("not UTF-8") from e
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise Refused("control character")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in note):
        raise Refused("surrogate")
    split = note.rfind("\n\n")
    if split < 0:
        raise Refused("no blank line")
    text, sigs = note[:split + 1], note[split + 2:]
    if not sigs.endswith("\n"):
        raise Refused("no signature lines")
    lines = sigs[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise Refused("too many signatures")
    verified = False
    for line in lines:
        if not line.startswith(EM_DASH_SPACE):
            raise Refused("signature line without em dash")
        signer, sep, b64 = line[len(EM_DASH_SPACE):].partition(" ")
        if not sep or not valid_name(signer):
            raise Refused("malformed signature line")
        blob = strict_b64(b64)
        if len(blob) < 5:
            raise Refused("short signature")
        if signer != name or blob[:4] != kid:
            continue
        try:
            public_key.verify(blob[4:], text.encode("utf-8"))
        except InvalidSignature as e:
            raise Refused("signature by the trusted key does not verify") from e
        verified = True
    if not verified:
        raise Refused("no signature by the trusted key")
    return text


def parse_checkpoint(text):
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise Refused("checkpoint needs three or more non-empty lines")
    origin, size, root = lines[0], lines[1], lines[2]
    if not DECIMAL.match(size) or int(size) >= 1 << 64:
        raise Refused("bad tree size")
    root_raw = strict_b64(root)
    if len(root_raw) != 32:
        raise Refused("root is not 32 bytes")
    times = [line for line in lines[3:] if line.split(" ", 1)[0] == "time"]
    if len(times) != 1:
        raise Refused("need exactly one time line")
    value = times[0][len("time "):]
    if not times[0].startswith("time ") or not DECIMAL.match(value) or int(value) >= 1 << 63:
        raise Refused("bad time line")
    return origin, int(size), root_raw.hex(), int(value)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        note = f.read(MAX_NOTE + 1)
    with open(argv[2], "r", encoding="utf-8") as f:
        key_text = f.read().rstrip("\n")
    try:
        origin, size, root, time_ms = parse_checkpoint(open_note(note, parse_key(key_text)))
    except Refused as e:
        print("refused: %s" % e, file=sys.stderr)
        return 1
    print("origin=%s\nsize=%d\nroot=%s\ntime_ms=%d" % (origin, size, root, time_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
