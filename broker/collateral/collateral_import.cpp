#include "broker/collateral/collateral_import.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "attestation/snp/certs.h"
#include "attestation/snp/chain.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"

namespace sigil::broker {
namespace {

namespace dcap = attestation::dcap;
namespace snp = attestation::snp;

struct Pending {
  std::string file;
  CollateralItem item;
};

// Everything import validation can draw on: the anchors and the other certificates.
struct Known {
  std::vector<const CollateralItem*> anchors;
  std::vector<const CollateralItem*> certs;

  std::vector<X509Ptr> Roots(CollateralKind kind) const {
    std::vector<X509Ptr> out;
    for (const CollateralItem* a : anchors) {
      if (a->kind == kind && X509_up_ref(a->cert.get()) == 1) out.emplace_back(a->cert.get());
    }
    return out;
  }
  const CollateralItem* IssuerOf(const X509_NAME* issuer, CollateralKind kind) const {
    for (const auto* list : {&anchors, &certs}) {
      for (const CollateralItem* c : *list) {
        if (c->kind == kind && X509_NAME_cmp(X509_get_subject_name(c->cert.get()), issuer) == 0) {
          return c;
        }
      }
    }
    return nullptr;
  }
};

Result<void> CheckTime(const CollateralItem& item, TimePoint now, bool exclusive_end) {
  if (now < item.not_before) {
    return Fail(Code::kExpired, item.summary + " is not yet valid at the import time");
  }
  if (now > item.not_after || (exclusive_end && now == item.not_after)) {
    return Fail(Code::kExpired, item.summary + " expired at " + std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(item.not_after.time_since_epoch()).count()) +
        " (Unix time); fetch a current one");
  }
  return Ok();
}

Result<void> SignedBy(X509* cert, const CollateralItem* issuer, const std::string& what) {
  if (issuer == nullptr) {
    return Fail(Code::kVerificationFailed, what + " has no configured or imported issuer");
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer->cert.get());
  if (key == nullptr || X509_verify(cert, key) != 1) {
    return OpenSslError(Code::kVerificationFailed, what + ": signature by '" + issuer->summary +
                                                        "' does not verify");
  }
  return Ok();
}

Result<void> IntelChains(const Known& k, X509* cert, TimePoint now, const std::string& what) {
  std::vector<X509Ptr> roots = k.Roots(CollateralKind::kIntelRoot);
  if (roots.empty()) {
    return Fail(Code::kVerificationFailed,
                what + ": no Intel SGX Root CA configured (import it with --anchor)");
  }
  std::vector<X509*> inter;
  for (const CollateralItem* c : k.certs) {
    if (c->kind == CollateralKind::kIntelCa) inter.push_back(c->cert.get());
  }
  return dcap::VerifyChain(roots, cert, inter, {}, now, what);
}

Result<void> CheckAmdEndorsement(const Known& k, const CollateralItem& item, TimePoint now) {
  SIGIL_ASSIGN_OR_RETURN(snp::VcekExtensions ext, snp::ReadVcekExtensions(*item.cert));
  const auto product = snp::ProductFromName(ext.product_name);
  if (!product) return Fail(Code::kVerificationFailed, "unknown AMD product " + ext.product_name);
  const CollateralItem* ask =
      k.IssuerOf(X509_get_issuer_name(item.cert.get()), CollateralKind::kAmdAsk);
  if (ask == nullptr) {
    return Fail(Code::kVerificationFailed,
                item.summary + " (" + ext.product_name +
                    "): its ASK/ASVK is neither configured nor in this import (add the KDS "
                    "cert_chain file)");
  }
  const CollateralItem* ark =
      k.IssuerOf(X509_get_issuer_name(ask->cert.get()), CollateralKind::kAmdArk);
  if (ark == nullptr) {
    return Fail(Code::kVerificationFailed, "no configured AMD ARK issued '" + ask->summary + "'");
  }
  snp::ChainInput in{item.cert.get(), ask->cert.get(), ark->cert.get(), *product,
                     item.kind == CollateralKind::kAmdVlek, now};
  return snp::VerifyChain(in, k.Roots(CollateralKind::kAmdArk));
}

Result<void> CheckCrl(const Known& k, const CollateralItem& item, TimePoint now) {
  const X509_NAME* issuer_name = X509_CRL_get_issuer(item.crl.get());
  const CollateralItem* issuer = nullptr;
  for (CollateralKind kind : {CollateralKind::kIntelRoot, CollateralKind::kIntelCa,
                              CollateralKind::kAmdArk, CollateralKind::kAmdAsk}) {
    if (issuer == nullptr) issuer = k.IssuerOf(issuer_name, kind);
  }
  if (issuer == nullptr) return Fail(Code::kVerificationFailed, item.summary + ": unknown issuer");
  EVP_PKEY* key = X509_get0_pubkey(issuer->cert.get());
  if (key == nullptr || X509_CRL_verify(item.crl.get(), key) != 1) {
    return OpenSslError(Code::kVerificationFailed, item.summary + ": signature does not verify");
  }
  if (issuer->kind == CollateralKind::kIntelCa) {
    SIGIL_RETURN_IF_ERROR(IntelChains(k, issuer->cert.get(), now, issuer->summary));
  } else if (issuer->kind == CollateralKind::kAmdAsk) {
    SIGIL_RETURN_IF_ERROR(SignedBy(issuer->cert.get(),
                                   k.IssuerOf(X509_get_issuer_name(issuer->cert.get()),
                                              CollateralKind::kAmdArk),
                                   issuer->summary));
  }
  return CheckTime(item, now, /*exclusive_end=*/true);
}

Result<void> CheckSignedJson(const Known& k, const CollateralItem& item, TimePoint now) {
  std::optional<Error> last;
  for (const CollateralItem* c : k.certs) {
    if (c->kind != CollateralKind::kIntelCa || c->summary != "Intel SGX TCB Signing") continue;
    EVP_PKEY* key = X509_get0_pubkey(c->cert.get());
    if (key == nullptr ||
        !dcap::VerifyEcdsaRaw(key, AsBytes(item.signed_body), item.signature, item.summary)) {
      continue;
    }
    // Intel re-issues the TCB Signing certificate with the same key: try every candidate.
    if (auto chained = IntelChains(k, c->cert.get(), now, "Intel SGX TCB Signing certificate");
        !chained) {
      last = chained.error();
      continue;
    }
    // PCS API v4: the document is current from issueDate until nextUpdate (exclusive).
    return CheckTime(item, now, /*exclusive_end=*/true);
  }
  if (last) return *last;
  return Fail(Code::kVerificationFailed,
              item.summary + ": signature does not verify with any configured or imported Intel "
                             "SGX TCB Signing certificate (altered, or import its issuer chain)");
}

Result<void> Validate(const Known& k, const CollateralItem& item, const ImportOptions& o) {
  switch (item.kind) {
    case CollateralKind::kAmdArk:
    case CollateralKind::kIntelRoot:
      if (!o.allow_anchors) {
        return Fail(Code::kInvalidArgument, "'" + item.summary +
                                                "' is a root certificate; pass --anchor to "
                                                "trust it as a trust anchor");
      }
      SIGIL_RETURN_IF_ERROR(SignedBy(item.cert.get(), &item, item.summary + " (self-signed)"));
      return CheckTime(item, o.now, false);
    case CollateralKind::kAmdAsk:
      SIGIL_RETURN_IF_ERROR(SignedBy(
          item.cert.get(),
          k.IssuerOf(X509_get_issuer_name(item.cert.get()), CollateralKind::kAmdArk),
          item.summary));
      return CheckTime(item, o.now, false);
    case CollateralKind::kAmdVcek:
    case CollateralKind::kAmdVlek:
      return CheckAmdEndorsement(k, item, o.now);
    case CollateralKind::kIntelCa:
    case CollateralKind::kIntelPck:
      return IntelChains(k, item.cert.get(), o.now, item.summary);
    case CollateralKind::kCrl:
      return CheckCrl(k, item, o.now);
    case CollateralKind::kIntelTcbInfo:
    case CollateralKind::kIntelQeIdentity:
      return CheckSignedJson(k, item, o.now);
  }
  return Fail(Code::kInternal, "unknown collateral kind");
}

std::string_view Extension(const CollateralItem& item) {
  if (item.cert) return ".pem";
  if (item.crl) return ".der";
  return ".json";
}

Result<void> MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Fail(Code::kUnavailable, "cannot create " + path + ": " + ec.message());
  ::chmod(path.c_str(), 0700);
  return Ok();
}

}  // namespace

