// TLS 1.3-only contexts for the broker (server) and its clients (CLI, sigil-load).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>
#include <string>

#include "core/result.h"

namespace sigil::net {

struct ServerTlsConfig {
  std::string cert_chain_file;  // PEM
  std::string private_key_file;  // PEM
  std::string client_ca_file;    // PEM; client certificates are requested and, if sent, must chain here
};

// TLS 1.3 only; client certificates optional at the TLS layer (the admin API requires them).
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const ServerTlsConfig& config);

struct ClientTlsConfig {
  std::string ca_file;                    // PEM trust anchor for the broker's certificate
  std::optional<std::string> cert_file;   // client certificate (admin mTLS)
  std::optional<std::string> key_file;
  // Source address to connect from (empty: the system's choice), for multi-homed hosts.
  std::string local_address;
};

Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientTlsContext(const ClientTlsConfig& config);

}  // namespace sigil::net
