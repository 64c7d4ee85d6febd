#include "attestation/nvidia/rim.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/encoding.h"

namespace sigil::attestation::nvidia {
namespace {

constexpr char kSwidNs[] = "http://standards.iso.org/iso/19770/-2/2015/schema.xsd";
constexpr char kDsigNs[] = "http://www.w3.org/2000/09/xmldsig#";
constexpr char kSha384Ns[] = "http://www.w3.org/2001/04/xmlenc#sha384";
constexpr std::size_t kMaxAttributeBytes = 256;  // tagId, version, product
constexpr std::size_t kMaxCertificates = 8;

void FreeDoc(xmlDoc* d) noexcept { xmlFreeDoc(d); }
void FreeParserCtxt(xmlParserCtxt* c) noexcept { xmlFreeParserCtxt(c); }
void FreeXmlChars(xmlChar* s) noexcept { xmlFree(s); }
void FreeDSigCtx(xmlSecDSigCtx* c) noexcept { xmlSecDSigCtxDestroy(c); }
void FreeKeyData(xmlSecKeyData* d) noexcept { xmlSecKeyDataDestroy(d); }
void FreeKey(xmlSecKey* k) noexcept { xmlSecKeyDestroy(k); }
void FreeStoreCtx(X509_STORE_CTX* c) noexcept { X509_STORE_CTX_free(c); }
void FreeX509Stack(STACK_OF(X509) * s) noexcept { sk_X509_free(s); }
void FreeX509StackAndCerts(STACK_OF(X509) * s) noexcept { sk_X509_pop_free(s, X509_free); }
using XmlDocPtr = CPtr<xmlDoc, FreeDoc>;
using XmlParserCtxtPtr = CPtr<xmlParserCtxt, FreeParserCtxt>;
using XmlCharsPtr = CPtr<xmlChar, FreeXmlChars>;
using DSigCtxPtr = CPtr<xmlSecDSigCtx, FreeDSigCtx>;
using KeyDataPtr = CPtr<xmlSecKeyData, FreeKeyData>;
using KeyPtr = CPtr<xmlSecKey, FreeKey>;
using StoreCtxPtr = CPtr<X509_STORE_CTX, FreeStoreCtx>;
using X509StackPtr = CPtr<STACK_OF(X509), FreeX509Stack>;
using X509OwningStackPtr = CPtr<STACK_OF(X509), FreeX509StackAndCerts>;

Unexpected<Error> Malformed(const std::string& what) {
  return Fail(Code::kMalformedEvidence, "NVIDIA RIM: " + what);
}

// xmlsec reports through a process-wide callback; the default one prints to stderr. Ours keeps
// the last message of this thread so a refusal can say what xmlsec disliked.
thread_local std::string g_xmlsec_error;
void KeepXmlsecError(const char* /*file*/, int /*line*/, const char* func, const char* /*object*/,
                     const char* subject, int /*reason*/, const char* msg) {
  g_xmlsec_error = std::string(func != nullptr ? func : "") + ": " +
                   (subject != nullptr ? std::string(subject) + ": " : std::string()) +
                   (msg != nullptr ? msg : "");
}
// libxml2's own diagnostics (C14N inside xmlsec) would go to stderr too.
void IgnoreXmlError(void* /*ctx*/, xmlError* /*error*/) {}  // libxml2 2.9: non-const

// xmlsec and its OpenSSL backend need one global initialisation; failing it is permanent.
Result<void> InitXmlsec() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    xmlInitParser();
    ok = xmlSecInit() >= 0 && xmlSecCheckVersion() == 1 && xmlSecOpenSSLAppInit(nullptr) >= 0 &&
         xmlSecOpenSSLInit() >= 0;
    xmlSecErrorsSetCallback(KeepXmlsecError);  // after xmlSecInit, which installs the default
  });
  if (!ok) return Fail(Code::kInternal, "NVIDIA RIM: initialising xmlsec failed: " + g_xmlsec_error);
  return {};
}

bool Named(const xmlNode* n, const char* name, const char* ns) {
  return n != nullptr && n->type == XML_ELEMENT_NODE &&
         std::strcmp(reinterpret_cast<const char*>(n->name), name) == 0 && n->ns != nullptr &&
         n->ns->href != nullptr && std::strcmp(reinterpret_cast<const char*>(n->ns->href), ns) == 0;
}

