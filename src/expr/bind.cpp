// Names to columns and constants, numpy 1.24 types, and the compiled program.
#include "bind.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "larder/core/error.h"

namespace larder::expr::detail {

// ---- types ----

std::size_t size_of(Ty t) {
  switch (t) {
    case Ty::b:
    case Ty::i8:
    case Ty::u8:
      return 1;
    case Ty::i16:
    case Ty::u16:
    case Ty::f16:
      return 2;
    case Ty::i32:
    case Ty::u32:
    case Ty::f32:
      return 4;
    default:
      return 8;
  }
}

int category(Ty t) {
  if (t == Ty::b) return 0;
  return is_float(t) ? 2 : 1;
}
bool is_signed(Ty t) {
  return t >= Ty::i8 && t <= Ty::i64;
}
bool is_float(Ty t) {
  return t >= Ty::f16;
}
bool is_integer(Ty t) {
  return t >= Ty::i8 && t <= Ty::u64;
}

std::string name_of(Ty t) {
  static const char* names[] = {"bool",   "int8",   "int16",  "int32",   "int64",   "uint8",
                                "uint16", "uint32", "uint64", "float16", "float32", "float64"};
  return names[static_cast<int>(t)];
}

Ty ty_of(const DType& dtype) {
  const std::size_t size = dtype.item_size();
  const int log2 = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
  switch (dtype.kind()) {
    case DTypeKind::boolean:
      return Ty::b;
    case DTypeKind::int_:
      return static_cast<Ty>(static_cast<int>(Ty::i8) + log2);
    case DTypeKind::uint:
      return static_cast<Ty>(static_cast<int>(Ty::u8) + log2);
    case DTypeKind::float_:
      if (size == 4) return Ty::f32;
      if (size == 8) return Ty::f64;
      break;
    default:
      break;
  }
  throw Error(ErrorCode::type_mismatch,
              fmt::format("expressions compute on bool, integers, float32 and float64, not {}",
                          dtype.name()));
}

DType dtype_of(Ty t) {
  switch (t) {
    case Ty::b:
      return DType::boolean();
    case Ty::i8:
      return DType::int8();
    case Ty::i16:
      return DType::int16();
    case Ty::i32:
      return DType::int32();
    case Ty::i64:
      return DType::int64();
    case Ty::u8:
      return DType::uint8();
    case Ty::u16:
      return DType::uint16();
    case Ty::u32:
      return DType::uint32();
    case Ty::u64:
      return DType::uint64();
    case Ty::f16:
      return DType::float16();
    case Ty::f32:
      return DType::float32();
    case Ty::f64:
      return DType::float64();
  }
  return DType::float64();
}

namespace {

Ty signed_of_size(std::size_t size) {
  switch (size) {
    case 1:
      return Ty::i8;
    case 2:
      return Ty::i16;
    case 4:
      return Ty::i32;
    default:
      return Ty::i64;
  }
}
Ty float_of_size(std::size_t size) {
  switch (size) {
    case 2:
      return Ty::f16;
    case 4:
      return Ty::f32;
    default:
      return Ty::f64;
  }
}

}  // namespace

Ty promote(Ty a, Ty b) {
  if (a == b) return a;
  if (a == Ty::b) return b;
  if (b == Ty::b) return a;
  const std::size_t sa = size_of(a), sb = size_of(b);
  if (is_float(a) && is_float(b)) return sa >= sb ? a : b;
  if (is_float(a) || is_float(b)) {
    const Ty f = is_float(a) ? a : b;
    const std::size_t int_size = is_float(a) ? sb : sa;
    // The smallest float holding every value of the integer: int8 -> float16,
    // int16 -> float32, wider -> float64.
    const std::size_t needed = int_size == 1 ? 2 : int_size == 2 ? 4 : 8;
    return float_of_size(std::max(size_of(f), needed));
  }
  if (is_signed(a) == is_signed(b)) return sa >= sb ? a : b;
  const Ty s = is_signed(a) ? a : b;
  const Ty u = is_signed(a) ? b : a;
  if (size_of(u) < size_of(s)) return s;
  if (size_of(u) == 8) return Ty::f64;
  return signed_of_size(size_of(u) * 2);
}

namespace {

// A value while binding: a scalar (a literal or a constant, numpy's "weak"
// Python scalar), a register or column over rows, or over items.
struct Value {
  enum Space { scalar, row, item } space = scalar;
  Ty type = Ty::i64;
  Source src;
};

template <class T>
Value scalar_value(Ty type, T v) {
  Value out;
  out.type = type;
  out.src.kind = Source::scalar;
  std::memcpy(out.src.value.data(), &v, sizeof(T));
  return out;
}

// numpy's min_scalar_type of a scalar, as it takes part in promotion with
// arrays; a non-negative integer is typed signed when an array operand is
// signed (numpy's "small unsigned" rule).
Ty min_scalar_type(const Value& v, bool signed_context) {
  if (v.type == Ty::b) return Ty::b;
  if (is_float(v.type)) {
    const double x =
        v.type == Ty::f32 ? static_cast<double>(v.src.as<float>()) : v.src.as<double>();
    if (!std::isfinite(x) || std::fabs(x) <= 65504.0) return Ty::f16;
    if (std::fabs(x) <= static_cast<double>(std::numeric_limits<float>::max())) return Ty::f32;
    return Ty::f64;
  }
  bool negative = false;
  std::uint64_t magnitude = 0;
  if (is_signed(v.type)) {
    std::int64_t x = 0;
    switch (v.type) {
      case Ty::i8:
        x = v.src.as<std::int8_t>();
        break;
      case Ty::i16:
        x = v.src.as<std::int16_t>();
        break;
      case Ty::i32:
        x = v.src.as<std::int32_t>();
        break;
      default:
        x = v.src.as<std::int64_t>();
        break;
    }
    negative = x < 0;
    magnitude = negative ? 0 - static_cast<std::uint64_t>(x) : static_cast<std::uint64_t>(x);
  } else {
    switch (v.type) {
      case Ty::u8:
        magnitude = v.src.as<std::uint8_t>();
        break;
      case Ty::u16:
        magnitude = v.src.as<std::uint16_t>();
        break;
      case Ty::u32:
        magnitude = v.src.as<std::uint32_t>();
        break;
      default:
        magnitude = v.src.as<std::uint64_t>();
        break;
    }
  }
  if (negative) {
    if (magnitude <= 128) return Ty::i8;
    if (magnitude <= 32768) return Ty::i16;
    if (magnitude <= 2147483648ULL) return Ty::i32;
    return Ty::i64;
  }
  if (signed_context) {
    if (magnitude <= 127) return Ty::i8;
    if (magnitude <= 32767) return Ty::i16;
    if (magnitude <= 2147483647ULL) return Ty::i32;
    if (magnitude <= 9223372036854775807ULL) return Ty::i64;
    return Ty::u64;
  }
  if (magnitude <= 255) return Ty::u8;
  if (magnitude <= 65535) return Ty::u16;
  if (magnitude <= 4294967295ULL) return Ty::u32;
  return Ty::u64;
}

// numpy.result_type of the operands, with value-based casting of scalars
// when no scalar is of a higher kind than every array.
bool by_value(const std::vector<const Value*>& values) {
  int array_kind = -1, scalar_kind = -1;
  for (const Value* v : values) {
    int& kind = v->space == Value::scalar ? scalar_kind : array_kind;
    kind = std::max(kind, category(v->type));
  }
  return array_kind >= 0 && scalar_kind <= array_kind;
}

Ty result_type(const std::vector<const Value*>& values) {
  bool signed_array = false;
  for (const Value* v : values) {
    signed_array = signed_array || (v->space != Value::scalar && is_signed(v->type));
  }
  const bool value_based = by_value(values);
  bool first = true;
  Ty out = Ty::b;
  for (const Value* v : values) {
    const Ty t =
        (value_based && v->space == Value::scalar) ? min_scalar_type(*v, signed_array) : v->type;
    out = first ? t : promote(out, t);
    first = false;
  }
  return out;
}

// numpy's "safe" casting between types.
bool can_cast(Ty from, Ty to) {
  if (from == to || from == Ty::b) return true;
  if (to == Ty::b) return false;
  if (is_float(from)) return is_float(to) && size_of(to) >= size_of(from);
  if (is_float(to)) {
    const std::size_t needed = size_of(from) == 1 ? 2 : size_of(from) == 2 ? 4 : 8;
    return size_of(to) >= needed;
  }
  if (is_signed(from)) return is_signed(to) && size_of(to) >= size_of(from);
  return is_signed(to) ? size_of(to) > size_of(from) : size_of(to) >= size_of(from);
}

// The type numpy's ufuncs resolved by searching their loops in order pick
// (//, %, **, &, |, arctan2): the first candidate every operand casts to,
// a scalar by its value when value-based casting applies. It differs from
// result_type for scalars: uint16 // 2**31 is uint32, uint8 // 300 int16.
Ty linear_type(const std::vector<const Value*>& values, const std::vector<Ty>& candidates) {
  const bool value_based = by_value(values);
  for (Ty t : candidates) {
    const bool all = std::all_of(values.begin(), values.end(), [&](const Value* v) {
      if (v->space != Value::scalar || !value_based) return can_cast(v->type, t);
      // A scalar by value: the smallest type holding it, signed when the
      // candidate is (numpy's "small unsigned" rule).
      return can_cast(min_scalar_type(*v, is_signed(t)), t);
    });
    if (all) return t;
  }
  return result_type(values);
}

const std::vector<Ty>& integer_loops() {
  static const std::vector<Ty> loops = {Ty::i8,  Ty::u8,  Ty::i16, Ty::u16, Ty::i32,
                                        Ty::u32, Ty::i64, Ty::u64, Ty::f32, Ty::f64};
  return loops;
}
const std::vector<Ty>& float_loops() {
  static const std::vector<Ty> loops = {Ty::f32, Ty::f64};
  return loops;
}

// The float type numpy's math functions give for an input type (integers
// of 1 byte give float32 here, where numpy gives float16).
Ty float_for(Ty t) {
  if (is_float(t)) return t;
  return size_of(t) <= 2 ? Ty::f32 : Ty::f64;
}

Ty sum_type(Ty t) {
  if (t == Ty::b || is_signed(t)) return Ty::i64;
  if (is_integer(t)) return Ty::u64;
  return t;
}

struct FunctionInfo {
  int arity;
  Op op;
};

const std::map<std::string, FunctionInfo, std::less<>>& elementwise_functions() {
  static const std::map<std::string, FunctionInfo, std::less<>> table = {
      {"abs", {1, Op::abs}},           {"sqrt", {1, Op::sqrt}},       {"exp", {1, Op::exp}},
      {"log", {1, Op::log}},           {"log10", {1, Op::log10}},     {"sin", {1, Op::sin}},
      {"cos", {1, Op::cos}},           {"tan", {1, Op::tan}},         {"floor", {1, Op::floor}},
      {"ceil", {1, Op::ceil}},         {"round", {1, Op::round}},     {"isnan", {1, Op::isnan}},
      {"isfinite", {1, Op::isfinite}}, {"arctan2", {2, Op::arctan2}}, {"minimum", {2, Op::minimum}},
      {"maximum", {2, Op::maximum}},   {"where", {3, Op::where}},
  };
  return table;
}

const std::map<std::string, Op, std::less<>>& reductions() {
  static const std::map<std::string, Op, std::less<>> table = {
      {"sum", Op::reduce_sum}, {"min", Op::reduce_min}, {"max", Op::reduce_max},
      {"any", Op::reduce_any}, {"all", Op::reduce_all},
  };
  return table;
}

class Binder {
 public:
  Binder(store::Group& group, const nlohmann::json& constants, Bound& out)
      : group_(group), constants_(constants), out_(out) {}

