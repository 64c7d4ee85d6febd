// sigil policy approve|rollback|show: policy versions under approval (policies/README.md
// "Approvals"; the broker side: broker/api/policy_approval.h).
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cli/commands.h"
#include "cli/policy_files.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/ossl.h"
#include "core/protocol.h"
#include "core/text.h"
#include "loader/owner_key.h"

namespace sigil::cli {
namespace {

// The DER SubjectPublicKeyInfo of a raw Ed25519 public key (what a policy's approvers list pins).
Result<Bytes> Ed25519Spki(const Bytes& raw) {
  EvpPkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size()));
  if (!key) return OpenSslError(Code::kInternal, "Ed25519 public key");
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(key.get(), &der);
  if (n <= 0) return OpenSslError(Code::kInternal, "Ed25519 SubjectPublicKeyInfo");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

void PrintApprovals(const Json& j) {
  const std::string state = j.value("state", "");
  const long long version = j.value("policy_version", std::int64_t{0});
  if (state == "active") {
    std::printf("policy version %lld is in force\n", version);
    return;
  }
  std::string names;
  if (auto a = j.find("approvals"); a != j.end() && a->is_array()) {
    for (const Json& x : *a) {
      if (x.is_object() && x.contains("name") && x["name"].is_string()) {
        names += (names.empty() ? "" : ", ") + EscapeForDisplay(x["name"].get<std::string>(), 64);
      }
    }
  }
  std::printf("policy version %lld is %s: %zu of %lld approvals%s%s\n", version,
              EscapeForDisplay(state, 32).c_str(), j.contains("approvals") ? j["approvals"].size() : 0,
              static_cast<long long>(j.value("approvals_required", std::int64_t{0})), names.empty() ? "" : " by ",
              names.c_str());
}

// Signs the approval of `version` of TENANT's policy over the text of `file` (the copy the
// approver reviewed: the broker refuses the signature unless it is the proposal's exact text).
int Approve(const GlobalOptions& g, const std::string& tenant, std::int64_t version, const std::string& file,
            const std::string& key_file) {
  auto p = LoadPolicyFile(file);
  if (!p) return ReportError(p.error());
  auto signer = loader::ReadOwnerPrivateKeyFile(key_file);
  if (!signer) return ReportError(signer.error());
  auto spki = Ed25519Spki(signer->public_key());
  if (!spki) return ReportError(spki.error());
  const std::string digest = HexEncode(Sha256(AsBytes(p->first)));
  const Bytes signature = signer->Sign(AsBytes(protocol::PolicyApprovalMessage(tenant, version, digest)));
  std::fprintf(stderr, "approving policy version %lld of %s: sha256 %s\n", static_cast<long long>(version),
               tenant.c_str(), digest.c_str());
  return AdminCall(g, "POST", "/v1/admin/tenants/" + tenant + "/policies/" + std::to_string(version) + "/approvals",
                   Json{{"public_key", Base64Encode(*spki)}, {"signature", Base64Encode(signature)}}, PrintApprovals);
}

}  // namespace

void AddPolicyApprovalCommands(CLI::App& pol, GlobalOptions& g, std::vector<Command>& out) {
  auto tenant = std::make_shared<std::string>();
  auto version = std::make_shared<std::int64_t>(0);
  auto file = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto* approve = pol.add_subcommand("approve", "sign your approval of a proposed policy version (the file you reviewed)");
  approve->add_option("TENANT", *tenant)->required();
  approve->add_option("VERSION", *version)->required()->check(CLI::PositiveNumber);
  approve->add_option("FILE", *file, "the policy text you reviewed; must be the proposal, byte for byte")
      ->required()->check(CLI::ExistingFile);
  approve->add_option("--key", *key, "your Ed25519 approval key (openssl genpkey -algorithm ed25519)")
      ->required()->check(CLI::ExistingFile);
  out.push_back({approve, [&g, tenant, version, file, key] { return Approve(g, *tenant, *version, *file, *key); }});

  auto* show = pol.add_subcommand("show", "print one policy version and its state (active, proposed, superseded)");
  show->add_option("TENANT", *tenant)->required();
  show->add_option("VERSION", *version)->required()->check(CLI::PositiveNumber);
  out.push_back({show, [&g, tenant, version] {
    return AdminCall(g, "GET", "/v1/admin/tenants/" + *tenant + "/policies/" + std::to_string(*version), Json(),
                     [](const Json& j) {
                       std::printf("%s", j["policy"].get<std::string>().c_str());
                       std::fflush(stdout);
                       std::fprintf(stderr, "sha256 %s\n", EscapeForDisplay(j.value("sha256", ""), 64).c_str());
                       PrintApprovals(j);
                     });
  }});

  auto* rollback = pol.add_subcommand("rollback", "make an earlier policy version the newest again (approved like any change)");
  rollback->add_option("TENANT", *tenant)->required();
  rollback->add_option("VERSION", *version, "a version that was in force before the current one")
      ->required()->check(CLI::PositiveNumber);
  out.push_back({rollback, [&g, tenant, version] {
    return AdminCall(g, "POST", "/v1/admin/tenants/" + *tenant + "/policy/rollback", Json{{"to", *version}},
                     [](const Json& j) {
                       if (j.value("state", "") == "proposed") {
                         std::printf("rollback proposed as policy version %lld: in force once %lld approver(s) sign it\n",
                                     static_cast<long long>(j.value("policy_version", std::int64_t{0})),
                                     static_cast<long long>(j.value("approvals_required", std::int64_t{0})));
                       } else {
                         std::printf("rolled back: policy version %lld is in force\n",
                                     static_cast<long long>(j.value("policy_version", std::int64_t{0})));
                       }
                     });
  }});
}

}  // namespace sigil::cli
