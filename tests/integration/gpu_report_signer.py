#!/usr/bin/env python3
"""Test stand-in for an operator's GPU report command (sigil-load --gpu-report-cmd, docs/cli.md).

A real host asks the NVIDIA driver (nvtrust) for a fresh SPDM report over the GPU nonce. This
machine has no GPU, so this script takes the REAL captured H100 report (nvtrust's
hopperAttestationReport.txt, ASCII hex), puts the given nonce into its GET_MEASUREMENTS request
and re-signs request || response with a generated test device key whose certificate the test's
broker trusts (the measurements, opaque data and FWID stay the real ones). It prints what a
wrapper around nvtrust prints: one JSON line per GPU, {"report": HEX, "cert_chain": PEM}.

Usage: gpu_report_signer.py NONCE_HEX REPORT_HEX_FILE KEY_PEM CHAIN_PEM [KEY_PEM CHAIN_PEM ...]
(one key/chain pair per GPU).
"""
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

# DSP0274 GET_MEASUREMENTS request: version, code, param1, param2, then the 32-byte nonce.
NONCE_OFFSET = 4
SIGNATURE_SIZE = 96  # ECDSA P-384 r || s, big-endian


def main(argv):
    nonce = bytes.fromhex(argv[1])
    assert len(nonce) == 32, "nonce must be 32 bytes"
    with open(argv[2]) as f:
        report = bytearray(bytes.fromhex(f.read().strip()))
    report[NONCE_OFFSET:NONCE_OFFSET + 32] = nonce
    signed = bytes(report[:-SIGNATURE_SIZE])
    for key_file, chain_file in zip(argv[3::2], argv[4::2]):
        with open(key_file, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
        r, s = utils.decode_dss_signature(key.sign(signed, ec.ECDSA(hashes.SHA384())))
        out = signed + r.to_bytes(48, "big") + s.to_bytes(48, "big")
        with open(chain_file) as f:
            chain = f.read()
        print(json.dumps({"report": out.hex(), "cert_chain": chain}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
