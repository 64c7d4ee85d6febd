// sigil model encrypt|inspect: offline, no broker or admin credentials needed. `model rewrap`
// hands its arguments to `sigil-load rewrap`, the attested loader, which runs it.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/protocol.h"
#include "loader/container_keys.h"
#include "loader/container_reader.h"
#include "loader/model_set_encrypt.h"
#include "loader/owner_key.h"
#include "loader/progress.h"
#include "loader/recipient_key.h"

namespace sigil::cli {
namespace {

// `sigil model rewrap ARGS...` is `sigil-load rewrap ARGS...`: the sigil-load installed next to
// this binary (the package puts both in one directory), else the first on PATH. Returns only if
// it cannot be started (exit 2, as for a usage error).
int ExecSigilLoadRewrap(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"sigil-load", "rewrap"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (auto& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::string sibling = (self.parent_path() / "sigil-load").string();
    if (::access(sibling.c_str(), X_OK) == 0) ::execv(sibling.c_str(), raw.data());
  }
  ::execvp("sigil-load", raw.data());
  std::fprintf(stderr, "sigil: model rewrap runs `sigil-load rewrap`, which was found neither next to sigil nor on PATH "
                       "(%s); install sigil-load on the TEE host that runs the rewrap (docs/cli.md \"sigil-load rewrap\")\n",
               std::strerror(errno));
  return 2;
}

// A directory becomes a model set: one .sgl per file plus sigil-set.json (loader/FORMAT.md).
int EncryptSet(const loader::RecipientKey& recipient, const std::string& in, const std::string& out,
               const Ed25519Signer* signer, bool json) {
  loader::SetEncryptOptions o;
  o.file.signer = signer;  // every member is signed (FORMAT.md, "Model sets")
  loader::ProgressReporter progress("encrypt", json ? loader::ProgressMode::kJson : loader::ProgressMode::kAuto,
                                    STDERR_FILENO);
  if (progress.active()) o.file.progress = progress.Fn();  // one bar for the whole set
  auto m = loader::EncryptModelSet(in, out, recipient, o);
  progress.Finish();
  if (!m) return ReportError(m.error());
  if (json) {
    std::printf("%s", loader::SerializeSetManifest(*m).c_str());
  } else {
    std::printf("encrypted %zu files of %s -> %s for %s/%s v%u (main: %s)\n", m->members.size(), in.c_str(),
                out.c_str(), recipient.tenant.c_str(), recipient.key_name.c_str(), recipient.version,
                m->main.empty() ? "none" : m->main.c_str());
  }
  return 0;
}

int Encrypt(const std::string& recipient_file, const std::string& sign_key, const std::string& in,
            const std::string& out, bool json) {
  auto recipient = loader::ReadRecipientKeyFile(recipient_file);
  if (!recipient) return ReportError(recipient.error());
  std::optional<Ed25519Signer> signer;
  if (!sign_key.empty()) {
    auto s = loader::ReadOwnerPrivateKeyFile(sign_key);
    if (!s) return ReportError(s.error());
    signer.emplace(std::move(s).value());
  }
  const Ed25519Signer* sp = signer ? &*signer : nullptr;
  if (std::filesystem::is_directory(in)) return EncryptSet(*recipient, in, out, sp, json);
  loader::EncryptOptions o;
  o.signer = sp;
  // A bar on a terminal, JSON lines with --json (stderr; stdout keeps the result), else quiet.
  loader::ProgressReporter progress("encrypt", json ? loader::ProgressMode::kJson : loader::ProgressMode::kAuto,
                                    STDERR_FILENO);
  if (progress.active()) o.progress = progress.Fn();
  auto h = loader::EncryptFile(in, out, *recipient, o);
  progress.Finish();
  if (!h) return ReportError(h.error());
  if (json) {
    auto info = loader::InspectContainer(out);
    if (!info) return ReportError(info.error());
    std::printf("%s\n", info->dump(2).c_str());
  } else {
    std::printf("encrypted %s -> %s for %s/%s v%u (%llu bytes)%s\n", in.c_str(), out.c_str(), h->tenant.c_str(),
                h->key_name.c_str(), h->key_version, static_cast<unsigned long long>(h->plaintext_size),
                sp ? (", signed by " + protocol::OwnerKeyId(sp->public_key())).c_str() : "");
  }
  return 0;
}

int Inspect(const std::string& path) {
  auto info = loader::InspectContainer(path);
  if (!info) return ReportError(info.error());
  std::printf("%s\n", info->dump(2).c_str());
  return 0;
}

}  // namespace

void AddModelCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out) {
  auto* model = app.add_subcommand("model", "encrypt and inspect .sgl model containers (offline)");
  model->require_subcommand(1);
  auto recipient = std::make_shared<std::string>();
  auto sign = std::make_shared<std::string>();
  auto in = std::make_shared<std::string>();
  auto dst = std::make_shared<std::string>();
  auto* enc = model->add_subcommand("encrypt", "encrypt a file (or a model directory, as a set) to a key's public half "
                                               "(from `sigil key public`)");
  enc->add_option("--recipient", *recipient, "recipient file")->required()->check(CLI::ExistingFile);
  enc->add_option("--sign", *sign, "model owner's Ed25519 private key (PEM, from `openssl genpkey -algorithm ed25519`): "
                                   "sign the container (format version 2)")->check(CLI::ExistingFile);
  enc->add_option("IN", *in, "file, or directory of shards + index (OUT is then a directory)")->required()->check(CLI::ExistingPath);
  enc->add_option("OUT", *dst)->required();
  out.push_back({enc, [&g, recipient, sign, in, dst] { return Encrypt(*recipient, *sign, *in, *dst, g.json); }});
  auto* ins = model->add_subcommand("inspect", "print an .sgl header (no secrets)");
  ins->add_option("FILE", *in)->required()->check(CLI::ExistingFile);
  out.push_back({ins, [in] { return Inspect(*in); }});
  // Run by sigil-load, not here: a rewrap needs the DEK in the clear, which only an attested
  // release hands out, and this CLI is neither attested nor ever given a DEK (docs/cli.md).
  // Every argument after `rewrap` goes to `sigil-load rewrap` unchanged.
  auto* rew = model->add_subcommand("rewrap", "move a container to its key's newest version: runs `sigil-load rewrap` "
                                              "with these arguments (attested; on the TEE host)");
  // Nothing after `rewrap` is parsed here, options included: without fallthrough(false) this
  // CLI's own global --broker (the admin endpoint) would take the workload's --broker.
  rew->fallthrough(false);
  rew->prefix_command();
  out.push_back({rew, [rew] { return ExecSigilLoadRewrap(rew->remaining()); }});
}

}  // namespace sigil::cli
