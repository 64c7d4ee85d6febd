// Generates the broker's TLS material at `sigild init`: a private CA (ECDSA P-256), the server
// certificate (SANs: localhost, 127.0.0.1, ::1 and any extra names), and the first admin client
// certificate (CN "operator:admin") for mTLS on the admin API.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace sigil::broker {

struct TlsFiles {
  std::string ca_cert, ca_key, server_cert, server_key, admin_cert, admin_key;
};

Result<void> GenerateTlsMaterial(const TlsFiles& out, const std::vector<std::string>& extra_names);

}  // namespace sigil::broker
