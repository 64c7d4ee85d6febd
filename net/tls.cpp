#include "net/tls.h"

#include <openssl/ssl.h>

#include "core/ossl.h"

namespace sigil::net {
namespace ssl = boost::asio::ssl;

namespace {
Result<void> TlsThirteenOnly(ssl::context& ctx) {
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_3_VERSION) != 1) {
    return OpenSslError(Code::kInternal, "cannot restrict TLS to version 1.3");
  }
  return Ok();
}
}  // namespace

Result<std::shared_ptr<ssl::context>> MakeServerTlsContext(const ServerTlsConfig& config) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SIGIL_RETURN_IF_ERROR(TlsThirteenOnly(*ctx));
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(config.cert_chain_file, ec);
  if (ec) return Fail(Code::kUnavailable, "TLS certificate " + config.cert_chain_file + ": " + ec.message());
  ctx->use_private_key_file(config.private_key_file, ssl::context::pem, ec);
  if (ec) return Fail(Code::kUnavailable, "TLS private key " + config.private_key_file + ": " + ec.message());
  if (!config.client_ca_file.empty()) {
    ctx->load_verify_file(config.client_ca_file, ec);
    if (ec) return Fail(Code::kUnavailable, "client CA " + config.client_ca_file + ": " + ec.message());
    // Request a certificate but do not fail the handshake without one: workloads connect
    // without client certificates; the admin API checks for one per request.
    ctx->set_verify_mode(ssl::verify_peer, ec);
    if (ec) return Fail(Code::kInternal, "set_verify_mode: " + ec.message());
  }
  SSL_CTX_set_session_cache_mode(ctx->native_handle(), SSL_SESS_CACHE_OFF);
  return ctx;
}

Result<std::shared_ptr<ssl::context>> MakeClientTlsContext(const ClientTlsConfig& config) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SIGIL_RETURN_IF_ERROR(TlsThirteenOnly(*ctx));
  boost::system::error_code ec;
  ctx->load_verify_file(config.ca_file, ec);
  if (ec) return Fail(Code::kInvalidArgument, "CA file " + config.ca_file + ": " + ec.message());
  ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
  if (config.cert_file && config.key_file) {
    ctx->use_certificate_chain_file(*config.cert_file, ec);
    if (ec) return Fail(Code::kInvalidArgument, "client certificate " + *config.cert_file + ": " + ec.message());
    ctx->use_private_key_file(*config.key_file, ssl::context::pem, ec);
    if (ec) return Fail(Code::kInvalidArgument, "client key " + *config.key_file + ": " + ec.message());
  }
  return ctx;
}

}  // namespace sigil::net
