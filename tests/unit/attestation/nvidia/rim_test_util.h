// Test NVIDIA RIMs made with the real tools at test time: a P-384 CA chain (root -> CA -> signer)
// by `openssl` command lines, a SWID tag in the structure of NVIDIA's RIMs (nvtrust
// guest_tools/rims: SoftwareIdentity, Meta with colloquialVersion and TCG RIM attributes, a
// Payload of Resource type="Measurement" with Hash0..N in the xmlenc#sha384 namespace, an
// enveloped C14N 1.1 + ECDSA-SHA384 signature template), signed by `xmlsec1 --sign`, which
// fills X509Data with the signer, CA and root certificates (signer first, as NVIDIA's do).
#pragma once

#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace sigil::testing::nvidia {

struct RimPki {
  std::string root_pem, ca_pem, signer_key, signer_pem;  // file paths
  std::string root_key, ca_key;                            // file paths
};
// Generates the chain in `dir` (files named `prefix`root.pem, ...). Fails the test on error.
RimPki MakeRimPki(const std::string& dir, const std::string& prefix = "");

struct RimResource {
  int index = 0;  // the RIM's 0-based index (report block index - 1)
  bool active = true;
  std::vector<std::string> hashes;  // hex SHA-384 each
};
struct RimSpec {
  std::string tag_id = "NV_GPU_DRIVER_GH100_550.54.15";
  std::string version = "550.54.15";  // Meta colloquialVersion
  std::vector<RimResource> resources;
};
// The deterministic test measurement for (label, index): hex SHA-384 of "label/index".
std::string TestHash(const std::string& label, int index);
// A driver-like spec: indices 0..63, active at `active` (each with the TestHash("driver", i)
// value, and a second alternative at the first active index), inactive elsewhere.
RimSpec DriverSpec(const std::vector<int>& active, const std::string& version = "550.54.15");
// The unsigned SWID tag with the empty signature template.
std::string RimTemplate(const RimSpec& spec);
// Writes the template to `dir`/`name`.xml and signs it with `xmlsec1 --sign` into
// `dir`/`name`.swidtag; returns that path. Fails the test on error.
std::string SignRim(const RimPki& pki, const std::string& dir, const std::string& name,
                    const std::string& template_text);

// Revocation data made by the real tools, for the CRL/OCSP checks of a RIM's signing chain.
// Which CA of `pki` issues it: the root (its CRL covers the CA certificate) or the CA (covers
// the signer).
enum class RimIssuer { kRoot, kCa };
// `openssl ca -revoke` each of `revoked` (certificate PEM paths) in a database of the issuer's
// own, then `openssl ca -gencrl -crldays days`: a PEM CRL `dir`/`name`.crl.pem (and its DER
// form `dir`/`name`.crl.der via `openssl crl -outform DER`); returns the PEM path. Fails the
// test on error.
std::string MakeRimCrl(const RimPki& pki, RimIssuer issuer, const std::string& dir, const std::string& name,
                       const std::vector<std::string>& revoked, int days = 30);
// `openssl ocsp -index DB -rsigner ISSUER -rkey KEY -issuer ISSUER -cert CERT -ndays days
// -respout`: a DER OCSP response `dir`/`name`.ocsp.der signed by the issuer itself, saying
// "good" for `cert`, or "revoked" if `revoked`. Returns its path. Fails the test on error.
std::string MakeRimOcsp(const RimPki& pki, RimIssuer issuer, const std::string& dir, const std::string& name,
                        const std::string& cert, bool revoked, int days = 30);

}  // namespace sigil::testing::nvidia
