// Admin roles (issue 12): `sigil tenant create` with the tenant's first tenant-admin credential,
// and `sigil admin issue-cert | revoke-cert | renew-cert` over /v1/admin/certs (docs/cli.md).
// Keys are made here (cli/csr.h) and never leave this machine; only CSRs are sent.
#include <sys/stat.h>

#include <cctype>
#include <memory>

#include "cli/commands.h"
#include "cli/csr.h"
#include "cli/terminal_text.h"
#include "core/file_io.h"
#include "core/names.h"

namespace sigil::cli {
namespace {

constexpr int kMinDays = 1, kMaxDays = 30;

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string("?");
}

Result<void> CheckDays(int days) {
  if (days < kMinDays || days > kMaxDays) {
    return Fail(Code::kInvalidArgument, "--days must be " + std::to_string(kMinDays) + " to " +
                                            std::to_string(kMaxDays) + " (got " + std::to_string(days) + ")");
  }
  return Ok();
}

// The certificate of a 2xx answer, checked against the request it answers.
Result<std::string> CertificateFrom(const Json& j, const char* field, const std::string& csr) {
  SIGIL_ASSIGN_OR_RETURN(std::string cert, GetString(j, field, "broker response"));
  SIGIL_RETURN_IF_ERROR(CheckCertificateMatchesCsr(cert, csr));
  return cert;
}

void PrintJson(Json j) { std::printf("%s\n", j.dump(2).c_str()); }

struct CreateTenantArgs {
  std::string name;
  std::string admin_csr;       // --admin-csr FILE: send this CSR, write only the certificate
  std::string admin_cert_out;  // --admin-cert-out FILE
};

int CreateTenant(const GlobalOptions& g, const CreateTenantArgs& a) {
  if (a.admin_csr.empty() != a.admin_cert_out.empty()) {
    return ReportError(Error(Code::kInvalidArgument, "--admin-csr and --admin-cert-out go together"));
  }
  if (auto v = ValidateName(a.name, "tenant"); !v) return ReportError(v.error());
  auto client = AdminClient::Connect(g.endpoint);
  if (!client) return ReportError(client.error());
  const bool own_key = a.admin_csr.empty();
  const std::string dir = TenantCredentialDir((*client)->admin_dir(), a.name);
  std::optional<KeyAndCsr> generated;
  std::string csr;
  if (own_key) {
    // Checked before anything is sent: the tenant is not created if its credential cannot be kept.
    if (auto r = RefuseExistingCredentials(dir); !r) return ReportError(r.error());
    if (auto r = MakePrivateDirs(dir); !r) return ReportError(r.error());
    auto k = GenerateKeyAndCsr("tenant-admin:" + a.name);
    if (!k) return ReportError(k.error());
    csr = k->csr_pem;
    generated = std::move(*k);
  } else {
    if (Exists(a.admin_cert_out)) {
      return ReportError(Error(Code::kAlreadyExists, a.admin_cert_out + " already exists: not overwritten"));
    }
    auto c = ReadCsrFile(a.admin_csr);
    if (!c) return ReportError(c.error());
    csr = std::move(*c);
  }
  auto r = (*client)->Call("POST", "/v1/admin/tenants", Json{{"name", a.name}, {"admin_csr", csr}});
  if (!r) return ReportError(r.error());
  const bool issued = r->contains("admin_certificate");
  std::string written;
  if (issued) {
    auto cert = CertificateFrom(*r, "admin_certificate", csr);
    if (!cert) return ReportError(cert.error().Wrap("tenant " + a.name + " was created, but its tenant-admin certificate"));
    auto w = own_key ? WriteCredentials(dir, *cert, &generated->key_pem)
                     : WriteFileAtomic(a.admin_cert_out, AsBytes(*cert), 0644);
    if (!w) return ReportError(w.error().Wrap("tenant " + a.name + " was created, but its tenant-admin credential"));
    written = own_key ? dir + "/admin.pem" : a.admin_cert_out;
  }
  if (g.json) {
    Json out = *r;
    if (issued) out["admin_certificate_file"] = written;
    if (issued && own_key) out["admin_key_file"] = dir + "/admin.key";
    PrintJson(std::move(out));
  } else {
    std::printf("created tenant %s\n", ForTerminal((*r)["tenant"].get<std::string>()).c_str());
    if (issued) {
      std::printf("tenant-admin certificate: %s (serial %s, not after %s)\n", ForTerminal(written).c_str(),
                  ForTerminal(Str(*r, "admin_serial")).c_str(), ForTerminal(Str(*r, "admin_not_after")).c_str());
      if (own_key) std::printf("tenant-admin key: %s\n", ForTerminal(dir + "/admin.key").c_str());
    }
  }
  if (!issued) {
    std::fprintf(stderr, "sigil: %s: the broker issued no tenant-admin certificate (it predates admin roles); "
                         "no credential was written\n", own_key ? "warning" : "error");
    return own_key ? 0 : 1;
  }
  return 0;
}

struct IssueArgs {
  std::string role, tenant, out, csr;
  int days = 0;
  bool days_given = false;
};

int IssueCert(const GlobalOptions& g, const IssueArgs& a) {
  if (a.role != "operator" && a.role != "tenant-admin" && a.role != "auditor") {
    return ReportError(Error(Code::kInvalidArgument, "--role must be operator, tenant-admin or auditor (got '" + a.role + "')"));
  }
  if (a.role == "operator" && !a.tenant.empty()) {
    return ReportError(Error(Code::kInvalidArgument, "--tenant is for the tenant-admin and auditor roles, not operator"));
  }
  if (a.role != "operator") {
    if (a.tenant.empty()) return ReportError(Error(Code::kInvalidArgument, "--role " + a.role + " needs --tenant T"));
    if (auto v = ValidateName(a.tenant, "tenant"); !v) return ReportError(v.error());
  }
  if (a.days_given) {
    if (auto d = CheckDays(a.days); !d) return ReportError(d.error());
  }
  auto client = AdminClient::Connect(g.endpoint);
  if (!client) return ReportError(client.error());
  const std::string& from = (*client)->admin_dir();
  // Everything that can fail locally is checked before the broker issues anything.
  auto ca = ReadFile(from + "/ca.pem", 1 << 20);
  if (!ca) return ReportError(ca.error());
  Bytes broker_json;
  if (Exists(from + "/broker.json")) {
    auto b = ReadFile(from + "/broker.json", 1 << 16);
    if (!b) return ReportError(b.error());
    broker_json = std::move(*b);
  } else {
    broker_json = ToBytes(Json{{"url", (*client)->url()}}.dump() + "\n");
  }
  if (auto r = MakePrivateDirs(a.out); !r) return ReportError(r.error());
  if (auto r = RefuseExistingCredentials(a.out); !r) return ReportError(r.error());
  std::optional<KeyAndCsr> generated;
  std::string csr;
  if (a.csr.empty()) {
    auto k = GenerateKeyAndCsr(a.role + (a.tenant.empty() ? "" : ":" + a.tenant));
    if (!k) return ReportError(k.error());
    csr = k->csr_pem;
    generated = std::move(*k);
  } else {
    auto c = ReadCsrFile(a.csr);
    if (!c) return ReportError(c.error());
    csr = std::move(*c);
  }
  Json body{{"role", a.role}, {"csr", csr}};
  if (!a.tenant.empty()) body["tenant"] = a.tenant;
  if (a.days_given) body["days"] = a.days;
  // A tenant's certificates are issued by its tenant-admin: with ADMIN_DIR/tenants/T's credential
  // when there is one (as for every tenant-scoped command), else with ADMIN_DIR's own.
  const std::string cred = a.tenant.empty() ? from : CredentialDirFor(from, "/v1/admin/tenants/" + a.tenant + "/");
  auto r = (*client)->CallWith(cred, "POST", "/v1/admin/certs", body);
  if (!r) return ReportError(r.error());
  const std::string serial = Str(*r, "serial");
  const std::string context = "certificate " + serial + " was issued, but";
  auto cert = CertificateFrom(*r, "certificate", csr);
  if (!cert) return ReportError(cert.error().Wrap(context + " it cannot be used (revoke it)"));
  for (auto [name, bytes] : {std::pair<const char*, const Bytes*>{"/ca.pem", &*ca}, {"/broker.json", &broker_json}}) {
    if (auto w = WriteFileAtomic(a.out + name, *bytes, 0644); !w) return ReportError(w.error().Wrap(context));
  }
  if (auto w = WriteCredentials(a.out, *cert, generated ? &generated->key_pem : nullptr); !w) {
    return ReportError(w.error().Wrap(context));
  }
  if (g.json) {
    Json out = *r;
    out["admin_dir"] = a.out;
    PrintJson(std::move(out));
    return 0;
  }
  std::printf("issued %s certificate%s: serial %s, not after %s\n", ForTerminal(a.role).c_str(),
              a.tenant.empty() ? "" : (" for tenant " + ForTerminal(a.tenant)).c_str(), ForTerminal(serial).c_str(),
              ForTerminal(Str(*r, "not_after")).c_str());
  if (generated) {
    std::printf("credentials: %s (admin.pem, admin.key, ca.pem, broker.json); use with SIGIL_ADMIN_DIR=%s\n",
                ForTerminal(a.out).c_str(), ForTerminal(a.out).c_str());
  } else {
    std::printf("certificate: %s/admin.pem (with ca.pem, broker.json); put the CSR's private key beside it as "
                "admin.key (chmod 600)\n", ForTerminal(a.out).c_str());
  }
  return 0;
}

int RenewCert(const GlobalOptions& g, const std::string& tenant, int days, bool days_given) {
  if (days_given) {
    if (auto d = CheckDays(days); !d) return ReportError(d.error());
  }
  if (!tenant.empty()) {
    if (auto v = ValidateName(tenant, "tenant"); !v) return ReportError(v.error());
  }
  auto client = AdminClient::Connect(g.endpoint);
  if (!client) return ReportError(client.error());
  const std::string dir = tenant.empty() ? (*client)->admin_dir() : TenantCredentialDir((*client)->admin_dir(), tenant);
  if (!Exists(dir + "/admin.pem")) {
    return ReportError(Error(Code::kNotFound, dir + "/admin.pem: no credential to renew there"));
  }
  auto k = GenerateKeyAndCsr("renewal");
  if (!k) return ReportError(k.error());
  Json body{{"csr", k->csr_pem}};
  if (days_given) body["days"] = days;
  auto r = (*client)->CallWith(dir, "POST", "/v1/admin/certs/renew", body);
  if (!r) return ReportError(r.error());
  const std::string serial = Str(*r, "serial");
  auto cert = CertificateFrom(*r, "certificate", k->csr_pem);
  if (!cert) return ReportError(cert.error().Wrap("certificate " + serial + " was issued, but it cannot be used (revoke it)"));
  if (auto w = WriteCredentials(dir, *cert, &k->key_pem); !w) {
    return ReportError(w.error().Wrap("certificate " + serial + " was issued, but"));
  }
  if (g.json) {
    Json out = *r;
    out["admin_dir"] = dir;
    PrintJson(std::move(out));
    return 0;
  }
  std::string role = Str(*r, "role"), t = r->contains("tenant") && (*r)["tenant"].is_string() ? Str(*r, "tenant") : "";
  std::printf("renewed %s certificate%s: serial %s, not after %s\n", ForTerminal(role).c_str(),
              t.empty() ? "" : (" for tenant " + ForTerminal(t)).c_str(), ForTerminal(serial).c_str(),
              ForTerminal(Str(*r, "not_after")).c_str());
  std::printf("replaced %s/admin.pem and %s/admin.key\n", ForTerminal(dir).c_str(), ForTerminal(dir).c_str());
  return 0;
}

// A serial as the broker writes it: lower-case hex without leading zeros. Empty if `s` is not
// 1-64 hex digits (an optional 0x prefix and colons, as openssl x509 -serial prints them, are fine).
std::string NormalizeSerial(std::string s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.erase(0, 2);
  std::string out;
  for (char c : s) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (out.empty() || out.size() > 64) return "";
  const std::size_t first = out.find_first_not_of('0');
  return first == std::string::npos ? "0" : out.substr(first);
}

}  // namespace

