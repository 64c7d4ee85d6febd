#!/usr/bin/python3
"""A Confidential Containers guest's side of the KBS attestation protocol (RCAR 0.4.0), written
from the protocol text (Trustee's kbs_attestation_protocol.md, RFC 7516/7518/8785, the EAR draft)
and Sigil's documented dev-TEE evidence format (attestation/dev/README.md) alone: no Sigil code.

Usage: kbs_guest.py BROKER_URL CA_FILE DEV_PLATFORM_KEY MEASUREMENT_HEX SECRET_HEX REPO
  REPO/secret/latest must release SECRET_HEX; REPO/denied/latest is outside the policy;
  REPO/off/latest is disabled. Prints "kbs guest: N checks passed" and exits 0, or names the
  first failed check and exits 1.
Uses Debian's python3-jwcrypto (JWE decryption, JWS verification) and python3-cryptography
(Ed25519 for the dev evidence).
"""
import base64
import hashlib
import http.client
import json
import ssl
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwcrypto import jwe, jwk, jws

ERROR_PREFIX = "https://github.com/confidential-containers/kbs/errors/"
checks = 0


class Failed(Exception):
    pass


def check(cond, what):
    global checks
    if not cond:
        raise Failed(what)
    checks += 1


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64url_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jcs(value):
    # RFC 8785 for what is hashed here: objects of ASCII strings only, for which JCS is exactly
    # sorted keys, no whitespace and JSON's minimal escapes.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Broker:
    def __init__(self, url, ca):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.ctx = ssl.create_default_context(cafile=ca)

    def call(self, method, path, body=None, cookie=None, bearer=None):
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=30)
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if cookie:
            headers["Cookie"] = "kbs-session-id=" + cookie
        if bearer:
            headers["Authorization"] = "Bearer " + bearer
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        raw = r.read()
        set_cookie = r.getheader("Set-Cookie")
        ctype = r.getheader("Content-Type")
        conn.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return r.status, parsed, set_cookie, ctype


def session_of(set_cookie):
    check(set_cookie is not None, "Set-Cookie is sent")
    parts = [p.strip() for p in set_cookie.split(";")]
    name, _, value = parts[0].partition("=")
    check(name == "kbs-session-id" and value, "cookie is kbs-session-id")
    attrs = {p.split("=")[0].lower() for p in parts[1:]}
    check({"httponly", "secure", "path", "max-age"} <= attrs, "cookie is HttpOnly; Secure; Path; Max-Age: " + set_cookie)
    check("Path=/kbs" in parts, "cookie path is /kbs")
    return value


def expect_problem(resp, status, kind, what):
    got_status, body, _, ctype = resp
    check(got_status == status, "%s: status %d (got %d: %s)" % (what, status, got_status, body))
    check(isinstance(body, dict) and body.get("type") == ERROR_PREFIX + kind,
          "%s: problem type %s (got %s)" % (what, kind, body))
    check(isinstance(body.get("detail"), str) and body["detail"], what + ": detail present")
    check(ctype == "application/problem+json", what + ": content type application/problem+json")


class Guest:
    def __init__(self, broker, seed, measurement):
        self.broker = broker
        self.signer = Ed25519PrivateKey.from_private_bytes(seed)
        self.measurement = measurement

    def auth(self, version="0.4.0", tee="dev"):
        return self.broker.call("POST", "/kbs/v0/auth", {"version": version, "tee": tee, "extra-params": {}})

    def evidence(self, report_data):
        payload = jcs({"binding": report_data.hex(), "debug": False, "insecure": True,
                       "issued_at": int(time.time()), "measurement": self.measurement, "platform": "sigil-dev"})
        sig = self.signer.sign(b"sigil/v1/dev-evidence" + payload)
        return {"format": "sigil-dev-evidence/v1", "payload": b64url(payload), "signature": b64url(sig)}

    def attest_body(self, nonce, pub, bound_pub=None, bound_nonce=None):
        # Report data: SHA-384 of the JCS runtime data as the attestation service hashes it for
        # the primary evidence, zero-padded to 64 bytes.
        runtime = {"tee-pubkey": bound_pub or pub, "nonce": bound_nonce or nonce, "additional-evidence": ""}
        report_data = hashlib.sha384(jcs(runtime)).digest() + bytes(16)
        return {"runtime-data": {"nonce": nonce, "tee-pubkey": pub},
                "tee-evidence": {"primary_evidence": self.evidence(report_data), "additional_evidence": ""}}

    def attest(self, key):
        status, challenge, set_cookie, _ = self.auth()
        check(status == 200, "auth answers 200 (%s)" % challenge)
        check(challenge.get("extra-params") == {}, "challenge has extra-params {}")
        check(len(base64.b64decode(challenge["nonce"], validate=True)) == 32, "nonce is base64 of 32 bytes")
        cookie = session_of(set_cookie)
        pub = json.loads(key.export_public())
        body = self.attest_body(challenge["nonce"], pub)
        status, resp, set_cookie2, _ = self.broker.call("POST", "/kbs/v0/attest", body, cookie=cookie)
        check(status == 200 and isinstance(resp.get("token"), str), "attest answers a token (%s %s)" % (status, resp))
        check(session_of(set_cookie2) == cookie, "attest refreshes the same session cookie")
        return cookie, resp["token"], body


