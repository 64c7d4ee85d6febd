// RFC 9162 section 2.1 Merkle trees: published known answers first, then every proof of every
// tree of up to 40 leaves generated (by the recursive definitions of sections 2.1.3.1 and 2.1.4.1),
// verified (by the iterative algorithms of sections 2.1.3.2 and 2.1.4.2) and tampered with.
#include "broker/audit/merkle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/encoding.h"
#include "tests/support/matchers.h"

namespace sigil::broker::merkle {
namespace {

// ---------------------------------------------------------------------------------------------
// Known answers transcribed (data only) from transparency-dev/merkle, Apache-2.0,
// https://github.com/transparency-dev/merkle:
//   testonly/constants.go      @582a6ad190b6848f1d26f8bf08ddef29955d9db1  LeafInputs, NodeHashes,
//                                                                          RootHashes, CompactTrees
//   testonly/reference_test.go @141d627eab770a7e9a2514f46a8b6338e6d90874  TestRefInclusionProof,
//                                                                          TestRefConsistencyProof
//   proof/verify_test.go       @02194e9afb6c1d95b5381350007963aa70fff472  consistencyProofs {6, 7},
//                                                                          sha256SomeHash
//   rfc6962/rfc6962_test.go    @78493b07ef9b552e3379abf9e23d4da26fbe797c  TestRFC6962Hasher
// The same eight-leaf tree is the one of the CT reference implementations
// (google/certificate-transparency, certificate-transparency-go merkle tests).
// ---------------------------------------------------------------------------------------------

// clang-format off
constexpr std::string_view kLeafInputs[] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f"};

// kNodeHashes[level][index]: the hash of every complete subtree of the eight-leaf tree.
const std::vector<std::vector<std::string>> kNodeHashes = {
    {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"},
    {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"},
    {"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"},
    {"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"}};

// kRoots[n]: MTH of the first n leaves.
const std::vector<std::string> kRoots = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

// CompactTrees(): the frontier of the first n leaves, as {level, index} into kNodeHashes.
const std::vector<std::vector<std::pair<int, int>>> kFrontiers = {
    {}, {{0, 0}}, {{1, 0}}, {{1, 0}, {0, 2}}, {{2, 0}}, {{2, 0}, {0, 4}}, {{2, 0}, {1, 2}},
    {{2, 0}, {1, 2}, {0, 6}}, {{3, 0}}};

constexpr std::string_view kSomeHash =  // verify_test.go sha256SomeHash
    "abacaba000000000000000000000000000000000000000000060061e00123456";

struct InclusionVector {
  std::uint64_t index;
  std::uint64_t size;
  std::vector<std::string> proof;
};

// reference_test.go TestRefInclusionProof (verify_test.go inclusionProofs holds the same proofs,
// with 1-based leaf numbers).
const InclusionVector kInclusionVectors[] = {
    {0, 1, {}},
    {0, 2, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"}},
    {1, 2, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"}},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1, 5, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {0, 8, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5, 8, {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

struct ConsistencyVector {
  std::uint64_t size1;
  std::uint64_t size2;
  std::vector<std::string> proof;
};

// reference_test.go TestRefConsistencyProof, and {6, 7} from verify_test.go consistencyProofs.
const ConsistencyVector kConsistencyVectors[] = {
    {1, 1, {}},
    {1, 8, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {2, 5, {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6, 8, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {6, 7, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};
// clang-format on

Hash Hx(std::string_view hex) {
  auto bytes = HexDecode(hex);
  SIGIL_CHECK(bytes.has_value() && bytes->size() == sizeof(Hash));
  Hash h{};
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

std::vector<Hash> Hxs(const std::vector<std::string>& hexes) {
  std::vector<Hash> out;
  for (const auto& h : hexes) {
    out.push_back(Hx(h));
  }
  return out;
}

std::vector<std::string> Hexes(const std::vector<Hash>& hashes) {
  std::vector<std::string> out;
  for (const auto& h : hashes) {
    out.push_back(HexEncode(h));
  }
  return out;
}

std::vector<Hash> VectorLeafHashes() {
  std::vector<Hash> out;
  for (std::string_view in : kLeafInputs) {
    auto data = HexDecode(in);
    SIGIL_CHECK(data.has_value());
    out.push_back(LeafHash(*data));
  }
  return out;
}

// The refusal code of a verification, or nullopt if it verified.
std::optional<Code> Refusal(const Result<void>& r) {
  if (r) {
    return std::nullopt;
  }
  return r.error().code();
}

std::vector<Hash> Appended(std::vector<Hash> p, const Hash& h) {
  p.push_back(h);
  return p;
}
std::vector<Hash> Prepended(std::vector<Hash> p, const Hash& h) {
  p.insert(p.begin(), h);
  return p;
}
std::vector<Hash> Replaced(std::vector<Hash> p, std::size_t k, const Hash& h) {
  p[k] = h;
  return p;
}

// Changes one bit of each byte of `h` in turn: `verify` (a Result<void>(const Hash&)) must refuse
// every altered hash with kVerificationFailed.
template <class F>
void ExpectEveryByteFlipRefused(Hash h, const std::string& what, F verify) {
  for (std::size_t i = 0; i < h.size(); ++i) {
    const auto bit = static_cast<std::uint8_t>(1u << (i % 8));
    h[i] ^= bit;
    EXPECT_EQ(Refusal(verify(h)), Code::kVerificationFailed) << what << ", byte " << i;
    h[i] ^= bit;
  }
}

TEST(MerkleHash, KnownAnswers) {
  // rfc6962_test.go TestRFC6962Hasher: empty tree, empty leaf, leaf "L123456".
  EXPECT_EQ(HexEncode(EmptyRoot()), kRoots[0]);
  EXPECT_EQ(HexEncode(LeafHash({})),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  EXPECT_EQ(HexEncode(LeafHash(AsBytes("L123456"))),
            "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56");
  EXPECT_EQ(HexEncode(Root({})), kRoots[0]);
}

TEST(MerkleHash, LeavesAndNodesAreDomainSeparatedAndOrdered) {
  const Hash a = LeafHash(AsBytes("Hello"));
  const Hash b = LeafHash(AsBytes("World"));
  EXPECT_NE(a, b);
  EXPECT_NE(NodeHash(a, b), NodeHash(b, a));
  // A leaf whose data is two hashes must not hash like the node over them (second preimage).
  Bytes both(a.begin(), a.end());
  both.insert(both.end(), b.begin(), b.end());
  EXPECT_NE(LeafHash(both), NodeHash(a, b));
  EXPECT_EQ(NodeHash(a, b), Sha256(Concat({Bytes{0x01}, a, b})));
}

TEST(MerkleKnownTree, EveryCompleteSubtreeHash) {
  const std::vector<Hash> leaves = VectorLeafHashes();
  EXPECT_EQ(Hexes(leaves), kNodeHashes[0]);
  for (std::size_t level = 1; level < kNodeHashes.size(); ++level) {
    for (std::size_t i = 0; i < kNodeHashes[level].size(); ++i) {
      const Hash got =
          NodeHash(Hx(kNodeHashes[level - 1][2 * i]), Hx(kNodeHashes[level - 1][2 * i + 1]));
      EXPECT_EQ(HexEncode(got), kNodeHashes[level][i]) << "level " << level << " index " << i;
    }
  }
}

TEST(MerkleKnownTree, RootAndFrontierOfEverySize) {
  const std::vector<Hash> leaves = VectorLeafHashes();
  Frontier f;
  for (std::size_t n = 0; n <= leaves.size(); ++n) {
    if (n > 0) {
      ASSERT_OK(f.Append(leaves[n - 1]));
    }
    std::vector<std::string> want;
    for (auto [level, index] : kFrontiers[n]) {
      want.push_back(kNodeHashes[static_cast<std::size_t>(level)][static_cast<std::size_t>(index)]);
    }
    EXPECT_EQ(HexEncode(Root(std::span<const Hash>(leaves).first(n))), kRoots[n]) << "size " << n;
    EXPECT_EQ(f.size(), n);
    EXPECT_EQ(Hexes(f.nodes()), want) << "size " << n;
    EXPECT_EQ(HexEncode(f.Root()), kRoots[n]) << "size " << n;
  }
}

class MerkleInclusionVector : public ::testing::TestWithParam<InclusionVector> {};

TEST_P(MerkleInclusionVector, IsGeneratedVerifiedAndProbed) {
  const InclusionVector& v = GetParam();
  const std::vector<Hash> leaves = VectorLeafHashes();
  const auto tree = std::span<const Hash>(leaves).first(v.size);
  ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof, InclusionProof(tree, v.index));
  EXPECT_EQ(Hexes(proof), v.proof);

  const std::vector<Hash> want = Hxs(v.proof);
  const Hash leaf = leaves[v.index];
  const Hash root = Hx(kRoots[v.size]);
  EXPECT_OK(VerifyInclusion(v.index, v.size, leaf, want, root));

  // The probes of verify_test.go corruptInclusionProof, each of which must be refused.
  auto refused = [&](std::uint64_t index, std::uint64_t size, const Hash& l,
                     const std::vector<Hash>& p,
                     const Hash& r) { return !VerifyInclusion(index, size, l, p, r).has_value(); };
  const std::uint64_t i = v.index;
  const std::uint64_t n = v.size;
  EXPECT_TRUE(refused(i - 1, n, leaf, want, root));  // wraps for index 0: past the size
  EXPECT_TRUE(refused(i + 1, n, leaf, want, root));
  EXPECT_TRUE(refused(i ^ 2, n, leaf, want, root));
  EXPECT_TRUE(refused(i, n * 2, leaf, want, root));
  EXPECT_TRUE(refused(i, n / 2, leaf, want, root));
  EXPECT_TRUE(refused(i, n, LeafHash(AsBytes("WrongLeaf")), want, root));
  EXPECT_TRUE(refused(i, n, leaf, want, EmptyRoot()));
  EXPECT_TRUE(refused(i, n, leaf, want, Hx(kSomeHash)));
  for (const Hash& extra : {Hash{}, root}) {
    EXPECT_TRUE(refused(i, n, leaf, Appended(want, extra), root));
    EXPECT_TRUE(refused(i, n, leaf, Prepended(want, extra), root));
  }
  if (!want.empty()) {
    EXPECT_TRUE(refused(i, n, leaf, {want.begin(), want.end() - 1}, root));
  }
}

INSTANTIATE_TEST_SUITE_P(TransparencyDev, MerkleInclusionVector,
                         ::testing::ValuesIn(kInclusionVectors));

class MerkleConsistencyVector : public ::testing::TestWithParam<ConsistencyVector> {};

TEST_P(MerkleConsistencyVector, IsGeneratedVerifiedAndProbed) {
  const ConsistencyVector& v = GetParam();
  const std::vector<Hash> leaves = VectorLeafHashes();
  ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                       ConsistencyProof(std::span<const Hash>(leaves).first(v.size2), v.size1));
  EXPECT_EQ(Hexes(proof), v.proof);

  const std::vector<Hash> want = Hxs(v.proof);
  const Hash root1 = Hx(kRoots[v.size1]);
  const Hash root2 = Hx(kRoots[v.size2]);
  EXPECT_OK(VerifyConsistency(v.size1, v.size2, root1, root2, want));
  if (want.empty()) {
    return;  // as verify_test.go: the probes below are for proofs between different sizes
  }
  // The probes of verify_test.go corruptConsistencyProof, each of which must be refused.
  auto refused = [&](std::uint64_t s1, std::uint64_t s2, const Hash& r1, const Hash& r2,
                     const std::vector<Hash>& p) {
    return !VerifyConsistency(s1, s2, r1, r2, p).has_value();
  };
  const std::uint64_t m = v.size1;
  const std::uint64_t n = v.size2;
  EXPECT_TRUE(refused(m - 1, n, root1, root2, want));
  EXPECT_TRUE(refused(m + 1, n, root1, root2, want));
  EXPECT_TRUE(refused(m ^ 2, n, root1, root2, want));
  EXPECT_TRUE(refused(m, n * 2, root1, root2, want));
  EXPECT_TRUE(refused(m, n / 2, root1, root2, want));
  EXPECT_TRUE(refused(m, n, Hx(kSomeHash), root2, want));
  EXPECT_TRUE(refused(m, n, root1, Hx(kSomeHash), want));
  EXPECT_TRUE(refused(m, n, root2, root1, want));
  EXPECT_TRUE(refused(m, n, root1, root2, {}));
  for (const Hash& extra : {Hash{}, root1, root2, want[0]}) {
    EXPECT_TRUE(refused(m, n, root1, root2, Appended(want, extra)));
    EXPECT_TRUE(refused(m, n, root1, root2, Prepended(want, extra)));
  }
  EXPECT_TRUE(refused(m, n, root1, root2, {want.begin(), want.end() - 1}));
}

INSTANTIATE_TEST_SUITE_P(TransparencyDev, MerkleConsistencyVector,
                         ::testing::ValuesIn(kConsistencyVectors));

// ---- Every proof of every small tree. -------------------------------------------------------

constexpr std::size_t kMaxTree = 40;

class MerkleAllTrees : public ::testing::Test {
 protected:
  MerkleAllTrees() {
    // Leaves for trees up to twice kMaxTree, so that a proof can be tried against larger sizes.
    for (std::size_t i = 0; i <= 2 * kMaxTree + 1; ++i) {
      leaves_.push_back(LeafHash(AsBytes("tenant audit record " + std::to_string(i))));
    }
    for (std::size_t n = 0; n <= leaves_.size(); ++n) {
      roots_.push_back(Root(Tree(n)));
    }
  }
  std::span<const Hash> Tree(std::size_t n) const {
    return std::span<const Hash>(leaves_).first(n);
  }

  // Any byte of any proof hash, of the leaf hash or of the root: kVerificationFailed.
  void ExpectAlteredInclusionRefused(std::size_t i, std::size_t n, const std::vector<Hash>& proof) {
    const Hash& leaf = leaves_[i];
    const Hash& root = roots_[n];
    for (std::size_t k = 0; k < proof.size(); ++k) {
      ExpectEveryByteFlipRefused(proof[k], "proof hash " + std::to_string(k), [&](const Hash& h) {
        return VerifyInclusion(i, n, leaf, Replaced(proof, k, h), root);
      });
    }
    ExpectEveryByteFlipRefused(
        leaf, "leaf hash", [&](const Hash& h) { return VerifyInclusion(i, n, h, proof, root); });
    ExpectEveryByteFlipRefused(
        root, "root", [&](const Hash& h) { return VerifyInclusion(i, n, leaf, proof, h); });
  }

  // Any other index (in the tree or past it), any other size with that size's own root (a proof
  // is for one tree head only), a hash more or less at either end.
  void ExpectOtherInclusionClaimsRefused(std::size_t i, std::size_t n,
                                         const std::vector<Hash>& proof) {
    const Hash& leaf = leaves_[i];
    for (std::size_t j = 0; j <= n + 1; ++j) {
      if (j != i) {
        EXPECT_FALSE(VerifyInclusion(j, n, leaf, proof, roots_[n]).has_value()) << "index " << j;
      }
    }
    for (std::size_t m = i + 1; m <= 2 * n + 1; ++m) {
      if (m != n) {
        EXPECT_FALSE(VerifyInclusion(i, m, leaf, proof, roots_[m]).has_value()) << "size " << m;
      }
    }
    auto malformed = [&](const std::vector<Hash>& p) {
      return Refusal(VerifyInclusion(i, n, leaf, p, roots_[n])) == Code::kInvalidArgument;
    };
    EXPECT_TRUE(malformed(Appended(proof, roots_[n])));
    EXPECT_TRUE(malformed(Prepended(proof, leaf)));
    if (!proof.empty()) {
      EXPECT_TRUE(malformed({proof.begin() + 1, proof.end()}));
      EXPECT_TRUE(malformed({proof.begin(), proof.end() - 1}));
    }
  }

  // Any byte of any proof hash or of either root: kVerificationFailed.
  void ExpectAlteredConsistencyRefused(std::size_t m, std::size_t n,
                                       const std::vector<Hash>& proof) {
    const Hash& root1 = roots_[m];
    const Hash& root2 = roots_[n];
    for (std::size_t k = 0; k < proof.size(); ++k) {
      ExpectEveryByteFlipRefused(proof[k], "proof hash " + std::to_string(k), [&](const Hash& h) {
        return VerifyConsistency(m, n, root1, root2, Replaced(proof, k, h));
      });
    }
    ExpectEveryByteFlipRefused(
        root1, "old root", [&](const Hash& h) { return VerifyConsistency(m, n, h, root2, proof); });
    ExpectEveryByteFlipRefused(
        root2, "new root", [&](const Hash& h) { return VerifyConsistency(m, n, root1, h, proof); });
  }

  // Any other pair of sizes near these or sharing one of them, with their own roots (an empty
  // proof does prove a size consistent with itself: skipped), and a hash more or less.
  void ExpectOtherConsistencyClaimsRefused(std::size_t m, std::size_t n,
                                           const std::vector<Hash>& proof) {
    for (std::size_t m2 = 1; m2 <= 2 * kMaxTree; ++m2) {
      for (std::size_t n2 = m2; n2 <= 2 * kMaxTree; ++n2) {
        const bool near = m2 + 2 >= m && m2 <= m + 2 && n2 + 2 >= n && n2 <= n + 2;
        if (!(near || m2 == m || n2 == n) || (m2 == m && n2 == n) || (proof.empty() && m2 == n2)) {
          continue;
        }
        EXPECT_FALSE(VerifyConsistency(m2, n2, roots_[m2], roots_[n2], proof).has_value())
            << "sizes " << m2 << " to " << n2;
      }
    }
    if (!proof.empty()) {
      auto malformed = [&](const std::vector<Hash>& p) {
        return Refusal(VerifyConsistency(m, n, roots_[m], roots_[n], p)) == Code::kInvalidArgument;
      };
      EXPECT_TRUE(malformed(Appended(proof, roots_[n])));
      EXPECT_TRUE(malformed({proof.begin(), proof.end() - 1}));
    }
  }

  std::vector<Hash> leaves_;
  std::vector<Hash> roots_;  // roots_[n]: the root of the first n leaves
};

TEST_F(MerkleAllTrees, FrontierRootEqualsRootForEverySize) {
  Frontier f;
  EXPECT_EQ(f.Root(), roots_[0]);
  for (std::size_t n = 1; n < leaves_.size(); ++n) {
    ASSERT_OK(f.Append(leaves_[n - 1]));
    ASSERT_EQ(f.Root(), roots_[n]) << "size " << n;
    // A frontier saved and restored goes on as the original.
    ASSERT_OK_AND_ASSIGN(Frontier restored, Frontier::Create(f.size(), f.nodes()));
    ASSERT_OK(restored.Append(leaves_[n]));
    EXPECT_EQ(restored.Root(), roots_[n + 1]) << "size " << n + 1;
  }
}

TEST_F(MerkleAllTrees, EveryInclusionProofVerifiesAndEveryTamperingIsRefused) {
  for (std::size_t n = 1; n <= kMaxTree; ++n) {
    for (std::size_t i = 0; i < n; ++i) {
      SCOPED_TRACE("leaf " + std::to_string(i) + " of " + std::to_string(n));
      ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof, InclusionProof(Tree(n), i));
      ASSERT_OK(VerifyInclusion(i, n, leaves_[i], proof, roots_[n]));
      ExpectAlteredInclusionRefused(i, n, proof);
      ExpectOtherInclusionClaimsRefused(i, n, proof);
    }
  }
}

TEST_F(MerkleAllTrees, EveryConsistencyProofVerifiesAndEveryTamperingIsRefused) {
  for (std::size_t n = 1; n <= kMaxTree; ++n) {
    for (std::size_t m = 1; m <= n; ++m) {
      SCOPED_TRACE("from " + std::to_string(m) + " to " + std::to_string(n));
      ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof, ConsistencyProof(Tree(n), m));
      ASSERT_EQ(proof.empty(), m == n);
      ASSERT_OK(VerifyConsistency(m, n, roots_[m], roots_[n], proof));
      ExpectAlteredConsistencyRefused(m, n, proof);
      ExpectOtherConsistencyClaimsRefused(m, n, proof);
    }
  }
}

// A root does not encode its tree size (RFC 9162 section 2.1.1 hashes no size), so the same
// proof and root can pass for a neighbouring size: the size must come from the same signed tree
// head as the root. Pinned so that the header's statement stays true.
TEST_F(MerkleAllTrees, RootsDoNotBindTheSizeOnlyTheTreeHeadDoes) {
  ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof, InclusionProof(Tree(5), 0));
  for (std::uint64_t size : {6u, 7u, 8u}) {
    EXPECT_OK(VerifyInclusion(0, size, leaves_[0], proof, roots_[5]));
    EXPECT_CODE(VerifyInclusion(0, size, leaves_[0], proof, roots_[size]),
                Code::kVerificationFailed);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Hash> cproof, ConsistencyProof(Tree(8), 4));
  EXPECT_OK(VerifyConsistency(4, 5, roots_[4], roots_[8], cproof));
  EXPECT_CODE(VerifyConsistency(4, 5, roots_[4], roots_[5], cproof), Code::kVerificationFailed);
}

// ---- Refusals of malformed input, and the work bound. ---------------------------------------

TEST_F(MerkleAllTrees, ProofGenerationRefusesSizesOutsideTheTree) {
  EXPECT_CODE(InclusionProof({}, 0), Code::kInvalidArgument);
  EXPECT_CODE(InclusionProof(Tree(5), 5), Code::kInvalidArgument);
  EXPECT_CODE(InclusionProof(Tree(5), UINT64_MAX), Code::kInvalidArgument);
  EXPECT_CODE(ConsistencyProof(Tree(5), 0), Code::kInvalidArgument);
  EXPECT_CODE(ConsistencyProof(Tree(5), 6), Code::kInvalidArgument);
  EXPECT_CODE(ConsistencyProof({}, 0), Code::kInvalidArgument);
}

TEST_F(MerkleAllTrees, InclusionVerificationRefusesMalformedInput) {
  const Hash& leaf = leaves_[0];
  EXPECT_CODE(VerifyInclusion(0, 0, leaf, {}, EmptyRoot()), Code::kInvalidArgument);
  EXPECT_CODE(VerifyInclusion(1, 1, leaf, {}, leaf), Code::kInvalidArgument);
  EXPECT_CODE(VerifyInclusion(UINT64_MAX, UINT64_MAX, leaf, {}, leaf), Code::kInvalidArgument);
  EXPECT_CODE(VerifyInclusion(0, 2, leaf, {}, roots_[2]), Code::kInvalidArgument);  // empty proof
  EXPECT_OK(VerifyInclusion(0, 1, leaf, {}, leaf));  // a one-leaf tree's root is its leaf
  EXPECT_CODE(VerifyInclusion(0, 1, leaf, {}, EmptyRoot()), Code::kVerificationFailed);
}

TEST_F(MerkleAllTrees, ConsistencyVerificationRefusesMalformedInput) {
  const std::vector<Hash> one = {roots_[3]};
  EXPECT_CODE(VerifyConsistency(0, 0, EmptyRoot(), EmptyRoot(), {}), Code::kInvalidArgument);
  EXPECT_CODE(VerifyConsistency(0, 3, EmptyRoot(), roots_[3], {}), Code::kInvalidArgument);
  EXPECT_CODE(VerifyConsistency(0, 3, EmptyRoot(), roots_[3], one), Code::kInvalidArgument);
  EXPECT_CODE(VerifyConsistency(4, 3, roots_[4], roots_[3], one), Code::kInvalidArgument);
  // Shrinking 3 -> 2 with a proof that the section 2.1.4.2 loop alone would accept (it presumes
  // size1 < size2): the sizes are refused first.
  const Hash y = leaves_[7];
  EXPECT_CODE(
      VerifyConsistency(3, 2, roots_[3], NodeHash(roots_[3], y), std::vector<Hash>{roots_[3], y}),
      Code::kInvalidArgument);
  EXPECT_CODE(VerifyConsistency(UINT64_MAX, 1, roots_[1], roots_[1], {}), Code::kInvalidArgument);
  EXPECT_CODE(VerifyConsistency(2, 4, roots_[2], roots_[4], {}), Code::kInvalidArgument);  // empty
  // Equal sizes: the same tree, so an empty proof and the same root.
  EXPECT_OK(VerifyConsistency(3, 3, roots_[3], roots_[3], {}));
  EXPECT_CODE(VerifyConsistency(3, 3, roots_[3], roots_[3], one), Code::kInvalidArgument);
  EXPECT_CODE(VerifyConsistency(3, 3, roots_[3], roots_[4], {}), Code::kVerificationFailed);
}

// The longest valid proofs for 64-bit tree sizes pass the length bound and verify; one hash more
// is refused before any hashing. The proofs are built from the tree's shape, not by this module:
// leaf 0's path has only right siblings; from 2^63 + 1 to 2^64 - 1 leaves the new leaf 2^63 is
// the first value, then the 63 right siblings of its path in the new tree, then the left half.
TEST(MerkleBounds, LongestValidProofsVerifyAndLongerOnesAreRefused) {
  const Hash leaf = LeafHash(AsBytes("leaf"));
  std::vector<Hash> path;
  Hash root = leaf;
  for (int i = 0; i < 64; ++i) {
    path.push_back(LeafHash(AsBytes("sibling " + std::to_string(i))));
    root = NodeHash(root, path.back());
  }
  ASSERT_EQ(path.size(), kMaxInclusionProofHashes);
  EXPECT_OK(VerifyInclusion(0, UINT64_MAX, leaf, path, root));
  EXPECT_OK(VerifyConsistency(1, UINT64_MAX, leaf, root, path));
  std::vector<Hash> too_long = path;
  too_long.push_back(leaf);
  Result<void> r = VerifyInclusion(0, UINT64_MAX, leaf, too_long, root);
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("has 65 hashes; no valid one has more than 64"),
            std::string::npos)
      << r.error().message();  // refused on its length, before any hashing

  const Hash left_half = LeafHash(AsBytes("the first 2^63 leaves"));
  std::vector<Hash> cproof = {leaf};
  Hash right = leaf;
  for (int i = 0; i < 63; ++i) {
    cproof.push_back(LeafHash(AsBytes("right " + std::to_string(i))));
    right = NodeHash(right, cproof.back());
  }
  cproof.push_back(left_half);
  ASSERT_EQ(cproof.size(), kMaxConsistencyProofHashes);
  const std::uint64_t size1 = (std::uint64_t{1} << 63) + 1;
  EXPECT_OK(VerifyConsistency(size1, UINT64_MAX, NodeHash(left_half, leaf),
                              NodeHash(left_half, right), cproof));
  cproof.push_back(leaf);
  r = VerifyConsistency(size1, UINT64_MAX, NodeHash(left_half, leaf), NodeHash(left_half, right),
                        cproof);
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("has 66 hashes; no valid one has more than 65"),
            std::string::npos)
      << r.error().message();
  // Far too long: refused on its length whatever the sizes.
  const std::vector<Hash> huge(100000, leaf);
  EXPECT_CODE(VerifyInclusion(5, 10, leaf, huge, root), Code::kInvalidArgument);
  EXPECT_CODE(VerifyConsistency(5, 10, leaf, root, huge), Code::kInvalidArgument);
}

TEST(MerkleFrontier, CreateRefusesANodeCountThatDoesNotMatchTheSize) {
  const Hash h = LeafHash(AsBytes("x"));
  EXPECT_OK(Frontier::Create(0, {}));
  EXPECT_OK(Frontier::Create(6, {h, h}));
  EXPECT_CODE(Frontier::Create(6, {h}), Code::kInvalidArgument);
  EXPECT_CODE(Frontier::Create(6, {h, h, h}), Code::kInvalidArgument);
  EXPECT_CODE(Frontier::Create(0, {h}), Code::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(Frontier full, Frontier::Create(UINT64_MAX, std::vector<Hash>(64, h)));
  EXPECT_CODE(full.Append(h), Code::kInvalidArgument);
  EXPECT_EQ(full.size(), UINT64_MAX);
  EXPECT_EQ(full.nodes().size(), 64u);
}

// The stored-node Tree gives exactly what the O(n) functions give, for every tree size up to
// 100, every leaf and every consistency pair, and for random queries on a tree of 5000 leaves.
TEST(MerkleTree, EqualsTheLinearComputationForEverySizeLeafAndPair) {
  std::vector<Hash> leaves;
  Tree tree;
  for (std::uint64_t n = 1; n <= 100; ++n) {
    leaves.push_back(LeafHash(AsBytes("leaf " + std::to_string(n))));
    tree.Append(leaves.back());
    ASSERT_EQ(tree.size(), n);
    // Every (size, leaf) pair is checked twice: when the tree has exactly that size, and once
    // more when it holds all 100 leaves (historical sizes answered by a larger tree). Checking
    // every earlier size after every append as well cost O(n^3) and 45 s under ASan without
    // covering a case these two do not.
    for (std::uint64_t size = (n == 100 ? 1 : n); size <= n; ++size) {
      const auto prefix = std::span<const Hash>(leaves).first(static_cast<std::size_t>(size));
      ASSERT_OK_AND_ASSIGN(Hash root, tree.Root(size));
      ASSERT_EQ(root, Root(prefix)) << "size " << size;
      for (std::uint64_t i = 0; i < size; ++i) {
        ASSERT_OK_AND_ASSIGN(auto fast, tree.InclusionProof(i, size));
        ASSERT_OK_AND_ASSIGN(auto slow, InclusionProof(prefix, i));
        ASSERT_EQ(fast, slow) << "leaf " << i << " size " << size;
        ASSERT_OK_AND_ASSIGN(auto fast_c, tree.ConsistencyProof(i + 1, size));
        ASSERT_OK_AND_ASSIGN(auto slow_c, ConsistencyProof(prefix, i + 1));
        ASSERT_EQ(fast_c, slow_c) << "from " << i + 1 << " to " << size;
      }
    }
  }
  EXPECT_CODE(tree.Root(101), Code::kInvalidArgument);
  EXPECT_CODE(tree.InclusionProof(100, 100), Code::kInvalidArgument);
  EXPECT_CODE(tree.InclusionProof(0, 101), Code::kInvalidArgument);
  EXPECT_CODE(tree.ConsistencyProof(0, 10), Code::kInvalidArgument);
  EXPECT_CODE(tree.ConsistencyProof(11, 10), Code::kInvalidArgument);
  for (std::uint64_t n = 101; n <= 5000; ++n) {
    leaves.push_back(LeafHash(AsBytes("leaf " + std::to_string(n))));
    tree.Append(leaves.back());
  }
  std::uint64_t x = 12345;
  auto next = [&](std::uint64_t below) {  // a fixed LCG: reproducible queries
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (x >> 33) % below;
  };
  for (int q = 0; q < 100; ++q) {
    const std::uint64_t size = 1 + next(5000);
    const std::uint64_t i = next(size);
    const auto prefix = std::span<const Hash>(leaves).first(static_cast<std::size_t>(size));
    ASSERT_OK_AND_ASSIGN(auto fast, tree.InclusionProof(i, size));
    ASSERT_OK_AND_ASSIGN(auto slow, InclusionProof(prefix, i));
    ASSERT_EQ(fast, slow);
    ASSERT_OK_AND_ASSIGN(Hash root, tree.Root(size));
    EXPECT_OK(VerifyInclusion(i, size, leaves[static_cast<std::size_t>(i)], fast, root));
    ASSERT_OK_AND_ASSIGN(auto fast_c, tree.ConsistencyProof(i + 1, size));
    ASSERT_OK_AND_ASSIGN(auto slow_c, ConsistencyProof(prefix, i + 1));
    ASSERT_EQ(fast_c, slow_c);
  }
}

}  // namespace
}  // namespace sigil::broker::merkle
