#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "khive/core/error.h"
#include "khive/core/records.h"
#include "khive/core/uuid.h"
#include "khive/core/vocabulary.h"

namespace khive {
namespace {

TEST(Uuid, V7IsVersionedOrderedAndUnique) {
  std::vector<Uuid> ids;
  for (int i = 0; i < 20000; ++i) ids.push_back(Uuid::v7());
  for (const auto& u : ids) {
    EXPECT_EQ(u.version(), 7);
    EXPECT_EQ(u.bytes()[8] & 0xC0, 0x80);
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<Uuid>(ids.begin(), ids.end()).size(), ids.size());
}

TEST(Uuid, V7CarriesTheClockMillisecond) {
  ManualClock clock(1'700'000'000'123'456);
  auto u = Uuid::v7(clock);
  std::uint64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = (ms << 8) | u.bytes()[i];
  EXPECT_GE(ms, 1'700'000'000'123u);
}

TEST(Uuid, ParsesCanonicalAndVariants) {
  auto u = Uuid::parse("0190F0E2-7B1C-7ABC-8DEF-0123456789AB");
  EXPECT_EQ(u.str(), "0190f0e2-7b1c-7abc-8def-0123456789ab");
  EXPECT_EQ(Uuid::parse("0190f0e27b1c7abc8def0123456789ab"), u);
  EXPECT_EQ(Uuid::parse("{0190f0e2-7b1c-7abc-8def-0123456789ab}"), u);
  EXPECT_EQ(Uuid::parse(u.str()), u);
  EXPECT_TRUE(Uuid().isNil());
  for (const char* bad : {"", "xyz", "0190f0e2-7b1c-7abc-8def-0123456789a", "0190f0e2_7b1c-7abc-8def-0123456789ab",
                          "g190f0e2-7b1c-7abc-8def-0123456789ab"}) {
    EXPECT_FALSE(Uuid::tryParse(bad)) << bad;
    try {
      Uuid::parse(bad);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
    }
  }
}

TEST(Uuid, ConcurrentGenerationStaysUnique) {
  std::vector<std::vector<Uuid>> per(4);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) per[t].push_back(Uuid::v7());
    });
  for (auto& t : ts) t.join();
  std::set<Uuid> all;
  for (auto& v : per) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 20000u);
}

TEST(Error, CarriesCodeCapabilityOperationAndMessage) {
  Error e(ErrorCode::Timeout, "graph", "traverse", "too slow");
  EXPECT_EQ(e.code(), ErrorCode::Timeout);
  EXPECT_EQ(e.capability(), "graph");
  EXPECT_EQ(e.operation(), "traverse");
  EXPECT_EQ(e.message(), "too slow");
  EXPECT_STREQ(e.what(), "[timeout] graph.traverse: too slow");
  EXPECT_TRUE(e.retryable());
  EXPECT_FALSE(Error(ErrorCode::InvalidInput, "a", "b", "c").retryable());
}

TEST(Records, EnumNamesRoundTrip) {
  for (auto s : {NoteStatus::Active, NoteStatus::Archived}) EXPECT_EQ(parseNoteStatus(noteStatusName(s)), s);
  for (auto s : {Substrate::Entity, Substrate::Note, Substrate::Event}) EXPECT_EQ(parseSubstrate(substrateName(s)), s);
  for (auto o : {Outcome::Success, Outcome::Denied, Outcome::Error}) EXPECT_EQ(parseOutcome(outcomeName(o)), o);
  EXPECT_THROW(parseNoteStatus("ACTIVE"), Error);
}

TEST(Vocabulary, DefaultKg) {
  EXPECT_EQ(vocab::defaultRelations().size(), 17u);
  EXPECT_EQ(vocab::defaultEntityKinds().size(), 9u);
  EXPECT_EQ(vocab::defaultNoteKinds().size(), 5u);
  EXPECT_TRUE(vocab::isDefaultSymmetric("competes_with"));
  EXPECT_TRUE(vocab::isDefaultSymmetric("composed_with"));
  EXPECT_FALSE(vocab::isDefaultSymmetric("extends"));
}

}  // namespace
}  // namespace khive
