// Generates the broker's TLS material at `sigild init`: a private CA (ECDSA P-256), the server
// certificate (SANs: localhost, 127.0.0.1, ::1 and any extra names), and the first admin client
// certificate (CN "operator:admin") for mTLS on the admin API.
#pragma once

#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

struct TlsFiles {
  std::string ca_cert, ca_key, server_cert, server_key, admin_cert, admin_key;
};

Result<void> GenerateTlsMaterial(const TlsFiles& out, const std::vector<std::string>& extra_names);

// A new server key and certificate issued by the broker CA (PEM certificate and key): what a
// broker joining a fleet (sigild join) serves with, so clients that trust the CA trust it too.
Result<void> IssueServerCertificate(ByteSpan ca_cert_pem, const SecretBytes& ca_key_pem, const std::string& server_cert,
                                    const std::string& server_key, const std::vector<std::string>& extra_names);

}  // namespace sigil::broker