std::string NameOf(const xmlNode* n) { return reinterpret_cast<const char*>(n->name); }

// Attribute in no namespace (SWID's own attributes), or in `ns`. nullopt when absent.
std::optional<std::string> Attr(const xmlNode* n, const char* name, const char* ns = nullptr) {
  XmlCharsPtr v(ns == nullptr ? xmlGetNoNsProp(n, reinterpret_cast<const xmlChar*>(name))
                              : xmlGetNsProp(n, reinterpret_cast<const xmlChar*>(name),
                                             reinterpret_cast<const xmlChar*>(ns)));
  if (!v) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(v.get()));
}

Result<std::string> RequiredAttr(const xmlNode* n, const char* name, const std::string& where) {
  auto v = Attr(n, name);
  if (!v || v->empty()) return Malformed(where + " has no " + name + " attribute");
  if (v->size() > kMaxAttributeBytes) return Malformed(where + " " + name + " is too long");
  for (unsigned char c : *v) {
    if (c < 0x20 || c >= 0x7f) return Malformed(where + " " + name + " is not printable ASCII");
  }
  return *v;
}

// Walks the whole tree once: depth and element budget, and no entity references (a document
// with a DOCTYPE is refused before parsing, so none should exist; checked anyway).
Result<void> CheckShape(const xmlNode* n, int depth, std::size_t& elements) {
  for (; n != nullptr; n = n->next) {
    if (n->type == XML_ENTITY_REF_NODE || n->type == XML_ENTITY_NODE ||
        n->type == XML_DTD_NODE || n->type == XML_XINCLUDE_START) {
      return Malformed("entities, DTDs and XInclude are not allowed");
    }
    if (n->type != XML_ELEMENT_NODE) continue;
    if (depth > kMaxRimDepth) return Malformed("nested deeper than " + std::to_string(kMaxRimDepth));
    if (++elements > kMaxRimElements) {
      return Malformed("more than " + std::to_string(kMaxRimElements) + " elements");
    }
    SIGIL_RETURN_IF_ERROR(CheckShape(n->children, depth + 1, elements));
  }
  return {};
}

bool IsDriverVersion(std::string_view v) {  // "550.54.15", "545.00": 2-4 decimal components
  int parts = 0;
  std::size_t run = 0;
  for (char c : v) {
    if (c == '.') {
      if (run == 0) return false;
      ++parts;
      run = 0;
    } else if (c >= '0' && c <= '9' && ++run <= 4) {
      continue;
    } else {
      return false;
    }
  }
  return run > 0 && parts >= 1 && parts <= 3;
}

