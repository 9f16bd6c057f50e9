#include "larder/store/csv.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <limits>

#include "file_io.h"
#include "fixed_strings.h"
#include "larder/core/error.h"

namespace larder::store {
namespace {

// The cells of a CSV text, column by column, each a view of the text (or,
// for a quoted cell holding doubled quotes, of its unescaped copy).
struct Cells {
  std::vector<std::vector<std::string_view>> columns;
  std::vector<std::int64_t> row_lines;  // the line each data row starts on
  std::deque<std::string> unescaped;    // owns the copies (stable addresses)
};

class Tokenizer {
 public:
  Tokenizer(std::string_view text, std::string_view origin, char delimiter)
      : text_(text), origin_(origin), delimiter_(delimiter) {}

  bool at_end() const { return position_ >= text_.size(); }
  std::int64_t line() const { return line_; }

  // The fields of the next record; an empty line gives none.
  std::vector<std::string_view> record(std::deque<std::string>& unescaped) {
    std::vector<std::string_view> fields;
    if (take_newline()) return fields;
    while (true) {
      fields.push_back(field(unescaped));
      if (at_end() || take_newline()) return fields;
      if (text_[position_] != delimiter_) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("line {}: unexpected character '{}' after a quoted field", line_,
                                text_[position_]),
                    std::string(origin_));
      }
      ++position_;
    }
  }

 private:
  // "\n", "\r\n" or a lone "\r".
  bool take_newline() {
    if (position_ >= text_.size() || (text_[position_] != '\r' && text_[position_] != '\n'))
      return false;
    if (text_[position_] == '\r' && position_ + 1 < text_.size() && text_[position_ + 1] == '\n')
      ++position_;
    ++position_;
    ++line_;
    return true;
  }

  std::string_view field(std::deque<std::string>& unescaped) {
    if (position_ >= text_.size() || text_[position_] != '"') {
      const std::size_t start = position_;
      while (position_ < text_.size() && text_[position_] != delimiter_ &&
             text_[position_] != '\n' && text_[position_] != '\r')
        ++position_;
      return text_.substr(start, position_ - start);
    }
    const std::int64_t first_line = line_;
    const std::size_t start = ++position_;
    bool doubled = false;
    while (true) {
      const std::size_t quote = text_.find('"', position_);
      if (quote == std::string_view::npos) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("line {}: a quoted field is never closed", first_line),
                    std::string(origin_));
      }
      for (std::size_t i = position_; i < quote; ++i)
        line_ += text_[i] == '\n';
      position_ = quote + 1;
      if (position_ < text_.size() && text_[position_] == '"') {
        doubled = true;
        ++position_;
        continue;
      }
      const std::string_view raw = text_.substr(start, quote - start);
      if (!doubled) return raw;
      std::string copy;
      for (std::size_t i = 0; i < raw.size(); ++i) {
        copy.push_back(raw[i]);
        if (raw[i] == '"') ++i;  // the second of a doubled quote
      }
      return unescaped.emplace_back(std::move(copy));
    }
  }

  std::string_view text_;
  std::string_view origin_;
  char delimiter_;
  std::size_t position_ = 0;
  std::int64_t line_ = 1;
};

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool parse_int(std::string_view s, std::int64_t& out) {
  s = trimmed(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

bool parse_float(std::string_view s, double& out) {
  s = trimmed(s);
  if (s.empty()) {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (s.front() == '+') s.remove_prefix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec == std::errc::result_out_of_range) return end == s.data() + s.size();
  return ec == std::errc() && end == s.data() + s.size();
}

int parse_bool(std::string_view s) {
  s = trimmed(s);
  if (s == "True" || s == "true") return 1;
  if (s == "False" || s == "false") return 0;
  return -1;
}

// A column of text: each cell's bytes, NUL padded to the longest.
Array text_column(const std::vector<std::string_view>& cells, const std::string& name,
                  std::string_view origin) {
  std::size_t longest = 1, total = 0;
  for (const auto cell : cells) {
    longest = std::max(longest, cell.size());
    total += cell.size();
  }
  // Fixed-width cells: one long cell widens them all.
  const std::uint64_t width = std::uint64_t{longest} * cells.size();
  if (width > 8 * std::uint64_t{total} + (std::uint64_t{64} << 20)) {
    throw Error(ErrorCode::unsupported,
                fmt::format("column '{}': {} text cells of up to {} bytes would take {} bytes as "
                            "fixed-width text",
                            name, cells.size(), longest, width),
                std::string(origin));
  }
  return pack_fixed_strings(DType::string(longest),
                            std::vector<std::string>(cells.begin(), cells.end()),
                            Shape{static_cast<std::int64_t>(cells.size())});
}

// Each column is parsed once as the narrowest type its first cell allows;
// the first cell that does not fit starts it over as the next type (text,
// when asked for, after float64).
Array column_array(const std::vector<std::string_view>& cells, const std::string& name,
                   const Cells& all, std::string_view origin, bool text) {
  const auto rows = static_cast<std::int64_t>(cells.size());
  if (rows > 0 && parse_bool(cells[0]) >= 0) {
    Array a = Array::empty(DType::boolean(), Shape{rows});
    auto* out = reinterpret_cast<std::uint8_t*>(a.data());
    std::int64_t r = 0;
    for (int b = 0; r < rows && (b = parse_bool(cells[r])) >= 0; ++r)
      out[r] = static_cast<std::uint8_t>(b);
    if (r == rows) return a;
  }
  {
    Array a = Array::empty(DType::int64(), Shape{rows});
    auto out = a.values<std::int64_t>();
    std::int64_t r = 0;
    while (r < rows && parse_int(cells[r], out[r]))
      ++r;
    if (r == rows) return a;
  }
  Array a = Array::empty(DType::float64(), Shape{rows});
  auto out = a.values<double>();
  for (std::int64_t r = 0; r < rows; ++r) {
    if (!parse_float(cells[r], out[r])) {
      if (text) return text_column(cells, name, origin);
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("line {}, column '{}': '{}' is not a number", all.row_lines[r], name,
                              cells[r].substr(0, 80)),
                  std::string(origin));
    }
  }
  return a;
}

}  // namespace

