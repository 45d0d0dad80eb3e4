// Superuser statements on a PostgreSQL server for the benchmarks (durability settings,
// ANALYZE, dropping a benchmark's schema), over a libpq connection of their own.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

namespace khive::bench {

// Runs the ';'-separated statements in order; returns the first column of the last row any of
// them returned. Throws std::runtime_error with the server's message on the first failure.
inline std::string pgAdmin(const std::string& url, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(url.c_str()), &PQfinish);
  if (PQstatus(c.get()) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c.get()));
  // Quiet: DROP SCHEMA ... CASCADE would otherwise print a notice per dropped object.
  PQsetNoticeProcessor(c.get(), [](void*, const char*) {}, nullptr);
  std::string last;
  std::stringstream ss(sql);
  for (std::string stmt; std::getline(ss, stmt, ';');) {
    if (stmt.find_first_not_of(" \n") == std::string::npos) continue;
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), stmt.c_str()), &PQclear);
    auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw std::runtime_error(PQerrorMessage(c.get()));
    if (st == PGRES_TUPLES_OK && PQntuples(r.get()) > 0) last = PQgetvalue(r.get(), 0, 0);
  }
  return last;
}

}  // namespace khive::bench
