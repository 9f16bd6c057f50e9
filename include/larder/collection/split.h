// Split — where the rows of an add() go: all to one phase, or divided among
// phases by fractions or by counts, in order (the first rows to the first
// phase). A Split is a value; plan() turns it into rows per phase.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace larder::collection {

// The phases a split by fractions or counts fills when none are named.
inline const std::vector<std::string>& default_phases() {
  static const std::vector<std::string> phases{"train", "valid", "test"};
  return phases;
}

class Split {
 public:
  // Every row to `phase`.
  static Split phase(std::string phase);
  // Fractions of the rows per phase, summing to 1 within 1e-6 (so
  // (0.7, 0.2, 0.1) is fine); phases default to train, valid, test.
  // Counts are rounded so that they sum to the rows: phase i gets rows
  // [round(N * f_0..i-1), round(N * f_0..i)).
  static Split fractions(std::vector<double> fractions, std::vector<std::string> phases = {});
  // Rows per phase, summing to the rows added.
  static Split counts(std::vector<std::int64_t> counts, std::vector<std::string> phases = {});

  // Rows per phase for `rows` rows, phases in order; Error(invalid_argument)
  // for a negative fraction or count, fractions that do not sum to 1, counts
  // that do not sum to `rows`, more fractions than phases, or a phase name
  // that is not one path segment.
  std::vector<std::pair<std::string, std::int64_t>> plan(std::int64_t rows) const;
  std::string to_string() const;

 private:
  enum class Kind { phase, fractions, counts };
  Kind kind_ = Kind::phase;
  std::vector<std::string> phases_;
  std::vector<double> fractions_;
  std::vector<std::int64_t> counts_;
};

// Error(invalid_argument) unless `name` can name a phase or a variable: one
// non-empty path segment starting with neither '.' (the format's own names)
// nor "larder." (larder's).
void check_name(const std::string& name, const char* what);

}  // namespace larder::collection
