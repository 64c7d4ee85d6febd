// The strict safetensors parser: a valid file, then one test per validation failure.
#include "enclave/safetensors.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fcntl.h>

#include "enclave/mapped_file.h"
#include "enclave/safetensors_writer.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/enclave/safetensors_test_util.h"

namespace sigil::enclave {
namespace {

using sigil::testing::FileWithHeader;

TEST(Safetensors, ParsesAValidFile) {
  const std::vector<float> a = {1.0f, -2.5f, 3.25f, 0.0f, 1e-3f, -7.0f}, b = {42.0f};
  Bytes ab = F32ToBytes(a), bb = F32ToBytes(b);
  std::vector<TensorToWrite> tensors = {{"a", {2, 3}, ab}, {"b", {}, bb}};
  ASSERT_OK_AND_ASSIGN(Bytes file, SerializeSafetensors({{"k", "v"}}, tensors));
  ASSERT_OK_AND_ASSIGN(SafetensorsIndex index, ParseSafetensors(file));
  EXPECT_EQ(index.metadata, (std::map<std::string, std::string>{{"k", "v"}}));
  ASSERT_EQ(index.tensors.size(), 2u);
  EXPECT_EQ(index.tensors[0], (TensorInfo{"a", DType::kF32, {2, 3}, 6, 0, 24}));
  EXPECT_EQ(index.tensors[1], (TensorInfo{"b", DType::kF32, {}, 1, 24, 28}));
  EXPECT_EQ(index.data_start % 8, 0u);
  EXPECT_EQ(index.data_size, 28u);
  EXPECT_EQ(ReadF32(file, index, *index.Find("a")), a);
  EXPECT_EQ(ReadF32(file, index, *index.Find("b")), b);
  EXPECT_EQ(index.Find("c"), nullptr);
}

TEST(Safetensors, AcceptsUnalignedDataAndPaddingAndEmptyTensors) {
  // Header of odd length (data section not 4-aligned), trailing-space padding, a zero-size tensor.
  std::string header = R"({"z":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]},)"
                       R"("w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}  )";
  Bytes file = FileWithHeader(header, F32ToBytes(std::vector<float>{0.5f}));
  ASSERT_OK_AND_ASSIGN(SafetensorsIndex index, ParseSafetensors(file));
  EXPECT_EQ(ReadF32(file, index, *index.Find("w")), std::vector<float>{0.5f});
  EXPECT_TRUE(ReadF32(file, index, *index.Find("z")).empty());
}