Table parse_csv(std::string_view text, std::string_view origin, const CsvOptions& options) {
  if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r')
    throw Error(ErrorCode::invalid_argument,
                fmt::format("'{}' cannot be a CSV delimiter", options.delimiter),
                std::string(origin));
  Tokenizer tokens(text, origin, options.delimiter);
  Cells cells;
  Table table;
  std::size_t width = 0;
  bool named = false;
  while (!tokens.at_end()) {
    const std::int64_t line = tokens.line();
    std::vector<std::string_view> fields = tokens.record(cells.unescaped);
    if (fields.empty() || (fields.size() == 1 && trimmed(fields[0]).empty())) continue;
    if (!named) {
      named = true;
      width = fields.size();
      cells.columns.resize(width);
      for (std::size_t c = 0; c < width; ++c) {
        const std::string_view name = trimmed(fields[c]);
        if (!options.header)
          table.names.push_back(fmt::format("column_{}", c));
        else if (name.empty())
          table.names.push_back(fmt::format("Unnamed: {}", c));
        else
          table.names.emplace_back(name);
      }
      if (options.header) continue;
    }
    if (fields.size() != width) {
      throw Error(
          ErrorCode::invalid_argument,
          fmt::format("line {} has {} fields but the first row has {}", line, fields.size(), width),
          std::string(origin));
    }
    for (std::size_t c = 0; c < width; ++c)
      cells.columns[c].push_back(fields[c]);
    cells.row_lines.push_back(line);
  }
  for (std::size_t c = 0; c < width; ++c)
    table.columns.push_back(
        column_array(cells.columns[c], table.names[c], cells, origin, options.text));
  try {
    check_table(table);
  } catch (const Error& e) {
    throw Error(ErrorCode::invalid_argument, e.what(), std::string(origin));
  }
  return table;
}

Table read_csv(const std::filesystem::path& file, const CsvOptions& options) {
  const std::string text = read_text(file, "");
  return parse_csv(text, file.string(), options);
}

}  // namespace larder::store