  void bind_root(const Expression& expression) {
    expression_ = &expression;
    Value v = bind(expression.root());
    out_.roots.push_back(v.src);
    out_.root_types.push_back(v.type);
  }

 private:
  [[noreturn]] void fail(const Node& node, ErrorCode code, const std::string& what) const {
    std::string text = expression_->text();
    if (text.size() > 200) text = text.substr(0, 200) + "...";
    throw Error(code, fmt::format("expression '{}': {} at column {}", text, what, node.column),
                group_.store_path().string(), group_.path());
  }

  Program& program_for(Value::Space space) { return space == Value::item ? *inner_ : out_.program; }

  int new_register(Program& p, Ty t) {
    p.registers.push_back(t);
    return static_cast<int>(p.registers.size()) - 1;
  }

  // Emits `step` (operands already in `space` and of the step's input type),
  // or folds it when every operand is a scalar.
  Value emit(Step step, Value::Space space) {
    if (space == Value::scalar) {
      Program single;
      single.registers.push_back(step.out);
      step.dst = 0;
      single.steps.push_back(step);
      alignas(8) std::array<std::byte, 8> result{};
      Frame frame;
      frame.regs.push_back(result.data());
      run(single, frame, 1);
      Value v;
      v.type = step.out;
      v.src.kind = Source::scalar;
      v.src.value = result;
      return v;
    }
    Program& p = program_for(space);
    step.dst = new_register(p, step.out);
    p.steps.push_back(step);
    Value v;
    v.space = space;
    v.type = step.out;
    v.src.kind = Source::reg;
    v.src.index = step.dst;
    return v;
  }

