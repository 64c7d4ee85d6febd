#include "cli/admin_client.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "core/file_io.h"
#include "core/names.h"
#include "net/broker_client.h"

namespace sigil::cli {

Result<void> CheckPrivateKeyPermissions(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Fail(errno == ENOENT ? Code::kNotFound : Code::kUnavailable,
                "cannot stat " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Fail(Code::kInvalidArgument, path + ": the admin private key is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Fail(Code::kPermissionDenied,
                path + ": permissions " + mode + " are too open: the admin private key must not be readable "
                "or writable by group or others, so it was not used. Fix with: chmod 600 " + path);
  }
  return Ok();
}

std::string TenantCredentialDir(const std::string& admin_dir, const std::string& tenant) {
  return admin_dir + "/tenants/" + tenant;
}

std::string CredentialDirFor(const std::string& admin_dir, const std::string& path) {
  static constexpr std::string_view kPrefix = "/v1/admin/tenants/";
  if (path.compare(0, kPrefix.size(), kPrefix) != 0) return admin_dir;
  const std::size_t end = path.find('/', kPrefix.size());
  if (end == std::string::npos) return admin_dir;  // /v1/admin/tenants/T itself: the operator's
  const std::string tenant = path.substr(kPrefix.size(), end - kPrefix.size());
  if (!ValidateName(tenant, "tenant")) return admin_dir;  // the broker refuses the name itself
  std::string dir = TenantCredentialDir(admin_dir, tenant);
  struct stat st {};
  if (::stat((dir + "/admin.pem").c_str(), &st) != 0) return admin_dir;
  return dir;
}

Result<std::unique_ptr<AdminClient>> AdminClient::Connect(const AdminEndpoint& ep) {
  if (ep.admin_dir.empty()) {
    return Fail(Code::kInvalidArgument, "no admin credentials: pass --admin-dir DATA/admin or set SIGIL_ADMIN_DIR");
  }
  std::string url = ep.broker_url;
  if (url.empty()) {
    SIGIL_ASSIGN_OR_RETURN(std::string text, ReadTextFile(ep.admin_dir + "/broker.json"));
    SIGIL_ASSIGN_OR_RETURN(Json j, ParseJson(text, ep.admin_dir + "/broker.json"));
    SIGIL_ASSIGN_OR_RETURN(url, GetString(j, "url", ep.admin_dir + "/broker.json"));
    if (url.size() > 2 && url.compare(url.size() - 2, 2, ":0") == 0) {
      return Fail(Code::kInvalidArgument, ep.admin_dir + "/broker.json names port 0 (the broker was initialised "
                  "with --listen ADDRESS:0, which picks a port when sigild serve starts and records it there); "
                  "start sigild serve first, or pass --broker https://HOST:PORT or set SIGIL_BROKER_URL");
    }
  }
  SIGIL_RETURN_IF_ERROR(net::ParseHttpsUrl(url));
  return std::unique_ptr<AdminClient>(new AdminClient(ep.admin_dir, std::move(url)));
}

Result<net::HttpsClient*> AdminClient::ClientFor(const std::string& cred_dir) {
  auto it = clients_.find(cred_dir);
  if (it != clients_.end()) return it->second.get();
  net::ClientTlsConfig tls{admin_dir_ + "/ca.pem", cred_dir + "/admin.pem", cred_dir + "/admin.key"};
  SIGIL_RETURN_IF_ERROR(CheckPrivateKeyPermissions(*tls.key_file));
  SIGIL_ASSIGN_OR_RETURN(auto c, net::HttpsClient::Create(url_, tls));
  net::HttpsClient* raw = c.get();
  clients_.emplace(cred_dir, std::move(c));
  return raw;
}

Result<Json> AdminClient::Call(const std::string& method, const std::string& path, const Json& body) {
  return CallWith(CredentialDirFor(admin_dir_, path), method, path, body);
}

Result<Json> AdminClient::CallWith(const std::string& cred_dir, const std::string& method, const std::string& path,
                                   const Json& body) {
  SIGIL_ASSIGN_OR_RETURN(net::HttpsClient * client, ClientFor(cred_dir));
  SIGIL_ASSIGN_OR_RETURN(net::HttpResponse r, client->Send(method, path, body.is_null() ? "" : body.dump()));
  auto j = ParseJson(r.body, "broker response");
  if (r.status >= 200 && r.status < 300) {
    if (!j) return Fail(Code::kInternal, "broker sent a non-JSON answer");
    return j;
  }
  return net::BrokerError(r.status, r.body);
}

}  // namespace sigil::cli
