// sigil tpm register-ak|list-aks|remove-ak: per-tenant TPM attestation keys on the broker
// (admin API /v1/admin/tenants/{t}/tpm-aks, docs/protocol.md). The broker's TPM verifier accepts
// a quote for a tenant only from an AK registered for it (or one in DATA/trust/tpm-aks/).
// sigil tpm register-ek|list-eks|remove-ek: EK public keys trusted for EK-based AK enrolment
// (`sigil-load tpm-enrol`, admin API /v1/admin/tenants/{t}/tpm-eks).
#include <memory>

#include "attestation/tpm/signature.h"
#include "attestation/tpm/verifier.h"
#include "cli/commands.h"
#include "cli/terminal_text.h"
#include "core/encoding.h"
#include "core/file_io.h"

namespace sigil::cli {
namespace {

void PrintAk(const Json& a) {
  std::string name = a.value("name", "");
  std::printf("%s  %s%s\n", ForTerminal(a["id"].get<std::string>()).c_str(), ForTerminal(a["tenant"].get<std::string>()).c_str(),
              name.empty() ? "" : ("  " + ForTerminal(name)).c_str());
}

int RegisterAk(const GlobalOptions& g, const std::string& tenant, const std::string& ak_file,
               const std::string& ak_public_file, const std::string& name) {
  auto print = [](const Json& j) {
    std::printf("registered TPM AK ");
    PrintAk(j);
  };
  if (!ak_public_file.empty()) {
    // A TPM2B_PUBLIC: the broker parses it (SPKI and TPM Name) and checks its attributes.
    auto pub = ReadFile(ak_public_file, 1 << 16);
    if (!pub) return ReportError(pub.error());
    Json body{{"ak_public", Base64UrlEncode(*pub)}};
    if (!name.empty()) body["name"] = name;
    return AdminCall(g, "POST", "/v1/admin/tenants/" + tenant + "/tpm-aks", body, print);
  }
  auto pem = ReadFile(ak_file, 1 << 16);
  if (!pem) return ReportError(pem.error());
  // Checked here too, so a wrong file is reported before anything is sent.
  auto key = attestation::tpm::LoadAk(*pem, Code::kInvalidArgument);
  if (!key) return ReportError(key.error().Wrap(ak_file));
  auto der = attestation::tpm::AkDer(**key);
  if (!der) return ReportError(der.error());
  Json body{{"ak", Base64UrlEncode(*der)}};
  if (!name.empty()) body["name"] = name;
  return AdminCall(g, "POST", "/v1/admin/tenants/" + tenant + "/tpm-aks", body, print);
}

}  // namespace

void AddTpmCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out) {
  auto* tpm = app.add_subcommand("tpm", "TPM attestation keys registered per tenant");
  tpm->require_subcommand(1);
  auto tenant = std::make_shared<std::string>();
  auto ak = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  auto ak_public = std::make_shared<std::string>();
  auto* reg = tpm->add_subcommand("register-ak", "register an AK for a tenant");
  reg->add_option("--tenant", *tenant, "tenant")->required();
  auto* ak_opt = reg->add_option("--ak", *ak, "AK public key file (PEM or DER SubjectPublicKeyInfo)")
                     ->check(CLI::ExistingFile);
  auto* pub_opt = reg->add_option("--ak-public", *ak_public,
                                  "the AK's TPM2B_PUBLIC (tpm2_readpublic -o): quotes must then name it as qualifiedSigner")
                      ->check(CLI::ExistingFile);
  ak_opt->excludes(pub_opt);
  reg->add_option("--name", *name, "label shown by list-aks");
  out.push_back({reg, [&g, tenant, ak, ak_public, name] {
    if (ak->empty() && ak_public->empty()) {
      return ReportError(Error(Code::kInvalidArgument, "register-ak: give --ak or --ak-public"));
    }
    return RegisterAk(g, *tenant, *ak, *ak_public, *name);
  }});
  auto ek = std::make_shared<std::string>();
  auto* reg_ek = tpm->add_subcommand("register-ek", "trust an EK for a tenant: its TPM may then enrol AKs (sigil-load tpm-enrol)");
  reg_ek->add_option("--tenant", *tenant, "tenant")->required();
  reg_ek->add_option("--ek", *ek, "EK public key or EK certificate (PEM)")->required()->check(CLI::ExistingFile);
  out.push_back({reg_ek, [&g, tenant, ek] {
    auto pem = ReadFile(*ek, 1 << 16);
    if (!pem) return ReportError(pem.error());
    Json body{{"ek", std::string(pem->begin(), pem->end())}};
    return AdminCall(g, "POST", "/v1/admin/tenants/" + *tenant + "/tpm-eks", body, [](const Json& j) {
      std::printf("registered TPM EK %s  %s\n", ForTerminal(j["id"].get<std::string>()).c_str(),
                  ForTerminal(j["tenant"].get<std::string>()).c_str());
    });
  }});
  auto* list_eks = tpm->add_subcommand("list-eks", "list a tenant's registered EKs (fingerprints)");
  list_eks->add_option("--tenant", *tenant, "tenant")->required();
  out.push_back({list_eks, [&g, tenant] {
    return AdminCall(g, "GET", "/v1/admin/tenants/" + *tenant + "/tpm-eks", Json(), [](const Json& j) {
      for (const auto& e : j["eks"]) std::printf("%s\n", ForTerminal(e.get<std::string>()).c_str());
    });
  }});
  auto* rm_ek = tpm->add_subcommand("remove-ek", "stop trusting an EK by its fingerprint (from list-eks)");
  rm_ek->add_option("--tenant", *tenant, "tenant")->required();
  rm_ek->add_option("--id", *id, "EK fingerprint (hex SHA-256 of its DER SPKI)")->required();
  out.push_back({rm_ek, [&g, tenant, id] {
    // Checked here too: an id such as "../x" would otherwise change the request path itself.
    if (auto ok = attestation::tpm::ValidateFingerprint(*id, "--id"); !ok) return ReportError(ok.error());
    return AdminCall(g, "DELETE", "/v1/admin/tenants/" + *tenant + "/tpm-eks/" + *id, Json(),
                     [&id](const Json&) { std::printf("removed TPM EK %s\n", id->c_str()); });
  }});
  auto* list = tpm->add_subcommand("list-aks", "list a tenant's registered AKs (fingerprint, label)");
  list->add_option("--tenant", *tenant, "tenant")->required();
  out.push_back({list, [&g, tenant] {
    return AdminCall(g, "GET", "/v1/admin/tenants/" + *tenant + "/tpm-aks", Json(), [](const Json& j) {
      for (const auto& a : j["aks"]) PrintAk(a);
    });
  }});
  auto* rm = tpm->add_subcommand("remove-ak", "unregister an AK by its fingerprint (from list-aks)");
  rm->add_option("--tenant", *tenant, "tenant")->required();
  rm->add_option("--id", *id, "AK fingerprint (hex SHA-256 of its DER SPKI)")->required();
  out.push_back({rm, [&g, tenant, id] {
    return AdminCall(g, "DELETE", "/v1/admin/tenants/" + *tenant + "/tpm-aks/" + *id, Json(),
                     [&id](const Json&) { std::printf("removed TPM AK %s\n", id->c_str()); });
  }});
}

}  // namespace sigil::cli