  Value cast(Value v, Ty to) {
    if (v.type == to) return v;
    Step step;
    step.op = Op::cast;
    step.in = v.type;
    step.out = to;
    step.a = v.src;
    return emit(step, v.space);
  }

  // A row value (or scalar) made available to the items of the current
  // reduction.
  Value to_items(Value v) {
    if (v.space != Value::row) return v;
    Step step;
    step.op = Op::expand;
    step.in = v.type;
    step.out = v.type;
    step.a = v.src;
    return emit(step, Value::item);
  }

  // Operands cast to `in` and moved to the widest space among them.
  Value apply(Op op, Ty in, Ty out, std::vector<Value> args) {
    Value::Space space = Value::scalar;
    for (const Value& a : args)
      space = std::max(space, a.space);
    Step step;
    step.op = op;
    step.in = in;
    step.out = out;
    Source* slots[] = {&step.a, &step.b, &step.c};
    for (std::size_t i = 0; i < args.size(); ++i) {
      Value a = args[i];
      const Ty wanted = (op == Op::where && i == 0) ? Ty::b : in;
      a = cast(a, wanted);
      if (space == Value::item) a = to_items(a);
      *slots[i] = a.src;
    }
    return emit(step, space);
  }

  Value bind(const Node& node) {
    switch (node.kind) {
      case NodeKind::integer:
        return scalar_value(Ty::i64, node.integer);
      case NodeKind::real:
        return scalar_value(Ty::f64, node.real);
      case NodeKind::boolean:
        return scalar_value(Ty::b, static_cast<std::uint8_t>(node.integer));
      case NodeKind::name:
        return bind_name(node);
      case NodeKind::unary:
        return bind_unary(node);
      case NodeKind::binary:
        return bind_binary(node);
      case NodeKind::call:
        return bind_call(node);
      case NodeKind::index:
        return bind_index(node);
    }
    fail(node, ErrorCode::invalid_argument, "unknown node");
  }