bool IsVbiosVersion(std::string_view v) {  // "96.00.5e.00.04": 5 components of 2 hex digits
  if (v.size() != 14) return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (i % 3 == 2) {
      if (c != '.') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

Result<std::uint32_t> SmallNumber(const std::string& s, std::uint32_t max, const std::string& what) {
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || s.size() > 3 || ec != std::errc() || end != s.data() + s.size() || v > max) {
    return Malformed(what + " '" + s + "' is not a number in 0.." + std::to_string(max));
  }
  return v;
}

Result<RimMeasurement> ParseResource(const xmlNode* r, std::set<std::uint32_t>& seen, bool& active) {
  if (!Named(r, "Resource", kSwidNs)) return Malformed("Payload child <" + NameOf(r) + "> is not a SWID Resource");
  SIGIL_ASSIGN_OR_RETURN(std::string type, RequiredAttr(r, "type", "Resource"));
  if (type != "Measurement") return Malformed("Resource of type '" + type + "', expected Measurement");
  SIGIL_ASSIGN_OR_RETURN(std::string index_text, RequiredAttr(r, "index", "Resource"));
  // SPDM block indices are 1..254 and the RIM's are one less.
  SIGIL_ASSIGN_OR_RETURN(std::uint32_t index, SmallNumber(index_text, 253, "Resource index"));
  const std::string where = "Resource index " + std::to_string(index);
  if (!seen.insert(index).second) return Malformed("measurement index " + std::to_string(index) + " appears twice");
  SIGIL_ASSIGN_OR_RETURN(std::string active_text, RequiredAttr(r, "active", where));
  if (active_text != "True" && active_text != "False") {
    return Malformed(where + " active is '" + active_text + "', expected True or False");
  }
  active = active_text == "True";
  SIGIL_ASSIGN_OR_RETURN(std::string alt_text, RequiredAttr(r, "alternatives", where));
  SIGIL_ASSIGN_OR_RETURN(std::uint32_t alternatives,
                         SmallNumber(alt_text, kMaxRimAlternatives, where + " alternatives"));
  if (alternatives == 0) return Malformed(where + " has 0 alternatives");
  RimMeasurement m;
  m.rim_index = index;
  m.block = index + 1;
  for (std::uint32_t i = 0; i < alternatives; ++i) {
    const std::string name = "Hash" + std::to_string(i);
    auto h = Attr(r, name.c_str(), kSha384Ns);
    if (!h) return Malformed(where + " has no " + name + " (in the sha384 namespace)");
    if (h->size() != kRimHashHexSize ||
        !std::all_of(h->begin(), h->end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; })) {
      return Malformed(where + " " + name + " is not 96 hex digits (SHA-384)");
    }
    std::transform(h->begin(), h->end(), h->begin(), [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    if (std::find(m.alternatives.begin(), m.alternatives.end(), *h) == m.alternatives.end()) {
      m.alternatives.push_back(std::move(*h));
    }
  }
  // A hash beyond `alternatives` would be ignored by a reader that trusts the count and used by
  // one that does not: refuse the ambiguity.
  for (const xmlAttr* a = r->properties; a != nullptr; a = a->next) {
    if (a->ns == nullptr || a->ns->href == nullptr ||
        std::strcmp(reinterpret_cast<const char*>(a->ns->href), kSha384Ns) != 0) {
      continue;
    }
    const std::string n = reinterpret_cast<const char*>(a->name);
    std::uint32_t k = 0;
    auto [end, ec] = std::from_chars(n.data() + std::min<std::size_t>(4, n.size()), n.data() + n.size(), k);
    if (n.rfind("Hash", 0) != 0 || n.size() <= 4 || ec != std::errc() || end != n.data() + n.size() ||
        k >= alternatives) {
      return Malformed(where + " has attribute " + n + " beyond its " + std::to_string(alternatives) + " alternatives");
    }
  }
  return m;
}

// The parsed document and the pieces verification needs.
struct ParsedDoc {
  XmlDocPtr doc;
  xmlNode* signature = nullptr;
  Rim rim;
};

Result<ParsedDoc> ParseDoc(ByteSpan xml) {
  if (xml.empty()) return Malformed("empty file");
  if (xml.size() > kMaxRimBytes) {
    return Malformed(std::to_string(xml.size()) + " bytes, more than " + std::to_string(kMaxRimBytes));
  }
  // No DTD at all: it is the only way to declare entities (expansion bombs, external entities).
  // The byte search only sees a DOCTYPE written in ASCII, so the text must be UTF-8 (RIMs are
  // ASCII): no NUL byte (UTF-16 and UTF-32 have them), and libxml2 is told UTF-8 below whatever
  // the XML declaration says.
  const std::string_view text(reinterpret_cast<const char*>(xml.data()), xml.size());
  if (text.find('\0') != std::string_view::npos) return Malformed("not UTF-8 text (NUL byte)");
  if (text.find("<!DOCTYPE") != std::string_view::npos || text.find("<!ENTITY") != std::string_view::npos) {
    return Malformed("a DOCTYPE or entity declaration is not allowed");
  }
  SIGIL_RETURN_IF_ERROR(InitXmlsec());
  xmlSetStructuredErrorFunc(nullptr, IgnoreXmlError);
  XmlParserCtxtPtr pctx(xmlNewParserCtxt());
  if (!pctx) return Fail(Code::kInternal, "NVIDIA RIM: xmlNewParserCtxt");
  // NONET: never fetch anything; no NOENT/DTDLOAD/DTDATTR/XINCLUDE: nothing is substituted,
  // loaded or defaulted; no HUGE: libxml2 keeps its own depth and size limits.
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  ParsedDoc out;
  out.doc.reset(xmlCtxtReadMemory(pctx.get(), text.data(), static_cast<int>(text.size()), "rim.swidtag",
                                  "UTF-8", options));
  if (!out.doc) {
    const xmlError* e = xmlCtxtGetLastError(pctx.get());
    std::string why = e != nullptr && e->message != nullptr ? e->message : "not well-formed";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Malformed("not well-formed XML (line " + std::to_string(e != nullptr ? e->line : 0) + ": " + why + ")");
  }
  if (out.doc->intSubset != nullptr || out.doc->extSubset != nullptr) return Malformed("a DTD is not allowed");
  xmlNode* root = xmlDocGetRootElement(out.doc.get());
  std::size_t elements = 0;
  SIGIL_RETURN_IF_ERROR(CheckShape(out.doc->children, 1, elements));
  if (!Named(root, "SoftwareIdentity", kSwidNs)) {
    return Malformed("the root element is not a SWID SoftwareIdentity (ISO/IEC 19770-2:2015)");
  }
  Rim& rim = out.rim;
  SIGIL_ASSIGN_OR_RETURN(rim.tag_id, RequiredAttr(root, "tagId", "SoftwareIdentity"));
  xmlNode* meta = nullptr;
  xmlNode* payload = nullptr;
  for (xmlNode* c = root->children; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    xmlNode** slot = nullptr;
    if (Named(c, "Meta", kSwidNs)) {
      slot = &meta;
    } else if (Named(c, "Payload", kSwidNs)) {
      slot = &payload;
    } else if (Named(c, "Signature", kDsigNs)) {
      slot = &out.signature;
    } else if (Named(c, "Entity", kSwidNs)) {
      continue;  // who made the tag: informational
    } else {
      return Malformed("unexpected element <" + NameOf(c) + "> in SoftwareIdentity");
    }
    if (*slot != nullptr) return Malformed("more than one <" + NameOf(c) + ">");
    *slot = c;
  }
  if (meta == nullptr) return Malformed("no Meta element");
  if (payload == nullptr) return Malformed("no Payload element");
  SIGIL_ASSIGN_OR_RETURN(std::string version, RequiredAttr(meta, "colloquialVersion", "Meta"));
  std::transform(version.begin(), version.end(), version.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  // The SWID tag does not say which component it describes (NVIDIA's driver and VBIOS RIMs both
  // have edition "GPU"); the version's form does: decimal driver versions, hex VBIOS ones.
  if (IsDriverVersion(version)) {
    rim.kind = RimKind::kDriver;
  } else if (IsVbiosVersion(version)) {
    rim.kind = RimKind::kVbios;
  } else {
    return Malformed("colloquialVersion '" + version + "' is neither a driver (550.54.15) nor a VBIOS (96.00.5e.00.04) version");
  }
  rim.version = std::move(version);
  rim.product = Attr(meta, "product").value_or("");
  if (rim.product.size() > kMaxAttributeBytes) return Malformed("Meta product is too long");
  std::set<std::uint32_t> seen;
  for (xmlNode* r = payload->children; r != nullptr; r = r->next) {
    if (r->type != XML_ELEMENT_NODE) continue;
    bool active = false;
    SIGIL_ASSIGN_OR_RETURN(RimMeasurement m, ParseResource(r, seen, active));
    if (active) {
      rim.measurements.push_back(std::move(m));
    } else {
      ++rim.inactive;
    }
  }
  if (rim.measurements.empty()) return Malformed("no active measurement");
  std::sort(rim.measurements.begin(), rim.measurements.end(),
            [](const RimMeasurement& a, const RimMeasurement& b) { return a.block < b.block; });
  return out;
}

std::vector<xmlNode*> Children(xmlNode* parent, const char* name, const char* ns) {
  std::vector<xmlNode*> out;
  for (xmlNode* c = parent == nullptr ? nullptr : parent->children; c != nullptr; c = c->next) {
    if (Named(c, name, ns)) out.push_back(c);
  }
  return out;
}

// Exactly one SignedInfo/Reference, covering the whole document (URI=""), so the signature
// covers every Resource we read: no reference to a fragment that a wrapped copy could satisfy.
Result<void> CheckSignatureShape(xmlNode* root, xmlNode* sig) {
  std::size_t signatures = 0;
  std::vector<xmlNode*> stack{root};
  while (!stack.empty()) {
    xmlNode* n = stack.back();
    stack.pop_back();
    for (xmlNode* c = n->children; c != nullptr; c = c->next) {
      if (c->type != XML_ELEMENT_NODE) continue;
      if (Named(c, "Signature", kDsigNs)) ++signatures;
      stack.push_back(c);
    }
  }
  if (signatures != 1) return Fail(Code::kVerificationFailed, "NVIDIA RIM: expected exactly one ds:Signature, found " + std::to_string(signatures));
  auto signed_info = Children(sig, "SignedInfo", kDsigNs);
  if (signed_info.size() != 1) return Fail(Code::kVerificationFailed, "NVIDIA RIM: the signature has no single SignedInfo");
  auto refs = Children(signed_info[0], "Reference", kDsigNs);
  if (refs.size() != 1) return Fail(Code::kVerificationFailed, "NVIDIA RIM: the signature must have exactly one Reference");
  auto uri = Attr(refs[0], "URI");
  if (!uri || !uri->empty()) {
    return Fail(Code::kVerificationFailed, "NVIDIA RIM: the signature's Reference must be URI=\"\" (the whole document)");
  }
  return {};
}

// KeyInfo/X509Data/X509Certificate, in document order (signer first, as NVIDIA writes them).
Result<std::vector<X509Ptr>> Certificates(xmlNode* sig) {
  auto key_info = Children(sig, "KeyInfo", kDsigNs);
  if (key_info.size() != 1) return Fail(Code::kVerificationFailed, "NVIDIA RIM: the signature has no single KeyInfo");
  auto data = Children(key_info[0], "X509Data", kDsigNs);
  if (data.size() != 1) return Fail(Code::kVerificationFailed, "NVIDIA RIM: KeyInfo has no single X509Data");
  std::vector<X509Ptr> out;
  for (xmlNode* c : Children(data[0], "X509Certificate", kDsigNs)) {
    if (out.size() == kMaxCertificates) return Malformed("more than " + std::to_string(kMaxCertificates) + " certificates");
    XmlCharsPtr content(xmlNodeGetContent(c));
    std::string b64;
    for (const char* p = content ? reinterpret_cast<const char*>(content.get()) : ""; *p != '\0'; ++p) {
      if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t') b64.push_back(*p);
    }
    auto der = Base64Decode(b64);
    if (!der) return Malformed("X509Certificate #" + std::to_string(out.size() + 1) + " is not base64");
    const unsigned char* p = der->data();
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der->size())));
    if (!cert || p != der->data() + der->size()) {
      ERR_clear_error();
      return Malformed("X509Certificate #" + std::to_string(out.size() + 1) + " is not a DER certificate");
    }
    out.push_back(std::move(cert));
  }
  if (out.empty()) return Fail(Code::kVerificationFailed, "NVIDIA RIM: X509Data has no certificate");
  return out;
}

