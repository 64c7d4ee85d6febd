// The CLI's connection to the broker's admin API: mTLS with the credentials `sigild init` wrote
// to DATA/admin/ (ca.pem, admin.pem, admin.key, broker.json).
#pragma once

#include <memory>
#include <string>

#include "core/json.h"
#include "core/result.h"
#include "net/https_client.h"

namespace sigil::cli {

struct AdminEndpoint {
  std::string admin_dir;
  std::string broker_url;  // overrides admin_dir/broker.json when set
};

// As ssh does for identity files: refuses (kPermissionDenied, naming the file and the fix,
// `chmod 600`) a private key that group or others may read or write, and anything that is not
// a regular file. Checked before every connection, so a leaked key is not used silently.
Result<void> CheckPrivateKeyPermissions(const std::string& path);

class AdminClient {
 public:
  static Result<std::unique_ptr<AdminClient>> Connect(const AdminEndpoint& ep);
  // Returns the JSON body of a 2xx answer; otherwise the broker's error code and message.
  Result<Json> Call(const std::string& method, const std::string& path, const Json& body = Json());

 private:
  explicit AdminClient(std::unique_ptr<net::HttpsClient> c) : client_(std::move(c)) {}
  std::unique_ptr<net::HttpsClient> client_;
};

}  // namespace sigil::cli
