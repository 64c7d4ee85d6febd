// Fuzz target for the safetensors parser (tests/fuzz/corpus/safetensors_header/). Never
// crashes; on success every tensor's byte range matches its dtype and shape, and for all-F32
// files it reads every tensor and checks the round trip: write the parsed tensors
// back out, parse again, and get the same index.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/result.h"
#include "enclave/safetensors.h"
#include "enclave/safetensors_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  using namespace sigil::enclave;
  const ByteSpan file(data, size);
  auto index = ParseSafetensors(file);
  if (!index) return 0;
  std::vector<TensorToWrite> tensors;
  for (const TensorInfo& t : index->tensors) {
    SIGIL_CHECK(t.end <= index->data_size && t.end - t.begin == t.elements * DTypeSize(t.dtype));
  }
  // The parser accepts every safetensors dtype; ReadF32 and the writer are F32-only, so the
  // round trip applies to all-F32 files.
  for (const TensorInfo& t : index->tensors) {
    if (t.dtype != DType::kF32) return 0;
  }
  for (const TensorInfo& t : index->tensors) {
    SIGIL_CHECK(ReadF32(file, *index, t).size() == t.elements);
    tensors.push_back({t.name, t.shape, file.subspan(index->data_start + t.begin, t.end - t.begin)});
  }
  auto rewritten = SerializeSafetensors(index->metadata, tensors);
  SIGIL_CHECK(rewritten.has_value());
  auto again = ParseSafetensors(*rewritten);
  SIGIL_CHECK(again.has_value());
  SIGIL_CHECK(again->tensors == index->tensors && again->metadata == index->metadata &&
              again->data_size == index->data_size);
  return 0;
}
