#pragma once
// Bulk writes by COPY: the rows of a batch go into a temporary staging table with one COPY,
// then into the real table with one set-based statement (the batch's single-row INSERT with
// its VALUES replaced by a SELECT from the staging table, ON CONFLICT arm and all).

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "backends/postgres/pg_conn.h"

namespace khive::postgres {

// The staged form of a single-row write. Thread-safe (immutable).
struct StagedForm {
  std::string stage;   // creates the session's staging table if needed and empties it
  std::string copy;    // COPY pg_temp.<stage> (columns) FROM STDIN
  std::string insert;  // INSERT INTO <table> (columns) SELECT columns FROM pg_temp.<stage> [ON CONFLICT ...]

  // The form of `single`, an `INSERT INTO t (c1, ..., cn) VALUES ($1, ..., $n) [tail]
  // [RETURNING ...]` statement (RETURNING is dropped); nullopt for any other shape. The staging
  // table has the target's column types (CREATE TEMP TABLE ... AS SELECT ... WITH NO DATA).
  static std::optional<StagedForm> of(std::string_view single);
};

// One COPY text-format line per parameter row (tab-separated, \N for NULL, backslash escapes).
// Every row must be allText().
std::string copyText(std::span<const Params> rows);

// Writes `rows` (parameter rows of the single-row form) through the staging table on `conn`,
// inside the transaction the caller opened; returns the rows the set-based statement changed.
// Throws khive::Error as the statements fail (the caller's transaction is then aborted).
std::int64_t stagedWrite(Conn& conn, const StagedForm& form, std::span<const Params> rows,
                         std::string_view capability, std::string_view operation);

}  // namespace khive::postgres
