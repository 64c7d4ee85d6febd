#include "enclave/tpm/purpose_pcr.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "attestation/tpm/purpose_log.h"
#include "core/digest.h"
#include "core/json.h"
#include "enclave/tpm/pcr_selection.h"

namespace sigil::enclave::tpm {
namespace {

namespace att = attestation::tpm;

Error Errno(const std::string& what, const std::string& path) {
  return Error(Code::kUnavailable, "tpm purpose log: " + what + " " + path + ": " + std::strerror(errno));
}

TPML_PCR_SELECTION OnlySha256(std::uint32_t pcr) {
  TPML_PCR_SELECTION sel{};
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  SelectPurposePcr(sel, pcr);
  return sel;
}

}  // namespace

std::string TpmPurposeLogPath(std::uint32_t pcr) {
  return "/run/sigil/tpm-purpose-pcr" + std::to_string(pcr) + ".json";
}

Result<void> ValidatePurposeConfig(const TpmPurposeConfig& c) {
  if (c.pcr < att::kMinPurposePcr || c.pcr > att::kMaxPurposePcr) {
    return Fail(Code::kInvalidArgument, "tpm purpose PCR must be " + std::to_string(att::kMinPurposePcr) + ".." +
                                            std::to_string(att::kMaxPurposePcr) + " (not resettable, extendable "
                                            "from locality 0), got " + std::to_string(c.pcr));
  }
  if (c.log_path.empty()) return Fail(Code::kInvalidArgument, "tpm purpose log path is empty");
  return attestation::ValidatePurpose(c.event);
}

void SelectPurposePcr(TPML_PCR_SELECTION& sel, std::uint32_t pcr) {
  for (UINT32 i = 0; i < sel.count; ++i) {
    TPMS_PCR_SELECTION& s = sel.pcrSelections[i];
    if (s.hash == TPM2_ALG_SHA256 && pcr / 8 < s.sizeofSelect) {
      s.pcrSelect[pcr / 8] |= static_cast<BYTE>(1u << (pcr % 8));
    }
  }
}

Result<PurposeLogFile> PurposeLogFile::OpenLocked(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && ::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) {
    return Unexpected(Errno("cannot create the directory of", path));
  }
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return Unexpected(Errno("cannot open", path));
  int rc;
  do {
    rc = ::flock(fd.get(), LOCK_EX);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return Unexpected(Errno("cannot lock", path));
  return PurposeLogFile(std::move(fd), path);
}

std::optional<att::PurposeLog> PurposeLogFile::Read() const {
  std::string text;
  char buf[65536];
  for (off_t off = 0;;) {
    ssize_t n = ::pread(fd_.get(), buf, sizeof(buf), off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    off += n;
    if (text.size() > (std::size_t{4} << 20)) return std::nullopt;  // not ours: start anew
  }
  if (text.empty()) return std::nullopt;
  auto j = ParseJson(text, "tpm purpose log");
  if (!j) return std::nullopt;
  auto log = att::PurposeLogFromJson(*j);
  if (!log) return std::nullopt;
  return std::move(*log);
}

Result<void> PurposeLogFile::Write(const att::PurposeLog& log) const {
  std::string text = CanonicalJson(att::PurposeLogToJson(log)) + "\n";
  if (::ftruncate(fd_.get(), 0) != 0) return Unexpected(Errno("cannot truncate", path_));
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::pwrite(fd_.get(), text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unexpected(Errno("cannot write", path_));
    done += static_cast<std::size_t>(n);
  }
  return Ok();
}

Result<att::PurposeLog> ExtendPurpose(const EsysContext& ctx, const TpmPurposeConfig& c, const PurposeLogFile& file) {
  SIGIL_RETURN_IF_ERROR(ValidatePurposeConfig(c));
  SIGIL_ASSIGN_OR_RETURN(PcrRead now, ReadPcrs(ctx, OnlySha256(c.pcr)));
  const Bytes& current = now.values[TPM2_ALG_SHA256][c.pcr];
  std::optional<att::PurposeLog> stored = file.Read();
  att::PurposeLog log;
  if (stored && stored->pcr == c.pcr && stored->events.size() < att::kMaxPurposeEvents &&
      att::ReplayPurposeLog(*stored) == current) {
    log = std::move(*stored);
  } else {
    log = att::PurposeLog{c.pcr, current, {}};  // a new segment from the PCR's present value
  }
  const std::string event = attestation::PurposeEvent(c.event);
  const Sha256Digest digest = Sha256(AsBytes(event));
  TPML_DIGEST_VALUES values{};
  values.count = 1;
  values.digests[0].hashAlg = TPM2_ALG_SHA256;
  std::copy(digest.begin(), digest.end(), values.digests[0].digest.sha256);
  const ESYS_TR pcr_handle = ESYS_TR_PCR0 + c.pcr;
  SIGIL_RETURN_IF_ERROR(Status(Retry([&] {
                                 return Esys_PCR_Extend(ctx.get(), pcr_handle, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                                        ESYS_TR_NONE, &values);
                               }),
                               "Esys_PCR_Extend (purpose PCR " + std::to_string(c.pcr) + ")"));
  log.events.push_back(event);
  SIGIL_RETURN_IF_ERROR(file.Write(log));
  return log;
}

}  // namespace sigil::enclave::tpm