def check_ear(token, keyset, pub, measurement):
    parsed = jws.JWS()
    parsed.deserialize(token)
    kid = parsed.jose_header["kid"]
    key = keyset.get_key(kid)
    check(key is not None and key.thumbprint() == kid, "EAR kid names a key of the published JWKS")
    parsed.verify(key, alg="EdDSA")
    claims = json.loads(parsed.payload)
    check(claims["eat_profile"] == "tag:github.com,2023:veraison/ear", "EAR profile")
    check(claims["iat"] <= time.time() + 5 < claims["exp"], "EAR iat/exp bracket now")
    check(isinstance(claims.get("ear.verifier-id"), dict), "EAR verifier-id")
    cpu0 = claims["submods"]["cpu0"]
    vector = cpu0["ear.trustworthiness-vector"]
    check(set(vector) == {"instance-identity", "configuration", "executables", "file-system", "hardware",
                          "runtime-opaque", "storage-opaque", "sourced-data"}, "AR4SI vector has the 8 claims")
    check(vector["hardware"] == 96 and cpu0["ear.status"] == "contraindicated",
          "the dev TEE is contraindicated hardware, never affirming")
    ev = cpu0["ear.veraison.annotated-evidence"]
    check(ev["tee"] == "dev" and ev["measurement"] == measurement and ev["debug"] is False, "verified claims in EAR")
    check(claims["cnf"]["jwk"] == pub, "EAR carries the tee-pubkey")
    # One altered payload byte: the published key must refuse it.
    head, payload, sig = token.split(".")
    altered = head + "." + payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:] + "." + sig
    bad = jws.JWS()
    bad.deserialize(altered)
    try:
        bad.verify(key, alg="EdDSA")
        check(False, "altered EAR must not verify")
    except jws.InvalidJWSSignature:
        check(True, "altered EAR refused")


def get_resource(broker, path, key, secret, cookie=None, bearer=None, what=""):
    status, body, _, _ = broker.call("GET", "/kbs/v0/resource/" + path, cookie=cookie, bearer=bearer)
    check(status == 200, "%s: resource answers 200 (got %d: %s)" % (what, status, body))
    check(set(body) >= {"protected", "encrypted_key", "iv", "ciphertext", "tag"}, what + ": flattened JWE members")
    header = json.loads(b64url_dec(body["protected"]))
    want_alg = "RSA-OAEP-256" if key["kty"] == "RSA" else "ECDH-ES+A256KW"
    check(header["alg"] == want_alg and header["enc"] == "A256GCM", what + ": alg " + want_alg + " and A256GCM")
    token = jwe.JWE()
    token.deserialize(json.dumps(body), key=key)
    check(token.payload == secret, what + ": decrypted bytes are the key material")


