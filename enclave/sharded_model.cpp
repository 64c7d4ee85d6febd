#include "enclave/sharded_model.h"

#include <cstdio>
#include <cstdlib>
#include <set>

#include "core/json.h"
#include "enclave/mapped_file.h"
#include "enclave/safetensors.h"
#include "enclave/safetensors_writer.h"

namespace sigil::enclave {
namespace {

Unexpected<Error> Bad(std::string_view source, const std::string& what) {
  return Fail(Code::kInvalidArgument, std::string(source) + ": " + what);
}

std::string DirName(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

bool LooksLikeShardIndex(ByteSpan file) {
  // Byte 7 of a safetensors file is the top byte of its header length (at most 100 MiB): zero.
  return file.size() >= 8 && file[0] == '{' && file[7] != 0;
}

Result<void> ValidateShardFileName(std::string_view name) {
  if (name.empty() || name.size() > 255) return Fail(Code::kInvalidArgument, "file name must be 1..255 characters");
  if (name[0] == '.') return Fail(Code::kInvalidArgument, "file name '" + std::string(name) + "' starts with '.'");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) {
      return Fail(Code::kInvalidArgument,
                  "file name '" + std::string(name) + "' has a character outside [A-Za-z0-9._-]");
    }
  }
  return {};
}

Result<ShardedIndex> ParseShardIndex(std::string_view json_text, std::string_view source) {
  SIGIL_ASSIGN_OR_RETURN(Json j, ParseJson(json_text, source));
  if (!j.is_object()) return Bad(source, "index is not a JSON object");
  for (const auto& [k, v] : j.items()) {
    if (k != "weight_map" && k != "metadata") return Bad(source, "unknown member $." + k);
    if (!v.is_object()) return Bad(source, "$." + k + " is not an object");
  }
  auto wm = j.find("weight_map");
  if (wm == j.end() || wm->empty()) return Bad(source, "$.weight_map is missing or empty");
  ShardedIndex index;
  std::set<std::string> shards;
  for (const auto& [tensor, shard] : wm->items()) {
    if (!shard.is_string()) return Bad(source, "$.weight_map[\"" + tensor + "\"] is not a string");
    std::string name = shard.get<std::string>();
    if (auto ok = ValidateShardFileName(name); !ok) {
      return Bad(source, "$.weight_map[\"" + tensor + "\"]: " + ok.error().message());
    }
    index.weight_map.emplace(tensor, name);
    shards.insert(name);
  }
  index.shards.assign(shards.begin(), shards.end());
  return index;
}

Result<void> CheckShardsMatchIndex(const ShardedIndex& index, const std::map<std::string, ByteSpan>& shard_files) {
  std::set<std::string> expected(index.shards.begin(), index.shards.end());
  for (const auto& [name, bytes] : shard_files) {
    if (!expected.contains(name)) {
      return Fail(Code::kInvalidArgument, "shard '" + name + "' is not referenced by the index's weight_map");
    }
  }
  for (const auto& name : index.shards) {
    if (!shard_files.contains(name)) {
      return Fail(Code::kInvalidArgument, "the index names shard '" + name + "', which is missing");
    }
  }
  std::map<std::string, SafetensorsIndex> parsed;
  for (const auto& [name, bytes] : shard_files) {
    auto p = ParseSafetensors(bytes);
    if (!p) return std::move(p).error().Wrap("shard '" + name + "'");
    for (const TensorInfo& t : p->tensors) {
      auto it = index.weight_map.find(t.name);
      if (it == index.weight_map.end()) {
        return Fail(Code::kInvalidArgument, "shard '" + name + "' holds tensor '" + t.name + "', absent from the index");
      }
      if (it->second != name) {
        return Fail(Code::kInvalidArgument, "shard '" + name + "' holds tensor '" + t.name + "', which the index puts in '" +
                                                it->second + "'");
      }
    }
    parsed.emplace(name, std::move(p).value());
  }
  for (const auto& [tensor, shard] : index.weight_map) {
    if (parsed.at(shard).Find(tensor) == nullptr) {
      return Fail(Code::kInvalidArgument, "the index puts tensor '" + tensor + "' in shard '" + shard + "', which lacks it");
    }
  }
  return {};
}

Result<std::map<std::string, std::string>> ParseModelFilesEnv(std::string_view text) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(':', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view entry = text.substr(start, end - start);
    std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == entry.size()) {
      return Fail(Code::kInvalidArgument, std::string(kModelFilesEnv) + ": malformed entry '" + std::string(entry) +
                                              "' (expected name=path)");
    }
    if (!out.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1))).second) {
      return Fail(Code::kInvalidArgument, std::string(kModelFilesEnv) + ": duplicate name '" +
                                              std::string(entry.substr(0, eq)) + "'");
    }
    start = end + 1;
  }
  return out;
}

