// `sigil-load rewrap IN.sgl OUT.sgl`: move a container to its key's newest version
// (loader/FORMAT.md "Consequences", docs/cli.md). Checks IN (size, owner signature, --trust-owner,
// the re-signing rule) and OUT before attesting; attests in workload.mode "rewrap" with
// sigil-load itself as the measured code (nothing else touches the plaintext); the broker hands
// back the DEK and its reseal to the newest version; RewrapContainer writes OUT.
// Not thread-safe (one command per process).
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "loader/attested_load.h"

namespace sigil::loader {

struct RewrapCommand {
  std::string in, out;
  std::string sign_key;                   // --sign: owner private key (PEM), "" if none
  std::vector<std::string> trust_owners;  // --trust-owner public key files
  bool allow_new_signer = false;          // --allow-new-signer
  bool force = false;                     // --force: replace OUT
  bool json = false;                      // --json: progress and result as JSON
};

// Runs the command with `options` (broker, attester and TEE options; mode, model, engine and
// sandbox are set here). Returns what to print on stdout: a line saying what was written, or
// that IN already is at the newest version (then nothing is written), or with `json` the
// output's `sigil model inspect` JSON. Refusals (kInvalidArgument) come before any attestation:
// a model set or a member of one, an OUT that exists or is IN, a signed IN without --sign, or
// --sign with another owner key than IN's without --allow-new-signer.
Result<std::string> RunRewrap(LoadOptions options, const RewrapCommand& cmd);

}  // namespace sigil::loader
