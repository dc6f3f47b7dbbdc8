// "Did you mean" suggestions for misspelt names. Pure functions, thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace flowengine {

/// Case-insensitive Levenshtein distance.
size_t EditDistance(std::string_view a, std::string_view b);

/// The candidate closest to `word` when it is close enough to be a likely typo, else "".
std::string SuggestClosest(std::string_view word, std::span<const std::string_view> candidates);

/// Joins names as "a, b, c".
std::string JoinNames(std::span<const std::string_view> names);

}  // namespace flowengine