  Value bind_constant(const Node& node, const nlohmann::json& value) {
    if (value.is_boolean())
      return scalar_value(Ty::b, static_cast<std::uint8_t>(value.get<bool>()));
    if (value.is_number_unsigned()) {
      const auto v = value.get<std::uint64_t>();
      if (v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return scalar_value(Ty::i64, static_cast<std::int64_t>(v));
      }
      return scalar_value(Ty::u64, v);
    }
    if (value.is_number_integer()) return scalar_value(Ty::i64, value.get<std::int64_t>());
    if (value.is_number_float()) return scalar_value(Ty::f64, value.get<double>());
    if (value.is_string()) {
      const std::string s = value.get<std::string>();
      if (s == "nan") return scalar_value(Ty::f64, std::numeric_limits<double>::quiet_NaN());
      if (s == "inf") return scalar_value(Ty::f64, std::numeric_limits<double>::infinity());
      if (s == "-inf") return scalar_value(Ty::f64, -std::numeric_limits<double>::infinity());
    }
    fail(node, ErrorCode::invalid_argument,
         fmt::format("constant '{}' is {}: constants are numbers or booleans", node.text,
                     value.dump()));
  }

  std::vector<std::string> known_names() {
    std::vector<std::string> names;
    if (constants_.is_object()) {
      for (const auto& item : constants_.items())
        names.push_back(item.key());
    }
    for (const std::string& f : function_names())
      names.push_back(f);
    group_.visit([&](const std::string& path, store::NodeKind) {
      if (path.rfind(".larder", 0) != 0 && path.rfind("_larder", 0) != 0) names.push_back(path);
    });
    return names;
  }

