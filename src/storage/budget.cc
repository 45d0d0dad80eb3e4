#include <fmt/format.h>

#include "khive/core/error.h"
#include "khive/storage/sql_access.h"

namespace khive::storage {

namespace {
constexpr std::string_view kNarrow =
    "narrow the request (fewer or shorter hop ranges, a more selective start node, a LIMIT, fewer search terms)";
}  // namespace

void throwTimeBudgetExceeded(std::chrono::milliseconds budget, std::string_view capability, std::string_view operation) {
  throw Error(ErrorCode::Timeout, std::string(capability), std::string(operation),
              fmt::format("the read ran past its time budget of {} ms and was stopped; {} or raise the budget "
                          "([limits] time_budget_ms in khive.toml, or --timeout-ms)",
                          budget.count(), kNarrow));
}

void throwWorkBudgetExceeded(std::int64_t budget, std::string_view capability, std::string_view operation) {
  throw Error(ErrorCode::InvalidInput, std::string(capability), std::string(operation),
              fmt::format("the read exceeded its work budget of {} thousand engine steps and was stopped; {} or "
                          "raise the budget ([limits] work_budget in khive.toml)",
                          budget, kNarrow));
}

}  // namespace khive::storage
