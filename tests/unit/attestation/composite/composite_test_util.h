// Test-only verifier decorators for the composite tests (see composite_test.cpp's header for why
// a captured report needs one). Never built outside tests.
#pragma once

#include <utility>

#include "attestation/verifier.h"
#include "core/bytes.h"

namespace sigil::testing::composite {

// Passes input to `inner` unchanged, except when the expected binding is exactly `when_asked_for`:
// then the report is checked against `vector_value` (the captured report's own report data or
// nonce) instead. Every other binding fails on a real report, as in production.
class TestOnlyBindingMap final : public attestation::Verifier {
 public:
  TestOnlyBindingMap(const attestation::Verifier& inner, Bytes when_asked_for, Bytes vector_value)
      : inner_(inner), when_(std::move(when_asked_for)), vector_(std::move(vector_value)) {}
  std::string_view tee() const override { return inner_.tee(); }
  Result<attestation::Claims> Verify(const attestation::VerifyInput& input) const override {
    attestation::VerifyInput in = input;
    if (Bytes(input.expected_binding.begin(), input.expected_binding.end()) == when_) in.expected_binding = vector_;
    return inner_.Verify(in);
  }

 private:
  const attestation::Verifier& inner_;
  Bytes when_, vector_;
};

// A non-owning view, so one real verifier can sit under several composites.
class Borrowed final : public attestation::Verifier {
 public:
  explicit Borrowed(const attestation::Verifier& v) : v_(v) {}
  std::string_view tee() const override { return v_.tee(); }
  Result<attestation::Claims> Verify(const attestation::VerifyInput& input) const override { return v_.Verify(input); }

 private:
  const attestation::Verifier& v_;
};

}  // namespace sigil::testing::composite
