// Admin credentials on the CLI side (issue 12): a fresh ECDSA P-256 key with a PKCS#10 request
// for the broker's admin CA, checks on the certificate it returns, and writing the pair into a
// credentials directory (cli/admin_client.h) without ever overwriting one by accident.
#pragma once

#include <optional>
#include <string>

#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil::cli {

struct KeyAndCsr {
  SecretBytes key_pem;  // PKCS#8 PEM, unencrypted; wiped when dropped
  std::string csr_pem;  // PKCS#10 PEM, signed with the key
};

// A fresh P-256 key (EVP_EC_gen) and a CSR with subject CN=`common_name`, signed with SHA-256.
// The broker ignores the subject: it names the principal in the certificate's URI SAN itself.
Result<KeyAndCsr> GenerateKeyAndCsr(const std::string& common_name);

// Reads a PEM PKCS#10 request (e.g. from `openssl req -new`), checks its self-signature and
// returns its PEM text. kInvalidArgument, naming `path`, for anything else.
Result<std::string> ReadCsrFile(const std::string& path);

// Checks that `cert_pem` is one PEM X.509 certificate whose public key is the one `csr_pem`
// carries, so a certificate for another key is never written next to ours.
Result<void> CheckCertificateMatchesCsr(const std::string& cert_pem, const std::string& csr_pem);

// mkdir -p with mode 0700 for the directories it creates.
Result<void> MakePrivateDirs(const std::string& dir);

// Fails (kAlreadyExists) if DIR/admin.pem or DIR/admin.key exists: credentials are never
// overwritten except by ReplaceCredentials.
Result<void> RefuseExistingCredentials(const std::string& dir);

// Writes DIR/admin.key (0600, when `key_pem` is given) and DIR/admin.pem (0644). Both are written
// in full to temporaries in DIR and fsynced before either is renamed into place (key first), so
// a failure to write leaves the old pair, if any, untouched.
Result<void> WriteCredentials(const std::string& dir, const std::string& cert_pem, const SecretBytes* key_pem);

}  // namespace sigil::cli
