// sigil tenant / key / refs commands: thin wrappers over the admin API.
#include <openssl/crypto.h>

#include "cli/commands.h"
#include "cli/terminal_text.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "loader/owner_key.h"

namespace sigil::cli {
namespace {
std::string TenantPath(const std::string& t) { return "/v1/admin/tenants/" + t; }

// "tenant/name" -> {tenant, name}
bool SplitKey(const std::string& full, std::string& tenant, std::string& name) {
  auto slash = full.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == full.size()) {
    std::fprintf(stderr, "sigil: error: key must be written TENANT/NAME (got '%s')\n", full.c_str());
    return false;
  }
  tenant = full.substr(0, slash);
  name = full.substr(slash + 1);
  return true;
}

// A key named either positionally (TENANT/NAME) or with --tenant T --key K.
struct KeyRef {
  std::shared_ptr<std::string> full = std::make_shared<std::string>();
  std::shared_ptr<std::string> tenant = std::make_shared<std::string>();
  std::shared_ptr<std::string> key = std::make_shared<std::string>();
  bool Resolve(std::string& t, std::string& n) const {
    if (!full->empty()) return SplitKey(*full, t, n);
    if (tenant->empty() || key->empty()) {
      std::fprintf(stderr, "sigil: error: name the key as TENANT/NAME or with --tenant T --key K\n");
      return false;
    }
    t = *tenant;
    n = *key;
    return true;
  }
};
KeyRef AddKeyRef(CLI::App* sub) {
  KeyRef r;
  sub->add_option("TENANT/NAME", *r.full, "the key (or use --tenant and --key)");
  sub->add_option("--tenant", *r.tenant, "tenant");
  sub->add_option("--key", *r.key, "key name");
  return r;
}

void PrintState(const Json& j) {
  std::printf("%s/%s: %s\n", ForTerminal(j["tenant"].get<std::string>()).c_str(), ForTerminal(j["key"].get<std::string>()).c_str(),
              ForTerminal(j["state"].get<std::string>()).c_str());
}

// Raw 32-byte X25519 private key from a file the operator controls. The bytes are base64url'd
// into the request body (sent only over the mutually authenticated admin channel) and wiped here.
int ImportKey(const GlobalOptions& g, const std::string& t, const std::string& n, const std::string& from,
              const std::string& key_class, const std::function<void(const Json&)>& print) {
  auto raw = ReadFile(from, 4096);
  if (!raw) return ReportError(raw.error());
  if (raw->size() != 32) {
    OPENSSL_cleanse(raw->data(), raw->size());
    return ReportError(Error(Code::kInvalidArgument, from + ": expected exactly 32 bytes of raw X25519 private key, got " +
                                                         std::to_string(raw->size())));
  }
  std::string b64 = Base64UrlEncode(*raw);
  OPENSSL_cleanse(raw->data(), raw->size());
  Json body{{"name", n}, {"private_key", b64}};
  OPENSSL_cleanse(b64.data(), b64.size());
  if (!key_class.empty()) body["class"] = key_class;
  int rc = AdminCall(g, "POST", TenantPath(t) + "/keys/import", body, print);
  std::string& in_body = body["private_key"].get_ref<std::string&>();
  OPENSSL_cleanse(in_body.data(), in_body.size());
  return rc;
}
void PrintOwners(const Json& j) {
  std::printf("%s/%s: ", ForTerminal(j["tenant"].get<std::string>()).c_str(), ForTerminal(j["key"].get<std::string>()).c_str());
  if (j["owners"].empty()) {
    std::printf("no model owner pinned (unsigned artifacts are released)\n");
    return;
  }
  std::printf("releases only artifacts signed by\n");
  for (const auto& o : j["owners"]) std::printf("  owner %s\n", ForTerminal(o["id"].get<std::string>()).c_str());
  for (const auto& a : j["artifact_ids"]) std::printf("  artifact %s\n", ForTerminal(a.get<std::string>()).c_str());
}

// sigil key owners: with --owner (and --artifact) sets the pins, with --clear removes them,
// with neither prints them (broker/keys/key_pins.h).
int KeyOwners(const GlobalOptions& g, const std::string& t, const std::string& n, const std::vector<std::string>& owners,
              const std::vector<std::string>& artifacts, bool clear) {
  if (owners.empty() && !clear) {
    if (!artifacts.empty()) return ReportError(Error(Code::kInvalidArgument, "--artifact needs at least one --owner"));
    return AdminCall(g, "GET", TenantPath(t) + "/keys/" + n + "/owners", Json(), PrintOwners);
  }
  if (clear && !owners.empty()) return ReportError(Error(Code::kInvalidArgument, "--clear takes no --owner"));
  Json keys = Json::array();
  for (const auto& f : owners) {
    auto k = loader::ReadOwnerPublicKeyFile(f);
    if (!k) return ReportError(k.error());
    keys.push_back(Base64UrlEncode(*k));
  }
  Json body{{"owners", keys}, {"artifact_ids", artifacts}};
  return AdminCall(g, "PUT", TenantPath(t) + "/keys/" + n + "/owners", body, PrintOwners);
}
}  // namespace

void AddTenantCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out) {
  auto* tenant = app.add_subcommand("tenant", "manage tenants");
  tenant->require_subcommand(1);
  AddTenantCreateCommand(*tenant, g, out);
  auto* list = tenant->add_subcommand("list", "list tenants");
  out.push_back({list, [&g] {
    return AdminCall(g, "GET", "/v1/admin/tenants", Json(), [](const Json& j) {
      for (const auto& t : j["tenants"]) std::printf("%s\n", ForTerminal(t["tenant"].get<std::string>()).c_str());
    });
  }});
}

void AddKeyCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out) {
  auto* key = app.add_subcommand("key", "manage model-weight and dataset keys");
  key->require_subcommand(1);
  auto full = std::make_shared<std::string>();
  auto cls = std::make_shared<std::string>("model-weights");
  auto* create = key->add_subcommand("create", "create a key (X25519 HPKE key pair, version 1)");
  create->add_option("TENANT/NAME", *full)->required();
  create->add_option("--class", *cls, "model-weights or dataset")->capture_default_str();
  auto print_key = [](const Json& j) {
    std::printf("%s/%s v%d (%s, %s)\n", ForTerminal(j["tenant"].get<std::string>()).c_str(), ForTerminal(j["key"].get<std::string>()).c_str(),
                j["version"].get<int>(), ForTerminal(j["class"].get<std::string>()).c_str(), ForTerminal(j["state"].get<std::string>()).c_str());
  };
  out.push_back({create, [&g, full, cls, print_key] {
    std::string t, n;
    if (!SplitKey(*full, t, n)) return 2;
    return AdminCall(g, "POST", TenantPath(t) + "/keys", Json{{"name", n}, {"class", *cls}}, print_key);
  }});
  auto* rotate = key->add_subcommand("rotate", "add a new version of a key");
  rotate->add_option("TENANT/NAME", *full)->required();
  out.push_back({rotate, [&g, full, print_key] {
    std::string t, n;
    if (!SplitKey(*full, t, n)) return 2;
    return AdminCall(g, "POST", TenantPath(t) + "/keys/" + n + "/rotate", Json::object(), print_key);
  }});
  auto* disable = key->add_subcommand("disable", "refuse every release of the key until enabled again (reversible)");
  KeyRef disable_ref = AddKeyRef(disable);
  out.push_back({disable, [&g, disable_ref] {
    std::string t, n;
    if (!disable_ref.Resolve(t, n)) return 2;
    return AdminCall(g, "POST", TenantPath(t) + "/keys/" + n + "/disable", Json::object(), PrintState);
  }});
  auto* enable = key->add_subcommand("enable", "re-enable a disabled key (not a destroyed one)");
  KeyRef enable_ref = AddKeyRef(enable);
  out.push_back({enable, [&g, enable_ref] {
    std::string t, n;
    if (!enable_ref.Resolve(t, n)) return 2;
    return AdminCall(g, "POST", TenantPath(t) + "/keys/" + n + "/enable", Json::object(), PrintState);
  }});
  auto* destroy = key->add_subcommand("destroy", "IRREVERSIBLY erase the key material of all (or one) versions");
  KeyRef destroy_ref = AddKeyRef(destroy);
  auto destroy_version = std::make_shared<std::int64_t>(0);
  auto confirm = std::make_shared<std::string>();
  destroy->add_option("--version", *destroy_version, "only this version (default: all)");
  destroy->add_option("--confirm", *confirm, "repeat the key name to confirm");
  out.push_back({destroy, [&g, destroy_ref, destroy_version, confirm] {
    std::string t, n;
    if (!destroy_ref.Resolve(t, n)) return 2;
    Json body{{"confirm", *confirm}};  // the broker refuses unless it equals the key name
    if (*destroy_version != 0) body["version"] = *destroy_version;
    return AdminCall(g, "POST", TenantPath(t) + "/keys/" + n + "/destroy", body, [](const Json& j) {
      std::printf("%s/%s: key material of %d version(s) destroyed\n", ForTerminal(j["tenant"].get<std::string>()).c_str(),
                  ForTerminal(j["key"].get<std::string>()).c_str(), j["destroyed_versions"].get<int>());
    });
  }});
  auto* import = key->add_subcommand("import", "import a raw 32-byte X25519 private key (new key, or its next version)");
  KeyRef import_ref = AddKeyRef(import);
  auto from = std::make_shared<std::string>();
  auto import_class = std::make_shared<std::string>();
  import->add_option("--from", *from, "file holding exactly 32 raw bytes")->required();
  import->add_option("--class", *import_class, "model-weights or dataset (new keys; default model-weights)");
  out.push_back({import, [&g, import_ref, from, import_class, print_key] {
    std::string t, n;
    if (!import_ref.Resolve(t, n)) return 2;
    return ImportKey(g, t, n, *from, *import_class, print_key);
  }});
  auto* owners = key->add_subcommand("owners", "pin the model owners (Ed25519 keys) whose signed artifacts alone the key "
                                                "releases, optionally an artifact allowlist; no option: show them");
  KeyRef owners_ref = AddKeyRef(owners);
  auto owner_files = std::make_shared<std::vector<std::string>>();
  auto artifact_ids = std::make_shared<std::vector<std::string>>();
  auto clear = std::make_shared<bool>(false);
  owners->add_option("--owner", *owner_files, "owner public key, PEM (`openssl pkey -in OWNER.pem -pubout`); repeatable; "
                                              "replaces the pinned set")->check(CLI::ExistingFile);
  owners->add_option("--artifact", *artifact_ids, "artifact id (64 hex, `sigil model inspect`) allowed; repeatable");
  owners->add_flag("--clear", *clear, "remove every pin: unsigned artifacts are released again");
  out.push_back({owners, [&g, owners_ref, owner_files, artifact_ids, clear] {
    std::string t, n;
    if (!owners_ref.Resolve(t, n)) return 2;
    return KeyOwners(g, t, n, *owner_files, *artifact_ids, *clear);
  }});
  auto tenant = std::make_shared<std::string>();
  auto* list = key->add_subcommand("list", "list a tenant's keys and versions");
  list->add_option("TENANT", *tenant)->required();
  out.push_back({list, [&g, tenant, print_key] {
    return AdminCall(g, "GET", TenantPath(*tenant) + "/keys", Json(), [print_key](const Json& j) {
      for (const auto& k : j["keys"]) print_key(k);
    });
  }});
  auto* pub = key->add_subcommand("public", "print the recipient file for offline encryption (newest version)");
  pub->add_option("TENANT/NAME", *full)->required();
  out.push_back({pub, [&g, full] {
    std::string t, n;
    if (!SplitKey(*full, t, n)) return 2;
    GlobalOptions raw = g;
    raw.json = true;  // the recipient file is JSON either way
    return AdminCall(raw, "GET", TenantPath(t) + "/keys/" + n + "/public", Json(), [](const Json&) {});
  }});

  auto* refs = app.add_subcommand("refs", "manage reference values (approved measurements, ...)");
  refs->require_subcommand(1);
  auto set = std::make_shared<std::string>();
  auto value = std::make_shared<std::string>();
  auto* add = refs->add_subcommand("add", "add a value to a tenant's named reference set");
  add->add_option("TENANT", *tenant)->required();
  add->add_option("SET", *set)->required();
  add->add_option("VALUE", *value)->required();
  out.push_back({add, [&g, tenant, set, value] {
    return AdminCall(g, "POST", TenantPath(*tenant) + "/refs", Json{{"set", *set}, {"value", *value}}, [](const Json& j) {
      std::printf("added %s to %s\n", ForTerminal(j["value"].get<std::string>()).c_str(), ForTerminal(j["set"].get<std::string>()).c_str());
    });
  }});
  AddRefsImportNvidiaRimCommand(*refs, g, out);  // cli/commands_refs_rim.cpp
  auto* rlist = refs->add_subcommand("list", "list a tenant's reference sets");
  rlist->add_option("TENANT", *tenant)->required();
  out.push_back({rlist, [&g, tenant] {
    return AdminCall(g, "GET", TenantPath(*tenant) + "/refs", Json(), [](const Json& j) {
      for (auto it = j["sets"].begin(); it != j["sets"].end(); ++it) {
        for (const auto& v : it.value()) std::printf("%s\t%s\n", ForTerminal(it.key()).c_str(), ForTerminal(v.get<std::string>()).c_str());
      }
    });
  }});
}

}  // namespace sigil::cli
