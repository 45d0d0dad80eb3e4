#include "runtime/request_checks.h"

#include "khive/core/error.h"
#include "khive/runtime/bounds.h"
#include "runtime/boundary.h"

namespace khive::runtime {

void checkListRequest(const ListRequest& req, const Limits& limits) {
  checkNameField(req.type, "list type", limits);
  checkListValues(req.kinds, "list kinds", limits);
  if (req.namePrefix) checkNameField(*req.namePrefix, "list name_prefix", limits);
  checkListValues(req.tags, "list tags", limits);
  checkBound(req.limit, kListLimit, "limit");
  checkBound(req.offset, kListOffset, "offset");
}

void checkSearchRequest(const SearchRequest& req, const Limits& limits) {
  checkRequestText(req.text, "search text", limits.maxSearchBytes, "max_search_bytes");
  checkListValues(req.kinds, "search kinds", limits);
  checkBound(req.topK, kSearchTopK, "limit");
}

void checkQueryRequest(const QueryRequest& req, const Limits& limits) {
  checkRequestText(req.text, "query text", limits.maxQueryBytes, "max_query_bytes");
  if (req.language) checkNameField(*req.language, "query language", limits);
  if (!req.parameters.is_object()) throw Error(ErrorCode::InvalidInput, "runtime", "validate", "query parameters must be a JSON object");
  checkJsonField(req.parameters, "query parameters", limits);
  checkBound(req.rowCap, kQueryRowCap, "cap");
}

}  // namespace khive::runtime
