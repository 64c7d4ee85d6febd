// The Azure IMDS TD quote client against a real local HTTP server (fake_imds.h) that checks what
// IMDS checks (Metadata: true, a JSON body with the 1024-byte TDREPORT) and answers with the real
// TDX quote of /work/shared/vectors/tdx/dcap-qvl, or with each kind of wrong answer. The real
// Azure TDX HCL report (MANIFEST AZ-TDX-1) goes through TdQuoteForHclReport, and the broker's own
// verifier then checks the quote it returns: no TD quote made from that TDREPORT exists in the
// vectors, so the verifier refuses it in the hardware layer, by the TD quote's REPORTDATA.
#include "enclave/azure/imds_td_quote.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "attestation/azure/evidence.h"
#include "attestation/azure/hcl_verify.h"
#include "core/encoding.h"
#include "core/json.h"
#include "enclave/azure/azure_attester.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/azure/azure_test_util.h"
#include "tests/unit/enclave/azure/fake_imds.h"

namespace sigil::enclave::azure {
namespace {

using sigil::testing::FakeImds;
using sigil::testing::HttpAnswer;
using sigil::testing::ImdsRequest;
namespace vectors = sigil::testing::azure;
namespace az = attestation::azure;

Bytes TdReport() { return vectors::ReadVector("derived_tdreport.bin"); }
Bytes RealTdQuote() { return vectors::ReadVector("../../tdx/dcap-qvl/tdx_quote.bin"); }

std::string QuoteAnswer(const Bytes& quote) {
  return HttpAnswer(200, R"({"quote":")" + Base64UrlEncode(quote) + R"("})");
}

// What IMDS checks before it quotes: the Metadata header, POST to /acc/tdquote, a JSON body
// {"report": base64url of 1024 bytes}. Then `answer`.
FakeImds::Handler Imds(std::function<std::string(const ImdsRequest&)> answer) {
  return [answer = std::move(answer)](const ImdsRequest& req) -> std::string {
    if (!req.has_metadata || req.metadata != "true") {
      return HttpAnswer(400, R"({"error":"Bad request. Required metadata header not specified"})");
    }
    if (req.method != "POST" || req.target != "/acc/tdquote") return HttpAnswer(404, "{}");
    if (req.content_type != "application/json") return HttpAnswer(415, "{}");
    auto body = ParseJson(req.body, "request");
    if (!body || !body->is_object() || body->size() != 1 || !body->contains("report") ||
        !(*body)["report"].is_string()) {
      return HttpAnswer(400, R"({"error":"bad body"})");
    }
    auto report = Base64UrlDecode((*body)["report"].get<std::string>());
    if (!report || report->size() != 1024) return HttpAnswer(400, R"({"error":"bad report"})");
    return answer(req);
  };
}

// The error code of a failed result (nullopt if it succeeded), for messages with context.
template <class T>
std::optional<Code> CodeOf(const Result<T>& r) {
  if (r) return std::nullopt;
  return r.error().code();
}

ImdsConfig At(const FakeImds& imds, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  ImdsConfig c;
  c.url = imds.url();
  c.timeout = timeout;
  return c;
}

TEST(ImdsTdQuoteTest, PostsTheTdReportAndReturnsTheQuote) {
  const Bytes quote = RealTdQuote();
  ASSERT_FALSE(quote.empty());
  FakeImds imds(Imds([&](const ImdsRequest&) { return QuoteAnswer(quote); }));
  ASSERT_FALSE(imds.url().empty());
  ASSERT_OK_AND_ASSIGN(Bytes got, FetchTdQuote(At(imds), TdReport()));
  EXPECT_EQ(got, quote);
  const auto reqs = imds.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].metadata, "true");
  EXPECT_EQ(reqs[0].content_type, "application/json");
  // Exactly {"report": base64url(TDREPORT)}, unpadded.
  EXPECT_EQ(reqs[0].body, R"({"report":")" + Base64UrlEncode(TdReport()) + R"("})");
}

TEST(ImdsTdQuoteTest, PaddedBase64UrlIsAcceptedOnlyWithTheRightPadding) {
  // 5 bytes -> 7 characters + one '='; 4 bytes -> 6 characters + "==".
  EXPECT_EQ(ParseTdQuoteResponse(R"({"quote":"AQIDBAU="})").value(), (Bytes{1, 2, 3, 4, 5}));
  EXPECT_EQ(ParseTdQuoteResponse(R"({"quote":"AQIDBA=="})").value(), (Bytes{1, 2, 3, 4}));
  EXPECT_EQ(ParseTdQuoteResponse(R"({"quote":"AQIDBA"})").value(), (Bytes{1, 2, 3, 4}));
  for (const char* bad : {R"({"quote":"AQIDBA="})", R"({"quote":"AQIDBAU=="})",
                          R"({"quote":"AQIDBA==="})", R"({"quote":"===="})"}) {
    EXPECT_EQ(CodeOf(ParseTdQuoteResponse(bad)), Code::kMalformedEvidence) << bad;
  }
}