Result<Mlp> LoadShardedMlp(const std::string& index_path) {
  SIGIL_ASSIGN_OR_RETURN(MappedFile index_file, MappedFile::Open(index_path));
  ByteSpan ib = index_file.bytes();
  SIGIL_ASSIGN_OR_RETURN(ShardedIndex index,
                         ParseShardIndex(std::string_view(reinterpret_cast<const char*>(ib.data()), ib.size()), index_path));
  std::map<std::string, std::string> locations;
  if (const char* env = std::getenv(std::string(kModelFilesEnv).c_str()); env != nullptr) {
    SIGIL_ASSIGN_OR_RETURN(locations, ParseModelFilesEnv(env));
  }
  std::map<std::string, MappedFile> files;
  std::map<std::string, ByteSpan> spans;
  for (const std::string& shard : index.shards) {
    auto loc = locations.find(shard);
    std::string path = loc != locations.end() ? loc->second : DirName(index_path) + "/" + shard;
    auto f = MappedFile::Open(path);
    if (!f) return std::move(f).error().Wrap("shard '" + shard + "'");
    spans.emplace(shard, f->bytes());
    files.emplace(shard, std::move(f).value());
  }
  SIGIL_RETURN_IF_ERROR(CheckShardsMatchIndex(index, spans));
  std::map<std::string, SafetensorsIndex> parsed;
  for (const auto& [name, bytes] : spans) {
    SIGIL_ASSIGN_OR_RETURN(SafetensorsIndex p, ParseSafetensors(bytes));
    parsed.emplace(name, std::move(p));
  }
  // Same model layout as Mlp::FromSafetensors (mlp.h), with each tensor read from its shard.
  auto read = [&](const std::string& name, const TensorInfo*& info) -> Result<std::vector<float>> {
    auto it = index.weight_map.find(name);
    if (it == index.weight_map.end()) return Fail(Code::kInvalidArgument, "mlp: tensor '" + name + "' is missing");
    info = parsed.at(it->second).Find(name);
    return ReadF32(spans.at(it->second), parsed.at(it->second), *info);
  };
  std::vector<DenseLayer> layers;
  for (std::size_t i = 0; index.weight_map.contains("layers." + std::to_string(i) + ".weight"); ++i) {
    const std::string prefix = "layers." + std::to_string(i);
    const TensorInfo* w = nullptr;
    const TensorInfo* b = nullptr;
    DenseLayer l;
    SIGIL_ASSIGN_OR_RETURN(l.weight, read(prefix + ".weight", w));
    if (w->shape.size() != 2) {
      return Fail(Code::kInvalidArgument, "mlp: tensor '" + w->name + "' has shape " + ShapeToString(w->shape) +
                                              ", expected [out,in]");
    }
    l.out = static_cast<std::size_t>(w->shape[0]);
    l.in = static_cast<std::size_t>(w->shape[1]);
    SIGIL_ASSIGN_OR_RETURN(l.bias, read(prefix + ".bias", b));
    if (b->shape != std::vector<std::uint64_t>{w->shape[0]}) {
      return Fail(Code::kInvalidArgument, "mlp: tensor '" + b->name + "' has shape " + ShapeToString(b->shape) +
                                              ", expected [" + std::to_string(l.out) + "]");
    }
    layers.push_back(std::move(l));
  }
  if (index.weight_map.size() != 2 * layers.size()) {
    return Fail(Code::kInvalidArgument, index_path + ": the index holds tensors that are not part of an MLP "
                                                     "(layers.{i}.weight/.bias)");
  }
  auto mlp = Mlp::FromLayers(std::move(layers));
  if (!mlp) return std::move(mlp).error().Wrap(index_path);
  return mlp;
}

Result<Mlp> LoadAnyMlp(const std::string& path) {
  bool is_index = false;
  {
    SIGIL_ASSIGN_OR_RETURN(MappedFile f, MappedFile::Open(path));
    is_index = LooksLikeShardIndex(f.bytes());
  }
  return is_index ? LoadShardedMlp(path) : LoadMlp(path);
}

Result<ShardedModel> ShardSafetensors(ByteSpan file, std::size_t count) {
  SIGIL_ASSIGN_OR_RETURN(SafetensorsIndex index, ParseSafetensors(file));
  if (count == 0 || count > index.tensors.size()) {
    return Fail(Code::kInvalidArgument, "cannot split " + std::to_string(index.tensors.size()) + " tensors into " +
                                            std::to_string(count) + " shards");
  }
  ShardedModel out;
  Json weight_map = Json::object();
  std::size_t next = 0;
  for (std::size_t s = 0; s < count; ++s) {
    // Shard s takes tensors [next, end): the first (size % count) shards get one extra.
    std::size_t take = index.tensors.size() / count + (s < index.tensors.size() % count ? 1 : 0);
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, count);
    std::vector<TensorToWrite> tensors;
    for (std::size_t k = next; k < next + take; ++k) {
      const TensorInfo& t = index.tensors[k];
      tensors.push_back({t.name, t.shape, file.subspan(index.data_start + t.begin, t.end - t.begin)});
      weight_map[t.name] = name;
    }
    next += take;
    SIGIL_ASSIGN_OR_RETURN(Bytes bytes, SerializeSafetensors(index.metadata, tensors));
    out.shards.push_back({name, std::move(bytes)});
  }
  Json j = {{"metadata", {{"total_size", index.data_size}}}, {"weight_map", weight_map}};
  out.index_json = j.dump(2) + "\n";
  return out;
}

}  // namespace sigil::enclave
