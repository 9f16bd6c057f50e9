#include "larder/collection/split.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "larder/core/error.h"

namespace larder::collection {
namespace {

std::vector<std::string> phases_or_default(std::vector<std::string> phases, std::size_t parts) {
  if (phases.empty()) phases = default_phases();
  if (parts > phases.size()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("a split into {} parts needs {} phase names, got {}: {}", parts, parts,
                            phases.size(), fmt::join(phases, ", ")));
  }
  phases.resize(parts);
  for (auto p = phases.begin(); p != phases.end(); ++p) {
    check_name(*p, "phase");
    if (std::find(phases.begin(), p, *p) != p) {
      throw Error(
          ErrorCode::invalid_argument,
          fmt::format("phase '{}' is named twice in a split: {}", *p, fmt::join(phases, ", ")));
    }
  }
  return phases;
}

}  // namespace

void check_name(const std::string& name, const char* what) {
  if (name.empty() || name.front() == '.' || name.starts_with("larder.") ||
      name.find('/') != std::string::npos) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("'{}' cannot name a {}: use one path segment that starts with "
                            "neither '.' nor 'larder.'",
                            name, what));
  }
}

Split Split::phase(std::string phase) {
  check_name(phase, "phase");
  Split s;
  s.kind_ = Kind::phase;
  s.phases_ = {std::move(phase)};
  return s;
}

Split Split::fractions(std::vector<double> fractions, std::vector<std::string> phases) {
  if (fractions.empty()) throw Error(ErrorCode::invalid_argument, "a split needs fractions");
  double sum = 0;
  for (double f : fractions) {
    if (!(f >= 0) || !std::isfinite(f)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("split fractions must be finite and not negative, got ({})",
                              fmt::join(fractions, ", ")));
    }
    sum += f;
  }
  if (std::abs(sum - 1.0) > 1e-6) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("split fractions must sum to 1, got ({}) summing to {}",
                            fmt::join(fractions, ", "), sum));
  }
  Split s;
  s.kind_ = Kind::fractions;
  s.phases_ = phases_or_default(std::move(phases), fractions.size());
  s.fractions_ = std::move(fractions);
  return s;
}

Split Split::counts(std::vector<std::int64_t> counts, std::vector<std::string> phases) {
  if (counts.empty()) throw Error(ErrorCode::invalid_argument, "a split needs counts");
  for (auto c : counts) {
    if (c < 0) {
      throw Error(
          ErrorCode::invalid_argument,
          fmt::format("split counts must not be negative, got ({})", fmt::join(counts, ", ")));
    }
  }
  Split s;
  s.kind_ = Kind::counts;
  s.phases_ = phases_or_default(std::move(phases), counts.size());
  s.counts_ = std::move(counts);
  return s;
}

std::vector<std::pair<std::string, std::int64_t>> Split::plan(std::int64_t rows) const {
  std::vector<std::pair<std::string, std::int64_t>> out;
  switch (kind_) {
    case Kind::phase:
      out.emplace_back(phases_.front(), rows);
      break;
    case Kind::fractions: {
      // Boundaries at rounded cumulative fractions: the counts sum to `rows`
      // and each is within one row of rows * fraction.
      double cumulative = 0;
      std::int64_t begin = 0;
      for (std::size_t i = 0; i < fractions_.size(); ++i) {
        cumulative += fractions_[i];
        std::int64_t end = i + 1 == fractions_.size()
                               ? rows
                               : std::llround(static_cast<double>(rows) * cumulative);
        end = std::clamp(end, begin, rows);
        out.emplace_back(phases_[i], end - begin);
        begin = end;
      }
      break;
    }
    case Kind::counts: {
      const auto sum = std::accumulate(counts_.begin(), counts_.end(), std::int64_t{0});
      if (sum != rows) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("split counts ({}) sum to {}, but {} rows are added",
                                fmt::join(counts_, ", "), sum, rows));
      }
      for (std::size_t i = 0; i < counts_.size(); ++i)
        out.emplace_back(phases_[i], counts_[i]);
      break;
    }
  }
  return out;
}

std::string Split::to_string() const {
  switch (kind_) {
    case Kind::phase:
      return phases_.front();
    case Kind::fractions:
      return fmt::format("({}) of {}", fmt::join(fractions_, ", "), fmt::join(phases_, ", "));
    case Kind::counts:
      return fmt::format("({}) rows of {}", fmt::join(counts_, ", "), fmt::join(phases_, ", "));
  }
  return {};
}

}  // namespace larder::collection