TEST(ImdsTdQuoteTest, WrongOrMissingFieldsAreRefused) {
  const std::string good = Base64UrlEncode(RealTdQuote());
  const std::vector<std::string> bodies = {
      "",
      "not json",
      R"(["quote"])",
      R"("quote")",
      "{}",
      R"({"Quote":")" + good + R"("})",
      R"({"quote":")" + good + R"(","status":"ok"})",
      R"({"quote":")" + good + R"(","quote":")" + good + R"("})",  // duplicate key
      R"({"quote":5})",
      R"({"quote":null})",
      R"({"quote":{"b64":")" + good + R"("}})",
      R"({"quote":""})",
      "{\"quote\":\"" + good + "\"",  // truncated
  };
  for (const auto& body : bodies) {
    EXPECT_EQ(CodeOf(ParseTdQuoteResponse(body)), Code::kMalformedEvidence) << body.substr(0, 80);
  }
  // Through the client too: a 200 answer of the wrong shape is kMalformedEvidence, naming IMDS.
  FakeImds imds(Imds([](const ImdsRequest&) { return HttpAnswer(200, R"({"report":"AA"})"); }));
  auto r = FetchTdQuote(At(imds), TdReport());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kMalformedEvidence);
  EXPECT_NE(r.error().message().find("no \"quote\" member"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find(imds.url()), std::string::npos) << r.error().message();
}

TEST(ImdsTdQuoteTest, InvalidBase64UrlIsRefused) {
  for (const char* text : {"AQID+A", "AQID/A", "AQI D", "AQIDB", "AQ\\nID", "AR", "AQIDBA%3D"}) {
    const std::string body = std::string(R"({"quote":")") + text + R"("})";
    auto r = ParseTdQuoteResponse(body);
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code(), Code::kMalformedEvidence) << text;
    EXPECT_NE(r.error().message().find("not base64url"), std::string::npos) << r.error().message();
  }
}

TEST(ImdsTdQuoteTest, OversizeAnswersAreRefusedBeforeTheyAreBufferedWhole) {
  const std::string big = R"({"quote":")" + std::string(kMaxImdsResponseBytes, 'A') + R"("})";
  {  // with a Content-Length that says so
    FakeImds imds(Imds([&](const ImdsRequest&) { return HttpAnswer(200, big); }));
    auto r = FetchTdQuote(At(imds), TdReport());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kUnavailable);
    EXPECT_NE(r.error().message().find("larger than 64 KiB"), std::string::npos) << r.error().message();
  }
  {  // without one: the body runs until the server closes
    FakeImds imds(Imds([&](const ImdsRequest&) {
      return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" + big;
    }));
    auto r = FetchTdQuote(At(imds), TdReport());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kUnavailable);
    EXPECT_NE(r.error().message().find("larger than 64 KiB"), std::string::npos) << r.error().message();
  }
  {  // endless headers
    FakeImds imds(Imds([&](const ImdsRequest&) {
      return "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(32 * 1024, 'x') + "\r\n\r\n{}";
    }));
    EXPECT_CODE(FetchTdQuote(At(imds), TdReport()), Code::kUnavailable);
  }
}

TEST(ImdsTdQuoteTest, AServerThatNeverAnswersTimesOut) {
  FakeImds imds(Imds([](const ImdsRequest&) { return sigil::testing::kNeverAnswer; }));
  const auto start = std::chrono::steady_clock::now();
  auto r = FetchTdQuote(At(imds, std::chrono::milliseconds(300)), TdReport());
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("no answer within 300 ms (read the answer)"), std::string::npos)
      << r.error().message();
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_EQ(imds.requests().size(), 1u);  // it did get the request
}

TEST(ImdsTdQuoteTest, StatusOtherThan200IsRefusedWithIMDSsReason) {
  {  // a request without the Metadata header is what IMDS answers 400 to: the fake checks it
    FakeImds imds(Imds([](const ImdsRequest&) { return HttpAnswer(500, "{}"); }));
    auto r = FetchTdQuote(At(imds), TdReport());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kUnavailable);
    EXPECT_NE(r.error().message().find("answered 500 to /acc/tdquote"), std::string::npos)
        << r.error().message();
  }
  {
    FakeImds imds([](const ImdsRequest&) {
      return HttpAnswer(404, "{\"error\":\"no\x1b[31m such\"}\n");  // control bytes are not echoed
    });
    auto r = FetchTdQuote(At(imds), TdReport());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kUnavailable);
    EXPECT_NE(r.error().message().find(R"(answered 404 to /acc/tdquote: {"error":"no?[31m such"}?)"),
              std::string::npos)
        << r.error().message();
  }
  {  // 201 with a good quote is still not IMDS's answer
    FakeImds imds(Imds([](const ImdsRequest&) {
      return HttpAnswer(201, R"({"quote":"AQID"})");
    }));
    EXPECT_CODE(FetchTdQuote(At(imds), TdReport()), Code::kUnavailable);
  }
}

TEST(ImdsTdQuoteTest, NothingListeningIsUnavailable) {
  ImdsConfig c;
  c.url = sigil::testing::ClosedLocalUrl();
  auto r = FetchTdQuote(c, TdReport());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("cannot connect"), std::string::npos) << r.error().message();
}

