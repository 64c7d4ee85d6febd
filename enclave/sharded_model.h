// Sharded safetensors models: a set of shard files plus the index JSON that Hugging Face writes
// next to them (model.safetensors.index.json):
//   {"metadata": {...}, "weight_map": {"<tensor name>": "<shard file name>", ...}}
// Used by `sigil model encrypt DIR` (validation at encryption time), by `sigil-infer run` (load
// an MLP spread over shards) and by `sigil-infer shard` (split one file into shards for demos
// and tests). Shards are located through the view sigil-load gives the engine: the environment
// variable SIGIL_MODEL_FILES="name=path:name=path..." (loader/FORMAT.md, "Model sets"), falling
// back to the index's own directory for plaintext models on disk.
// Pure functions over bytes and paths; thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "enclave/mlp.h"

namespace sigil::enclave {

inline constexpr std::string_view kModelFilesEnv = "SIGIL_MODEL_FILES";

struct ShardedIndex {
  std::map<std::string, std::string> weight_map;  // tensor name -> shard file name
  std::vector<std::string> shards;                // distinct shard names, sorted
};

// True if `file` looks like an index: it starts with '{' and byte 7 is not NUL. A safetensors
// file starts with a u64le header length of at most 100 MiB, so its byte 7 is always 0 (and
// JSON text never holds a raw NUL), even when its first byte happens to be 0x7B.
bool LooksLikeShardIndex(ByteSpan file);

// Parses the index JSON strictly: an object with "weight_map" (object of string -> string, at
// least one entry) and optionally "metadata" (object); shard names must be plain file names
// (ValidateShardFileName). kInvalidArgument naming `source` and the problem.
Result<ShardedIndex> ParseShardIndex(std::string_view json_text, std::string_view source);

// A plain file name: 1..255 characters of [A-Za-z0-9._-], not starting with '.'. Such names
// cannot contain '/', ':' or '=' (the SIGIL_MODEL_FILES separators).
Result<void> ValidateShardFileName(std::string_view name);

// Checks that every tensor of every shard appears in the weight map under that shard, and every
// weight-map entry names a tensor present in its shard. `shard_files` maps shard name -> whole
// file image (each must parse with ParseSafetensors); it must hold exactly index.shards.
Result<void> CheckShardsMatchIndex(const ShardedIndex& index, const std::map<std::string, ByteSpan>& shard_files);

// Parses SIGIL_MODEL_FILES-style text "name=path:name=path". kInvalidArgument on a malformed
// entry or a duplicate name.
Result<std::map<std::string, std::string>> ParseModelFilesEnv(std::string_view text);

// Loads the MLP whose index is at `index_path`: each shard is found in the SIGIL_MODEL_FILES
// environment variable if set, else next to the index. Validates the index against the shards
// (CheckShardsMatchIndex) before reading any tensor.
Result<Mlp> LoadShardedMlp(const std::string& index_path);

// LoadShardedMlp if the file at `path` is an index, else LoadMlp.
Result<Mlp> LoadAnyMlp(const std::string& path);

struct ShardFile {
  std::string name;
  Bytes bytes;
};
struct ShardedModel {
  std::vector<ShardFile> shards;  // "model-0000i-of-0000N.safetensors"
  std::string index_json;         // model.safetensors.index.json
};
// Splits a safetensors image into `count` shards (tensors in file order, as evenly as possible
// by tensor count; each shard non-empty) with the index, as Hugging Face names them.
// kInvalidArgument if count is 0 or exceeds the number of tensors.
Result<ShardedModel> ShardSafetensors(ByteSpan file, std::size_t count);

}  // namespace sigil::enclave
