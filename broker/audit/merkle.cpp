#include "broker/audit/merkle.h"

#include <algorithm>
#include <array>
#include <bit>
#include <string>

namespace sigil::broker::merkle {
namespace {

constexpr std::uint8_t kLeafPrefix = 0x00;  // RFC 9162 §2.1.1
constexpr std::uint8_t kNodePrefix = 0x01;

// The k of RFC 9162 §2.1.1: the largest power of two smaller than n (n >= 2).
std::size_t Split(std::size_t n) { return std::bit_floor(n - 1); }

bool IsOdd(std::uint64_t v) { return (v & 1) != 0; }

std::string Num(std::uint64_t v) { return std::to_string(v); }

// MTH(D) over leaf hashes: the recursion of RFC 9162 §2.1.1, depth at most 64.
Hash Mth(std::span<const Hash> d) {
  if (d.empty()) {
    return EmptyRoot();
  }
  if (d.size() == 1) {
    return d[0];
  }
  const std::size_t k = Split(d.size());
  return NodeHash(Mth(d.first(k)), Mth(d.subspan(k)));
}

// PATH(m, D) of RFC 9162 §2.1.3.1, appended to `out`.
void Path(std::size_t m, std::span<const Hash> d, std::vector<Hash>& out) {
  if (d.size() <= 1) {
    return;  // PATH(0, {d0}) = {}
  }
  const std::size_t k = Split(d.size());
  if (m < k) {
    Path(m, d.first(k), out);
    out.push_back(Mth(d.subspan(k)));
  } else {
    Path(m - k, d.subspan(k), out);
    out.push_back(Mth(d.first(k)));
  }
}

// SUBPROOF(m, D, b) of RFC 9162 §2.1.4.1, appended to `out` (0 < m <= D.size()).
void Subproof(std::size_t m, std::span<const Hash> d, bool b, std::vector<Hash>& out) {
  if (m == d.size()) {
    if (!b) {
      out.push_back(Mth(d));  // the subtree is not the old root itself: the verifier needs it
    }
    return;
  }
  const std::size_t k = Split(d.size());
  if (m <= k) {
    Subproof(m, d.first(k), b, out);
    out.push_back(Mth(d.subspan(k)));
  } else {
    Subproof(m - k, d.subspan(k), false, out);
    out.push_back(Mth(d.first(k)));
  }
}

// "Right-shift both fn and sn equally until either LSB(fn) is set or fn is 0" (RFC 9162
// §2.1.3.2 step 4.b.2 and §2.1.4.2 step 6.b.3).
void ShiftToOddOrZero(std::uint64_t& fn, std::uint64_t& sn) {
  while (fn != 0 && !IsOdd(fn)) {
    fn >>= 1;
    sn >>= 1;
  }
}

Unexpected<Error> Oversized(const char* what, std::size_t n, std::size_t max) {
  return Fail(Code::kInvalidArgument, std::string(what) + " proof has " + Num(n) +
                                          " hashes; no valid one has more than " + Num(max));
}

Unexpected<Error> ConsistencyFail(Code code, std::uint64_t size1, std::uint64_t size2,
                                  const char* what) {
  return Fail(code,
              "consistency proof from size " + Num(size1) + " to " + Num(size2) + ": " + what);
}

// RFC 9162 §2.1.4.2 steps 1 to 7, which presume 0 < size1 < size2. As for inclusion, a proof of
// the wrong length is malformed: the steps that detect it (1, 6.a, 7) fail with kInvalidArgument.
Result<void> ConsistencySteps(std::uint64_t size1, std::uint64_t size2, const Hash& root1,
                              const Hash& root2, std::span<const Hash> proof) {
  if (proof.empty()) {  // 1
    return ConsistencyFail(Code::kInvalidArgument, size1, size2, "empty");
  }
  // 2. When size1 is a power of 2, the old root is a node of the new tree and is the path's
  // first value; otherwise the proof carries that first value itself.
  const bool seed_is_root1 = std::has_single_bit(size1);
  const Hash& seed = seed_is_root1 ? root1 : proof[0];
  const std::span<const Hash> rest = seed_is_root1 ? proof : proof.subspan(1);
  std::uint64_t fn = size1 - 1;  // 3
  std::uint64_t sn = size2 - 1;
  while (IsOdd(fn)) {  // 4 (fn < 2^64 - 1 has a zero bit, so this ends)
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = seed;  // 5
  Hash sr = seed;
  for (const Hash& c : rest) {  // 6
    if (sn == 0) {              // 6.a: the path already reached the new root
      return ConsistencyFail(Code::kInvalidArgument, size1, size2, "too many hashes");
    }
    if (IsOdd(fn) || fn == sn) {  // 6.b: c is a left sibling, in both trees
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      ShiftToOddOrZero(fn, sn);
    } else {  // c is a right sibling, in the new tree only
      sr = NodeHash(sr, c);
    }
    fn >>= 1;  // 6.c
    sn >>= 1;
  }
  if (sn != 0) {  // 7
    return ConsistencyFail(Code::kInvalidArgument, size1, size2, "too few hashes");
  }
  if (fr != root1) {
    return ConsistencyFail(Code::kVerificationFailed, size1, size2,
                           "does not lead to the old root");
  }
  if (sr != root2) {
    return ConsistencyFail(Code::kVerificationFailed, size1, size2,
                           "does not lead to the new root");
  }
  return Ok();
}

}  // namespace

Hash EmptyRoot() { return Sha256({}); }

Hash LeafHash(ByteSpan leaf) {
  Bytes buf;
  buf.reserve(1 + leaf.size());
  buf.push_back(kLeafPrefix);
  buf.insert(buf.end(), leaf.begin(), leaf.end());
  return Sha256(buf);
}

Hash NodeHash(const Hash& left, const Hash& right) {
  std::array<std::uint8_t, 1 + 2 * sizeof(Hash)> buf{};
  buf[0] = kNodePrefix;
  std::copy(left.begin(), left.end(), buf.begin() + 1);
  std::copy(right.begin(), right.end(), buf.begin() + 1 + left.size());
  return Sha256(buf);
}

Hash Root(std::span<const Hash> leaf_hashes) { return Mth(leaf_hashes); }

Result<std::vector<Hash>> InclusionProof(std::span<const Hash> leaf_hashes, std::uint64_t index) {
  if (index >= leaf_hashes.size()) {
    return Fail(Code::kInvalidArgument,
                "no leaf " + Num(index) + " in a tree of " + Num(leaf_hashes.size()) + " leaves");
  }
  std::vector<Hash> proof;
  Path(static_cast<std::size_t>(index), leaf_hashes, proof);
  return proof;
}

Result<std::vector<Hash>> ConsistencyProof(std::span<const Hash> leaf_hashes, std::uint64_t size1) {
  if (size1 == 0 || size1 > leaf_hashes.size()) {
    return Fail(Code::kInvalidArgument, "no consistency proof from size " + Num(size1) +
                                            " to a tree of " + Num(leaf_hashes.size()) +
                                            " leaves (RFC 9162 section 2.1.4 needs 0 < m <= n)");
  }
  std::vector<Hash> proof;
  Subproof(static_cast<std::size_t>(size1), leaf_hashes, true, proof);
  return proof;
}

// RFC 9162 §2.1.3.2, step by step. A proof of the wrong length is malformed, not merely false:
// the steps that detect it (4.a, 5) fail with kInvalidArgument.
Result<void> VerifyInclusion(std::uint64_t index, std::uint64_t tree_size, const Hash& leaf_hash,
                             std::span<const Hash> proof, const Hash& root) {
  if (proof.size() > kMaxInclusionProofHashes) {
    return Oversized("inclusion", proof.size(), kMaxInclusionProofHashes);
  }
  // 1. A leaf index at or past the tree size names no leaf.
  if (index >= tree_size) {
    return Fail(Code::kInvalidArgument,
                "leaf index " + Num(index) + " is not below the tree size " + Num(tree_size));
  }
  // 2, 3.
  std::uint64_t fn = index;
  std::uint64_t sn = tree_size - 1;
  Hash r = leaf_hash;
  // 4.
  for (const Hash& p : proof) {
    // 4.a: the path already reached the root; more hashes cannot belong to it.
    if (sn == 0) {
      return Fail(Code::kInvalidArgument, "inclusion proof is longer than the path of leaf " +
                                              Num(index) + " in a tree of " + Num(tree_size));
    }
    if (IsOdd(fn) || fn == sn) {  // 4.b: p is a left sibling
      r = NodeHash(p, r);
      ShiftToOddOrZero(fn, sn);
    } else {  // p is a right sibling
      r = NodeHash(r, p);
    }
    fn >>= 1;  // 4.c
    sn >>= 1;
  }
  // 5. Levels left over mean hashes are missing.
  if (sn != 0) {
    return Fail(Code::kInvalidArgument, "inclusion proof is shorter than the path of leaf " +
                                            Num(index) + " in a tree of " + Num(tree_size));
  }
  if (r != root) {
    return Fail(Code::kVerificationFailed, "inclusion proof of leaf " + Num(index) +
                                               " does not lead to the root of the tree of " +
                                               Num(tree_size));
  }
  return Ok();
}

Result<void> VerifyConsistency(std::uint64_t size1, std::uint64_t size2, const Hash& root1,
                               const Hash& root2, std::span<const Hash> proof) {
  if (proof.size() > kMaxConsistencyProofHashes) {
    return Oversized("consistency", proof.size(), kMaxConsistencyProofHashes);
  }
  // The RFC defines consistency for 0 < m: every tree extends the empty one, proving nothing. A
  // shrinking tree must be refused here: the steps presume size1 < size2, and some proofs with
  // size1 > size2 would pass them.
  if (size1 == 0 || size1 > size2) {
    return ConsistencyFail(Code::kInvalidArgument, size1, size2, "needs 0 < size1 <= size2");
  }
  if (size1 == size2) {  // SUBPROOF(m, D[m], true) = {}: the same tree, so the same root
    if (!proof.empty()) {
      return ConsistencyFail(Code::kInvalidArgument, size1, size2, "the proof must be empty");
    }
    if (root1 != root2) {
      return ConsistencyFail(Code::kVerificationFailed, size1, size2, "the roots differ");
    }
    return Ok();
  }
  return ConsistencySteps(size1, size2, root1, root2, proof);
}

Result<Frontier> Frontier::Create(std::uint64_t size, std::vector<Hash> nodes) {
  if (nodes.size() != static_cast<std::size_t>(std::popcount(size))) {
    return Fail(Code::kInvalidArgument, "a frontier of " + Num(size) + " leaves has " +
                                            Num(static_cast<std::uint64_t>(std::popcount(size))) +
                                            " nodes, not " + Num(nodes.size()));
  }
  return Frontier(size, std::move(nodes));
}

Result<void> Frontier::Append(const Hash& leaf_hash) {
  if (size_ == UINT64_MAX) {
    return Fail(Code::kInvalidArgument, "the tree is full (2^64 - 1 leaves)");
  }
  // Each trailing one bit of size_ is a perfect subtree as large as the one being carried up:
  // merge them, smallest first, as binary addition carries.
  Hash carry = leaf_hash;
  for (std::uint64_t s = size_; IsOdd(s); s >>= 1) {
    carry = NodeHash(nodes_.back(), carry);
    nodes_.pop_back();
  }
  nodes_.push_back(carry);
  ++size_;
  return Ok();
}

Hash Frontier::Root() const {
  if (nodes_.empty()) {
    return EmptyRoot();
  }
  // MTH splits at the largest power of two, so the root is the subtrees folded from the right.
  Hash r = nodes_.back();
  for (auto it = nodes_.rbegin() + 1; it != nodes_.rend(); ++it) {
    r = NodeHash(*it, r);
  }
  return r;
}

void Tree::Append(const Hash& leaf_hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_hash);
  // A level that just got an even count completed a pair: its parent goes one level up.
  for (std::size_t l = 0; levels_[l].size() % 2 == 0; ++l) {
    if (levels_.size() == l + 1) levels_.emplace_back();
    const auto& level = levels_[l];
    levels_[l + 1].push_back(NodeHash(level[level.size() - 2], level[level.size() - 1]));
  }
}

// MTH(D[begin:begin+n]). The RFC's recursion only ever asks for a subtree whose size is a power
// of two at an offset aligned to it (a stored node) or splits it at k, the largest power of two
// below n: only subtrees on the right edge are hashed here.
Hash Tree::Mth(std::uint64_t begin, std::uint64_t n) const {
  if (n == 0) return EmptyRoot();
  if (std::has_single_bit(n) && begin % n == 0) {
    const auto level = static_cast<std::size_t>(std::countr_zero(n));
    return levels_[level][static_cast<std::size_t>(begin >> level)];
  }
  const std::uint64_t k = std::bit_floor(n - 1);
  return NodeHash(Mth(begin, k), Mth(begin + k, n - k));
}

void Tree::Path(std::uint64_t m, std::uint64_t begin, std::uint64_t n, std::vector<Hash>& out) const {
  if (n <= 1) return;
  const std::uint64_t k = std::bit_floor(n - 1);
  if (m < k) {
    Path(m, begin, k, out);
    out.push_back(Mth(begin + k, n - k));
  } else {
    Path(m - k, begin + k, n - k, out);
    out.push_back(Mth(begin, k));
  }
}

void Tree::Subproof(std::uint64_t m, std::uint64_t begin, std::uint64_t n, bool b, std::vector<Hash>& out) const {
  if (m == n) {
    if (!b) out.push_back(Mth(begin, n));
    return;
  }
  const std::uint64_t k = std::bit_floor(n - 1);
  if (m <= k) {
    Subproof(m, begin, k, b, out);
    out.push_back(Mth(begin + k, n - k));
  } else {
    Subproof(m - k, begin + k, n - k, false, out);
    out.push_back(Mth(begin, k));
  }
}

Result<Hash> Tree::Root(std::uint64_t n) const {
  if (n > size()) return Fail(Code::kInvalidArgument, "no tree of " + Num(n) + " leaves in one of " + Num(size()));
  return Mth(0, n);
}

Result<std::vector<Hash>> Tree::InclusionProof(std::uint64_t index, std::uint64_t n) const {
  if (n > size()) return Fail(Code::kInvalidArgument, "no tree of " + Num(n) + " leaves in one of " + Num(size()));
  if (index >= n) return Fail(Code::kInvalidArgument, "no leaf " + Num(index) + " in a tree of " + Num(n) + " leaves");
  std::vector<Hash> proof;
  Path(index, 0, n, proof);
  return proof;
}

Result<std::vector<Hash>> Tree::ConsistencyProof(std::uint64_t size1, std::uint64_t size2) const {
  if (size2 > size()) return Fail(Code::kInvalidArgument, "no tree of " + Num(size2) + " leaves in one of " + Num(size()));
  if (size1 == 0 || size1 > size2) {
    return Fail(Code::kInvalidArgument, "no consistency proof from size " + Num(size1) + " to a tree of " + Num(size2) +
                                            " leaves (RFC 9162 section 2.1.4 needs 0 < m <= n)");
  }
  std::vector<Hash> proof;
  Subproof(size1, 0, size2, true, proof);
  return proof;
}

}  // namespace sigil::broker::merkle
