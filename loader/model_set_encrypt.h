// `sigil model encrypt DIR OUT_DIR`: encrypts every file of a model directory as a model set
// (model_set.h, FORMAT.md "Model sets"). Safetensors shards get their headers validated and a
// *.safetensors.index.json must reference exactly the shards present; any other file (GGUF,
// tokenizer, config) is encrypted unchanged without interpretation.
#pragma once

#include <functional>
#include <string>

#include "core/result.h"
#include "loader/container_writer.h"
#include "loader/model_set.h"
#include "loader/recipient_key.h"

namespace sigil::loader {

struct SetEncryptOptions {
  EncryptOptions file;  // applied to every member (content type: guessed per member)
  // Called before each member is encrypted, with its name, on the calling thread.
  std::function<void(const std::string& name)> on_member;
};

// Validates the whole directory first (nothing is written if any check fails): regular files
// only (names starting with '.' are skipped, subdirectories refused), names of
// [A-Za-z0-9._-], at most one *.safetensors.index.json, which must reference exactly the
// *.safetensors files present with every tensor in the shard it names; every *.safetensors
// must parse with enclave::ParseSafetensors. Then creates OUT_DIR if needed, encrypts each file
// F to OUT_DIR/F.sgl with its own fresh DEK and salt, and writes OUT_DIR/sigil-set.json last
// (atomically), so an interrupted run leaves no loadable set. kInvalidArgument naming the file
// and the problem, kNotFound, kUnavailable (I/O), kInternal.
Result<SetManifest> EncryptModelSet(const std::string& in_dir, const std::string& out_dir,
                                    const RecipientKey& recipient, const SetEncryptOptions& options = {});

}  // namespace sigil::loader
