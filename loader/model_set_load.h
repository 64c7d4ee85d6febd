// Loading a model set (model_set.h) for an engine: one attestation, one batch release of every
// member's DEK, the set's tags checked, then each member decrypted into its own sealed, locked
// memfd. The engine sees the set as fds: `{model}` is the main member (a sharded model's index)
// and SIGIL_MODEL_FILES="name=/proc/self/fd/N:..." maps every member name to its fd.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "loader/attested_load.h"
#include "loader/locked_memfd.h"
#include "loader/model_set.h"

namespace sigil::loader {

struct LoadedMember {
  std::string name;
  LockedMemfd memfd;
};

struct LoadedSet {
  SetManifest manifest;
  std::vector<LoadedMember> members;  // manifest order
  // The main member's memfd, or -1 if the set has no main member.
  int main_fd() const;
  // "name=/proc/self/fd/N:..." for every member (names cannot hold ':' or '=').
  std::string ModelFilesEnv() const;
};

// OpenModelSet(options.model), AttestAndReleaseAll, VerifySetTags, then DecryptToMemfd for each
// member (memfd name "sigil-model:<name>"). Nothing is decrypted unless the release and every
// tag succeed; a failing member leaves no member's plaintext reachable.
Result<LoadedSet> AttestAndDecryptSet(const LoadOptions& options);

}  // namespace sigil::loader
