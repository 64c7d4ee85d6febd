#include "core/rfc3339.h"

#include <gtest/gtest.h>

namespace sigil {
namespace {

using std::chrono::system_clock;

TEST(FormatRfc3339Utc, WholeSecondsInUtc) {
  EXPECT_EQ(FormatRfc3339Utc(system_clock::from_time_t(0)), "1970-01-01T00:00:00Z");
  // 2024-02-29T23:59:59Z (a leap day) = 1709251199; the milliseconds are dropped.
  EXPECT_EQ(FormatRfc3339Utc(system_clock::from_time_t(1709251199) + std::chrono::milliseconds(999)),
            "2024-02-29T23:59:59Z");
  EXPECT_EQ(FormatRfc3339Utc(system_clock::from_time_t(1709251200)), "2024-03-01T00:00:00Z");
}

}  // namespace
}  // namespace sigil
