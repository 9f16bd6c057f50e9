#include "larder/tree/print.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace larder::tree {
namespace {

// Length in characters (code points) of UTF-8 text, for column alignment.
std::size_t columns(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string truncated(std::string text, std::size_t max_columns) {
  if (columns(text) <= max_columns || max_columns == 0) return text;
  std::string out;
  std::size_t count = 0;
  for (char c : text) {
    if ((c & 0xC0) != 0x80 && ++count == max_columns) break;
    out += c;
  }
  return out + "…";
}

struct Printer {
  const PrintOptions& options;
  std::string out;

  void line(int level, std::string_view mark, const std::string& name, const std::string& info) {
    const std::size_t offset = 3 * static_cast<std::size_t>(level);
    const auto info_width = static_cast<std::size_t>(options.width * options.info_ratio);
    const std::size_t used = offset + 3 + 1 + 2 + info_width;
    const std::size_t name_width =
        used < static_cast<std::size_t>(options.width) ? options.width - used : 8;
    const std::string shown = truncated(name, name_width);
    out += std::string(offset, ' ');
    out += std::string(3 - columns(mark), ' ');
    out += mark;
    out += ' ';
    out += shown;
    out += std::string(name_width > columns(shown) ? name_width - columns(shown) : 0, ' ');
    out += "  ";
    out += truncated(info, info_width);
    // Trailing spaces of an empty info are noise.
    while (!out.empty() && out.back() == ' ')
      out.pop_back();
    out += '\n';
  }

  void group(const Group& g, int level, std::int64_t total) {
    const auto n = static_cast<std::int64_t>(g.size());
    total += n;
    std::optional<std::int64_t> max_lines;
    if (options.condense) max_lines = options.condense(level, n, total);
    if (max_lines) {
      *max_lines = std::max<std::int64_t>(3, *max_lines);
      if (n - *max_lines < 1) max_lines.reset();
    }
    std::int64_t skipped = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      if (max_lines) {
        const std::int64_t head = *max_lines / 2;
        const std::int64_t tail_start = n - (*max_lines - 1) / 2;
        if (i >= head && i < tail_start) {
          ++skipped;
          continue;
        }
        if (i == tail_start) line(level, "├", "...", fmt::format("... ({} more) ...", skipped));
      }
      const Node& member = *g.members()[static_cast<std::size_t>(i)];
      const std::string_view mark = i == 0 ? (n == 1 ? " └─" : " └┬") : i == n - 1 ? "└" : "├";
      line(level, mark, member.name(), "<" + member.class_name() + ", " + member.info() + ">");
      if (member.is_group() && !static_cast<const Group&>(member).empty()) {
        if (options.max_level < 0 || level < options.max_level) {
          group(static_cast<const Group&>(member), level + 1, total);
        } else {
          line(level + 1, " └─", "...", "");
        }
      }
    }
  }
};

}  // namespace

std::string tree_text(const Group& group, const PrintOptions& options) {
  Printer printer{options, {}};
  const std::string title =
      options.title.empty() ? group.class_name() + " '" + group.name() + "'" : options.title;
  printer.out = fmt::format("Tree of {}, {}\n", title, group.info());
  printer.group(group, 0, 0);
  return printer.out;
}

CondenseRule default_condense_rule() {
  return [](int level, std::int64_t members, std::int64_t total) -> std::optional<std::int64_t> {
    if (total > 100) return 7;
    if (level == 1 && members > 3) return 3;
    if (level >= 4 && members > 15) return 5;
    return std::nullopt;
  };
}

std::string condensed_tree_text(const Group& group, PrintOptions options) {
  options.max_level = 10;
  if (!options.condense) options.condense = default_condense_rule();
  return tree_text(group, options);
}

}  // namespace larder::tree
