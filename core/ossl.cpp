#include "core/ossl.h"

#include <openssl/err.h>

#include <string>

namespace sigil {

Error OpenSslError(Code code, std::string_view what) {
  std::string msg(what);
  unsigned long e = 0;
  bool first = true;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    msg += first ? " (" : "; ";
    msg += buf;
    first = false;
  }
  if (!first) msg += ")";
  return Error(code, msg);
}

std::string CertSerialHex(const X509* cert) {
  std::string out;
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) return out;
  char* hex = BN_bn2hex(bn.get());
  if (hex == nullptr) return out;
  for (const char* c = hex; *c != 0; ++c) out += static_cast<char>(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
  OPENSSL_free(hex);
  // BN_bn2hex writes whole bytes ("0a1b..."); the spelling here has no leading zeros, as
  // `sigil admin revoke-cert` normalises what a user types.
  const std::size_t first = out.find_first_not_of('0');
  out.erase(0, first == std::string::npos ? out.size() - 1 : first);
  return out;
}

}  // namespace sigil
