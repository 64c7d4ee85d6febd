// Admin roles end to end (docs/protocol.md "Admin roles"), on the real broker with credentials
// made by the real CLI: the whole authorization matrix walked from the route table (every admin
// route x operator, tenant-admin, auditor x own tenant / other tenant), every refusal an
// admin.refused record in the targeted tenant's log; the operator's bootstrap of a tenant's first
// tenant-admin only; revocation in force at once; renewal.
#include <filesystem>
#include <map>

#include "broker/http/route_table.h"
#include "core/file_io.h"
#include "core/json.h"
#include "net/https_client.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

using testing::BinPath;
using testing::TempDir;

// A credentials directory holding only ca.pem, admin.pem, admin.key and broker.json of `from`
// (`from`'s tenants/ subdirectories are not taken along: what the operator alone holds).
std::string CopyCredentials(const std::string& from, const std::string& ca_dir, const std::string& to) {
  std::filesystem::create_directories(to);
  std::filesystem::copy_file(ca_dir + "/ca.pem", to + "/ca.pem");
  std::filesystem::copy_file(ca_dir + "/broker.json", to + "/broker.json");
  std::filesystem::copy_file(from + "/admin.pem", to + "/admin.pem");
  std::filesystem::copy_file(from + "/admin.key", to + "/admin.key");
  return to;
}

testing::CommandResult SigilWith(const std::string& admin_dir, std::vector<std::string> args) {
  args.insert(args.begin(), {BinPath("sigil"), "--admin-dir", admin_dir, "--broker", BrokerEnv::Get().url()});
  return testing::Run(args);
}

// One principal's raw admin client (certificate and key of `dir`, the broker CA).
struct Caller {
  std::string name;
  broker::Role role;
  std::string tenant;
  std::unique_ptr<net::HttpsClient> http;
};

Caller Connect(const std::string& name, broker::Role role, const std::string& tenant, const std::string& dir) {
  const auto& env = BrokerEnv::Get();
  auto c = net::HttpsClient::Create(env.url(), net::ClientTlsConfig{env.ca(), dir + "/admin.pem", dir + "/admin.key"});
  SIGIL_CHECK(c.has_value());
  return Caller{name, role, tenant, std::move(*c)};
}

std::size_t RefusalRecords(const std::string& tenant) {
  std::size_t n = 0;
  for (const Json& r : AuditRecords(tenant)) n += r.value("action", "") == "admin.refused" ? 1 : 0;
  return n;
}

class AdminRoles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto& env = BrokerEnv::Get();
    dir_ = new TempDir();
    // Two tenants made exactly as docs/cli.md says: the operator creates each, and the CLI keeps
    // the tenant's first tenant-admin credential in ADMIN_DIR/tenants/T.
    for (const char* t : {"mx", "my"}) {
      auto r = env.Sigil({"tenant", "create", t});
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
      ASSERT_TRUE(std::filesystem::exists(env.admin_dir() + "/tenants/" + t + "/admin.key")) << r.out;
      auto k = env.Sigil({"key", "create", std::string(t) + "/k"});  // as its tenant-admin (ADMIN_DIR/tenants/T)
      ASSERT_EQ(k.exit_code, 0) << k.out << k.err;
    }
    // mx's tenant-admin issues an auditor of mx.
    auto a = env.Sigil({"admin", "issue-cert", "--role", "auditor", "--tenant", "mx", "--out", dir_->File("auditor")});
    ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static TempDir* dir_;
};
TempDir* AdminRoles::dir_ = nullptr;

// Whether the route kind admits `c` on `tenant` (the matrix docs/protocol.md states).
bool Allowed(broker::Caller kind, const Caller& c, const std::string& tenant) {
  switch (kind) {
    case broker::Caller::kOperator: return c.role == broker::Role::kOperator;
    case broker::Caller::kTenantAdmin: return c.role == broker::Role::kTenantAdmin && c.tenant == tenant;
    case broker::Caller::kTenantReader:
      return (c.role == broker::Role::kTenantAdmin || c.role == broker::Role::kAuditor) && c.tenant == tenant;
    default: return true;
  }
}