std::string SubjectLine(const X509& cert);

// What revocation data said about the validated chain: Rim::revocation and Rim::unchecked.
struct ChainRevocation {
  Revocation revocation = Revocation::kNotChecked;
  std::vector<std::string> unchecked;
};

Result<ChainRevocation> VerifyChain(const std::vector<X509Ptr>& certs, const std::vector<X509Ptr>& roots,
                                    const std::vector<X509CrlPtr>& crls,
                                    const std::vector<OcspResponsePtr>& ocsp,
                                    std::chrono::system_clock::time_point now) {
  X509StorePtr store(X509_STORE_new());
  if (!store) return OpenSslError(Code::kInternal, "X509_STORE_new");
  for (const X509Ptr& r : roots) {
    if (X509_STORE_add_cert(store.get(), r.get()) != 1) return OpenSslError(Code::kInternal, "adding the RIM root");
  }
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), std::chrono::system_clock::to_time_t(now));
  // Only the roots are trusted; the RIM's other certificates (the root among them, if included)
  // are untrusted path candidates.
  X509StackPtr untrusted(sk_X509_new_null());
  if (!untrusted) return OpenSslError(Code::kInternal, "sk_X509_new_null");
  for (std::size_t i = 1; i < certs.size(); ++i) {
    if (sk_X509_push(untrusted.get(), certs[i].get()) <= 0) return OpenSslError(Code::kInternal, "sk_X509_push");
  }
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), certs[0].get(), untrusted.get()) != 1) {
    return OpenSslError(Code::kInternal, "initialising RIM chain verification");
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    const bool time = err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID;
    return Fail(time ? Code::kExpired : Code::kVerificationFailed,
                "NVIDIA RIM: the signing certificate does not chain to the RIM root at depth " +
                    std::to_string(X509_STORE_CTX_get_error_depth(ctx.get())) + ": " +
                    X509_verify_cert_error_string(err));
  }
  // X509_get_key_usage gives all bits when the extension is absent.
  if ((X509_get_key_usage(certs[0].get()) & KU_DIGITAL_SIGNATURE) == 0) {
    return Fail(Code::kVerificationFailed, "NVIDIA RIM: the signing certificate may not sign (keyUsage)");
  }
  // Revocation over the chain OpenSSL built (signer .. trusted root), not the RIM's X509Data
  // order, so only certificates that are really on the path are checked and reported.
  X509OwningStackPtr built(X509_STORE_CTX_get1_chain(ctx.get()));
  if (!built || sk_X509_num(built.get()) < 2) {
    return Fail(Code::kVerificationFailed, "NVIDIA RIM: the signing chain is shorter than 2 certificates");
  }
  // OCSP_basic_verify looks for a delegated responder only among these (the RIM's certificates
  // and the roots); trust still comes from the store alone, at `now`.
  X509StackPtr responders(sk_X509_new_null());
  if (!responders) return OpenSslError(Code::kInternal, "sk_X509_new_null");
  for (const std::vector<X509Ptr>* list : {&certs, &roots}) {
    for (const X509Ptr& c : *list) {
      if (sk_X509_push(responders.get(), c.get()) <= 0) return OpenSslError(Code::kInternal, "sk_X509_push");
    }
  }
  const RevocationData data{&crls, &ocsp, store.get(), responders.get(),
                            static_cast<std::int64_t>(std::chrono::system_clock::to_time_t(now))};
  auto covered = CheckChainRevocation(built.get(), data);
  if (!covered) return std::move(covered).error().Wrap("NVIDIA RIM signing chain");
  ChainRevocation out;
  out.revocation = SummarizeRevocation(*covered);
  for (std::size_t i = 0; i < covered->size(); ++i) {
    if (!(*covered)[i]) out.unchecked.push_back(SubjectLine(*sk_X509_value(built.get(), static_cast<int>(i))));
  }
  return out;
}

