// sigil model encrypt|inspect: offline, no broker or admin credentials needed.
#include <unistd.h>

#include "cli/commands.h"
#include "loader/container_keys.h"
#include "loader/container_reader.h"
#include "loader/recipient_key.h"

namespace sigil::cli {
namespace {

int Encrypt(const std::string& recipient_file, const std::string& in, const std::string& out, bool json) {
  auto recipient = loader::ReadRecipientKeyFile(recipient_file);
  if (!recipient) return ReportError(recipient.error());
  loader::EncryptOptions o;
  if (!json && ::isatty(STDERR_FILENO)) {
    o.progress = [](std::uint64_t done, std::uint64_t total) {
      std::fprintf(stderr, "\rencrypting: %llu / %llu MiB", static_cast<unsigned long long>(done >> 20),
                   static_cast<unsigned long long>(total >> 20));
      if (done == total) std::fprintf(stderr, "\n");
    };
  }
  auto h = loader::EncryptFile(in, out, *recipient, o);
  if (!h) return ReportError(h.error());
  if (json) {
    auto info = loader::InspectContainer(out);
    if (!info) return ReportError(info.error());
    std::printf("%s\n", info->dump(2).c_str());
  } else {
    std::printf("encrypted %s -> %s for %s/%s v%u (%llu bytes)\n", in.c_str(), out.c_str(), h->tenant.c_str(),
                h->key_name.c_str(), h->key_version, static_cast<unsigned long long>(h->plaintext_size));
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
  auto in = std::make_shared<std::string>();
  auto dst = std::make_shared<std::string>();
  auto* enc = model->add_subcommand("encrypt", "encrypt a file to a key's public half (from `sigil key public`)");
  enc->add_option("--recipient", *recipient, "recipient file")->required()->check(CLI::ExistingFile);
  enc->add_option("IN", *in)->required()->check(CLI::ExistingFile);
  enc->add_option("OUT", *dst)->required();
  out.push_back({enc, [&g, recipient, in, dst] { return Encrypt(*recipient, *in, *dst, g.json); }});
  auto* ins = model->add_subcommand("inspect", "print an .sgl header (no secrets)");
  ins->add_option("FILE", *in)->required()->check(CLI::ExistingFile);
  out.push_back({ins, [in] { return Inspect(*in); }});
}

}  // namespace sigil::cli
