#include "broker/tpm/tpm_seal_root_key.h"

#include <filesystem>

#include "broker/tpm/tpm_seal.h"
#include "core/encoding.h"

namespace sigil::broker {
namespace {
constexpr char kSrkName[] = "owner/ecc-p256";
}  // namespace

Result<Json> SealRootKey(const SecretBytes& root, const TpmSealSpec& spec) {
  SIGIL_ASSIGN_OR_RETURN(PcrSelection pcrs, ParsePcrSelection(spec.pcrs));
  SIGIL_ASSIGN_OR_RETURN(enclave::tpm::EsysContext tpm, enclave::tpm::OpenTpm(spec.tcti));
  SIGIL_ASSIGN_OR_RETURN(SealedObject s, SealToTpm(tpm, root, pcrs, spec.password));
  return Json{{"type", "sigil-root-key"},
              {"mode", "tpm"},
              {"version", kTpmRootKeyVersion},
              {"srk", kSrkName},
              {"tcti", spec.tcti},
              {"pcrs", FormatPcrSelection(s.pcrs)},
              {"policy_digest", HexEncode(s.policy_digest)},
              {"password", s.with_password},
              {"public", Base64UrlEncode(s.public_area)},
              {"private", Base64UrlEncode(s.private_area)}};
}

Result<TpmRootKeyFile> ParseTpmRootKeyFile(const Json& j, const std::string& path) {
  if (!j.is_object()) return Fail(Code::kInvalidArgument, path + ": not a JSON object");
  SIGIL_ASSIGN_OR_RETURN(std::int64_t version, GetInt(j, "version", path));
  if (version != kTpmRootKeyVersion) {
    return Fail(Code::kInvalidArgument, path + ": unsupported TPM root key version " + std::to_string(version));
  }
  SIGIL_ASSIGN_OR_RETURN(std::string srk, GetString(j, "srk", path));
  if (srk != kSrkName) return Fail(Code::kInvalidArgument, path + ": unknown storage primary '" + srk + "'");
  TpmRootKeyFile f;
  SIGIL_ASSIGN_OR_RETURN(f.tcti, GetString(j, "tcti", path));
  SIGIL_ASSIGN_OR_RETURN(f.pcrs_text, GetString(j, "pcrs", path));
  SIGIL_ASSIGN_OR_RETURN(std::string digest_hex, GetString(j, "policy_digest", path));
  SIGIL_ASSIGN_OR_RETURN(std::string pub_b64, GetString(j, "public", path));
  SIGIL_ASSIGN_OR_RETURN(std::string priv_b64, GetString(j, "private", path));
  SIGIL_ASSIGN_OR_RETURN(f.sealed.with_password, GetBool(j, "password", path));
  SIGIL_ASSIGN_OR_RETURN(f.sealed.pcrs, ParsePcrSelection(f.pcrs_text));
  SIGIL_ASSIGN_OR_RETURN(f.sealed.policy_digest, HexDecode(digest_hex));
  SIGIL_ASSIGN_OR_RETURN(f.sealed.public_area, Base64UrlDecode(pub_b64));
  SIGIL_ASSIGN_OR_RETURN(f.sealed.private_area, Base64UrlDecode(priv_b64));
  return f;
}

Result<SecretBytes> UnsealRootKey(const Json& j, const std::string& path, const RootKeyUnlock& unlock) {
  SIGIL_ASSIGN_OR_RETURN(TpmRootKeyFile f, ParseTpmRootKeyFile(j, path));
  std::string tcti = unlock.tpm_tcti.empty() ? f.tcti : unlock.tpm_tcti;
  const SealedObject& s = f.sealed;
  const std::string& pcrs_text = f.pcrs_text;

  auto tpm = enclave::tpm::OpenTpm(tcti);
  if (!tpm) return std::move(tpm).error().Wrap(path + ": the root key is sealed to a TPM");
  auto key = UnsealFromTpm(*tpm, s, unlock.seal_password);
  if (key) return key;
  Error e = std::move(key).error();
  if (e.code() == Code::kVerificationFailed) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    return Fail(Code::kVerificationFailed,
                path + ": cannot unseal the root key: " + e.message() +
                    ". If this change is expected (firmware, boot loader or kernel update), check it, then "
                    "re-seal from the recovery copy made at init: sigild recover-root-key --data-dir " + dir +
                    " --recovery-passphrase-file FILE [--seal-pcrs " + pcrs_text +
                    "] (docs/threat-model.md, \"Root key protection\")");
  }
  return e.Wrap(path);
}

}  // namespace sigil::broker