// The signer's key, checked to be P-384, as an xmlsec key that is the only one the signature
// may verify with.
Result<KeyPtr> SignerKey(X509& leaf) {
  EvpPkeyPtr pkey(X509_get_pubkey(&leaf));
  if (!pkey) return OpenSslError(Code::kVerificationFailed, "NVIDIA RIM: reading the signer's public key");
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_EC ||
      EVP_PKEY_get_group_name(pkey.get(), group, sizeof(group), &len) != 1 ||
      std::string_view(group, len) != "secp384r1") {
    ERR_clear_error();
    return Fail(Code::kVerificationFailed, "NVIDIA RIM: the signing key is not an EC P-384 key");
  }
  KeyDataPtr data(xmlSecOpenSSLEvpKeyAdopt(pkey.get()));
  if (!data) return Fail(Code::kInternal, "NVIDIA RIM: xmlSecOpenSSLEvpKeyAdopt: " + g_xmlsec_error);
  (void)pkey.release();  // owned by `data` now
  KeyPtr key(xmlSecKeyCreate());
  if (!key || xmlSecKeySetValue(key.get(), data.get()) < 0) {
    return Fail(Code::kInternal, "NVIDIA RIM: xmlSecKeySetValue: " + g_xmlsec_error);
  }
  (void)data.release();  // owned by `key` now
  return key;
}

