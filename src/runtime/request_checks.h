// The checks of the read verbs' requests, run before a request reaches a store: every text
// argument (search text, query text and parameters, list filters, search kinds) is UTF-8
// without NUL and within its [limits] size, every list argument holds at most kMaxListValues
// values and every number is within its bound (khive/runtime/bounds.h). A request failing one
// is Error(InvalidInput) naming the argument. PostgreSQL refuses invalid UTF-8 itself, with a
// message that names no argument: these checks answer first, the same on every backend.
// Pure functions: thread-safe.
#pragma once

#include "khive/core/limits.h"
#include "khive/runtime/runtime.h"

namespace khive::runtime {

void checkListRequest(const ListRequest& req, const Limits& limits);
void checkSearchRequest(const SearchRequest& req, const Limits& limits);
void checkQueryRequest(const QueryRequest& req, const Limits& limits);

}  // namespace khive::runtime
