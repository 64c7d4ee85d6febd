#!/usr/bin/env python3
"""Writes the seed corpus of the request-path fuzz target (tests/unit/net/http_request_fuzz.cpp)
into tests/fuzz/corpus/http_request/: one real request per endpoint, plus pipelining, chunked
bodies, byte-wise arrival and the framing attacks the server refuses. Byte 0 of every file is the
harness's mode byte (bit 0: operator client certificate; bits 1-3: arrival in pieces)."""
import base64, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "http_request")
ROOT = os.path.dirname(os.path.dirname(HERE))

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def req(method, target, body=None, headers=(), close=False):
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1:8443"]
    lines += list(headers)
    data = b""
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data

AK = open(os.path.join(ROOT, "tests/fuzz/corpus/tpm_ak_public/valid_ak_rsa2048.pub"), "rb").read()
EK_PEM = open(sys.argv[1]).read() if len(sys.argv) > 1 else "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
JWK = {"kty": "OKP", "crv": "X25519", "x": b64u(bytes(range(1, 33)))}
NONCE = b64u(bytes(32))
TOKEN = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhY21lIn0." + b64u(bytes(64))
M = "a" * 96
A = "/v1/admin/tenants"

workload = {
    "healthz": req("GET", "/healthz"),
    "readyz": req("GET", "/readyz"),
    "challenge": req("POST", "/v1/challenge", {"tenant": "acme", "tee": "dev"}),
    "attest": req("POST", "/v1/attest", {"tenant": "acme", "tee": "dev", "nonce": NONCE,
                                         "evidence": b64u(b'{"measurement":"' + M.encode() + b'"}'),
                                         "tee_public_key": JWK}),
    "release": req("POST", "/v1/release", {"tee_public_key": JWK, "artifacts": [
        {"key": "acme/demo-model", "version": 1, "enc": b64u(bytes(32)), "sealed_dek": b64u(bytes(48))}]},
        headers=["Authorization: Bearer " + TOKEN]),
    "tpm_enrol_start": req("POST", "/v1/tpm/enrol/start", {"tenant": "acme", "ek": EK_PEM, "ak_public": b64u(AK)}),
    "tpm_enrol_finish": req("POST", "/v1/tpm/enrol/finish", {"enrolment_id": "0" * 32, "secret": b64u(bytes(32))}),
    "admin_without_cert": req("POST", A, {"name": "evil"}),
    "unknown_route": req("GET", "/v1/nothing?x=1"),
    "invalid_utf8_body": req("POST", "/v1/challenge", b'{"tenant":"\xff\xfe","tee":"dev"}'),
    "high_byte_path": req("GET", "/v1/\x80".encode("latin-1").decode("latin-1")),
    "pipelined": req("POST", "/v1/challenge", {"tenant": "acme", "tee": "dev"}) + req("GET", "/healthz")
                 + req("GET", "/readyz", close=True),
    "chunked": b"POST /v1/challenge HTTP/1.1\r\nHost: b\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"10\r\n{\"tenant\":\"acme\"\r\n0d\r\n,\"tee\":\"dev\"}\r\n0\r\n\r\n",
    "http10": b"GET /healthz HTTP/1.0\r\n\r\n",
    "smuggle_te_chunked_identity": b"POST /v1/challenge HTTP/1.1\r\nHost: b\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
                                   + req("GET", "/healthz"),
    "smuggle_te_cl": b"POST /v1/challenge HTTP/1.1\r\nHost: b\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                     + req("GET", "/healthz"),
    "smuggle_double_cl": b"POST /v1/challenge HTTP/1.1\r\nHost: b\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n"
                         + req("GET", "/healthz"),
    "obs_fold": b"GET /healthz HTTP/1.1\r\nHost: b\r\nX-A: a\r\n b\r\n\r\n",
}
admin = {
    "admin_list_tenants": req("GET", A),
    "admin_create_tenant": req("POST", A, {"name": "beta"}),
    "admin_create_key": req("POST", A + "/acme/keys", {"name": "tmp", "class": "dataset"}),
    "admin_list_keys": req("GET", A + "/acme/keys"),
    "admin_public_key": req("GET", A + "/acme/keys/demo-model/public"),
    "admin_rotate": req("POST", A + "/acme/keys/demo-model/rotate", {}),
    "admin_disable_enable": req("POST", A + "/acme/keys/tmp/disable", {}) + req("POST", A + "/acme/keys/tmp/enable", {}),
    "admin_destroy": req("POST", A + "/acme/keys/tmp/destroy", {"confirm": "tmp", "version": 1}),
    "admin_import": req("POST", A + "/acme/keys/import", {"name": "imported", "private_key": b64u(bytes(range(32))),
                                                          "class": "model-weights"}),
    "admin_set_policy": req("PUT", A + "/acme/policy", {"policy": json.dumps({"version": 1, "rules": [
        {"name": "r", "keys": ["demo-*"], "when": {"allOf": [{"claim": "tee", "equals": "dev"},
                                                             {"claim": "measurement", "in_reference": "demo-engines"}]}}]}),
                                                        "source": "seed.json"}),
    "admin_get_policy": req("GET", A + "/acme/policy"),
    "admin_add_ref": req("POST", A + "/acme/refs", {"set": "demo-engines", "value": "b" * 96}),
    "admin_list_refs": req("GET", A + "/acme/refs"),
    "admin_audit": req("GET", A + "/acme/audit"),
    "admin_audit_query": req("POST", A + "/acme/audit/query", {"decision": "allow", "key": "demo-model", "limit": 5,
                                                               "after_seq": 0}),
    "admin_register_ak": req("POST", A + "/acme/tpm-aks", {"ak_public": b64u(AK), "name": "host1"}),
    "admin_list_aks": req("GET", A + "/acme/tpm-aks"),
    "admin_remove_ak": req("DELETE", A + "/acme/tpm-aks/" + "0" * 64),
    "admin_register_ek": req("POST", A + "/acme/tpm-eks", {"ek": EK_PEM}),
    "admin_list_eks": req("GET", A + "/acme/tpm-eks"),
}

os.makedirs(OUT, exist_ok=True)
for name, data in workload.items():
    open(os.path.join(OUT, name), "wb").write(b"\x00" + data)
for name, data in admin.items():
    open(os.path.join(OUT, name), "wb").write(b"\x01" + data)
# The same requests arriving a byte at a time and in 8-byte pieces (mode bits 1-3).
open(os.path.join(OUT, "bytewise_challenge"), "wb").write(b"\x02" + workload["challenge"])
open(os.path.join(OUT, "pieces8_pipelined"), "wb").write(b"\x08" + workload["pipelined"])
open(os.path.join(OUT, "pieces4_chunked"), "wb").write(b"\x06" + workload["chunked"])
open(os.path.join(OUT, "bytewise_admin_create_key"), "wb").write(b"\x03" + admin["admin_create_key"])