Result<void> VerifySignature(xmlNode* sig, KeyPtr key) {
  DSigCtxPtr ctx(xmlSecDSigCtxCreate(nullptr));  // no keys manager: KeyInfo never picks the key
  if (!ctx) return Fail(Code::kInternal, "NVIDIA RIM: xmlSecDSigCtxCreate");
  ctx->signKey = key.release();  // freed by xmlSecDSigCtxDestroy
  // Same-document references only (nothing is fetched), and only the algorithms NVIDIA's RIMs
  // use: no XPath or XSLT transforms, no weaker digests or signatures.
  ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
  const xmlSecTransformId c14n[] = {xmlSecTransformInclC14N11Id, xmlSecTransformInclC14NId,
                                    xmlSecTransformExclC14NId};
  for (xmlSecTransformId id : c14n) {
    if (xmlSecDSigCtxEnableReferenceTransform(ctx.get(), id) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(ctx.get(), id) < 0) {
      return Fail(Code::kInternal, "NVIDIA RIM: enabling a C14N transform");
    }
  }
  if (xmlSecDSigCtxEnableReferenceTransform(ctx.get(), xmlSecTransformEnvelopedId) < 0 ||
      xmlSecDSigCtxEnableReferenceTransform(ctx.get(), xmlSecOpenSSLTransformSha384Id) < 0 ||
      xmlSecDSigCtxEnableSignatureTransform(ctx.get(), xmlSecOpenSSLTransformEcdsaSha384Id) < 0) {
    return Fail(Code::kInternal, "NVIDIA RIM: enabling the RIM algorithms");
  }
  g_xmlsec_error.clear();
  if (xmlSecDSigCtxVerify(ctx.get(), sig) < 0) {
    return Fail(Code::kVerificationFailed, "NVIDIA RIM: the signature could not be verified (" + g_xmlsec_error + ")");
  }
  if (ctx->status != xmlSecDSigStatusSucceeded) {
    return Fail(Code::kVerificationFailed, "NVIDIA RIM: bad signature (the content or the signature was changed)");
  }
  return {};
}

