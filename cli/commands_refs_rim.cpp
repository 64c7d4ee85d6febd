// sigil refs import-nvidia-rim: verifies an NVIDIA RIM (driver or VBIOS) here, against the
// RIM root the operator names, then adds its measurements to a tenant's reference set through
// the ordinary admin API (POST /v1/admin/tenants/T/refs, one value per call, each audited).
// Verification is the CLI's, as with `sigil attest verify`: the broker stores values, and the
// operator's trust anchor decides what becomes one. Revocation of the RIM's signing chain is
// checked against offline CRLs / OCSP responses (--collateral, as the device chain's are);
// without data covering every certificate below the root the import is refused unless the
// operator says --allow-unchecked-revocation (docs/cli.md explains why refuse, not mark).
#include <chrono>
#include <map>
#include <set>

#include "attestation/nvidia/collateral.h"
#include "attestation/nvidia/rim.h"
#include "cli/commands.h"
#include "cli/terminal_text.h"
#include "core/file_io.h"
#include "core/names.h"

namespace sigil::cli {
namespace {

namespace nv = attestation::nvidia;

// The set's current content: its values and, per report block, whether it has any.
struct RimSetState {
  std::set<std::string> values;
  std::map<std::uint32_t, std::set<std::string>> blocks;  // block -> its hex values
  std::vector<std::string> rims;  // "rim:<kind>:<version>" markers
};

RimSetState RimSetFrom(const Json& listing, const std::string& set) {
  RimSetState s;
  const Json& sets = listing["sets"];
  if (!sets.contains(set)) return s;
  for (const auto& v : sets[set]) {
    const std::string value = v.get<std::string>();
    s.values.insert(value);
    if (value.rfind("rim:", 0) == 0) {
      s.rims.push_back(value);
      continue;
    }
    const auto colon = value.find(':');
    if (colon == std::string::npos || colon == 0 || colon > 3) continue;
    std::uint32_t block = 0;
    bool digits = true;
    for (std::size_t i = 0; i < colon; ++i) {
      if (value[i] < '0' || value[i] > '9') digits = false;
      block = block * 10 + static_cast<std::uint32_t>(value[i] - '0');
    }
    if (digits) s.blocks[block].insert(value.substr(colon + 1));
  }
  return s;
}

// One set holds one driver RIM and one VBIOS RIM at most, with no index from both (NVIDIA's
// verifier refuses an index active in both). A set mixing two versions of a component would
// approve combinations of measurements no single build has. Importing the same RIM again is
// allowed (adding a present value changes nothing).
Result<void> CheckFitsSet(const nv::Rim& rim, const RimSetState& s, const std::string& set) {
  const std::string marker = "rim:" + std::string(nv::RimKindName(rim.kind)) + ":" + rim.version;
  if (std::find(s.rims.begin(), s.rims.end(), marker) != s.rims.end()) return {};
  const std::string same_kind = "rim:" + std::string(nv::RimKindName(rim.kind)) + ":";
  for (const std::string& m : s.rims) {
    if (m.rfind(same_kind, 0) == 0) {
      return Fail(Code::kInvalidArgument, "reference set '" + set + "' already holds " + m.substr(4) +
                                              " (one driver and one VBIOS RIM per set: import " + rim.version +
                                              " into a new set)");
    }
  }
  // A block may only hold this RIM's own values: then an import that stopped half-way (no
  // marker yet) can be run again.
  for (const nv::RimMeasurement& m : rim.measurements) {
    auto it = s.blocks.find(m.block);
    if (it == s.blocks.end()) continue;
    for (const std::string& v : it->second) {
      if (std::find(m.alternatives.begin(), m.alternatives.end(), v) == m.alternatives.end()) {
        return Fail(Code::kInvalidArgument, "reference set '" + set + "' already has other values for measurement block " +
                                                std::to_string(m.block) + ", which this " +
                                                std::string(nv::RimKindName(rim.kind)) + " RIM also lists");
      }
    }
  }
  return {};
}

// The CRLs and OCSP responses of every --collateral file, in order.
Result<nv::Collateral> ReadRevocationFiles(const std::vector<std::string>& paths) {
  nv::Collateral all;
  for (const std::string& path : paths) {
    auto bytes = ReadFile(path, 16 << 20);
    if (!bytes) return std::move(bytes).error();
    auto parsed = nv::ParseRevocationFile(*bytes);
    if (!parsed) return std::move(parsed).error().Wrap(path);
    for (auto& crl : parsed->crls) all.crls.push_back(std::move(crl));
    for (auto& resp : parsed->ocsp) all.ocsp.push_back(std::move(resp));
  }
  return all;
}

std::string QuotedList(const std::vector<std::string>& subjects) {
  std::string out;
  for (const std::string& s : subjects) out += (out.empty() ? "'" : ", '") + s + "'";
  return out;
}

struct ImportOptions {
  std::string tenant, set, rim, anchor;
  std::vector<std::string> collateral;
  bool allow_unchecked_revocation = false;
};

int ImportNvidiaRim(const GlobalOptions& g, const ImportOptions& o) {
  const std::string& tenant = o.tenant;
  const std::string& set = o.set;
  const std::string& rim_path = o.rim;
  const std::string& anchor_path = o.anchor;
  if (auto ok = ValidateName(tenant, "tenant name"); !ok) return ReportError(ok.error());
  if (auto ok = ValidateName(set, "reference set name"); !ok) return ReportError(ok.error());
  auto xml = ReadFile(rim_path, nv::kMaxRimBytes + 1);
  if (!xml) return ReportError(xml.error());
  auto anchor = ReadFile(anchor_path, 1 << 20);
  if (!anchor) return ReportError(anchor.error());
  auto roots = nv::ParseAnchors({*anchor});
  if (!roots) return ReportError(roots.error().Wrap(anchor_path));
  auto revocation = ReadRevocationFiles(o.collateral);
  if (!revocation) return ReportError(revocation.error().Wrap("--collateral"));
  auto rim = nv::VerifyRim(*xml, *roots, revocation->crls, revocation->ocsp, std::chrono::system_clock::now());
  if (!rim) return ReportError(rim.error().Wrap(rim_path));
  // Refused before anything is sent: a set value cannot carry "not checked" to the policy, so
  // an unchecked signer would approve measurements exactly as a checked one does.
  if (rim->revocation != nv::Revocation::kGood) {
    const std::string what = "revocation not checked for " + QuotedList(rim->unchecked) +
                             " (no CRL or OCSP response in --collateral covers " +
                             (rim->unchecked.size() == 1 ? "it" : "them") + ")";
    if (!o.allow_unchecked_revocation) {
      return ReportError(Error(Code::kInvalidArgument,
                               rim_path + ": " + what +
                                   ": pass current CRLs or OCSP responses of the RIM signing chain with "
                                   "--collateral, or --allow-unchecked-revocation to import anyway"));
    }
    std::fprintf(stderr, "sigil: warning: %s: %s; imported anyway (--allow-unchecked-revocation)\n",
                 ForTerminal(rim_path).c_str(), ForTerminal(what).c_str());
  }

  auto client = AdminClient::Connect(g.endpoint);
  if (!client) return ReportError(client.error());
  const std::string path = "/v1/admin/tenants/" + tenant + "/refs";
  auto listing = (*client)->Call("GET", path);
  if (!listing) return ReportError(listing.error());
  const RimSetState state = RimSetFrom(*listing, set);
  if (auto fits = CheckFitsSet(*rim, state, set); !fits) return ReportError(fits.error());

  // The values in order, the "rim:" marker last: a set that shows the marker got every value.
  const std::vector<std::string> values = nv::RimReferenceValues(*rim);
  std::size_t added = 0;
  for (const std::string& v : values) {
    if (state.values.count(v) != 0) continue;
    auto r = (*client)->Call("POST", path, Json{{"set", set}, {"value", v}});
    if (!r) {
      std::fprintf(stderr, "sigil: %zu of %zu values were added to '%s' before this error; run the import again\n",
                   added, values.size(), ForTerminal(set).c_str());
      return ReportError(r.error());
    }
    ++added;
  }
  std::size_t alternatives = 0;
  Json blocks = Json::object();
  for (const nv::RimMeasurement& m : rim->measurements) {
    alternatives += m.alternatives.size();
    blocks[std::to_string(m.block)] = m.alternatives;
  }
  if (g.json) {
    Json out{{"tenant", tenant}, {"set", set}, {"kind", std::string(nv::RimKindName(rim->kind))},
             {"version", rim->version}, {"tag_id", rim->tag_id}, {"product", rim->product},
             {"signer", rim->signer}, {"measurements", blocks}, {"values_added", added},
             {"revocation", std::string(nv::RevocationName(rim->revocation))},
             {"revocation_unchecked", rim->unchecked}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("verified %s RIM %s (%s), signed by %s\n", std::string(nv::RimKindName(rim->kind)).c_str(),
              ForTerminal(rim->version).c_str(), ForTerminal(rim->tag_id).c_str(), ForTerminal(rim->signer).c_str());
  std::printf("signing chain revocation: %s\n", std::string(nv::RevocationName(rim->revocation)).c_str());
  std::printf("%s: %zu measurement blocks, %zu approved values (%zu inactive not compared); %zu values added\n",
              ForTerminal(set).c_str(), rim->measurements.size(), alternatives, rim->inactive, added);
  return 0;
}

}  // namespace

void AddRefsImportNvidiaRimCommand(CLI::App& refs, GlobalOptions& g, std::vector<Command>& out) {
  auto o = std::make_shared<ImportOptions>();
  auto* sub = refs.add_subcommand(
      "import-nvidia-rim", "verify an NVIDIA driver or VBIOS RIM and add its measurements to a reference set");
  sub->add_option("TENANT", o->tenant)->required();
  sub->add_option("--set", o->set, "the reference set (one driver and one VBIOS RIM per set)")->required();
  sub->add_option("--rim", o->rim, "the RIM file (SWID tag, .swidtag)")->required();
  sub->add_option("--trust-anchor", o->anchor, "NVIDIA's RIM root CA certificate (PEM or DER)")->required();
  sub->add_option("--collateral", o->collateral,
                  "revocation data for the RIM signing chain: a CRL (PEM or DER) or an OCSP response (DER, "
                  "or PEM 'OCSP RESPONSE'); repeat for each");
  sub->add_flag("--allow-unchecked-revocation", o->allow_unchecked_revocation,
                "import even if --collateral does not cover every certificate below the root (warns)");
  out.push_back({sub, [&g, o] { return ImportNvidiaRim(g, *o); }});
}

}  // namespace sigil::cli
