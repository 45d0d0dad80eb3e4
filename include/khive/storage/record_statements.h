#pragma once
// The read statements of the record stores (entities, notes, edges, events), assembled the same
// way on every engine around the engine's own filter: the request checked first (a namespace,
// paging), then SELECT, the filter, the order and LIMIT page.limit + 1 OFFSET page.offset (the
// extra row tells collectPage, paging.h, that another page follows).
//
// `Builder` is the engine's statement builder: default-constructible, with text(sv) appending
// SQL and integer(v) appending a bound integer, both returning the builder. `where(b, filter)`
// appends the filter's WHERE clause; where(b, filter, operation) when it takes the operation
// (to name it in an error). Function templates without state: thread-safe.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "khive/storage/event_store.h"
#include "khive/storage/graph_store.h"
#include "khive/storage/request_checks.h"
#include "khive/storage/sql_builder.h"
#include "khive/storage/types.h"

namespace khive::storage {

template <class Builder, class Filter, class Where>
void appendWhere(Builder& b, const Filter& filter, std::string_view operation, Where&& where) {
  if constexpr (std::is_invocable_v<Where, Builder&, const Filter&, std::string_view>) {
    where(b, filter, operation);
  } else {
    where(b, filter);
  }
}

// SELECT columns FROM table WHERE ... ORDER BY ... LIMIT ... OFFSET ... for one page.
// `order` is the ORDER BY text, or a callable order(b) that appends it.
template <class Builder, class Filter, class Where, class Order>
Builder pageStatement(std::string_view capability, std::string_view operation, std::string_view columns,
                      std::string_view table, const Filter& filter, const PageRequest& page, Where&& where,
                      Order&& order) {
  requireNamespaces(filter.namespaces, capability, operation);
  checkPage(page, capability, operation);
  Builder b;
  b.text("SELECT ").text(columns).text(" FROM ").text(table);
  appendWhere(b, filter, operation, where);
  if constexpr (std::is_convertible_v<Order, std::string_view>) {
    b.text(order);
  } else {
    order(b);
  }
  b.text(" LIMIT ").integer(page.limit + 1).text(" OFFSET ").integer(page.offset);
  return b;
}

// SELECT count(*) FROM table WHERE ... for the same filter.
template <class Builder, class Filter, class Where>
Builder countStatement(std::string_view capability, std::string_view operation, std::string_view table,
                       const Filter& filter, Where&& where) {
  requireNamespaces(filter.namespaces, capability, operation);
  Builder b;
  b.text("SELECT count(*) FROM ").text(table);
  appendWhere(b, filter, operation, where);
  return b;
}

// The ORDER BY of queryEdges: created_at or weight, then id, in the filter's direction.
inline std::string edgeOrderBy(const EdgeFilter& filter) {
  const std::string dir = filter.order == SortOrder::Asc ? " ASC" : " DESC";
  return (filter.sort == EdgeSort::CreatedAt ? " ORDER BY created_at" : " ORDER BY weight") + dir + ", id" + dir;
}

// The ORDER BY of queryEvents: by (created_at, id) in the filter's direction.
inline std::string_view eventOrderBy(const EventFilter& filter) {
  return filter.order == SortOrder::Asc ? " ORDER BY created_at, id" : " ORDER BY created_at DESC, id DESC";
}

// SELECT count(*) of the rows of a retrieval table (text_documents, vectors), aliased r, in
// `namespaces`, of `model` when given; with `liveOnly` only the rows whose subject is a live
// entity or note (soft delete keeps a subject's retrieval rows; both lookups are primary-key
// seeks). Checks the namespaces first (operation "count").
SqlBuilder retrievalCount(const SqlDialect& dialect, std::string_view capability, std::string_view table,
                          std::span<const std::string> namespaces, std::optional<std::string_view> model,
                          bool liveOnly);

}  // namespace khive::storage
