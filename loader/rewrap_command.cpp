#include "loader/rewrap_command.h"

#include <unistd.h>

#include <filesystem>

#include "attestation/purpose.h"
#include "core/protocol.h"
#include "loader/container_rewrap.h"
#include "loader/engine_exec.h"
#include "loader/model_set.h"
#include "loader/owner_key.h"
#include "loader/progress.h"

namespace sigil::loader {
namespace {

// A set's manifest binds each member's header (FORMAT.md "Model sets"), so a member rewrapped
// alone would be refused by the set loader; rewrapping a whole set is not built.
Result<void> RefuseModelSets(const std::string& in) {
  std::error_code ec;
  const std::filesystem::path p(in);
  if (std::filesystem::is_directory(p, ec)) {
    return Fail(Code::kInvalidArgument, "rewrap: " + in + " is a directory; rewrap takes one .sgl file (model sets "
                                        "are not supported: re-encrypt the set with `sigil model encrypt`)");
  }
  if (std::filesystem::exists(p.parent_path() / std::string(kSetManifestName), ec)) {
    return Fail(Code::kInvalidArgument, "rewrap: " + in + " is a member of a model set (its directory holds " +
                                        std::string(kSetManifestName) + ", which binds every member's header); "
                                        "model sets are not supported: re-encrypt the set with `sigil model encrypt`");
  }
  return Ok();
}

// The owner rule: an output must be signed if IN was, since a key that pins owners would refuse
// an unsigned one; by IN's signer unless --allow-new-signer.
Result<std::optional<Ed25519Signer>> OutputSigner(const Container& in, const RewrapCommand& cmd) {
  std::optional<Ed25519Signer> signer;
  if (!cmd.sign_key.empty()) {
    SIGIL_ASSIGN_OR_RETURN(Ed25519Signer s, ReadOwnerPrivateKeyFile(cmd.sign_key));
    signer.emplace(std::move(s));
  }
  if (!in.signature()) return signer;
  // Verified here and again before release (attested_load.cpp): a modified IN stops now.
  SIGIL_ASSIGN_OR_RETURN(ArtifactSignature sig, VerifyContainerSignature(in));
  if (!signer) {
    return Fail(Code::kInvalidArgument, "rewrap: " + in.path() + " is signed by owner key " + sig.signer_id() +
                                            "; the output must be signed again (the new header changes every tag), "
                                            "so give --sign with the owner's private key; an unsigned output would "
                                            "be refused by a key that pins owners");
  }
  if (!cmd.allow_new_signer && !ConstantTimeEqual(signer->public_key(), sig.public_key)) {
    return Fail(Code::kInvalidArgument, "rewrap: --sign is owner key " + protocol::OwnerKeyId(signer->public_key()) +
                                            ", but " + in.path() + " is signed by " + sig.signer_id() +
                                            "; use that key, or --allow-new-signer to sign with another");
  }
  return signer;
}

}  // namespace

Result<std::string> RunRewrap(LoadOptions o, const RewrapCommand& cmd) {
  SIGIL_RETURN_IF_ERROR(RefuseModelSets(cmd.in));
  if (auto out = CheckRewrapOutput(cmd.in, cmd.out, cmd.force); !out) {
    return Fail(Code::kInvalidArgument, out.error().message());  // a usage error: nothing attested yet
  }
  // Opened once: the container judged here (signature, signer rule) is the one released and rewrapped.
  SIGIL_ASSIGN_OR_RETURN(Container in, Container::Open(cmd.in));
  SIGIL_ASSIGN_OR_RETURN(std::optional<Ed25519Signer> signer, OutputSigner(in, cmd));
  for (const auto& f : cmd.trust_owners) {
    SIGIL_ASSIGN_OR_RETURN(Bytes k, ReadOwnerPublicKeyFile(f));
    o.trusted_owners.push_back(std::move(k));
  }
  // The code that holds the plaintext is sigil-load itself, unsandboxed: that is what the
  // evidence measures (`sigil-load measure --in-process --engine sigil-load` prints it).
  SIGIL_ASSIGN_OR_RETURN(int self, OpenEngineBinary("/proc/self/exe"));
  UniqueFd self_fd(self);
  o.engine_binary_fd = self_fd.get();
  o.sandbox_config = "";
  o.mode = std::string(attestation::kModeRewrap);
  o.model = cmd.in;
  SIGIL_ASSIGN_OR_RETURN(RewrapRelease r, AttestAndReleaseForRewrap(o, std::move(in)));
  const ContainerHeader& h = r.container.header();
  const std::string key = h.tenant + "/" + h.key_name;
  if (r.reseal.version == h.key_version) {
    return cmd.in + " is already at the newest version " + std::to_string(h.key_version) + " of " + key +
           "; nothing written\n";
  }
  RewrapOptions ro;
  ro.signer = signer ? &*signer : nullptr;
  ro.overwrite = cmd.force;
  ProgressReporter progress("rewrap", cmd.json ? ProgressMode::kJson : ProgressMode::kAuto, STDERR_FILENO);
  if (progress.active()) ro.progress = progress.Fn();
  auto written = RewrapContainer(r.container, r.dek,
                                 RewrapTarget{r.reseal.version, std::move(r.reseal.enc), std::move(r.reseal.sealed_dek)},
                                 cmd.out, ro);
  progress.Finish();
  if (!written) return std::move(written).error();
  if (cmd.json) {
    SIGIL_ASSIGN_OR_RETURN(Json info, InspectContainer(cmd.out));
    return info.dump(2) + "\n";
  }
  return "rewrapped " + cmd.in + " (" + key + " v" + std::to_string(h.key_version) + ") -> " + cmd.out + " (v" +
         std::to_string(written->key_version) + ", " + std::to_string(written->plaintext_size) + " bytes" +
         (signer ? ", signed by " + protocol::OwnerKeyId(signer->public_key()) : std::string()) + ")\n";
}

}  // namespace sigil::loader
