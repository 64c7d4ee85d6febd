// `sigil status` as docs/cli.md gives it, against the real broker: health, TEE types, the
// collateral's soonest expiry, connections and key counts; only for an operator certificate.
#include <string>

#include "core/json.h"
#include "tests/integration/broker_fixture.h"

namespace sigil::integration {
namespace {

TEST(Status, ShowsHealthTeeTypesCollateralAndKeyCounts) {
  auto& env = BrokerEnv::Get();
  auto human = env.Sigil({"status"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_EQ(human.out.rfind("broker: ready\n", 0), 0u) << human.out;
  EXPECT_NE(human.out.find("tee types: "), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("dev"), std::string::npos) << human.out;
  // The fixture stores AMD's Milan ARK as the SEV-SNP trust anchor.
  EXPECT_NE(human.out.find("collateral sev-snp: soonest expiry "), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("key versions: "), std::string::npos) << human.out;

  auto machine = env.Sigil({"--json", "status"});
  ASSERT_EQ(machine.exit_code, 0) << machine.err;
  auto j = ParseJson(machine.out, "status");
  ASSERT_TRUE(j.has_value()) << machine.out;
  EXPECT_EQ((*j)["ready"], true);
  EXPECT_GE((*j)["tenants"].get<int>(), 3);  // acme, bob, carol (and any a test made)
  EXPECT_GE((*j)["keys"]["enabled"].get<int>(), 5);
  EXPECT_GE((*j)["open_connections"].get<double>(), 1.0);  // this one
  bool snp = false;
  for (const auto& c : (*j)["collateral"]) snp |= c["tee"] == "sev-snp" && c["seconds_left"].get<std::int64_t>() > 0;
  EXPECT_TRUE(snp) << machine.out;
  EXPECT_EQ(machine.out.find("private"), std::string::npos) << "no key material in the status";
}

}  // namespace
}  // namespace sigil::integration
