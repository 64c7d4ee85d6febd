#include "cli/audit_memory.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "broker/audit/audit_tree.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"
#include "core/names.h"

namespace sigil::cli {
namespace {

Result<void> MakeDirs(const std::string& path) {
  for (std::size_t i = 1; i <= path.size(); ++i) {
    if (i != path.size() && path[i] != '/') continue;
    const std::string prefix = path.substr(0, i);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return Fail(Code::kUnavailable, "cannot create " + prefix + ": " + std::strerror(errno));
    }
  }
  return Ok();
}

// One file per audit key and tenant; the key is named by a prefix of its SHA-256.
std::string MemoryFile(const std::string& state_dir, ByteSpan audit_key, const std::string& tenant) {
  const auto digest = Sha256(audit_key);
  return state_dir + "/audit/" + HexEncode(ByteSpan(digest.data(), 16)) + "/" + tenant + ".json";
}

std::string RootText(const broker::merkle::Hash& root) { return Base64Encode(ByteSpan(root.data(), root.size())); }

}  // namespace

Result<std::string> SigilStateDir() {
  const char* xdg = std::getenv("XDG_STATE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/sigil";
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] == '/') return std::string(home) + "/.local/state/sigil";
  return Fail(Code::kUnavailable, "no state directory: set XDG_STATE_HOME or HOME to an absolute path");
}

Result<std::optional<RememberedLog>> RecallLog(ByteSpan audit_key, const std::string& tenant) {
  // The tenant names a file: from an export it is untrusted text.
  SIGIL_RETURN_IF_ERROR(ValidateName(tenant, "tenant"));
  SIGIL_ASSIGN_OR_RETURN(std::string dir, SigilStateDir());
  RememberedLog m;
  m.file = MemoryFile(dir, audit_key, tenant);
  struct stat st;
  if (::stat(m.file.c_str(), &st) != 0) return std::optional<RememberedLog>();
  SIGIL_ASSIGN_OR_RETURN(std::string text, ReadTextFile(m.file, 4096));
  SIGIL_ASSIGN_OR_RETURN(Json j, ParseJson(text, m.file));
  SIGIL_ASSIGN_OR_RETURN(std::int64_t size, GetInt(j, "size", m.file));
  SIGIL_ASSIGN_OR_RETURN(std::string root, GetString(j, "root", m.file));
  if (size < 1) return Fail(Code::kInvalidArgument, m.file + ": size must be at least 1");
  auto bytes = Base64Decode(root);
  if (!bytes || bytes->size() != m.root.size()) return Fail(Code::kInvalidArgument, m.file + ": root is not 32 bytes of base64");
  std::copy(bytes->begin(), bytes->end(), m.root.begin());
  m.size = static_cast<std::uint64_t>(size);
  return std::optional<RememberedLog>(std::move(m));
}

Result<std::string> RememberLog(ByteSpan audit_key, const std::string& tenant, std::uint64_t size,
                                const broker::merkle::Hash& root) {
  SIGIL_RETURN_IF_ERROR(ValidateName(tenant, "tenant"));
  SIGIL_ASSIGN_OR_RETURN(std::string dir, SigilStateDir());
  const std::string file = MemoryFile(dir, audit_key, tenant);
  SIGIL_RETURN_IF_ERROR(MakeDirs(file.substr(0, file.rfind('/'))));
  const Json memory{{"tenant", tenant}, {"size", size}, {"root", RootText(root)}};
  SIGIL_RETURN_IF_ERROR(WriteFileAtomic(file, AsBytes(memory.dump() + "\n"), 0600));
  return file;
}

Result<void> CheckAgainstMemory(ByteSpan audit_key, const std::string& tenant, const std::vector<broker::AuditRow>& rows,
                                broker::AuditVerifyReport& report, std::string* said) {
  SIGIL_ASSIGN_OR_RETURN(auto remembered, RecallLog(audit_key, tenant));
  SIGIL_ASSIGN_OR_RETURN(auto leaves, broker::AuditLeafHashes(rows, rows.size()));
  const auto root = broker::merkle::Root(leaves);
  if (remembered) {
    const std::uint64_t m = remembered->size;
    const std::string& file = remembered->file;
    if (m > rows.size()) {
      broker::AddProblem(report, {m, "log shrank: " + std::to_string(rows.size()) + " records, but this user accepted " +
                                        std::to_string(m) + " before (" + file + "); an older store or export?"});
      return Ok();
    }
    const auto prefix = broker::merkle::Root(std::span(leaves).first(static_cast<std::size_t>(m)));
    if (prefix != remembered->root) {
      broker::AddProblem(report, {std::nullopt, "history rewritten: the first " + std::to_string(m) +
                                                    " records differ from the log this user accepted before (" + file +
                                                    ")"});
      return Ok();
    }
    if (said) {
      *said = m == rows.size() ? "unchanged since last verified here"
                               : "extends the log verified here before (" + std::to_string(m) + " -> " +
                                     std::to_string(rows.size()) + " records)";
    }
  }
  SIGIL_ASSIGN_OR_RETURN(std::string file, RememberLog(audit_key, tenant, rows.size(), root));
  if (!remembered && said) *said = "first verification of this log here; remembered in " + file;
  return Ok();
}

}  // namespace sigil::cli
