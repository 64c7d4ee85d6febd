// Fuzz target model_container_header: ParseHeader must never crash, and every header it accepts
// must serialize back to the same bytes and reparse to an equal header (FORMAT.md: one encoding
// per header). The same input also goes to ParseSignatureTrailer (version 2's trailer, the only
// other bytes of a container parsed before authentication), which must round-trip likewise.
// Replayed over tests/fuzz/corpus/model_container_header/ in ordinary builds.
#include <cstdint>
#include <cstdlib>

#include "loader/container_format.h"
#include "loader/container_signature.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil::loader;
  sigil::ByteSpan in(data, size);
  if (auto t = ParseSignatureTrailer(in); t) {
    if (SerializeSignatureTrailer(*t) != sigil::Bytes(in.begin(), in.end())) std::abort();
  }
  (void)ParseHeaderPrefix(in);
  auto h = ParseHeader(in);
  if (!h) return 0;
  auto bytes = SerializeHeader(*h);
  if (!bytes || *bytes != sigil::Bytes(in.begin(), in.end())) std::abort();
  auto again = ParseHeader(*bytes);
  if (!again || !(*again == *h)) std::abort();
  ChunkLayout layout(bytes->size(), *h);
  if (layout.count() == 0 || layout.count() > kMaxChunkCount) std::abort();
  (void)HeaderToJson(*h, bytes->size());
  return 0;
}
