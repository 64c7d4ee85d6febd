#include "attestation/verifier.h"

#include "core/text.h"

namespace sigil::attestation {

void Registry::Add(std::unique_ptr<Verifier> v) {
  std::string name(v->tee());
  verifiers_[name] = std::move(v);
}

std::vector<std::string> Registry::Types() const {
  std::vector<std::string> out;
  for (const auto& [type, verifier] : verifiers_) out.push_back(type);
  return out;
}

Result<const Verifier*> Registry::Find(std::string_view tee) const {
  auto it = verifiers_.find(tee);
  if (it == verifiers_.end()) {
    return Fail(Code::kInvalidArgument, "unsupported tee type '" + EscapeForDisplay(tee, 32) + "'");
  }
  return it->second.get();
}

}  // namespace sigil::attestation
