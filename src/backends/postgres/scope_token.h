#pragma once
// The signed scope token row-level security trusts (see migrations.cc, migration 4).
//
// A session's granted namespaces reach the policies as the GUC `khive.scope`, whose value is
//   hex(HMAC-SHA256(key, binding || ':' || namespaces)) || ':' || namespaces
// where `namespaces` is a text[] literal and `binding` is khive_session_binding() of that very
// server session (backend pid, client port, postmaster start time). The key lives in a table
// only the schema owner can read; the backend reads it once at open over the owner's (admin)
// connection and signs each pooled connection's token in-process. A session that sets
// khive.scope itself (SET, set_config, a DO block) cannot produce a valid MAC, and a token
// copied from another session fails the binding: either way it is granted nothing.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace khive::postgres {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::span<const std::uint8_t> data);
Sha256Digest hmacSha256(std::span<const std::uint8_t> key, std::string_view message);
std::string toHex(std::span<const std::uint8_t> bytes);

// The khive.scope value for `namespacesLiteral` (a text[] literal) in the session whose
// khive_session_binding() is `binding`.
std::string scopeToken(std::span<const std::uint8_t> key, std::string_view binding, std::string_view namespacesLiteral);

}  // namespace khive::postgres
