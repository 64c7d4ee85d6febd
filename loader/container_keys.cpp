#include "loader/container_keys.h"

#include <openssl/rand.h>

#include "core/hpke.h"
#include "core/ossl.h"
#include "core/protocol.h"

namespace sigil::loader {

Result<ContainerHeader> EncryptFile(const std::string& in, const std::string& out,
                                    const RecipientKey& recipient, const EncryptOptions& options) {
  SIGIL_RETURN_IF_ERROR(ValidateRecipientKey(recipient));
  ContainerHeader header;
  header.tenant = recipient.tenant;
  header.key_name = recipient.key_name;
  header.key_version = recipient.version;
  if (RAND_bytes(header.salt.data(), static_cast<int>(header.salt.size())) != 1) {
    return OpenSslError(Code::kInternal, "RAND_bytes(salt)");
  }
  SIGIL_ASSIGN_OR_RETURN(SecretBytes dek, SecretBytes::Random(kDekSize));
  Bytes info = protocol::DekSealInfo(recipient.tenant, recipient.key_name, recipient.version);
  SIGIL_ASSIGN_OR_RETURN(hpke::Sealed sealed, hpke::Seal(hpke::kSigilSuite, recipient.public_key, info, {},
                                                         dek.Reveal(SecretAccess::Get())));
  if (sealed.enc.size() != kEncSize || sealed.ciphertext.size() != kSealedDekSize) {
    return Fail(Code::kInternal, "HPKE seal produced enc/ciphertext of unexpected sizes");
  }
  header.enc = std::move(sealed.enc);
  header.sealed_dek = std::move(sealed.ciphertext);
  return EncryptFileWithDek(in, out, std::move(header), dek, options);
}

Result<SecretBytes> OpenDek(const ContainerHeader& header, const SecretBytes& recipient_private_key) {
  SIGIL_RETURN_IF_ERROR(ValidateHeader(header));
  Bytes info = protocol::DekSealInfo(header.tenant, header.key_name, header.key_version);
  auto dek = hpke::OpenSecret(hpke::kSigilSuite, header.enc, recipient_private_key, info, {}, header.sealed_dek);
  if (!dek) {
    return dek.error().Wrap("cannot open the DEK sealed to " + header.tenant + "/" + header.key_name + " v" +
                            std::to_string(header.key_version));
  }
  if (dek->size() != kDekSize) return Fail(Code::kInvalidArgument, "sealed DEK is not 32 bytes");
  return dek;
}

}  // namespace sigil::loader
