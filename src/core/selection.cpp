#include "larder/core/selection.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "larder/core/error.h"

namespace larder {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

std::int64_t normalize_index(std::int64_t i, std::int64_t extent, std::size_t axis) {
  const std::int64_t original = i;
  if (i < 0) i += extent;
  if (i < 0 || i >= extent) {
    throw Error(
        ErrorCode::out_of_range,
        fmt::format("index {} is out of range for axis {} with extent {}", original, axis, extent));
  }
  return i;
}

// numpy's slice rules (PySlice_AdjustIndices).
ResolvedAxis resolve_slice(const Slice& s, std::int64_t n) {
  ResolvedAxis r;
  r.step = s.step;
  if (s.step > 0) {
    auto clamp = [n](std::optional<std::int64_t> v, std::int64_t fallback) {
      if (!v) return fallback;
      std::int64_t x = *v < 0 ? *v + n : *v;
      return std::clamp<std::int64_t>(x, 0, n);
    };
    const std::int64_t start = clamp(s.start, 0);
    const std::int64_t stop = clamp(s.stop, n);
    r.start = start;
    r.count = stop > start ? (stop - start + s.step - 1) / s.step : 0;
  } else {
    auto clamp = [n](std::optional<std::int64_t> v, std::int64_t fallback) {
      if (!v) return fallback;
      std::int64_t x = *v < 0 ? *v + n : *v;
      return std::clamp<std::int64_t>(x, -1, n - 1);
    };
    const std::int64_t start = clamp(s.start, n - 1);
    const std::int64_t stop = clamp(s.stop, -1);
    r.start = start;
    r.count = start > stop ? (start - stop - 1) / (-s.step) + 1 : 0;
  }
  if (r.count == 0) r.start = 0;
  return r;
}

ResolvedAxis resolve_axis(const AxisSelection& sel, std::int64_t extent, std::size_t axis) {
  return std::visit(
      Overloaded{
          [&](const AxisSelection::All&) {
            ResolvedAxis r;
            r.count = extent;
            return r;
          },
          [&](const AxisSelection::Ellipsis&) -> ResolvedAxis {
            throw Error(ErrorCode::invalid_argument, "an ellipsis may appear only once");
          },
          [&](const AxisSelection::Index& i) {
            ResolvedAxis r;
            r.start = normalize_index(i.value, extent, axis);
            r.count = 1;
            r.drops_axis = true;
            return r;
          },
          [&](const Slice& s) { return resolve_slice(s, extent); },
          [&](const AxisSelection::IndexList& l) {
            ResolvedAxis r;
            r.is_list = true;
            r.list.reserve(l.values.size());
            for (std::int64_t i : l.values)
              r.list.push_back(normalize_index(i, extent, axis));
            r.count = static_cast<std::int64_t>(r.list.size());
            return r;
          },
          [&](const AxisSelection::Mask& m) {
            if (static_cast<std::int64_t>(m.values.size()) != extent) {
              throw Error(ErrorCode::out_of_range,
                          fmt::format("boolean mask of length {} does not match axis {} with "
                                      "extent {}",
                                      m.values.size(), axis, extent));
            }
            ResolvedAxis r;
            r.is_list = true;
            for (std::int64_t i = 0; i < extent; ++i) {
              if (m.values[static_cast<std::size_t>(i)]) r.list.push_back(i);
            }
            r.count = static_cast<std::int64_t>(r.list.size());
            return r;
          },
      },
      sel.get());
}

// A small recursive-descent reader for numpy's index text.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Selection parse() {
    std::vector<AxisSelection> axes;
    skip_space();
    if (at_end()) return Selection();
    while (true) {
      axes.push_back(axis());
      skip_space();
      if (at_end()) break;
      expect(',');
      skip_space();
      if (at_end()) break;  // a trailing comma, as in "3,"
    }
    return Selection(std::move(axes));
  }

 private:
  AxisSelection axis() {
    if (text_.substr(pos_).starts_with("...")) {
      pos_ += 3;
      return AxisSelection::ellipsis();
    }
    if (peek() == '[') {
      ++pos_;
      std::vector<std::int64_t> list;
      skip_space();
      if (peek() != ']') {
        while (true) {
          skip_space();
          list.push_back(integer());
          skip_space();
          if (peek() == ']') break;
          expect(',');
        }
      }
      expect(']');
      return AxisSelection::indices(std::move(list));
    }
    std::optional<std::int64_t> parts[3];
    int colons = 0;
    while (true) {
      skip_space();
      if (starts_integer()) parts[colons] = integer();
      skip_space();
      if (peek() != ':' || colons == 2) break;
      ++pos_;
      ++colons;
    }
    if (colons == 0) {
      if (!parts[0]) fail("expected an index, a slice, a list or '...'");
      return AxisSelection::index(*parts[0]);
    }
    if (parts[2] && *parts[2] == 0) fail("slice step cannot be zero");
    return AxisSelection::slice(parts[0], parts[1], parts[2].value_or(1));
  }

  bool starts_integer() const {
    const char c = peek();
    return std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+';
  }

  std::int64_t integer() {
    std::size_t begin = pos_;
    if (peek() == '+') ++begin, ++pos_;
    if (peek() == '-') ++pos_;
    while (std::isdigit(static_cast<unsigned char>(peek())))
      ++pos_;
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text_.data() + begin, text_.data() + pos_, value);
    if (ec != std::errc() || end != text_.data() + pos_) {
      pos_ = begin;
      fail("expected a whole number that fits in 64 bits");
    }
    return value;
  }

  void expect(char c) {
    if (peek() != c) fail(fmt::format("expected '{}'", c));
    ++pos_;
  }
  void skip_space() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(text_[pos_])))
      ++pos_;
  }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  bool at_end() const { return pos_ >= text_.size(); }

  [[noreturn]] void fail(std::string_view what) const {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("cannot read selection '{}' at position {}: {}", text_, pos_, what));
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

