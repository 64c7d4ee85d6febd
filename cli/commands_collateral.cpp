// sigil collateral import|list: the operator's offline TEE collateral store in the broker's data
// directory (broker/collateral/collateral_store.h). Import writes the files directly (like the trust
// anchors sigild reads from DATA/trust/), not through the admin API: collateral is not tenant
// data, the broker re-reads the directory by itself, and the operator who can write the data
// directory already controls every trust anchor (docs/cli.md "sigil collateral").
#include <cstdio>
#include <ctime>
#include <memory>

#include "broker/collateral/collateral_import.h"
#include "cli/commands.h"
#include "cli/terminal_text.h"
#include "core/file_io.h"
#include "core/rfc3339.h"

namespace sigil::cli {
namespace {

struct CollateralArgs {
  std::string data_dir;
  std::vector<std::string> files;
  bool anchor = false;
  std::string at;
  int warn_days = 30;
};

Result<std::chrono::system_clock::time_point> TimeArg(const std::string& s) {
  if (s.empty()) return std::chrono::system_clock::now();
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr || (*end != 'Z' && *end != '\0')) {
    return Fail(Code::kInvalidArgument, "--at '" + s + "': expected RFC 3339 UTC, e.g. 2024-01-01T00:00:00Z");
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string Utc(std::chrono::system_clock::time_point t) {
  if (t == std::chrono::system_clock::time_point::max()) return "never";
  return FormatRfc3339Utc(t);
}

int Import(const GlobalOptions& g, const CollateralArgs& a) {
  auto now = TimeArg(a.at);
  if (!now) return ReportError(now.error());
  std::vector<broker::ImportFile> files;
  for (const std::string& f : a.files) {
    auto bytes = ReadFile(f, 1 << 22);
    if (!bytes) return ReportError(bytes.error());
    files.push_back({f, std::move(*bytes)});
  }
  auto imported = broker::ImportCollateral({a.data_dir, a.anchor, *now}, files);
  if (!imported) return ReportError(imported.error());
  Json out = Json::array();
  for (const auto& i : *imported) {
    out.push_back(Json{{"file", i.file}, {"kind", broker::KindName(i.kind)}, {"subject", i.summary},
                       {"not_after", Utc(i.not_after)}, {"already_present", i.already_present}});
    if (!g.json) {
      std::printf("%-9s %-18s %-40s not after %s  %s\n", i.already_present ? "present" : "imported",
                  std::string(broker::KindName(i.kind)).c_str(), ForTerminal(i.summary).c_str(), Utc(i.not_after).c_str(),
                  ForTerminal(i.file).c_str());
    }
  }
  if (g.json) std::printf("%s\n", Json{{"imported", out}}.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  return 0;
}

int List(const GlobalOptions& g, const CollateralArgs& a) {
  auto now = TimeArg(a.at);
  if (!now) return ReportError(now.error());
  std::vector<std::string> problems;
  auto snap = broker::CollateralSnapshot::Load(a.data_dir, &problems);
  const std::chrono::seconds warn = std::chrono::hours(24 * a.warn_days);
  Json out = Json::array();
  for (const auto& e : snap->entries()) {
    const std::string state(broker::ExpiryState(e.not_after, *now, warn));
    out.push_back(Json{{"file", e.file}, {"kind", broker::KindName(e.kind)}, {"subject", e.summary},
                       {"not_after", Utc(e.not_after)}, {"state", state}});
    if (!g.json) {
      std::printf("%-8s %-18s %-40s not after %s  %s\n", state.c_str(),
                  std::string(broker::KindName(e.kind)).c_str(), ForTerminal(e.summary).c_str(), Utc(e.not_after).c_str(),
                  ForTerminal(e.file).c_str());
    }
  }
  for (const auto& p : problems) std::fprintf(stderr, "sigil: warning: unreadable collateral %s\n", ForTerminal(p).c_str());
  if (g.json) std::printf("%s\n", Json{{"collateral", out}}.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  return 0;
}

}  // namespace

void AddCollateralCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out) {
  auto* c = app.add_subcommand("collateral", "offline TEE collateral in the broker's data directory");
  c->require_subcommand(1);
  auto a = std::make_shared<CollateralArgs>();
  auto* imp = c->add_subcommand("import", "validate and store AMD/Intel certificates, CRLs, TCB info, QE identity");
  imp->add_option("--data-dir", a->data_dir, "the broker's data directory")->required();
  imp->add_flag("--anchor", a->anchor, "also accept root certificates (AMD ARK, Intel SGX Root CA) as trust anchors");
  imp->add_option("--at", a->at, "check validity periods at this RFC 3339 UTC time (default: now)");
  imp->add_option("files", a->files, "collateral files (PEM/DER certificates or CRLs, PCS JSON, DCAP bundles)")
      ->required()
      ->check(CLI::ExistingFile);
  out.push_back({imp, [&g, a] { return Import(g, *a); }});
  auto* list = c->add_subcommand("list", "list stored collateral and trust anchors with their expiry");
  list->add_option("--data-dir", a->data_dir, "the broker's data directory")->required();
  list->add_option("--warn-days", a->warn_days, "flag items expiring within this many days")->capture_default_str();
  list->add_option("--at", a->at, "evaluate expiry at this RFC 3339 UTC time (default: now)");
  out.push_back({list, [&g, a] { return List(g, *a); }});
}

}  // namespace sigil::cli
