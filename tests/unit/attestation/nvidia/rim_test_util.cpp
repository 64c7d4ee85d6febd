#include "tests/unit/attestation/nvidia/rim_test_util.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <fstream>

#include "core/digest.h"
#include "core/encoding.h"
#include "tests/support/process.h"

namespace sigil::testing::nvidia {
namespace {

void RimToolMust(const std::vector<std::string>& argv) {
  CommandResult r = Run(argv);
  ASSERT_EQ(r.exit_code, 0) << argv[0] << " " << (argv.size() > 1 ? argv[1] : "") << ": " << r.err << r.out;
}

void RimWriteText(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  ASSERT_TRUE(f.good()) << path;
}

// A fresh `openssl ca` database for one CRL or OCSP response of `issuer`: `dir`/`name`.cnf.
std::string CaConfig(const RimPki& pki, RimIssuer issuer, const std::string& dir, const std::string& name,
                     std::string& cert, std::string& key) {
  const std::string p = dir + "/" + name;
  cert = issuer == RimIssuer::kRoot ? pki.root_pem : pki.ca_pem;
  key = issuer == RimIssuer::kRoot ? pki.root_key : pki.ca_key;
  RimWriteText(p + ".index", "");
  RimWriteText(p + ".crlnumber", "01\n");
  RimWriteText(p + ".cnf", "[ca]\ndefault_ca = d\n[d]\ndatabase = " + p + ".index\ncrlnumber = " + p +
                               ".crlnumber\ndefault_md = sha384\n");
  return p + ".cnf";
}

}  // namespace

std::string MakeRimCrl(const RimPki& pki, RimIssuer issuer, const std::string& dir, const std::string& name,
                       const std::vector<std::string>& revoked, int days) {
  std::string cert, key;
  const std::string cnf = CaConfig(pki, issuer, dir, name, cert, key);
  const std::string ossl = "/usr/bin/openssl";
  for (const std::string& r : revoked) {
    RimToolMust({ossl, "ca", "-batch", "-config", cnf, "-keyfile", key, "-cert", cert, "-revoke", r});
  }
  const std::string pem = dir + "/" + name + ".crl.pem";
  RimToolMust({ossl, "ca", "-batch", "-config", cnf, "-keyfile", key, "-cert", cert, "-gencrl", "-crldays",
               std::to_string(days), "-out", pem});
  RimToolMust({ossl, "crl", "-in", pem, "-outform", "DER", "-out", dir + "/" + name + ".crl.der"});
  return pem;
}

std::string MakeRimOcsp(const RimPki& pki, RimIssuer issuer, const std::string& dir, const std::string& name,
                        const std::string& cert_pem, bool revoked, int days) {
  std::string cert, key;
  const std::string cnf = CaConfig(pki, issuer, dir, name, cert, key);
  const std::string ossl = "/usr/bin/openssl";
  // The responder answers from the database: "V" (good) after -valid, "R" after -revoke.
  RimToolMust({ossl, "ca", "-batch", "-config", cnf, "-keyfile", key, "-cert", cert, revoked ? "-revoke" : "-valid",
               cert_pem});
  const std::string out = dir + "/" + name + ".ocsp.der";
  RimToolMust({ossl, "ocsp", "-index", dir + "/" + name + ".index", "-rsigner", cert, "-rkey", key, "-CA", cert,
               "-issuer", cert, "-cert", cert_pem, "-ndays", std::to_string(days), "-noverify", "-respout", out});
  return out;
}

RimPki MakeRimPki(const std::string& dir, const std::string& prefix) {
  const std::string p = dir + "/" + prefix;
  RimPki pki{p + "root.pem", p + "ca.pem", p + "signer.key", p + "signer.pem", p + "root.key", p + "ca.key"};
  const std::string ossl = "/usr/bin/openssl";
  RimWriteText(p + "ca.ext", "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n");
  RimWriteText(p + "signer.ext", "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n");
  RimToolMust({ossl, "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", p + "root.key"});
  RimToolMust({ossl, "req", "-x509", "-new", "-key", p + "root.key", "-sha384", "-days", "3650", "-subj",
        "/O=Sigil Test/CN=Test RIM signing Root CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", pki.root_pem});
  RimToolMust({ossl, "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", p + "ca.key"});
  RimToolMust({ossl, "req", "-new", "-key", p + "ca.key", "-subj", "/O=Sigil Test/CN=Test Reference Value CA",
        "-out", p + "ca.csr"});
  RimToolMust({ossl, "x509", "-req", "-in", p + "ca.csr", "-CA", pki.root_pem, "-CAkey", p + "root.key",
        "-set_serial", "2", "-days", "3650", "-sha384", "-extfile", p + "ca.ext", "-out", pki.ca_pem});
  RimToolMust({ossl, "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", pki.signer_key});
  RimToolMust({ossl, "req", "-new", "-key", pki.signer_key, "-subj", "/O=Sigil Test/CN=Test RIM Signer",
        "-out", p + "signer.csr"});
  RimToolMust({ossl, "x509", "-req", "-in", p + "signer.csr", "-CA", pki.ca_pem, "-CAkey", p + "ca.key",
        "-set_serial", "3", "-days", "3650", "-sha384", "-extfile", p + "signer.ext", "-out", pki.signer_pem});
  return pki;
}

std::string TestHash(const std::string& label, int index) {
  const std::string in = label + "/" + std::to_string(index);
  unsigned char md[48];
  unsigned int len = 0;
  EVP_Digest(in.data(), in.size(), md, &len, EVP_sha384(), nullptr);
  return HexEncode(ByteSpan(md, len));
}

RimSpec DriverSpec(const std::vector<int>& active, const std::string& version) {
  RimSpec spec;
  spec.version = version;
  spec.tag_id = "NV_GPU_DRIVER_GH100_" + version;
  const std::string zero(96, '0');
  for (int i = 0; i < 64; ++i) {
    RimResource r;
    r.index = i;
    r.active = std::find(active.begin(), active.end(), i) != active.end();
    if (r.active) {
      r.hashes.push_back(TestHash("driver", i));
      if (i == active.front()) r.hashes.push_back(TestHash("driver-alt", i));
    } else {
      r.hashes.push_back(zero);
    }
    spec.resources.push_back(r);
  }
  return spec;
}

std::string RimTemplate(const RimSpec& spec) {
  std::string x =
      "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" "
      "xmlns:ns0=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" "
      "xmlns:ns2=\"http://www.w3.org/2001/04/xmlenc#sha384\" corpus=\"false\" name=\"GH100\" "
      "patch=\"false\" supplemental=\"false\" tagId=\"" + spec.tag_id + "\" version=\"1.0\" tagVersion=\"0\">\n"
      "    <ns0:Entity name=\"NVIDIA Corporation\" role=\"softwareCreator tagCreator\"/>\n"
      "    <ns0:Meta xmlns:ns1=\"https://trustedcomputinggroup.org/resource/tcg-reference-integrity-manifest-rim-information-model/\" "
      "colloquialVersion=\"" + spec.version + "\" edition=\"GPU\" product=\"GH100\" revision=\"r1\" "
      "PayloadType=\"direct\" ns1:BindingSpec=\"RIMIM\" ns1:BindingSpecVersion=\"1.01\" "
      "ns1:PlatformManufacturerId=\"5703\" ns1:PlatformManufacturerStr=\"NVIDIA Corporation\" "
      "ns1:PlatformModel=\"GH100\" ns1:FirmwareManufacturer=\"NVIDIA Corporation\" ns1:FirmwareManufacturerId=\"5703\"/>\n"
      "    <ns0:Payload xmlns:SHA384=\"http://www.w3.org/2001/04/xmlenc#sha384\">\n";
  for (const RimResource& r : spec.resources) {
    x += "        <ns0:Resource type=\"Measurement\" index=\"" + std::to_string(r.index) + "\" active=\"" +
         (r.active ? "True" : "False") + "\" alternatives=\"" + std::to_string(r.hashes.size()) + "\"";
    for (std::size_t i = 0; i < r.hashes.size(); ++i) {
      x += " ns2:Hash" + std::to_string(i) + "=\"" + r.hashes[i] + "\"";
    }
    x += " name=\"Measurement_" + std::to_string(r.index) + "\" size=\"48\"/>\n";
  }
  x +=
      "    </ns0:Payload>\n"
      "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>"
      "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2006/12/xml-c14n11\"/>"
      "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384\"/>"
      "<ds:Reference URI=\"\"><ds:Transforms>"
      "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>"
      "<ds:Transform Algorithm=\"http://www.w3.org/2006/12/xml-c14n11\"/></ds:Transforms>"
      "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#sha384\"/>"
      "<ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>"
      "<ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data></ds:X509Data></ds:KeyInfo>"
      "</ds:Signature></SoftwareIdentity>\n";
  return x;
}

std::string SignRim(const RimPki& pki, const std::string& dir, const std::string& name,
                    const std::string& template_text) {
  const std::string tmpl = dir + "/" + name + ".xml";
  const std::string out = dir + "/" + name + ".swidtag";
  RimWriteText(tmpl, template_text);
  // The key file is followed by the certificates xmlsec1 writes into X509Data: signer first.
  RimToolMust({"/usr/bin/xmlsec1", "--sign", "--privkey-pem",
        pki.signer_key + "," + pki.signer_pem + "," + pki.ca_pem + "," + pki.root_pem, "--output", out, tmpl});
  return out;
}

}  // namespace sigil::testing::nvidia