AxisSelection AxisSelection::slice(std::optional<std::int64_t> start,
                                   std::optional<std::int64_t> stop, std::int64_t step) {
  if (step == 0) throw Error(ErrorCode::invalid_argument, "slice step cannot be zero");
  return AxisSelection(Slice{start, stop, step});
}

std::string AxisSelection::to_string() const {
  auto opt = [](const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : ""; };
  return std::visit(
      Overloaded{
          [](const All&) -> std::string { return ":"; },
          [](const Ellipsis&) -> std::string { return "..."; },
          [](const Index& i) { return std::to_string(i.value); },
          [&](const Slice& s) {
            std::string out = opt(s.start);  // built in steps: GCC 12 -O3 warns on a + chain
            out += ':';
            out += opt(s.stop);
            if (s.step != 1) out += ":" + std::to_string(s.step);
            return out;
          },
          [](const IndexList& l) { return fmt::format("[{}]", fmt::join(l.values, ", ")); },
          [](const Mask& m) { return fmt::format("<mask of {}>", m.values.size()); },
      },
      value_);
}

Selection Selection::parse(std::string_view text) {
  return Parser(text).parse();
}

std::vector<ResolvedAxis> Selection::resolve(const Shape& shape) const {
  // Expand the ellipsis (or the missing tail) into "everything" axes.
  std::size_t ellipses = 0;
  for (const auto& a : axes_) {
    ellipses += std::holds_alternative<AxisSelection::Ellipsis>(a.get()) ? 1 : 0;
  }
  if (ellipses > 1) throw Error(ErrorCode::invalid_argument, "an ellipsis may appear only once");
  const std::size_t explicit_axes = axes_.size() - ellipses;
  if (explicit_axes > shape.rank()) {
    throw Error(ErrorCode::out_of_range,
                fmt::format("selection '{}' has {} axes but the array has shape {}", to_string(),
                            explicit_axes, shape.to_string()));
  }
  std::vector<ResolvedAxis> resolved;
  resolved.reserve(shape.rank());
  std::size_t axis = 0;
  for (const auto& a : axes_) {
    if (std::holds_alternative<AxisSelection::Ellipsis>(a.get())) {
      for (std::size_t k = 0; k < shape.rank() - explicit_axes; ++k, ++axis) {
        resolved.push_back(resolve_axis(AxisSelection::all(), shape[axis], axis));
      }
      continue;
    }
    resolved.push_back(resolve_axis(a, shape[axis], axis));
    ++axis;
  }
  for (; axis < shape.rank(); ++axis) {
    resolved.push_back(resolve_axis(AxisSelection::all(), shape[axis], axis));
  }
  return resolved;
}

Shape result_shape(const std::vector<ResolvedAxis>& axes) {
  std::vector<std::int64_t> dims;
  for (const auto& a : axes) {
    if (!a.drops_axis) dims.push_back(a.count);
  }
  return Shape(std::move(dims));
}

Shape Selection::result_shape(const Shape& shape) const {
  return larder::result_shape(resolve(shape));
}

std::string Selection::to_string() const {
  std::vector<std::string> parts;
  for (const auto& a : axes_)
    parts.push_back(a.to_string());
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace larder
