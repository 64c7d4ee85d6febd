// Merkle trees of RFC 9162 (Certificate Transparency 2.0) section 2.1, for the per-tenant
// transparency log: tree hashes, inclusion and consistency proofs, their verification, and a
// frontier that keeps the root of a growing tree without its leaves.
//
// Hashing is SHA-256 with the domain separation of RFC 9162 §2.1.1: a leaf hashes as
// SHA-256(0x00 || leaf) and an interior node as SHA-256(0x01 || left || right), so a leaf hash
// cannot stand in for a node hash. A tree hash does not encode the tree size: a verifier must
// take the size and the root from the same signed tree head (a proof for leaf 0 of a 5-leaf tree
// also verifies as leaf 0 of 6, 7 or 8 leaves against the 5-leaf root).
//
// Everything but Frontier and Tree is a pure function of its arguments and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/digest.h"
#include "core/result.h"

namespace sigil::broker::merkle {

using Hash = Sha256Digest;

// The longest proofs accepted: exactly the longest valid ones for tree sizes below 2^64. A path
// has at most one hash per level and a tree of at most 2^64 - 1 leaves at most 64 levels; a
// consistency proof can add its first node (size1 = 2^63 + 1, size2 = 2^64 - 1 needs 65). These
// bound a verification at 128 hashes whatever the input.
inline constexpr std::size_t kMaxInclusionProofHashes = 64;
inline constexpr std::size_t kMaxConsistencyProofHashes = 65;

// MTH({}) = SHA-256 of the empty string (RFC 9162 §2.1.1).
Hash EmptyRoot();
// MTH({leaf}) = SHA-256(0x00 || leaf) (RFC 9162 §2.1.1).
Hash LeafHash(ByteSpan leaf);
// SHA-256(0x01 || left || right) (RFC 9162 §2.1.1).
Hash NodeHash(const Hash& left, const Hash& right);

// MTH(D[n]) of the tree whose leaves hash to `leaf_hashes` (RFC 9162 §2.1.1); EmptyRoot() for
// none. n - 1 node hashes.
Hash Root(std::span<const Hash> leaf_hashes);

// PATH(index, D[n]) (RFC 9162 §2.1.3.1): the inclusion proof of leaf `index`, the hash nearest
// the leaf first. O(n) hashes. Fails with kInvalidArgument if index >= leaf_hashes.size().
Result<std::vector<Hash>> InclusionProof(std::span<const Hash> leaf_hashes, std::uint64_t index);

// PROOF(size1, D[n]) (RFC 9162 §2.1.4.1): the consistency proof between the tree of the first
// `size1` leaves and the tree of all n of them. size1 == n gives the empty proof (SUBPROOF(m,
// D[m], true) = {}). O(n) hashes. Fails with kInvalidArgument if size1 == 0 (the RFC defines
// proofs for 0 < m only) or size1 > n.
Result<std::vector<Hash>> ConsistencyProof(std::span<const Hash> leaf_hashes, std::uint64_t size1);

// Verifies that `leaf_hash` is leaf `index` of the tree of `tree_size` leaves whose root is
// `root`, by the algorithm of RFC 9162 §2.1.3.2. Fails with
//   kInvalidArgument    if proof has more than kMaxInclusionProofHashes hashes (checked before
//                       any hashing), index >= tree_size, or the proof has more or fewer hashes
//                       than that leaf's path in that tree;
//   kVerificationFailed if the proof does not lead from leaf_hash to root.
Result<void> VerifyInclusion(std::uint64_t index, std::uint64_t tree_size, const Hash& leaf_hash,
                             std::span<const Hash> proof, const Hash& root);

// Verifies that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves
// with root `root1`, by the algorithm of RFC 9162 §2.1.4.2. For size1 == size2 (which that
// algorithm leaves out) the proof must be empty and the roots equal. Fails with
//   kInvalidArgument    if proof has more than kMaxConsistencyProofHashes hashes (checked
//                       before any hashing), size1 == 0, size1 > size2, or the proof has more or
//                       fewer hashes than a proof between these sizes (an empty one included, for
//                       size1 < size2);
//   kVerificationFailed if the proof does not lead to root1 and to root2.
Result<void> VerifyConsistency(std::uint64_t size1, std::uint64_t size2, const Hash& root1,
                               const Hash& root2, std::span<const Hash> proof);

// The right border of a tree of size() leaves: the roots of its largest perfect subtrees, the
// leftmost (largest) first, one per bit set in size() (the "compact range" [0, size)). It is all
// that is needed to append leaves and to compute the root, in O(log n) memory.
// Not thread-safe: one writer at a time.
class Frontier {
 public:
  Frontier() = default;  // the empty tree

  // Restores a frontier saved from size() and nodes(). Fails with kInvalidArgument if
  // nodes.size() is not the number of bits set in size. The hashes cannot be checked here:
  // compare Root() with a signed tree head before trusting them.
  static Result<Frontier> Create(std::uint64_t size, std::vector<Hash> nodes);

  // Appends a leaf; at most 63 hashes (amortised one). Fails with kInvalidArgument if the tree
  // already has 2^64 - 1 leaves, leaving the frontier as it was.
  Result<void> Append(const Hash& leaf_hash);

  // MTH of the leaves appended so far, equal to merkle::Root over them; at most 63 hashes.
  Hash Root() const;

  std::uint64_t size() const { return size_; }
  const std::vector<Hash>& nodes() const { return nodes_; }

 private:
  Frontier(std::uint64_t size, std::vector<Hash> nodes) : size_(size), nodes_(std::move(nodes)) {}

  std::uint64_t size_ = 0;
  std::vector<Hash> nodes_;
};

// Every node hash of a growing tree: level 0 holds the leaf hashes, level k the roots of its
// complete perfect subtrees of 2^k leaves (2 hashes of memory per leaf). With them the root, an
// inclusion proof or a consistency proof over the first `size` leaves, for any size up to
// size(), costs O(log^2 n) hashes at worst (a perfect subtree is looked up; only the subtrees
// along the right edge of a tree of that size are hashed), instead of the O(n) of the
// functions above, with which the results are identical.
// Not thread-safe: the caller serialises (AuditTreeCache does).
class Tree {
 public:
  Tree() = default;

  // Appends a leaf; amortised one node hash.
  void Append(const Hash& leaf_hash);
  std::uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  // Leaf hash `index` (< size()).
  const Hash& Leaf(std::uint64_t index) const { return levels_[0][static_cast<std::size_t>(index)]; }

  // MTH of the first `size` leaves. kInvalidArgument if size > size().
  Result<Hash> Root(std::uint64_t size) const;
  // PATH(index, D[size]): as InclusionProof over the first `size` leaves.
  Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t size) const;
  // PROOF(size1, D[size2]): as ConsistencyProof over the first `size2` leaves.
  Result<std::vector<Hash>> ConsistencyProof(std::uint64_t size1, std::uint64_t size2) const;

 private:
  Hash Mth(std::uint64_t begin, std::uint64_t n) const;
  void Path(std::uint64_t m, std::uint64_t begin, std::uint64_t n, std::vector<Hash>& out) const;
  void Subproof(std::uint64_t m, std::uint64_t begin, std::uint64_t n, bool b, std::vector<Hash>& out) const;

  std::vector<std::vector<Hash>> levels_;
};

}  // namespace sigil::broker::merkle