std::string SubjectLine(const X509& cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(&cert), 0, XN_FLAG_RFC2253) < 0) return "";
  char* p = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &p);
  return n > 0 ? std::string(p, static_cast<std::size_t>(n)) : "";
}

}  // namespace

std::string_view RimKindName(RimKind kind) { return kind == RimKind::kDriver ? "driver" : "vbios"; }

Result<Rim> ParseRimUnverified(ByteSpan xml) {
  SIGIL_ASSIGN_OR_RETURN(ParsedDoc parsed, ParseDoc(xml));
  return std::move(parsed.rim);
}

Result<Rim> VerifyRim(ByteSpan xml, const std::vector<X509Ptr>& roots,
                      std::chrono::system_clock::time_point now) {
  return VerifyRim(xml, roots, {}, {}, now);
}

Result<Rim> VerifyRim(ByteSpan xml, const std::vector<X509Ptr>& roots,
                      const std::vector<X509CrlPtr>& crls, const std::vector<OcspResponsePtr>& ocsp,
                      std::chrono::system_clock::time_point now) {
  if (roots.empty()) return Fail(Code::kInvalidArgument, "NVIDIA RIM: no trust anchor (RIM root CA) given");
  SIGIL_ASSIGN_OR_RETURN(ParsedDoc parsed, ParseDoc(xml));
  if (parsed.signature == nullptr) return Fail(Code::kVerificationFailed, "NVIDIA RIM: not signed (no ds:Signature)");
  SIGIL_RETURN_IF_ERROR(CheckSignatureShape(xmlDocGetRootElement(parsed.doc.get()), parsed.signature));
  SIGIL_ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, Certificates(parsed.signature));
  // Both must hold; the signature first, so that an altered RIM says so whoever signed it.
  SIGIL_ASSIGN_OR_RETURN(KeyPtr key, SignerKey(*certs[0]));
  SIGIL_RETURN_IF_ERROR(VerifySignature(parsed.signature, std::move(key)));
  SIGIL_ASSIGN_OR_RETURN(ChainRevocation revocation, VerifyChain(certs, roots, crls, ocsp, now));
  parsed.rim.signer = SubjectLine(*certs[0]);
  parsed.rim.revocation = revocation.revocation;
  parsed.rim.unchecked = std::move(revocation.unchecked);
  return std::move(parsed.rim);
}

std::vector<std::string> RimReferenceValues(const Rim& rim) {
  std::vector<std::string> out;
  for (const RimMeasurement& m : rim.measurements) {
    for (const std::string& h : m.alternatives) out.push_back(std::to_string(m.block) + ":" + h);
  }
  out.push_back("rim:" + std::string(RimKindName(rim.kind)) + ":" + rim.version);
  return out;
}

}  // namespace sigil::attestation::nvidia
