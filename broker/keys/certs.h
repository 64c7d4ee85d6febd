// The broker's TLS material: at `sigild init` a private CA (ECDSA P-256), the server certificate
// (SANs: localhost, 127.0.0.1, ::1 and any extra names) and the first operator certificate; later
// the admin client certificates the admin API issues (broker/api/admin_certs_api.h), each naming
// its principal in a URI subjectAltName (broker/http/principal.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

struct TlsFiles {
  std::string ca_cert, server_cert, server_key, admin_cert, admin_key;
};

// An issued admin certificate.
struct IssuedAdminCert {
  std::string pem;
  std::string serial;          // CertSerialHex
  std::int64_t not_after = 0;  // unix seconds
  std::string key_sha256;      // hex SHA-256 of its SubjectPublicKeyInfo: which key it certifies
};

struct GeneratedTls {
  SecretBytes ca_key_pem;        // never written in clear: the caller wraps it with the root key
  IssuedAdminCert operator_cert;  // out.admin_cert, to register (Store::PutAdminCert)
};

// Writes every file of `out` (private keys 0600) and returns the CA key in memory.
Result<GeneratedTls> GenerateTlsMaterial(const TlsFiles& out, const std::vector<std::string>& extra_names,
                                         const std::string& operator_uri, long operator_validity_seconds);

// Signs the PKCS #10 request `csr_pem` (ECDSA P-256/P-384, self-signature checked; its subject and
// extensions ignored) as an admin client certificate naming `principal_uri`, valid for
// `validity_seconds` from now. kInvalidArgument for a bad request.
Result<IssuedAdminCert> IssueAdminCertificate(ByteSpan ca_cert_pem, const SecretBytes& ca_key_pem, std::string_view csr_pem,
                                              const std::string& principal_uri, const std::string& common_name,
                                              long validity_seconds);

// A new server key and certificate issued by the broker CA (PEM certificate and key): what a
// broker joining a fleet (sigild join) serves with, so clients that trust the CA trust it too.
Result<void> IssueServerCertificate(ByteSpan ca_cert_pem, const SecretBytes& ca_key_pem, const std::string& server_cert,
                                    const std::string& server_key, const std::vector<std::string>& extra_names);

}  // namespace sigil::broker
