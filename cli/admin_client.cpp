#include "cli/admin_client.h"

#include "core/file_io.h"

namespace sigil::cli {

Code CodeFromName(const std::string& name) {
  for (int c = 0; c <= static_cast<int>(Code::kInternal); ++c) {
    if (CodeName(static_cast<Code>(c)) == name) return static_cast<Code>(c);
  }
  return Code::kInternal;
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
  }
  net::ClientTlsConfig tls{ep.admin_dir + "/ca.pem", ep.admin_dir + "/admin.pem", ep.admin_dir + "/admin.key"};
  SIGIL_ASSIGN_OR_RETURN(auto c, net::HttpsClient::Create(url, tls));
  return std::unique_ptr<AdminClient>(new AdminClient(std::move(c)));
}

Result<Json> AdminClient::Call(const std::string& method, const std::string& path, const Json& body) {
  SIGIL_ASSIGN_OR_RETURN(net::HttpResponse r, client_->Send(method, path, body.is_null() ? "" : body.dump()));
  auto j = ParseJson(r.body, "broker response");
  if (r.status >= 200 && r.status < 300) {
    if (!j) return Fail(Code::kInternal, "broker sent a non-JSON answer");
    return j;
  }
  if (j && j->contains("error") && (*j)["error"].is_object()) {
    const Json& e = (*j)["error"];
    std::string code = e.value("code", "internal");
    return Fail(CodeFromName(code), e.value("message", "error") + " [" + code + ", HTTP " + std::to_string(r.status) + "]");
  }
  return Fail(Code::kInternal, "broker answered HTTP " + std::to_string(r.status));
}

}  // namespace sigil::cli
