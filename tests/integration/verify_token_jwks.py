#!/usr/bin/python3
"""Independent check of a sigild attestation token against its published key set.

Usage: verify_token_jwks.py JWKS_FILE TOKEN_FILE TENANT
Uses only Debian's python3-jwcrypto (not Sigil's code): picks the key by the token's kid from
the JWK Set, verifies the EdDSA signature and prints the verified claims' subject. Exits 1 on
any failure.
"""
import json
import sys

from jwcrypto import jwk, jws


def main():
    keyset = jwk.JWKSet.from_json(open(sys.argv[1]).read())
    token = open(sys.argv[2]).read().strip()
    tenant = sys.argv[3]
    parsed = jws.JWS()
    parsed.deserialize(token)
    header = parsed.jose_header
    key = keyset.get_key(header["kid"])
    if key is None:
        print("no key with kid %s in the key set" % header["kid"], file=sys.stderr)
        return 1
    # RFC 7638 thumbprint recomputed here: the kid names exactly this key.
    if key.thumbprint() != header["kid"]:
        print("kid is not the key's RFC 7638 thumbprint", file=sys.stderr)
        return 1
    parsed.verify(key, alg="EdDSA")
    claims = json.loads(parsed.payload)
    if claims.get("sub") != tenant or claims.get("iss") != "sigild":
        print("unexpected claims: %r" % claims, file=sys.stderr)
        return 1
    print("verified sub=%s tee=%s" % (claims["sub"], claims["tee"]))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # any parse or signature failure is a refusal
        print("refused: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