def memory(broker, guest, repo, secret):
    """Policies with memory through KBS: key "once" is under a single-use rule, key "capped" under
    a limit of one release per hour per measurement. The token is the session's EAR, whether
    sent as the cookie's session or as the bearer."""
    key = jwk.JWK.generate(kty="EC", crv="P-256")
    cookie, token, _ = guest.attest(key)
    get_resource(broker, repo + "/once/latest", key, secret, cookie=cookie, what="single-use release")
    for how, args in (("cookie", {"cookie": cookie}), ("bearer", {"bearer": token})):
        resp = broker.call("GET", "/kbs/v0/resource/%s/once/latest" % repo, **args)
        expect_problem(resp, 403, "PolicyDeny", "spent token by " + how)
        check("token_spent" in resp[1].get("detail", ""), "spent token by %s says token_spent (%s)" % (how, resp[1]))
    cookie, _, _ = guest.attest(key)
    get_resource(broker, repo + "/capped/latest", key, secret, cookie=cookie, what="first capped release")
    cookie, _, _ = guest.attest(key)
    resp = broker.call("GET", "/kbs/v0/resource/%s/capped/latest" % repo, cookie=cookie)
    expect_problem(resp, 403, "PolicyDeny", "second capped release within the hour")
    check("release_limit" in resp[1].get("detail", ""), "capped refusal says release_limit (%s)" % resp[1])
    print("kbs guest: %d checks passed" % checks)
    return 0


