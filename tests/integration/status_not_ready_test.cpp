// `sigil status` exits 3 when the broker is up but not ready (docs/cli.md), against a real
// sigild of its own: its data directory is renamed under it, so the store's free-space check
// (part of readiness, broker/store/sqlite_store.cpp CheckFreeSpace) cannot find the store's file
// system while the open store still answers reads. Renamed back, the broker is ready again by
// itself and `sigil status` exits 0. (Any user can do this; a full disk needs a tmpfs mount,
// which store_integrity_test.cpp covers where it can.)
#include <cstdio>
#include <string>

#include "core/json.h"
#include "net/https_client.h"
#include "tests/integration/own_broker.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

testing::CommandResult Status(const OwnBroker& b, const std::string& data_dir, bool json) {
  std::vector<std::string> args{testing::BinPath("sigil"), "--admin-dir", data_dir + "/admin", "--broker", b.url()};
  if (json) args.push_back("--json");
  args.push_back("status");
  return testing::Run(args);
}

TEST(StatusNotReady, ExitsThreeWhileTheBrokerIsUpButNotReadyAndZeroOnceItIsAgain) {
  OwnBroker b;
  ASSERT_NO_FATAL_FAILURE(b.Start({}));
  const std::string data = b.data_dir(), moved = b.data_dir() + ".moved";
  auto ready = Status(b, data, false);
  ASSERT_EQ(ready.exit_code, 0) << ready.out << ready.err;
  EXPECT_EQ(ready.out.rfind("broker: ready\n", 0), 0u) << ready.out;

  ASSERT_EQ(std::rename(data.c_str(), moved.c_str()), 0);
  auto human = Status(b, moved, false);
  auto machine = Status(b, moved, true);
  ASSERT_OK_AND_ASSIGN(auto http, net::HttpsClient::Create(b.url(), {moved + "/admin/ca.pem", std::nullopt, std::nullopt}));
  auto readyz = http->Send("GET", "/readyz", "");
  ASSERT_EQ(std::rename(moved.c_str(), data.c_str()), 0);  // (before any assertion can return)

  EXPECT_EQ(human.exit_code, 3) << human.out << human.err;
  EXPECT_EQ(human.out.rfind("broker: NOT READY: store_unwritable", 0), 0u) << human.out;
  // The rest of the status is still shown: the broker is up and its store answers reads.
  EXPECT_NE(human.out.find("tenants: 1; key versions: 1 enabled"), std::string::npos) << human.out;
  // With --json the answer is the data: exit 0, "ready": false and why (docs/cli.md).
  EXPECT_EQ(machine.exit_code, 0) << machine.err;
  auto j = ParseJson(machine.out, "status");
  ASSERT_TRUE(j.has_value()) << machine.out;
  EXPECT_EQ((*j)["ready"], false);
  EXPECT_EQ((*j).value("store_problem", "").rfind("store_unwritable", 0), 0u) << machine.out;
  ASSERT_TRUE(readyz.has_value());
  EXPECT_EQ(readyz->status, 503) << readyz->body;

  auto again = Status(b, data, false);
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(again.out.rfind("broker: ready\n", 0), 0u) << again.out;
}

}  // namespace
}  // namespace sigil::integration
