// Fuzz target for the NVIDIA RIM reader (attestation/nvidia/rim.h): libxml2 parsing under
// Sigil's limits, the SWID/RIM structure, and, for inputs that parse, the whole verification
// (xmlsec over the input's own signature and certificates, which VerifyRim checks before the
// chain) against a freshly generated root that signed nothing: it must refuse, never crash or
// accept. A parsed RIM always has at least one active measurement, ascending blocks = index + 1,
// and 96-hex-digit alternatives.
// Corpus: tests/fuzz/corpus/nvidia_rim/ (RIMs in NVIDIA's structure signed by xmlsec1 under a
// test chain, unsigned and broken variants).
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "attestation/nvidia/rim.h"
#include "core/ossl.h"
#include "core/result.h"

namespace {
// A self-signed P-384 certificate no corpus input chains to.
std::vector<sigil::X509Ptr> UnrelatedRoot() {
  sigil::EvpPkeyPtr key(EVP_EC_gen("P-384"));
  sigil::X509Ptr cert(X509_new());
  SIGIL_CHECK(key && cert);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("fuzz root"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  SIGIL_CHECK(X509_sign(cert.get(), key.get(), EVP_sha384()) > 0);
  std::vector<sigil::X509Ptr> out;
  out.push_back(std::move(cert));
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  using namespace sigil::attestation::nvidia;
  static const std::vector<X509Ptr> roots = UnrelatedRoot();
  const ByteSpan input(data, size);
  auto rim = ParseRimUnverified(input);
  if (!rim) return 0;
  SIGIL_CHECK(!rim->measurements.empty());
  std::uint32_t last = 0;
  for (const RimMeasurement& m : rim->measurements) {
    SIGIL_CHECK(m.block == m.rim_index + 1 && m.block > last && !m.alternatives.empty());
    for (const std::string& h : m.alternatives) SIGIL_CHECK(h.size() == kRimHashHexSize);
    last = m.block;
  }
  SIGIL_CHECK(!VerifyRim(input, roots, std::chrono::system_clock::now()));
  return 0;
}