void AddTenantCreateCommand(CLI::App& tenant, GlobalOptions& g, std::vector<Command>& out) {
  auto args = std::make_shared<CreateTenantArgs>();
  auto* create = tenant.add_subcommand("create", "create a tenant (with a fresh KEK) and its first tenant-admin credential");
  create->add_option("NAME", args->name)->required();
  create->add_option("--admin-csr", args->admin_csr,
                     "send this PEM CSR instead of making a key here (with --admin-cert-out)");
  create->add_option("--admin-cert-out", args->admin_cert_out, "where to write the certificate for --admin-csr");
  out.push_back({create, [&g, args] { return CreateTenant(g, *args); }});
}

void AddAdminCertCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out) {
  auto* admin = app.add_subcommand("admin", "admin certificates: roles operator, tenant-admin, auditor");
  admin->require_subcommand(1);

  auto issue = std::make_shared<IssueArgs>();
  auto* issue_cmd = admin->add_subcommand("issue-cert", "issue an admin certificate into a new credentials dir");
  issue_cmd->add_option("--role", issue->role, "operator, tenant-admin or auditor")->required();
  issue_cmd->add_option("--tenant", issue->tenant, "the tenant (tenant-admin and auditor)");
  issue_cmd->add_option("--out", issue->out, "credentials dir to write (must not hold admin.pem/admin.key)")->required();
  issue_cmd->add_option("--csr", issue->csr, "send this PEM CSR instead of making a key here");
  auto* issue_days = issue_cmd->add_option("--days", issue->days, "validity, 1-30 days (broker default 7)");
  out.push_back({issue_cmd, [&g, issue, issue_days] {
    issue->days_given = issue_days->count() > 0;
    return IssueCert(g, *issue);
  }});

  auto serial = std::make_shared<std::string>();
  auto revoke_tenant = std::make_shared<std::string>();
  auto* revoke = admin->add_subcommand("revoke-cert", "revoke an admin certificate at once");
  revoke->add_option("--serial", *serial, "the certificate's serial number (hex)")->required();
  revoke->add_option("--tenant", *revoke_tenant, "a certificate of tenant T: revoke it with ADMIN_DIR/tenants/T's credential");
  out.push_back({revoke, [&g, serial, revoke_tenant] {
    const std::string hex = NormalizeSerial(*serial);
    if (hex.empty()) {
      return ReportError(Error(Code::kInvalidArgument, "--serial must be 1-64 hex digits (got '" + *serial + "')"));
    }
    // As for every tenant-scoped command: the tenant's certificates are revoked by its tenant-admin.
    const std::string path = revoke_tenant->empty() ? "/v1/admin/certs/revoke"
                                                    : "/v1/admin/tenants/" + *revoke_tenant + "/certs/revoke";
    if (!revoke_tenant->empty()) {
      if (auto v = ValidateName(*revoke_tenant, "tenant"); !v) return ReportError(v.error());
    }
    return AdminCall(g, "POST", path, Json{{"serial", hex}}, [](const Json& j) {
      std::printf("revoked certificate %s at %s\n", ForTerminal(Str(j, "serial")).c_str(),
                  ForTerminal(Str(j, "revoked_at")).c_str());
    });
  }});

  auto renew_days = std::make_shared<int>(0);
  auto renew_tenant = std::make_shared<std::string>();
  auto* renew = admin->add_subcommand("renew-cert", "replace the credential in use with a new key and certificate");
  auto* renew_days_opt = renew->add_option("--days", *renew_days, "validity, 1-30 days (broker default 7)");
  renew->add_option("--tenant", *renew_tenant, "renew ADMIN_DIR/tenants/T's credential instead of ADMIN_DIR's");
  out.push_back({renew, [&g, renew_days, renew_tenant, renew_days_opt] {
    return RenewCert(g, *renew_tenant, *renew_days, renew_days_opt->count() > 0);
  }});
}

}  // namespace sigil::cli