Result<std::vector<ImportedItem>> ImportCollateral(const ImportOptions& o,
                                                   const std::vector<ImportFile>& files) {
  if (files.empty()) return Fail(Code::kInvalidArgument, "no collateral files given");
  std::vector<Pending> batch;
  for (const ImportFile& f : files) {
    auto items = ClassifyCollateral(f.bytes);
    if (!items) return Fail(items.error().code(), f.name + ": " + items.error().message());
    for (CollateralItem& i : *items) {
      // Bundles repeat certificates (both issuer chains hold the TCB Signing certificate).
      bool dup = false;
      for (const Pending& p : batch) dup = dup || p.item.stored == i.stored;
      if (!dup) batch.push_back(Pending{f.name, std::move(i)});
    }
  }
  std::vector<std::string> problems;
  auto snapshot = CollateralSnapshot::Load(o.data_dir, &problems);
  Known known;
  for (const CollateralItem& a : snapshot->anchors()) known.anchors.push_back(&a);
  for (const CollateralItem& c : snapshot->items()) {
    if (c.cert) known.certs.push_back(&c);
  }
  for (const Pending& p : batch) {
    // A root in the batch without --anchor is refused below and never serves as an issuer.
    if (!p.item.cert || (IsTrustAnchor(p.item.kind) && !o.allow_anchors)) continue;
    (IsTrustAnchor(p.item.kind) ? known.anchors : known.certs).push_back(&p.item);
  }
  // Roots first, so that a root given without --anchor is reported as such rather than as the
  // missing issuer of the certificates below it.
  std::vector<const Pending*> order;
  for (const Pending& p : batch) {
    if (IsTrustAnchor(p.item.kind)) order.push_back(&p);
  }
  for (const Pending& p : batch) {
    if (!IsTrustAnchor(p.item.kind)) order.push_back(&p);
  }
  for (const Pending* pp : order) {
    const Pending& p = *pp;
    if (auto v = Validate(known, p.item, o); !v) {
      return Fail(v.error().code(), p.file + ": " + std::string(KindName(p.item.kind)) + " '" +
                                        p.item.summary + "': " + v.error().message());
    }
  }
  std::vector<ImportedItem> out;
  for (const Pending& p : batch) {
    const Sha256Digest digest = Sha256(p.item.stored);
    const std::string dir = IsTrustAnchor(p.item.kind)
                                ? TrustDir(o.data_dir, IsAmd(p.item.kind))
                                : CollateralDir(o.data_dir);
    const std::string name = std::string(KindName(p.item.kind)) + "-" +
                             HexEncode(ByteSpan(digest).first(8)) +
                             std::string(Extension(p.item));
    ImportedItem r{dir.substr(o.data_dir.size() + 1) + "/" + name, p.item.kind, p.item.summary,
                   p.item.not_after, false};
    auto existing = ReadFile(dir + "/" + name, 1 << 22);
    r.already_present = existing && *existing == p.item.stored;
    if (!r.already_present) {
      SIGIL_RETURN_IF_ERROR(MakeDirs(dir));
      SIGIL_RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + name, p.item.stored, 0644));
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace sigil::broker