TEST_F(AdminRoles, EveryRouteEveryRoleOwnAndOtherTenant) {
  const auto& env = BrokerEnv::Get();
  std::vector<Caller> callers;
  callers.push_back(Connect("operator", broker::Role::kOperator, "", env.admin_dir()));
  callers.push_back(Connect("tenant-admin:mx", broker::Role::kTenantAdmin, "mx", env.admin_dir() + "/tenants/mx"));
  callers.push_back(Connect("auditor:mx", broker::Role::kAuditor, "mx", dir_->File("auditor")));
  std::map<std::string, std::size_t> refusals_before{{"mx", RefusalRecords("mx")}, {"my", RefusalRecords("my")}};
  std::map<std::string, std::size_t> refused_targeting;
  int routes = 0, checks = 0;
  for (const broker::RouteEntry& e : broker::RouteTable()) {
    if (!broker::IsAdminCaller(e.caller)) continue;
    ++routes;
    const bool tenant_route = std::string_view(e.pattern).find("{tenant}") != std::string_view::npos;
    for (const char* tenant : tenant_route ? std::vector<const char*>{"mx", "my"} : std::vector<const char*>{""}) {
      std::string target(e.pattern);
      for (auto [from, to] : {std::pair<std::string, std::string>{"{tenant}", tenant}, {"{key}", "k"},
                              {"{ak}", std::string(64, '0')}, {"{ek}", std::string(64, '0')}, {"{version}", "1"}}) {
        if (auto at = target.find(from); at != std::string::npos) target.replace(at, from.size(), to);
      }
      for (const Caller& c : callers) {
        SCOPED_TRACE(c.name + " " + std::string(e.method) + " " + target);
        ++checks;
        auto r = c.http->Send(std::string(e.method), target, "{}");
        ASSERT_TRUE(r.has_value()) << r.error().message();
        auto body = ParseJson(r->body, "response");
        const std::string code = body && body->contains("error") ? (*body)["error"].value("code", "") : "";
        if (Allowed(e.caller, c, tenant)) {
          EXPECT_NE(r->status, 401) << r->body;
          EXPECT_FALSE(r->status == 403 && code == "permission_denied") << r->body;
        } else {
          EXPECT_EQ(r->status, 403) << r->body;
          EXPECT_EQ(code, "permission_denied") << r->body;
          if (tenant_route) ++refused_targeting[tenant];
        }
      }
    }
  }
  EXPECT_GE(routes, 28);
  EXPECT_GT(checks, 150);
  // Every refusal after authentication is an audit record in the log of the tenant it targeted.
  for (const char* t : {"mx", "my"}) {
    EXPECT_EQ(RefusalRecords(t) - refusals_before[t], refused_targeting[t]) << t;
  }
  auto verify = env.Sigil({"audit", "verify", "mx"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

// The attack the roles close: the operator alone can neither set a tenant's policy nor register
// a TPM key for it, nor make itself the tenant's tenant-admin once the tenant has one.
TEST_F(AdminRoles, TheOperatorAloneCannotTakeOverATenant) {
  const auto& env = BrokerEnv::Get();
  const std::string op = CopyCredentials(env.admin_dir(), env.admin_dir(), dir_->File("operator-only"));
  ASSERT_OK(WriteFileAtomic(dir_->File("open.json"), AsBytes(R"({"version":1,"rules":[{"name":"all","keys":["*"],
    "when":{"claim":"tee","equals":"dev"}}]})"), 0644));
  auto policy = SigilWith(op, {"policy", "set", "mx", dir_->File("open.json")});
  EXPECT_NE(policy.exit_code, 0);
  EXPECT_NE(policy.err.find("permission_denied"), std::string::npos) << policy.err;
  auto takeover = SigilWith(op, {"admin", "issue-cert", "--role", "tenant-admin", "--tenant", "mx", "--out", dir_->File("stolen")});
  EXPECT_NE(takeover.exit_code, 0);
  EXPECT_NE(takeover.err.find("already has a tenant-admin"), std::string::npos) << takeover.err;
  EXPECT_FALSE(std::filesystem::exists(dir_->File("stolen/admin.pem")));
  // Both refusals are in mx's log, naming the operator.
  auto recs = AuditRecords("mx");
  int refused = 0;
  for (const Json& r : recs) {
    if (r.value("action", "") == "admin.refused" && r.value("actor", "").rfind("admin:operator/", 0) == 0) ++refused;
  }
  EXPECT_GE(refused, 2);
  // A tenant handed over with its own key: the tenant makes a key and CSR with openssl (default
  // options), the operator creates the tenant for that CSR; the private key never leaves the
  // tenant, and the operator cannot issue the tenant a second tenant-admin afterwards.
  const std::string req = dir_->File("mz.csr"), key = dir_->File("mz-tenant/admin.key");
  std::filesystem::create_directories(dir_->File("mz-tenant"));
  auto openssl = testing::Run({"/usr/bin/openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                               "-nodes", "-keyout", key, "-out", req, "-subj", "/CN=mz hospital"});
  ASSERT_EQ(openssl.exit_code, 0) << openssl.err;
  auto created = SigilWith(op, {"tenant", "create", "mz", "--admin-csr", req, "--admin-cert-out", dir_->File("mz-tenant/admin.pem")});
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  std::filesystem::copy_file(env.admin_dir() + "/ca.pem", dir_->File("mz-tenant/ca.pem"));
  std::filesystem::permissions(key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto own = SigilWith(dir_->File("mz-tenant"), {"key", "create", "mz/weights"});
  EXPECT_EQ(own.exit_code, 0) << own.out << own.err;
  EXPECT_NE(SigilWith(op, {"key", "create", "mz/other"}).exit_code, 0);
  auto second = SigilWith(op, {"admin", "issue-cert", "--role", "tenant-admin", "--tenant", "mz", "--out", dir_->File("mz2")});
  EXPECT_NE(second.exit_code, 0) << second.out;
}

// The longest tenant name (64 characters) still gets a working tenant-admin: the certificate's
// common name is capped at RFC 5280's 64 characters, and only its URI name carries the tenant.
TEST_F(AdminRoles, ATenantWithTheLongestNameGetsAWorkingTenantAdmin) {
  const auto& env = BrokerEnv::Get();
  const std::string name(64, 'l');
  auto created = env.Sigil({"tenant", "create", name});
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  auto key = env.Sigil({"key", "create", name + "/k"});
  EXPECT_EQ(key.exit_code, 0) << key.out << key.err;
}

TEST_F(AdminRoles, ARevokedCertificateIsRefusedAtOnceAndARenewedOneWorks) {
  const auto& env = BrokerEnv::Get();
  auto issued = env.Sigil({"--json", "admin", "issue-cert", "--role", "auditor", "--tenant", "mx", "--out", dir_->File("aud2")});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  auto j = ParseJson(issued.out, "issue-cert");
  ASSERT_TRUE(j.has_value()) << issued.out;
  const std::string serial = j->value("serial", "");
  ASSERT_FALSE(serial.empty());
  const std::string aud = dir_->File("aud2");
  EXPECT_EQ(SigilWith(aud, {"audit", "list", "mx"}).exit_code, 0);
  // Renewal: a new key and certificate for the same principal, in place.
  auto renewed = SigilWith(aud, {"admin", "renew-cert"});
  ASSERT_EQ(renewed.exit_code, 0) << renewed.err;
  EXPECT_EQ(SigilWith(aud, {"audit", "list", "mx"}).exit_code, 0);
  auto again = SigilWith(aud, {"--json", "admin", "renew-cert"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto renewed_serial = ParseJson(again.out, "renew-cert")->value("serial", "");
  // mx's tenant-admin revokes the renewed one: refused from the next request on.
  auto revoked = env.Sigil({"admin", "revoke-cert", "--serial", renewed_serial, "--tenant", "mx"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  auto after = SigilWith(aud, {"audit", "list", "mx"});
  EXPECT_NE(after.exit_code, 0);
  EXPECT_NE(after.err.find("revoked"), std::string::npos) << after.err;
  // Another tenant's tenant-admin cannot revoke mx's certificates.
  auto cross = env.Sigil({"admin", "revoke-cert", "--serial", serial, "--tenant", "my"});
  EXPECT_NE(cross.exit_code, 0);
  auto records = AuditRecords("mx");
  bool issue_recorded = false, revoke_recorded = false;
  for (const Json& r : records) {
    issue_recorded = issue_recorded || (r.value("action", "") == "admin.cert.issue" &&
                                        r.value("reason", "").find("serial " + serial) != std::string::npos);
    revoke_recorded = revoke_recorded || (r.value("action", "") == "admin.cert.revoke" &&
                                          r.value("reason", "").find(renewed_serial) != std::string::npos);
  }
  EXPECT_TRUE(issue_recorded);
  EXPECT_TRUE(revoke_recorded);
}

}  // namespace
}  // namespace sigil::integration
