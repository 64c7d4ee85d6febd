// The CLI's connection to the broker's admin API: mTLS with the credentials `sigild init` wrote
// to DATA/admin/ (ca.pem, admin.pem, admin.key, broker.json).
//
// Credentials directory layout (docs/cli.md): DIR/ca.pem, DIR/admin.pem, DIR/admin.key (0600),
// DIR/broker.json, and per tenant T optionally DIR/tenants/T/admin.pem + admin.key, a
// tenant-admin credential for T. A request whose path starts with /v1/admin/tenants/T/ (tenant
// scoped; not /v1/admin/tenants itself) is sent with DIR/tenants/T/'s certificate and key when
// DIR/tenants/T/admin.pem exists, else with DIR's own; ca.pem and broker.json always come from DIR.
#pragma once

#include <map>
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

// The directory holding the certificate and key for a request to `path` (see above). A tenant
// name that fails core/names.h's ValidateName is never used in a file path: DIR's own are used.
std::string CredentialDirFor(const std::string& admin_dir, const std::string& path);

// ADMIN_DIR/tenants/T: where `sigil tenant create` keeps tenant T's first tenant-admin
// credential. `tenant` must already have passed ValidateName.
std::string TenantCredentialDir(const std::string& admin_dir, const std::string& tenant);

// Not thread-safe. Keeps one connection per credential directory used.
class AdminClient {
 public:
  // Resolves the broker URL (ep.broker_url, else ADMIN_DIR/broker.json). Credentials are loaded,
  // and the private key's permissions checked, on the first call that uses them.
  static Result<std::unique_ptr<AdminClient>> Connect(const AdminEndpoint& ep);
  // Returns the JSON body of a 2xx answer; otherwise the broker's error code and message. The
  // credentials are chosen by CredentialDirFor(admin_dir, path).
  Result<Json> Call(const std::string& method, const std::string& path, const Json& body = Json());
  // The same with the certificate and key of `cred_dir` (CA and URL still from the endpoint).
  Result<Json> CallWith(const std::string& cred_dir, const std::string& method, const std::string& path,
                        const Json& body = Json());

  const std::string& admin_dir() const { return admin_dir_; }
  const std::string& url() const { return url_; }

 private:
  AdminClient(std::string admin_dir, std::string url) : admin_dir_(std::move(admin_dir)), url_(std::move(url)) {}
  Result<net::HttpsClient*> ClientFor(const std::string& cred_dir);

  std::string admin_dir_;
  std::string url_;
  std::map<std::string, std::unique_ptr<net::HttpsClient>> clients_;  // by credential dir
};

}  // namespace sigil::cli