TEST(ImdsTdQuoteTest, UrlsAndReportSize) {
  ASSERT_OK_AND_ASSIGN(ImdsEndpoint d, ParseImdsUrl(kDefaultImdsUrl));
  EXPECT_EQ(d.host, "169.254.169.254");
  EXPECT_EQ(d.port, "80");
  ASSERT_OK_AND_ASSIGN(ImdsEndpoint p, ParseImdsUrl("http://127.0.0.1:8080/"));
  EXPECT_EQ(p.port, "8080");
  ASSERT_OK_AND_ASSIGN(ImdsEndpoint v6, ParseImdsUrl("http://[::1]:81"));
  EXPECT_EQ(v6.host, "::1");
  for (const char* bad :
       {"", "169.254.169.254", "https://169.254.169.254", "http://", "http://:80",
        "http://169.254.169.254/acc/tdquote", "http://169.254.169.254?x", "http://u@127.0.0.1",
        "http://localhost:80", "http://imds.example", "http://127.0.0.1:", "http://127.0.0.1:0",
        "http://127.0.0.1:65536", "http://127.0.0.1:8o", "http://::1", "http://[::1",
        "http://[::1]x", "HTTP://127.0.0.1"}) {
    EXPECT_EQ(CodeOf(ParseImdsUrl(bad)), Code::kInvalidArgument) << bad;
  }
  EXPECT_CODE(TdQuoteRequestBody(Bytes(1023)), Code::kInvalidArgument);
  EXPECT_CODE(TdQuoteRequestBody(Bytes(1025)), Code::kInvalidArgument);
  ImdsConfig c;
  c.url = "https://169.254.169.254";
  EXPECT_CODE(FetchTdQuote(c, TdReport()), Code::kInvalidArgument);
}

// The real Azure TDX HCL report (2600 bytes as read from NV, padding kept): its TDREPORT is what
// IMDS receives, and the quote IMDS returns goes into the evidence where the broker's verifier
// reads it. The vectors hold no TD quote made from this TDREPORT (MANIFEST AZ-TDX-1), so the
// fake returns the real dcap-qvl quote: the verifier checks its signature and chain to Intel's
// root and then refuses it because its REPORTDATA is not this TDREPORT's; without a TD quote it
// reports the hardware layer as not verified. A quote for this TDREPORT would pass here.
TEST(ImdsTdQuoteTest, RealAzureTdxReportQuoteReachesTheBrokersTdxCheck) {
  const Bytes hcl = vectors::TdxHcl();
  ASSERT_EQ(hcl.size(), 2600u);
  FakeImds imds(Imds([](const ImdsRequest&) { return QuoteAnswer(RealTdQuote()); }));
  ASSERT_OK_AND_ASSIGN(Bytes quote, TdQuoteForHclReport(hcl, At(imds)));
  EXPECT_EQ(quote, RealTdQuote());
  const auto reqs = imds.requests();
  ASSERT_EQ(reqs.size(), 1u);
  // IMDS got exactly the TDREPORT at HCL offset 0x20 (MANIFEST derived_tdreport.bin).
  ASSERT_OK_AND_ASSIGN(Json body, ParseJson(reqs[0].body, "request"));
  EXPECT_EQ(Base64UrlDecode(body["report"].get<std::string>()).value(), TdReport());

  // The evidence field the broker reads.
  ASSERT_OK_AND_ASSIGN(Bytes evidence, az::MakeAzureEvidence(hcl, {}, quote));
  ASSERT_OK_AND_ASSIGN(az::AzureEvidence parsed, az::ParseAzureEvidence(evidence));
  EXPECT_EQ(parsed.td_quote, RealTdQuote());

  az::AzureConfig config = vectors::TdxSignatureOnlyConfig();
  const auto now = vectors::At(1767225600);
  auto r = az::VerifyHclReport(parsed.hcl_report, {}, parsed.td_quote, config, now);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("azure-tdx-vtpm TD quote"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("quote report data is bound to a different"),
            std::string::npos)
      << r.error().message();
  ASSERT_OK_AND_ASSIGN(az::HclVerification alone, az::VerifyHclReport(hcl, config, now));
  EXPECT_FALSE(alone.hardware_verified);
}

TEST(ImdsTdQuoteTest, TdQuoteForHclReportRefusesWhatIsNotATdQuote) {
  // An SNP report has no TDREPORT: IMDS is not asked.
  FakeImds imds(Imds([](const ImdsRequest&) { return QuoteAnswer(Bytes(64, 7)); }));
  EXPECT_CODE(TdQuoteForHclReport(vectors::SnpHcl(), At(imds)), Code::kInvalidArgument);
  EXPECT_CODE(TdQuoteForHclReport(Bytes(100, 0), At(imds)), Code::kInvalidArgument);
  EXPECT_TRUE(imds.requests().empty());
  // IMDS answering with bytes that are no quote is named here, before the broker sees them.
  auto r = TdQuoteForHclReport(vectors::TdxHcl(), At(imds));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kMalformedEvidence);
  EXPECT_NE(r.error().message().find("not a TD quote"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace sigil::enclave::azure