  [[noreturn]] void unknown(const Node& node, const std::string& what) {
    const std::vector<std::string> near = nearest_names(node.text, known_names());
    std::string hint = near.empty() ? std::string("no similar name")
                                    : fmt::format("nearest: {}", fmt::join(near, ", "));
    fail(node, ErrorCode::invalid_argument,
         fmt::format("unknown {} '{}' ({})", what, node.text, hint));
  }

  // The column at the node's path: {is_jagged, index}.
  std::pair<bool, int> column(const Node& node) {
    if (const auto found = columns_.find(node.text); found != columns_.end()) return found->second;
    bool exists = false;
    try {
      exists = group_.contains(node.text);
    } catch (const Error&) {
      exists = false;  // a path that cannot name a member ("a/../b")
    }
    if (!exists) unknown(node, node.quoted ? "column" : "name");
    std::shared_ptr<store::Node> member = group_.open(node.text);
    Column c;
    c.path = node.text;
    std::int64_t rows = 0;
    bool jagged = false;
    if (auto records = ragged::Ragged::from_node(group_, node.text, member)) {
      if (records->shaped() || records->inner_shape().rank() != 0) {
        fail(node, ErrorCode::type_mismatch,
             fmt::format("column '{}' holds records of shape {}: expressions read jagged 1-D "
                         "numbers",
                         node.text, records->record_shape()));
      }
      c.dtype = records->dtype().native();
      rows = records->size();
      c.ragged = std::move(records);
      jagged = true;
    } else if (member->kind() == store::NodeKind::dataset) {
      auto ds = std::static_pointer_cast<store::Dataset>(member);
      if (ds->shape().rank() != 1 || ds->sequence_item_shape()) {
        fail(node, ErrorCode::type_mismatch,
             fmt::format("column '{}' has shape {}: expressions read 1-D columns", node.text,
                         ds->shape().to_string()));
      }
      c.dtype = ds->dtype().native();
      rows = ds->shape()[0];
      c.dataset = std::move(ds);
    } else {
      fail(node, ErrorCode::type_mismatch, fmt::format("'{}' is a group, not a column", node.text));
    }
    try {
      c.type = ty_of(c.dtype);
    } catch (const Error& e) {
      fail(node, ErrorCode::type_mismatch, fmt::format("column '{}': {}", node.text, e.message()));
    }
    if (out_.rows >= 0 && rows != out_.rows) {
      fail(node, ErrorCode::invalid_argument,
           fmt::format("column '{}' has {} rows, '{}' has {}: columns must be of equal length",
                       node.text, rows, first_column_, out_.rows));
    }
    if (out_.rows < 0) first_column_ = node.text;
    out_.rows = rows;
    auto& list = jagged ? out_.ragged : out_.dense;
    list.push_back(std::move(c));
    const std::pair<bool, int> where{jagged, static_cast<int>(list.size()) - 1};
    columns_.emplace(node.text, where);
    return where;
  }

  Value bind_name(const Node& node) {
    if (!node.quoted && constants_.is_object() && constants_.contains(node.text)) {
      return bind_constant(node, constants_.at(node.text));
    }
    const auto [jagged, index] = column(node);
    if (jagged) {
      if (inner_ == nullptr) {
        fail(node, ErrorCode::invalid_argument,
             fmt::format("jagged column '{}' is used outside a reduction: wrap it in "
                         "sum/min/max/any/all/len, or take one item ({}[0])",
                         node.text, node.text));
      }
      if (std::find(inner_ragged_->begin(), inner_ragged_->end(), index) == inner_ragged_->end()) {
        inner_ragged_->push_back(index);
      }
      Value v;
      v.space = Value::item;
      v.type = out_.ragged[static_cast<std::size_t>(index)].type;
      v.src.kind = Source::items;
      v.src.index = index;
      return v;
    }
    Value v;
    v.space = Value::row;
    v.type = out_.dense[static_cast<std::size_t>(index)].type;
    v.src.kind = Source::dense;
    v.src.index = index;
    return v;
  }

