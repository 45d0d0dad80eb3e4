#pragma once
// The default "kg" vocabulary (docs/architecture.md). Configuration may add to it, never remove.

#include <span>
#include <string_view>

namespace khive::vocab {

std::span<const std::string_view> defaultEntityKinds() noexcept;
std::span<const std::string_view> defaultNoteKinds() noexcept;
// The 17 edge relations.
std::span<const std::string_view> defaultRelations() noexcept;
// Relations stored canonically with the smaller UUID as source: competes_with, composed_with.
std::span<const std::string_view> defaultSymmetricRelations() noexcept;
bool isDefaultSymmetric(std::string_view relation) noexcept;

}  // namespace khive::vocab