// Real checkpoints are mostly BF16/F16 (and quantised U8/I8/F8): the header check accepts every
// dtype the format defines, sized by its element width.
TEST(Safetensors, AcceptsEveryDtypeOfTheFormatSizedByElementWidth) {
  const std::pair<const char*, std::size_t> dtypes[] = {
      {"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
      {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4}, {"I64", 8}, {"U64", 8}, {"F64", 8}};
  for (const auto& [name, size] : dtypes) {
    const std::string header = std::string(R"({"t":{"dtype":")") + name + R"(","shape":[3],"data_offsets":[0,)" +
                               std::to_string(3 * size) + "]}}";
    ASSERT_OK_AND_ASSIGN(SafetensorsIndex index, ParseSafetensors(FileWithHeader(header, Bytes(3 * size, 0x11))));
    EXPECT_EQ(DTypeName(index.tensors[0].dtype), name);
    EXPECT_EQ(DTypeSize(index.tensors[0].dtype), size);
    EXPECT_EQ(index.tensors[0].end, 3 * size) << name;
  }
}

TEST(Safetensors, MetadataOnlyFileWithNoDataIsValid) {
  ASSERT_OK(ParseSafetensors(FileWithHeader(R"({"__metadata__":{"a":"b"}})", {})));
  ASSERT_OK(ParseSafetensors(FileWithHeader("{}", {})));
}

struct BadCase {
  const char* name;
  Bytes file;
  const char* message;  // substring the error must contain
};

Bytes Raw(std::initializer_list<std::uint8_t> b) { return Bytes(b); }
Bytes LengthOnly(std::uint64_t n, std::size_t extra) {
  Bytes b;
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  b.resize(8 + extra, '{');
  return b;
}
std::string T(const std::string& name, const std::string& dtype, const std::string& shape, const std::string& offs) {
  return "\"" + name + R"(":{"dtype":)" + dtype + R"(,"shape":)" + shape + R"(,"data_offsets":)" + offs + "}";
}
Bytes H(const std::string& body, std::size_t data) { return FileWithHeader("{" + body + "}", Bytes(data, 0)); }

class SafetensorsRefuses : public ::testing::TestWithParam<BadCase> {};

TEST_P(SafetensorsRefuses, WithAMessageNamingTheProblem) {
  auto r = ParseSafetensors(GetParam().file);
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find(GetParam().message), std::string::npos) << r.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    All, SafetensorsRefuses,
    ::testing::Values(
        BadCase{"Empty", {}, "truncated: 0 bytes"},
        BadCase{"TruncatedLength", Raw({2, 0, 0}), "truncated: 3 bytes"},
        BadCase{"HeaderLongerThanFile", LengthOnly(100, 10), "header length 100 exceeds the 10 bytes"},
        BadCase{"HeaderOver100MiB", LengthOnly((std::uint64_t{100} << 20) + 1, 2), "exceeds the 100 MiB limit"},
        BadCase{"HeaderLengthHuge", LengthOnly(~std::uint64_t{0}, 2), "exceeds the 100 MiB limit"},
        BadCase{"TruncatedData", H(T("a", "\"F32\"", "[2]", "[0,8]"), 7), "tensor 'a': data_offsets [0,8] out of range"},
        BadCase{"NotAnObject", FileWithHeader("[1]", {}), "must be a JSON object starting with '{'"},
        BadCase{"LeadingSpace", FileWithHeader(" {}", {}), "starting with '{'"},
        BadCase{"BadJson", FileWithHeader("{\"a\":", {}), "header is not valid JSON at byte"},
        BadCase{"InvalidUtf8", FileWithHeader("{\"\xff\":1}", {}), "not valid JSON"},
        BadCase{"TooDeep", FileWithHeader(R"({"a":[[[[[[[[1]]]]]]]]})", {}), "nests deeper than 8"},
        BadCase{"DuplicateName",
                H(T("a", "\"F32\"", "[1]", "[0,4]") + "," + T("a", "\"F32\"", "[1]", "[4,8]"), 8),
                "duplicate tensor name 'a'"},
        BadCase{"DuplicateField", H(R"("a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]})", 4),
                "duplicate key 'dtype'"},
        BadCase{"Overlap", H(T("a", "\"F32\"", "[2]", "[0,8]") + "," + T("b", "\"F32\"", "[2]", "[4,12]"), 12),
                "tensor 'b': overlaps tensor 'a'"},
        BadCase{"SameRange", H(T("a", "\"F32\"", "[2]", "[0,8]") + "," + T("b", "\"F32\"", "[2]", "[0,8]"), 8),
                "tensor 'b': overlaps tensor 'a'"},
        BadCase{"Gap", H(T("a", "\"F32\"", "[1]", "[0,4]") + "," + T("b", "\"F32\"", "[1]", "[8,12]"), 12),
                "tensor 'b': gap of 4 bytes"},
        BadCase{"GapAtStart", H(T("a", "\"F32\"", "[1]", "[4,8]"), 8), "tensor 'a': gap of 4 bytes"},
        BadCase{"TrailingData", H(T("a", "\"F32\"", "[1]", "[0,4]"), 8), "4 bytes at the end of the data section"},
        BadCase{"OutOfRange", H(T("a", "\"F32\"", "[1]", "[8,12]"), 8), "tensor 'a': data_offsets [8,12] out of range"},
        BadCase{"EndBeforeBegin", H(T("a", "\"F32\"", "[1]", "[8,4]"), 8), "end is before begin"},
        BadCase{"SizeMismatch", H(T("a", "\"F32\"", "[3]", "[0,8]"), 8), "spans 8 bytes but F32 shape [3] needs 12"},
        BadCase{"BadDtype", H(T("w", "\"F17\"", "[2]", "[0,4]"), 4), "tensor 'w': unknown dtype 'F17'"},
        BadCase{"LowercaseDtype", H(T("w", "\"bf16\"", "[2]", "[0,4]"), 4), "tensor 'w': unknown dtype 'bf16'"},
        BadCase{"Bf16SizeMismatch", H(T("w", "\"BF16\"", "[3]", "[0,4]"), 4), "spans 4 bytes but BF16 shape [3] needs 6"},
        BadCase{"DtypeNotString", H(T("w", "1", "[1]", "[0,4]"), 4), "tensor 'w': dtype must be a string"},
        BadCase{"NegativeDim", H(T("w", "\"F32\"", "[-1]", "[0,4]"), 4), "tensor 'w': every shape dimension"},
        BadCase{"FloatDim", H(T("w", "\"F32\"", "[1.0]", "[0,4]"), 4), "tensor 'w': every shape dimension"},
        BadCase{"ShapeNotArray", H(T("w", "\"F32\"", "4", "[0,4]"), 4), "tensor 'w': shape must be an array"},
        BadCase{"ShapeOverflow", H(T("w", "\"F32\"", "[4294967296,4294967296,2]", "[0,4]"), 4), "overflows 64 bits"},
        BadCase{"ByteCountOverflow", H(T("w", "\"F32\"", "[4611686018427387905]", "[0,4]"), 4),
                "is too large for F32 data"},
        BadCase{"OffsetsOneElement", H(T("w", "\"F32\"", "[1]", "[4]"), 4), "data_offsets must be an array [begin, end]"},
        BadCase{"OffsetNegative", H(T("w", "\"F32\"", "[1]", "[-4,0]"), 4), "data_offsets begin must be"},
        BadCase{"MissingShape", H(R"("w":{"dtype":"F32","data_offsets":[0,4]})", 4), "tensor 'w': missing 'shape'"},
        BadCase{"UnknownField", H(R"("w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1})", 4),
                "tensor 'w': unknown field 'x'"},
        BadCase{"TensorNotObject", H(R"("w":[1])", 0), "tensor 'w': expected an object"},
        BadCase{"MetadataNotObject", H(R"("__metadata__":"x")", 0), "__metadata__ must be an object"},
        BadCase{"MetadataValueNotString", H(R"("__metadata__":{"a":1})", 0), "__metadata__.a must be a string"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(Safetensors, WriterRefusesMismatchedOrDuplicateTensors) {
  Bytes four(4, 0);
  std::vector<TensorToWrite> dup = {{"a", {1}, four}, {"a", {1}, four}};
  EXPECT_CODE(SerializeSafetensors({}, dup), Code::kInvalidArgument);
  std::vector<TensorToWrite> bad = {{"a", {2}, four}};
  EXPECT_CODE(SerializeSafetensors({}, bad), Code::kInvalidArgument);
}

// sigil-load hands the engine a sealed memfd as /proc/self/fd/N: it must map like a file.
TEST(MappedFile, ReadsASealedMemfdThroughProcSelfFd) {
  Bytes four = F32ToBytes(std::vector<float>{2.0f});
  std::vector<TensorToWrite> t = {{"x", {1}, four}};
  ASSERT_OK_AND_ASSIGN(Bytes file, SerializeSafetensors({}, t));
  int fd = ::memfd_create("weights", MFD_ALLOW_SEALING | MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, file.data(), file.size()), static_cast<ssize_t>(file.size()));
  ASSERT_EQ(::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), 0);
  {
    ASSERT_OK_AND_ASSIGN(MappedFile m, MappedFile::Open("/proc/self/fd/" + std::to_string(fd)));
    ASSERT_OK_AND_ASSIGN(SafetensorsIndex index, ParseSafetensors(m.bytes()));
    EXPECT_EQ(ReadF32(m.bytes(), index, index.tensors[0]), std::vector<float>{2.0f});
  }
  ::close(fd);
}

TEST(MappedFile, ErrorsAndEmptyFiles) {
  sigil::testing::TempDir dir;
  EXPECT_CODE(MappedFile::Open(dir.File("absent")), Code::kNotFound);
  EXPECT_CODE(MappedFile::Open(dir.path()), Code::kInvalidArgument);
  int fd = ::open(dir.File("empty").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  ASSERT_OK_AND_ASSIGN(MappedFile m, MappedFile::Open(dir.File("empty")));
  EXPECT_TRUE(m.bytes().empty());
  EXPECT_CODE(ParseSafetensors(m.bytes()), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::enclave
