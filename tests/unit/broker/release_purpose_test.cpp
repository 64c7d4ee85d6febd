// CheckReleasePurpose: the key-class rule the broker applies before any DEK is resealed,
// whatever the tenant policy says.
#include "broker/api/release_purpose.h"

#include <gtest/gtest.h>

#include "tests/support/matchers.h"

namespace sigil::broker {
namespace {

attestation::Claims WithMode(std::optional<attestation::ClaimValue> mode) {
  attestation::Claims c;
  c.Set("tee", std::string("dev"));
  if (mode) c.Set("workload.mode", *mode);
  return c;
}

TEST(ReleasePurpose, ModelWeightsOnlyToSealedMemory) {
  ASSERT_OK_AND_ASSIGN(std::string s, CheckReleasePurpose("model-weights", WithMode(std::string("sealed-memory"))));
  EXPECT_EQ(s, "workload.mode=sealed-memory");
  auto stream = CheckReleasePurpose("model-weights", WithMode(std::string("stream")));
  EXPECT_CODE(stream, Code::kPermissionDenied);
  EXPECT_NE(stream.error().message().find("workload.mode 'stream'"), std::string::npos) << stream.error().message();
  auto none = CheckReleasePurpose("model-weights", WithMode(std::nullopt));
  EXPECT_CODE(none, Code::kPermissionDenied);
  EXPECT_NE(none.error().message().find("does not prove"), std::string::npos) << none.error().message();
  // Only a string claim is a proof; near misses are not.
  EXPECT_CODE(CheckReleasePurpose("model-weights", WithMode(true)), Code::kPermissionDenied);
  EXPECT_CODE(CheckReleasePurpose("model-weights", WithMode(std::string("Sealed-Memory"))), Code::kPermissionDenied);
  EXPECT_CODE(CheckReleasePurpose("model-weights", WithMode(std::string("sealed-memory "))), Code::kPermissionDenied);
}

TEST(ReleasePurpose, DatasetsToEitherModeOrNone) {
  EXPECT_EQ(CheckReleasePurpose("dataset", WithMode(std::string("stream"))).value(), "workload.mode=stream");
  EXPECT_EQ(CheckReleasePurpose("dataset", WithMode(std::string("sealed-memory"))).value(),
            "workload.mode=sealed-memory");
  EXPECT_EQ(CheckReleasePurpose("dataset", WithMode(std::nullopt)).value(), "workload.mode=unproven");
}

TEST(ReleasePurpose, RewrapGetsBothClasses) {
  // A rewrap writes only ciphertext (sigil-load rewrap), so model weights may go to it.
  EXPECT_EQ(CheckReleasePurpose("model-weights", WithMode(std::string("rewrap"))).value(), "workload.mode=rewrap");
  EXPECT_EQ(CheckReleasePurpose("dataset", WithMode(std::string("rewrap"))).value(), "workload.mode=rewrap");
  EXPECT_CODE(CheckReleasePurpose("model-weights", WithMode(std::string("Rewrap"))), Code::kPermissionDenied);
}

TEST(ReleasePurpose, ResealOnlyForRewrapAndRewrapOnlyWithReseal) {
  EXPECT_OK(CheckRewrapRequest(WithMode(std::string("rewrap")), true));
  for (const char* other : {"sealed-memory", "stream"}) {
    auto r = CheckRewrapRequest(WithMode(std::string(other)), true);
    EXPECT_CODE(r, Code::kPermissionDenied);
    EXPECT_NE(r.error().message().find(std::string("workload.mode '") + other + "'"), std::string::npos)
        << r.error().message();
    EXPECT_OK(CheckRewrapRequest(WithMode(std::string(other)), false));
  }
  EXPECT_CODE(CheckRewrapRequest(WithMode(std::nullopt), true), Code::kPermissionDenied);
  EXPECT_OK(CheckRewrapRequest(WithMode(std::nullopt), false));
  // A rewrap workload gets no DEK without asking for the new header's seal.
  EXPECT_CODE(CheckRewrapRequest(WithMode(std::string("rewrap")), false), Code::kPermissionDenied);
}

TEST(ReleasePurpose, UnknownClassIsRefused) {
  EXPECT_CODE(CheckReleasePurpose("", WithMode(std::string("sealed-memory"))), Code::kPermissionDenied);
  EXPECT_CODE(CheckReleasePurpose("Model-Weights", WithMode(std::string("sealed-memory"))), Code::kPermissionDenied);
}

}  // namespace
}  // namespace sigil::broker