  Value bind_unary(const Node& node) {
    Value v = bind(*node.args[0]);
    if (node.text == "not") return apply(Op::logical_not, Ty::b, Ty::b, {cast(v, Ty::b)});
    if (node.text == "~") {
      if (is_float(v.type)) {
        fail(node, ErrorCode::type_mismatch,
             fmt::format("'~' needs booleans or integers, not {}", name_of(v.type)));
      }
      return apply(Op::invert, v.type, v.type, {v});
    }
    if (v.type == Ty::b) {
      fail(node, ErrorCode::type_mismatch, "unary '-' of booleans: use 'not' or '~'");
    }
    return apply(Op::neg, v.type, v.type, {v});
  }

  Value bind_binary(const Node& node) {
    const std::string& op = node.text;
    Value a = bind(*node.args[0]);
    Value b = bind(*node.args[1]);
    if (op == "and" || op == "or") {
      return apply(op == "and" ? Op::bitand_ : Op::bitor_, Ty::b, Ty::b,
                   {cast(a, Ty::b), cast(b, Ty::b)});
    }
    const bool linear = op == "//" || op == "%" || op == "**" || op == "&" || op == "|";
    const bool booleans = a.type == Ty::b && b.type == Ty::b;
    const Ty t =
        linear && !booleans ? linear_type({&a, &b}, integer_loops()) : result_type({&a, &b});
    static const std::map<std::string, Op, std::less<>> compares = {{"<", Op::lt},  {"<=", Op::le},
                                                                    {">", Op::gt},  {">=", Op::ge},
                                                                    {"==", Op::eq}, {"!=", Op::ne}};
    if (const auto c = compares.find(op); c != compares.end()) {
      return apply(c->second, t, Ty::b, {a, b});
    }
    if (op == "&" || op == "|") {
      if (is_float(t)) {
        fail(node, ErrorCode::type_mismatch,
             fmt::format("'{}' needs booleans or integers, not {} (compare first: (x > 0) {} ...)",
                         op, name_of(t), op));
      }
      return apply(op == "&" ? Op::bitand_ : Op::bitor_, t, t, {a, b});
    }
    if (t == Ty::b) {
      fail(node, ErrorCode::type_mismatch,
           fmt::format("'{}' of two booleans: use '&', '|' or convert with 1 * x", op));
    }
    if (op == "/") {
      const Ty f = is_float(t) ? t : Ty::f64;
      return apply(Op::div, f, f, {a, b});
    }
    static const std::map<std::string, Op, std::less<>> arithmetic = {
        {"+", Op::add},       {"-", Op::sub}, {"*", Op::mul},
        {"//", Op::floordiv}, {"%", Op::mod}, {"**", Op::pow}};
    const Op code = arithmetic.at(op);
    if (code == Op::pow && is_float(t) && b.space == Value::scalar) {
      // numpy computes x ** 2 as square(x) and x ** 0.5 as sqrt(x): exactly.
      const Value e = cast(b, Ty::f64);
      if (e.src.as<double>() == 2.0) return apply(Op::mul, t, t, {a, a});
      if (e.src.as<double>() == 0.5) return apply(Op::sqrt, t, t, {a});
    }
    return apply(code, t, t, {a, b});
  }

