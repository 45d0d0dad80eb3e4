#include "runtime/audit_log.h"

#include <algorithm>

namespace khive::runtime {

void AuditLog::record(std::string_view verb, Substrate substrate, std::string_view kind, Outcome outcome, Json payload,
                      Clock::duration took, std::optional<Uuid> target, std::string_view ns) const {
  Event ev;
  ev.id = Uuid::v7();
  ev.ns = ns.empty() ? policy_.writeNamespace() : std::string(ns);
  ev.verb = std::string(verb);
  ev.substrate = substrate;
  ev.actor = policy_.actor();
  // The kind of a refused request may be the bad input: kept as an excerpt a record may hold.
  ev.kind = outcome == Outcome::Success ? std::string(kind)
                                        : excerpt(kind, std::min<std::size_t>(200, policy_.limits().maxNameBytes));
  ev.outcome = outcome;
  ev.payload = std::move(payload);
  ev.durationUs = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
  ev.targetId = target;
  ev.sessionId = sessionId_;
  if (outcome == Outcome::Success) {
    backend_.events().appendEvent(ev);
    return;
  }
  try {
    backend_.events().appendEvent(ev);
  } catch (const Error&) {
    // The caller rethrows the error that made this an error event; a second failure (e.g. the
    // database is gone) adds nothing a person can act on.
  }
}

}  // namespace khive::runtime