def main():
    url, ca, key_file, measurement, secret_hex, repo = sys.argv[1:7]
    secret = bytes.fromhex(secret_hex)
    seed = b64url_dec(json.load(open(key_file))["seed"])
    broker = Broker(url, ca)
    guest = Guest(broker, seed, measurement)
    if sys.argv[7:] == ["memory"]:
        return memory(broker, guest, repo, secret)
    status, keyset_json, _, _ = broker.call("GET", "/.well-known/jwks.json")
    check(status == 200, "JWKS published")
    keyset = jwk.JWKSet.from_json(json.dumps(keyset_json))

    # Version negotiation: exactly 0.4.0.
    expect_problem(guest.auth(version="0.3.0"), 400, "AttestationError", "version 0.3.0")
    check("Version Mismatch" in guest.auth(version="0.3.0")[1]["detail"], "version error says what it is")
    expect_problem(guest.auth(version="0.4.1"), 400, "AttestationError", "version 0.4.1")
    expect_problem(guest.auth(tee="sample"), 400, "AttestationError", "tee sample")
    expect_problem(guest.auth(tee="az-snp-vtpm"), 400, "AttestationError", "tee not verified here")

    for kty, params in (("RSA", {"size": 2048}), ("EC", {"crv": "P-256"}), ("EC", {"crv": "P-384"})):
        key = jwk.JWK.generate(kty=kty, **params)
        pub = json.loads(key.export_public())
        cookie, token, body = guest.attest(key)
        check_ear(token, keyset, pub, measurement)
        get_resource(broker, repo + "/secret/latest", key, secret, cookie=cookie, what=kty + " cookie")
        get_resource(broker, repo + "/secret/1", key, secret, bearer=token, what=kty + " bearer")
        # The session's nonce is single-use: a second attest on it is refused.
        expect_problem(broker.call("POST", "/kbs/v0/attest", body, cookie=cookie), 401, "AttestationError",
                       kty + " second attest on one session")

    key = jwk.JWK.generate(kty="EC", crv="P-256")
    pub = json.loads(key.export_public())
    other = json.loads(jwk.JWK.generate(kty="EC", crv="P-256").export_public())
    # A nonce from another session.
    _, ch_a, _, _ = guest.auth()
    _, ch_b, sc_b, _ = guest.auth()
    expect_problem(broker.call("POST", "/kbs/v0/attest", guest.attest_body(ch_a["nonce"], pub), cookie=session_of(sc_b)),
                   401, "AttestationError", "nonce of another session")
    # Tampered runtime data: evidence bound to one key, runtime data naming another.
    _, ch, sc, _ = guest.auth()
    expect_problem(broker.call("POST", "/kbs/v0/attest", guest.attest_body(ch["nonce"], other, bound_pub=pub),
                               cookie=session_of(sc)), 401, "AttestationError", "tampered runtime-data")
    # The refused session is used up too.
    expect_problem(broker.call("POST", "/kbs/v0/attest", guest.attest_body(ch["nonce"], pub), cookie=session_of(sc)),
                   401, "AttestationError", "retry on a session whose attest failed")
    # init-data (RCAR 0.4.0): the development TEE has no launch field (MRCONFIGID, HOST_DATA) that
    # could bind it, so a correctly bound attestation that sends init-data is refused, not let
    # through with the init-data silently unchecked; malformed init-data is refused as such.
    init_data = {"format": "toml", "body": 'algorithm = "sha384"\nversion = "0.1.0"\n\n[data]\n"policy.rego" = "x"\n'}
    for value, detail in ((init_data, "no field that binds init-data"),
                          ({"format": "json", "body": "{}"}, "only \"toml\""),
                          ({"format": "toml", "body": "algorithm = [\n"}, "not TOML")):
        _, ch, sc, _ = guest.auth()
        body = guest.attest_body(ch["nonce"], pub)
        body["init-data"] = value
        resp = broker.call("POST", "/kbs/v0/attest", body, cookie=session_of(sc))
        expect_problem(resp, 400, "AttestationError", "init-data " + detail)
        check(detail in resp[1].get("detail", ""), "init-data refusal says: " + detail + " (" + str(resp[1]) + ")")
    # No cookie at all.
    _, ch, _, _ = guest.auth()
    expect_problem(broker.call("POST", "/kbs/v0/attest", guest.attest_body(ch["nonce"], pub)), 401,
                   "AttestationError", "attest without cookie")
    expect_problem(broker.call("GET", "/kbs/v0/resource/%s/secret/latest" % repo), 401, "TokenNotFound",
                   "resource without cookie or token")
    # A session that only authenticated is not attested.
    _, ch, sc, _ = guest.auth()
    expect_problem(broker.call("GET", "/kbs/v0/resource/%s/secret/latest" % repo, cookie=session_of(sc)), 401,
                   "TokenNotFound", "resource with an unattested session")

    cookie, token, _ = guest.attest(key)
    # Forged bearer tokens: an altered payload, and one signed by a key of our own under the
    # broker's kid.
    head, payload, sig = token.split(".")
    claims = json.loads(b64url_dec(payload))
    claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["measurement"] = "b" * 96
    forged = head + "." + b64url(json.dumps(claims).encode()) + "." + sig
    expect_problem(broker.call("GET", "/kbs/v0/resource/%s/secret/latest" % repo, bearer=forged), 401,
                   "TokenVerifierError", "altered bearer token")
    mine = Ed25519PrivateKey.generate()
    signing_input = head + "." + b64url(json.dumps(claims).encode())
    self_signed = signing_input + "." + b64url(mine.sign(signing_input.encode()))
    expect_problem(broker.call("GET", "/kbs/v0/resource/%s/secret/latest" % repo, bearer=self_signed), 401,
                   "TokenVerifierError", "self-signed bearer token")
    # Expired: the token's own exp moved into the past is an altered token as well.
    claims = json.loads(b64url_dec(payload))
    claims["exp"] = claims["iat"] - 1
    expect_problem(broker.call("GET", "/kbs/v0/resource/%s/secret/latest" % repo,
                               bearer=head + "." + b64url(json.dumps(claims).encode()) + "." + sig), 401,
                   "TokenVerifierError", "bearer token with exp in the past")
    # Policy, key state and paths.
    expect_problem(broker.call("GET", "/kbs/v0/resource/%s/denied/latest" % repo, cookie=cookie), 403, "PolicyDeny",
                   "key outside the policy")
    expect_problem(broker.call("GET", "/kbs/v0/resource/%s/off/latest" % repo, cookie=cookie), 403, "PolicyDeny",
                   "disabled key")
    expect_problem(broker.call("GET", "/kbs/v0/resource/%s/nosuch/latest" % repo, cookie=cookie), 404,
                   "InvalidRequestPath", "unknown key")
    expect_problem(broker.call("GET", "/kbs/v0/resource/%s/secret/7" % repo, cookie=cookie), 404,
                   "InvalidRequestPath", "unknown version")
    expect_problem(broker.call("GET", "/kbs/v0/resource/nosuchrepo/secret/latest", cookie=cookie), 404,
                   "InvalidRequestPath", "unknown repository")
    expect_problem(broker.call("GET", "/kbs/v0/resource/%s/secret/..latest" % repo, cookie=cookie), 404,
                   "InvalidRequestPath", "tag that is not a name")
    print("kbs guest: %d checks passed" % checks)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as e:
        print("kbs guest: FAILED: %s (after %d checks)" % (e, checks), file=sys.stderr)
        sys.exit(1)