  Value bind_call(const Node& node) {
    const std::string& name = node.text;
    const auto arity = [&](std::size_t n) {
      if (node.args.size() != n) {
        fail(node, ErrorCode::invalid_argument,
             fmt::format("{}() takes {} argument{}, got {}", name, n, n == 1 ? "" : "s",
                         node.args.size()));
      }
    };
    if (name == "len") {
      arity(1);
      const Node& arg = *node.args[0];
      const auto [jagged, index] = arg.kind == NodeKind::name && !constants_.contains(arg.text)
                                       ? column(arg)
                                       : std::pair<bool, int>{false, -1};
      if (!jagged) fail(arg, ErrorCode::invalid_argument, "len() needs a jagged column");
      Step step;
      step.op = Op::len;
      step.in = step.out = Ty::i64;
      step.ragged = index;
      return emit(step, Value::row);
    }
    if (const auto r = reductions().find(name); r != reductions().end()) {
      arity(1);
      if (inner_ != nullptr) {
        fail(node, ErrorCode::invalid_argument, fmt::format("{}() inside another reduction", name));
      }
      auto inner = std::make_shared<Program>();
      inner->items = true;
      std::vector<int> used;
      inner_ = inner.get();
      inner_ragged_ = &used;
      Value v = bind(*node.args[0]);
      if (v.space != Value::item) {
        inner_ = nullptr;
        inner_ragged_ = nullptr;
        fail(node, ErrorCode::invalid_argument,
             fmt::format("{}() reduces jagged records: its argument reads no jagged column", name));
      }
      Ty out = v.type;
      if (r->second == Op::reduce_sum) out = sum_type(v.type);
      if (r->second == Op::reduce_any || r->second == Op::reduce_all) out = Ty::b;
      v = cast(v, out);
      inner_ = nullptr;
      inner_ragged_ = nullptr;
      Step step;
      step.op = r->second;
      step.in = step.out = out;
      step.a = v.src;
      step.ragged = used.front();
      step.ragged_group = used;
      step.inner = std::move(inner);
      return emit(step, Value::row);
    }
    const auto f = elementwise_functions().find(name);
    if (f == elementwise_functions().end()) {
      const std::vector<std::string> near = nearest_names(name, function_names());
      fail(
          node, ErrorCode::invalid_argument,
          fmt::format("unknown function '{}' ({})", name,
                      near.empty() ? fmt::format("functions: {}", fmt::join(function_names(), ", "))
                                   : fmt::format("nearest: {}", fmt::join(near, ", "))));
    }
    arity(static_cast<std::size_t>(f->second.arity));
    std::vector<Value> args;
    for (const auto& arg : node.args)
      args.push_back(bind(*arg));
    const Op op = f->second.op;
    switch (op) {
      case Op::where: {
        const Ty t = result_type({&args[1], &args[2]});
        return apply(Op::where, t, t, {args[0], args[1], args[2]});
      }
      case Op::minimum:
      case Op::maximum: {
        const Ty t = result_type({&args[0], &args[1]});
        return apply(op, t, t, {args[0], args[1]});
      }
      case Op::arctan2: {
        const Ty t = linear_type({&args[0], &args[1]}, float_loops());
        return apply(op, t, t, {args[0], args[1]});
      }
      case Op::abs:
        if (args[0].type == Ty::b) return args[0];
        return apply(op, args[0].type, args[0].type, {args[0]});
      case Op::round:
        if (!is_float(args[0].type)) return args[0];
        return apply(op, args[0].type, args[0].type, {args[0]});
      case Op::isnan:
      case Op::isfinite:
        return apply(op, args[0].type, Ty::b, {args[0]});
      default: {
        const Ty t = float_for(args[0].type);
        return apply(op, t, t, {args[0]});
      }
    }
  }

  Value bind_index(const Node& node) {
    const Node& arg = *node.args[0];
    const auto [jagged, index] = (arg.quoted || !constants_.contains(arg.text))
                                     ? column(arg)
                                     : std::pair<bool, int>{false, -1};
    if (!jagged) {
      fail(node, ErrorCode::invalid_argument,
           fmt::format("'{}' is not a jagged column: only jagged columns take an index", arg.text));
    }
    Step step;
    step.op = Op::index;
    step.in = step.out = out_.ragged[static_cast<std::size_t>(index)].type;
    step.ragged = index;
    step.k = node.integer;
    return emit(step, Value::row);
  }

  store::Group& group_;
  const nlohmann::json& constants_;
  Bound& out_;
  const Expression* expression_ = nullptr;
  Program* inner_ = nullptr;
  std::vector<int>* inner_ragged_ = nullptr;
  std::map<std::string, std::pair<bool, int>, std::less<>> columns_;
  std::string first_column_;
};

}  // namespace

Bound bind(store::Group& group, const std::vector<const Expression*>& expressions,
           const nlohmann::json& constants) {
  if (!constants.is_null() && !constants.is_object()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("constants must be a JSON object of names to numbers, not {}",
                            constants.dump()));
  }
  Bound out;
  Binder binder(group, constants, out);
  for (const Expression* e : expressions) {
    if (!out.text.empty()) out.text += "; ";
    out.text += e->text();
    binder.bind_root(*e);
  }
  return out;
}

}  // namespace larder::expr::detail
