#pragma once
// Offset paging, the same on every engine: a page query runs with LIMIT page.limit + 1, and the
// extra row, when it comes back, says that another page follows. Pure function templates.

#include <cstdint>

#include "khive/storage/types.h"

namespace khive::storage {

// The page of a query run with LIMIT page.limit + 1: rows are taken while more() says another
// row came back, each decoded by read(); the extra row is not decoded and sets nextOffset.
template <class T, class More, class Read>
Page<T> collectPage(const PageRequest& page, More&& more, Read&& read) {
  Page<T> out;
  while (more()) {
    if (static_cast<std::int64_t>(out.items.size()) == page.limit) {
      out.nextOffset = page.offset + page.limit;
      break;
    }
    out.items.push_back(read());
  }
  return out;
}

}  // namespace khive::storage
