// HTTP-independent handlers for EK-based TPM AK enrolment (protocol: docs/protocol.md
// "TPM AK enrolment by EK"). Workload endpoints need no admin certificate: the proof is the EK.
//   POST /v1/tpm/enrol/start  {tenant, ek, ak_public} -> {enrolment_id, credential_blob, encrypted_secret}
//   POST /v1/tpm/enrol/finish {enrolment_id, secret}   -> {tenant, id, tpm_name}
// Admin: POST/GET /v1/admin/tenants/T/tpm-eks registers / lists a tenant's EK public keys,
// DELETE /v1/admin/tenants/T/tpm-eks/ID removes one (pending enrolments with it then fail).
// EK trust lives in the data directory: DATA/trust/tpm-ek-ca/*.pem (EK CA certificates, read at
// start-up) and DATA/trust/tpm-eks/<tenant>/<fingerprint>.pem (registered EK SPKIs).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "broker/broker_context.h"
#include "broker/tpm/tpm_enrol.h"
#include "core/json.h"

namespace sigil::broker {

class TpmEnrolment {
 public:
  // Loads the EK CAs of `data_dir`. kInvalidArgument naming a CA file that does not parse.
  static Result<std::unique_ptr<TpmEnrolment>> Open(const std::string& data_dir);

  PendingEnrolments& pending() { return pending_; }
  X509_STORE* ek_cas() const { return cas_.get(); }
  // DATA/trust/tpm-eks/<tenant> (tenant already validated).
  std::string EkDir(const std::string& tenant) const;
  // Held by an EK removal, and by an enrolment finish from its EK trust check until its AK is
  // stored: so an enrolment either completes before a removal returns or is refused by it.
  std::mutex& ek_trust_mutex() { return ek_trust_mu_; }

 private:
  TpmEnrolment(std::string data_dir, X509StorePtr cas) : data_dir_(std::move(data_dir)), cas_(std::move(cas)) {}
  std::string data_dir_;
  X509StorePtr cas_;
  PendingEnrolments pending_;
  std::mutex ek_trust_mu_;
};

Result<Json> HandleTpmEnrolStart(const BrokerContext& ctx, const RequestMeta& meta, const Json& body);
Result<Json> HandleTpmEnrolFinish(const BrokerContext& ctx, const RequestMeta& meta, const Json& body);
// {"ek": PEM SubjectPublicKeyInfo or X.509 certificate, or base64url DER of either}.
Result<Json> AdminRegisterTpmEk(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                                const Json& body);
Result<Json> AdminListTpmEks(const BrokerContext& ctx, const std::string& tenant);
// `id` as listed (64 lowercase hex, else kInvalidArgument: it names a file); kNotFound if the
// tenant has no such EK. Audited `admin.tpm.ek.remove`.
Result<Json> AdminRemoveTpmEk(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                              const std::string& id);

}  // namespace sigil::broker
