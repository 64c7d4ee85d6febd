// Fuzz target for the strict CBOR decoder and the COSE_Sign1 parser (core/cbor.h,
// core/cose_sign1.h). Never crashes; on a successful parse the Sig_structure re-parses as strict
// CBOR, and re-encoding the message (tag 18, protected, {}, payload, signature) parses back to
// the same fields. Corpus: tests/fuzz/corpus/cose_sign1/ (RFC 9052 C.2.1, the PSA token, the CCA
// platform and realm tokens, and mutations: truncated, trailing byte, deep nesting, bad headers).
#include <cstddef>
#include <cstdint>

#include "core/cbor.h"
#include "core/cose_sign1.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  const ByteSpan input(data, size);
  (void)cbor::Decode(input, cbor::Limits{.allowed_tags = {18, 399, 907}}, "fuzz");
  auto s = cose::ParseSign1(input, cose::ParseOptions{}, "fuzz");
  if (s) {
    const Bytes tbs = cose::SigStructure(*s);
    SIGIL_CHECK(cbor::Decode(tbs, cbor::Limits{.max_size = 1 << 20}, "tbs").has_value());
    Bytes again{0xd2, 0x84};
    cbor::AppendBytes(again, s->protected_header);
    again.push_back(0xa0);
    cbor::AppendBytes(again, s->payload);
    cbor::AppendBytes(again, s->signature);
    auto back = cose::ParseSign1(again, cose::ParseOptions{.tag = cose::TagRule::kRequired, .max_size = 1 << 20}, "again");
    SIGIL_CHECK(back && back->protected_header == s->protected_header && back->payload == s->payload &&
                back->signature == s->signature && back->alg == s->alg);
  }
  return 0;
}
