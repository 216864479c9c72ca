#include "strata/core/status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace strata {
namespace {

TEST(Status, DefaultIsOkWithEmptyMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.to_string(), "OK");
}

TEST(Status, FactoriesSetCodeAndMessage) {
  EXPECT_TRUE(Status::not_found("x").is_not_found());
  EXPECT_TRUE(Status::corruption("x").is_corruption());
  EXPECT_TRUE(Status::io_error("x").is_io_error());
  EXPECT_TRUE(Status::invalid_argument("x").is_invalid_argument());
  EXPECT_TRUE(Status::busy("x").is_busy());
  EXPECT_TRUE(Status::shutdown("x").is_shutdown());
  EXPECT_TRUE(Status::not_supported("x").is_not_supported());
  EXPECT_TRUE(Status::aborted("x").is_aborted());
  Status s = Status::corruption("bad crc in left at offset 12");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "bad crc in left at offset 12");
  EXPECT_EQ(s.to_string(), "Corruption: bad crc in left at offset 12");
}

TEST(Status, CopyAndMoveKeepCodeAndMessage) {
  Status a = Status::io_error("disk");
  Status b = a;
  EXPECT_EQ(a, b);
  Status c = std::move(b);
  EXPECT_EQ(c, a);
  b = c;
  EXPECT_EQ(b.message(), "disk");
  b = Status();
  EXPECT_TRUE(b.ok());
}

TEST(Status, FromErrnoNamesContextAndError) {
  Status s = Status::from_errno("open /x", ENOENT);
  EXPECT_TRUE(s.is_io_error());
  EXPECT_NE(s.message().find("open /x: "), std::string_view::npos);
  EXPECT_NE(s.message().find("No such file"), std::string_view::npos);
}

TEST(Status, WithContextPrefixesMessageAndKeepsOk) {
  EXPECT_TRUE(Status().with_context("ctx").ok());
  Status s = Status::busy("locked").with_context("open db");
  EXPECT_TRUE(s.is_busy());
  EXPECT_EQ(s.message(), "open db: locked");
}

Status fails_then_returns() {
  STRATA_RETURN_IF_ERROR(Status::aborted("stop here"));
  return Status::invalid_argument("not reached");
}

TEST(Status, ReturnIfErrorPropagates) { EXPECT_TRUE(fails_then_returns().is_aborted()); }

TEST(Status, OkStatusIsSmall) { EXPECT_LE(sizeof(Status), 2 * sizeof(void*)); }

}  // namespace
}  // namespace strata
