// The vector steps of a program: one tight loop per operation and type,
// over registers of block_rows elements (compiled with -O3 so the loops
// vectorize). Integer arithmetic wraps and integer division by zero gives
// 0, as numpy does; float floor division and remainder follow numpy's
// floor semantics.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "larder/core/error.h"
#include "program.h"

namespace larder::expr::detail {
namespace {

using u8 = std::uint8_t;

template <class T>
constexpr bool is_int_v = std::is_integral_v<T>;

// The element loops are built twice, for the x86-64 baseline (SSE2) and
// for AVX2, and the loader picks one for the machine the first time a loop
// is called (GCC's function multiversioning). AVX2 does each comparison
// and its packing to bytes in half the instructions, and the W6 cut is
// bound by those instructions, not by memory. FMA stays off, so no a*b+c
// inside a loop (floor_mod) rounds differently from numpy.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LARDER_ELEMENT_LOOP __attribute__((target_clones("default", "avx2")))
#else
#define LARDER_ELEMENT_LOOP
#endif

// Calls f(T{}) with the C++ type of `t` (bool is stored as one byte, 0 or 1).
template <class F>
void with_type(Ty t, F&& f) {
  switch (t) {
    case Ty::b:
      return f(u8{});
    case Ty::i8:
      return f(std::int8_t{});
    case Ty::i16:
      return f(std::int16_t{});
    case Ty::i32:
      return f(std::int32_t{});
    case Ty::i64:
      return f(std::int64_t{});
    case Ty::u8:
      return f(std::uint8_t{});
    case Ty::u16:
      return f(std::uint16_t{});
    case Ty::u32:
      return f(std::uint32_t{});
    case Ty::u64:
      return f(std::uint64_t{});
    case Ty::f32:
      return f(float{});
    case Ty::f64:
      return f(double{});
    case Ty::f16:
      break;
  }
  throw Error(ErrorCode::unsupported, "float16 values are not computed");
}

template <class T>
T wrap_add(T x, T y) {
  if constexpr (is_int_v<T>) {
    return static_cast<T>(static_cast<std::uint64_t>(x) + static_cast<std::uint64_t>(y));
  } else {
    return x + y;
  }
}
template <class T>
T wrap_sub(T x, T y) {
  if constexpr (is_int_v<T>) {
    return static_cast<T>(static_cast<std::uint64_t>(x) - static_cast<std::uint64_t>(y));
  } else {
    return x - y;
  }
}
template <class T>
T wrap_mul(T x, T y) {
  if constexpr (is_int_v<T>) {
    return static_cast<T>(static_cast<std::uint64_t>(x) * static_cast<std::uint64_t>(y));
  } else {
    return x * y;
  }
}

template <class T>
T floor_div(T x, T y) {
  if constexpr (is_int_v<T>) {
    if (y == 0) return 0;
    if constexpr (std::is_signed_v<T>) {
      if (y == -1) return wrap_sub<T>(0, x);  // MIN // -1 wraps to MIN
      T q = static_cast<T>(x / y);
      if (static_cast<T>(x % y) != 0 && ((x < 0) != (y < 0))) --q;
      return q;
    } else {
      return static_cast<T>(x / y);
    }
  } else {
    if (y == 0) return x / y;  // inf, -inf or nan
    T mod = std::fmod(x, y);
    T div = (x - mod) / y;
    if (mod != 0) {
      if ((y < 0) != (mod < 0)) div -= T(1);
    }
    if (div != 0) {
      T floored = std::floor(div);
      if (div - floored > T(0.5)) floored += T(1);
      return floored;
    }
    return std::copysign(T(0), x / y);
  }
}

template <class T>
T floor_mod(T x, T y) {
  if constexpr (is_int_v<T>) {
    if (y == 0) return 0;
    if constexpr (std::is_signed_v<T>) {
      if (y == -1) return 0;
      T r = static_cast<T>(x % y);
      if (r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y);
      return r;
    } else {
      return static_cast<T>(x % y);
    }
  } else {
    if (y == 0) return std::fmod(x, y);  // nan
    T mod = std::fmod(x, y);
    if (mod != 0) {
      if ((y < 0) != (mod < 0)) mod += y;
    } else {
      mod = std::copysign(T(0), y);
    }
    return mod;
  }
}

template <class T>
T power(T x, T y) {
  if constexpr (is_int_v<T>) {
    if constexpr (std::is_signed_v<T>) {
      if (y < 0) {  // documented: the integer part of 1 / x**|y|
        if (x == 1) return 1;
        if (x == -1) return (y % 2 == 0) ? 1 : -1;
        return 0;
      }
    }
    std::uint64_t base = static_cast<std::uint64_t>(x);
    std::uint64_t e = static_cast<std::uint64_t>(y);
    std::uint64_t result = 1;
    while (e != 0) {
      if (e & 1U) result *= base;
      base *= base;
      e >>= 1U;
    }
    return static_cast<T>(result);
  } else {
    return std::pow(x, y);
  }
}

template <class T>
T minimum(T x, T y) {
  if constexpr (is_int_v<T>) {
    return std::min(x, y);
  } else {
    return (x < y || std::isnan(x)) ? x : y;
  }
}
template <class T>
T maximum(T x, T y) {
  if constexpr (is_int_v<T>) {
    return std::max(x, y);
  } else {
    return (x > y || std::isnan(x)) ? x : y;
  }
}

// A function as a type: a loop given Call<f> inlines f into each of its
// builds, where a function pointer would be called once per element.
template <auto F>
struct Call {
  template <class... A>
  auto operator()(A... a) const {
    return F(a...);
  }
};

template <class R, class T, class F>
LARDER_ELEMENT_LOOP void binary_loop(R* __restrict out, const T* __restrict a, bool a_scalar,
                                     const T* __restrict b, bool b_scalar, std::int64_t n, F f) {
  if (a_scalar && b_scalar) {
    const R v = f(a[0], b[0]);
    for (std::int64_t i = 0; i < n; ++i)
      out[i] = v;
  } else if (a_scalar) {
    const T x = a[0];
    for (std::int64_t i = 0; i < n; ++i)
      out[i] = f(x, b[i]);
  } else if (b_scalar) {
    const T y = b[0];
    for (std::int64_t i = 0; i < n; ++i)
      out[i] = f(a[i], y);
  } else {
    for (std::int64_t i = 0; i < n; ++i)
      out[i] = f(a[i], b[i]);
  }
}

template <class R, class T, class F>
LARDER_ELEMENT_LOOP void unary_loop(R* __restrict out, const T* __restrict a, bool a_scalar,
                                    std::int64_t n, F f) {
  if (a_scalar) {
    const R v = f(a[0]);
    for (std::int64_t i = 0; i < n; ++i)
      out[i] = v;
  } else {
    for (std::int64_t i = 0; i < n; ++i)
      out[i] = f(a[i]);
  }
}

struct Operands {
  const std::byte* a = nullptr;
  const std::byte* b = nullptr;
  const std::byte* c = nullptr;
  std::byte* out = nullptr;
  bool a_scalar = false, b_scalar = false, c_scalar = false;
};

template <class T>
void run_binary(Op op, const Operands& o, std::int64_t n) {
  const T* a = reinterpret_cast<const T*>(o.a);
  const T* b = reinterpret_cast<const T*>(o.b);
  T* out = reinterpret_cast<T*>(o.out);
  u8* mask = reinterpret_cast<u8*>(o.out);
  const bool as = o.a_scalar, bs = o.b_scalar;
  switch (op) {
    case Op::add:
      return binary_loop(out, a, as, b, bs, n, Call<wrap_add<T>>{});
    case Op::sub:
      return binary_loop(out, a, as, b, bs, n, Call<wrap_sub<T>>{});
    case Op::mul:
      return binary_loop(out, a, as, b, bs, n, Call<wrap_mul<T>>{});
    case Op::div:
      if constexpr (!is_int_v<T>)
        return binary_loop(out, a, as, b, bs, n, [](T x, T y) { return x / y; });
      break;
    case Op::floordiv:
      return binary_loop(out, a, as, b, bs, n, Call<floor_div<T>>{});
    case Op::mod:
      return binary_loop(out, a, as, b, bs, n, Call<floor_mod<T>>{});
    case Op::pow:
      return binary_loop(out, a, as, b, bs, n, Call<power<T>>{});
    case Op::bitand_:
      if constexpr (is_int_v<T>) {
        return binary_loop(out, a, as, b, bs, n, [](T x, T y) { return static_cast<T>(x & y); });
      }
      break;
    case Op::bitor_:
      if constexpr (is_int_v<T>) {
        return binary_loop(out, a, as, b, bs, n, [](T x, T y) { return static_cast<T>(x | y); });
      }
      break;
    case Op::minimum:
      return binary_loop(out, a, as, b, bs, n, Call<minimum<T>>{});
    case Op::maximum:
      return binary_loop(out, a, as, b, bs, n, Call<maximum<T>>{});
    case Op::arctan2:
      if constexpr (!is_int_v<T>) {
        return binary_loop(out, a, as, b, bs, n, [](T x, T y) { return std::atan2(x, y); });
      }
      break;
    case Op::lt:
      return binary_loop(mask, a, as, b, bs, n, [](T x, T y) -> u8 { return x < y; });
    case Op::le:
      return binary_loop(mask, a, as, b, bs, n, [](T x, T y) -> u8 { return x <= y; });
    case Op::gt:
      return binary_loop(mask, a, as, b, bs, n, [](T x, T y) -> u8 { return x > y; });
    case Op::ge:
      return binary_loop(mask, a, as, b, bs, n, [](T x, T y) -> u8 { return x >= y; });
    case Op::eq:
      return binary_loop(mask, a, as, b, bs, n, [](T x, T y) -> u8 { return x == y; });
    case Op::ne:
      return binary_loop(mask, a, as, b, bs, n, [](T x, T y) -> u8 { return x != y; });
    default:
      break;
  }
  throw Error(ErrorCode::unsupported,
              fmt::format("operation {} on this type", static_cast<int>(op)));
}

template <class T>
void run_unary(Op op, bool boolean, const Operands& o, std::int64_t n) {
  const T* a = reinterpret_cast<const T*>(o.a);
  T* out = reinterpret_cast<T*>(o.out);
  u8* mask = reinterpret_cast<u8*>(o.out);
  const bool as = o.a_scalar;
  switch (op) {
    case Op::neg:
      if constexpr (is_int_v<T>) {
        return unary_loop(out, a, as, n, [](T x) { return wrap_sub<T>(T(0), x); });
      } else {
        return unary_loop(out, a, as, n, [](T x) { return -x; });  // -(0.0) is -0.0
      }
    case Op::abs:
      if constexpr (is_int_v<T>) {
        return unary_loop(out, a, as, n, [](T x) { return x < T(0) ? wrap_sub<T>(T(0), x) : x; });
      } else {
        return unary_loop(out, a, as, n, [](T x) { return std::fabs(x); });
      }
    case Op::invert:
      if constexpr (is_int_v<T>) {
        if (boolean) return unary_loop(out, a, as, n, [](T x) { return static_cast<T>(x == 0); });
        return unary_loop(out, a, as, n, [](T x) { return static_cast<T>(~x); });
      }
      break;
    case Op::round:
      if constexpr (is_int_v<T>) {
        return unary_loop(out, a, as, n, [](T x) { return x; });
      } else {
        return unary_loop(out, a, as, n, [](T x) { return std::nearbyint(x); });
      }
    case Op::isnan:
      if constexpr (is_int_v<T>)
        return unary_loop(mask, a, as, n, [](T) -> u8 { return 0; });
      else
        return unary_loop(mask, a, as, n, [](T x) -> u8 { return std::isnan(x); });
    case Op::isfinite:
      if constexpr (is_int_v<T>)
        return unary_loop(mask, a, as, n, [](T) -> u8 { return 1; });
      else
        return unary_loop(mask, a, as, n, [](T x) -> u8 { return std::isfinite(x); });
    case Op::nonzero:
      return unary_loop(mask, a, as, n, [](T x) -> u8 { return x != T(0); });
    case Op::logical_not:
      return unary_loop(mask, a, as, n, [](T x) -> u8 { return x == T(0); });
    default:
      break;
  }
  if constexpr (!is_int_v<T>) {
    switch (op) {
      case Op::floor:
        return unary_loop(out, a, as, n, [](T x) { return std::floor(x); });
      case Op::ceil:
        return unary_loop(out, a, as, n, [](T x) { return std::ceil(x); });
      case Op::sqrt:
        return unary_loop(out, a, as, n, [](T x) { return std::sqrt(x); });
      case Op::exp:
        return unary_loop(out, a, as, n, [](T x) { return std::exp(x); });
      case Op::log:
        return unary_loop(out, a, as, n, [](T x) { return std::log(x); });
      case Op::log10:
        return unary_loop(out, a, as, n, [](T x) { return std::log10(x); });
      case Op::sin:
        return unary_loop(out, a, as, n, [](T x) { return std::sin(x); });
      case Op::cos:
        return unary_loop(out, a, as, n, [](T x) { return std::cos(x); });
      case Op::tan:
        return unary_loop(out, a, as, n, [](T x) { return std::tan(x); });
      default:
        break;
    }
  }
  throw Error(ErrorCode::unsupported,
              fmt::format("operation {} on this type", static_cast<int>(op)));
}

template <class D, class S>
D convert(S x) {
  if constexpr (std::is_floating_point_v<S> && std::is_integral_v<D>) {
    // Never produced by promotion; defined anyway (numpy leaves it unspecified).
    if (!(x >= static_cast<S>(std::numeric_limits<D>::min()) &&
          x < static_cast<S>(std::numeric_limits<D>::max()))) {
      return std::numeric_limits<D>::min();
    }
    return static_cast<D>(x);
  } else {
    return static_cast<D>(x);
  }
}

void run_cast(Ty from, Ty to, const Operands& o, std::int64_t n) {
  with_type(from, [&](auto s) {
    using S = decltype(s);
    with_type(to, [&](auto d) {
      using D = decltype(d);
      const S* a = reinterpret_cast<const S*>(o.a);
      D* out = reinterpret_cast<D*>(o.out);
      if (to == Ty::b) {
        unary_loop(out, a, o.a_scalar, n, [](S x) -> D { return x != S(0); });
      } else {
        unary_loop(out, a, o.a_scalar, n, [](S x) { return convert<D>(x); });
      }
    });
  });
}

void run_where(Ty type, const Operands& o, std::int64_t n) {
  with_type(type, [&](auto t) {
    using T = decltype(t);
    const u8* c = reinterpret_cast<const u8*>(o.a);
    const T* x = reinterpret_cast<const T*>(o.b);
    const T* y = reinterpret_cast<const T*>(o.c);
    T* out = reinterpret_cast<T*>(o.out);
    const std::int64_t cs = o.a_scalar ? 0 : 1, xs = o.b_scalar ? 0 : 1, ys = o.c_scalar ? 0 : 1;
    for (std::int64_t i = 0; i < n; ++i)
      out[i] = c[i * cs] ? x[i * xs] : y[i * ys];
  });
}

void run_expand(Ty type, const std::byte* source, bool scalar, const std::int32_t* row_of_item,
                std::byte* out, std::int64_t n) {
  with_type(type, [&](auto t) {
    using T = decltype(t);
    const T* s = reinterpret_cast<const T*>(source);
    T* d = reinterpret_cast<T*>(out);
    if (scalar) {
      for (std::int64_t i = 0; i < n; ++i)
        d[i] = s[0];
    } else {
      for (std::int64_t i = 0; i < n; ++i)
        d[i] = s[row_of_item[i]];
    }
  });
}

// Per-thread buffers of the inner programs of reductions.
struct InnerBuffers {
  std::vector<std::byte> memory;
  std::vector<std::byte*> regs;
  std::vector<std::int32_t> row_of_item;
  std::vector<double> sums;
};

const std::int64_t* jagged_offsets(const Step& step, const Frame& frame) {
  return frame.data->ragged[static_cast<std::size_t>(step.ragged)].offsets + frame.begin;
}

void check_equal_lengths(const Step& step, const Frame& frame, std::int64_t n) {
  const std::int64_t* first = jagged_offsets(step, frame);
  for (int other : step.ragged_group) {
    if (other == step.ragged) continue;
    const std::int64_t* o =
        frame.data->ragged[static_cast<std::size_t>(other)].offsets + frame.begin;
    for (std::int64_t i = 0; i < n; ++i) {
      if (o[i + 1] - o[i] != first[i + 1] - first[i]) {
        const auto& paths = frame.data->ragged_paths;
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("jagged columns '{}' and '{}' differ in length at row {} ({} and "
                                "{} items): one reduction needs records of equal lengths",
                                paths[static_cast<std::size_t>(step.ragged)],
                                paths[static_cast<std::size_t>(other)],
                                frame.data->chunk_begin + frame.begin + i, first[i + 1] - first[i],
                                o[i + 1] - o[i]));
      }
    }
  }
}

void run_len(const Step& step, Frame& frame, std::int64_t n) {
  const std::int64_t* o = jagged_offsets(step, frame);
  auto* out = reinterpret_cast<std::int64_t*>(frame.regs[static_cast<std::size_t>(step.dst)]);
  for (std::int64_t i = 0; i < n; ++i)
    out[i] = o[i + 1] - o[i];
}

void run_index(const Step& step, Frame& frame, std::int64_t n) {
  const std::int64_t* o = jagged_offsets(step, frame);
  const std::byte* values = frame.data->ragged[static_cast<std::size_t>(step.ragged)].values;
  with_type(step.out, [&](auto t) {
    using T = decltype(t);
    const T* v = reinterpret_cast<const T*>(values);
    T* out = reinterpret_cast<T*>(frame.regs[static_cast<std::size_t>(step.dst)]);
    const T fill = std::is_floating_point_v<T> ? std::numeric_limits<T>::quiet_NaN() : T(0);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t length = o[i + 1] - o[i];
      const std::int64_t at = step.k >= 0 ? step.k : length + step.k;
      out[i] = (at >= 0 && at < length) ? v[o[i] + at] : fill;
    }
  });
}

// Reduction identities: min/max of an empty float record are NaN (set after).
template <class T>
T identity(Op op) {
  switch (op) {
    case Op::reduce_min:
      return std::is_floating_point_v<T> ? std::numeric_limits<T>::infinity()
                                         : std::numeric_limits<T>::max();
    case Op::reduce_max:
      return std::is_floating_point_v<T> ? -std::numeric_limits<T>::infinity()
                                         : std::numeric_limits<T>::lowest();
    case Op::reduce_all:
      return T(1);
    default:
      return T(0);
  }
}

void run_reduce(const Step& step, Frame& frame, std::int64_t n) {
  check_equal_lengths(step, frame, n);
  const std::int64_t* o = jagged_offsets(step, frame);
  const Program& inner = *step.inner;
  thread_local InnerBuffers buffers;
  if (buffers.regs.size() < inner.registers.size()) {
    buffers.memory.assign(inner.registers.size() * block_rows * 8 + 64, std::byte{0});
    buffers.regs.resize(inner.registers.size());
  }
  auto* base = reinterpret_cast<std::byte*>(
      (reinterpret_cast<std::uintptr_t>(buffers.memory.data()) + 63) & ~std::uintptr_t{63});
  for (std::size_t r = 0; r < inner.registers.size(); ++r) {
    buffers.regs[r] = base + r * block_rows * 8;
  }
  buffers.row_of_item.resize(static_cast<std::size_t>(block_rows));
  buffers.sums.assign(static_cast<std::size_t>(n), 0.0);

  Frame items;
  items.regs.assign(buffers.regs.begin(),
                    buffers.regs.begin() + static_cast<std::ptrdiff_t>(inner.registers.size()));
  items.data = frame.data;
  items.outer = &frame;
  items.row_of_item = buffers.row_of_item.data();
  const Source& result = step.a;  // in the inner program

  with_type(step.out, [&](auto t) {
    using T = decltype(t);
    T* out = reinterpret_cast<T*>(frame.regs[static_cast<std::size_t>(step.dst)]);
    // Of booleans, min is all() and max is any(): an empty record gives true and false.
    const T start = (step.out == Ty::b && step.op == Op::reduce_min) ? T(1) : identity<T>(step.op);
    for (std::int64_t i = 0; i < n; ++i)
      out[i] = start;
    const std::int64_t first = o[0], last = o[n];
    std::int64_t row = 0;
    for (std::int64_t i0 = first; i0 < last; i0 += block_rows) {
      const std::int64_t count = std::min(block_rows, last - i0);
      while (o[row + 1] <= i0)
        ++row;
      {
        std::int64_t r = row;
        for (std::int64_t i = 0; i < count; ++i) {
          while (o[r + 1] <= i0 + i)
            ++r;
          buffers.row_of_item[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(r);
        }
      }
      items.begin = i0;
      run(inner, items, count);
      const T* v = reinterpret_cast<const T*>(resolve(result, items, step.out));
      const bool scalar = result.kind == Source::scalar;
      for (std::int64_t i = 0; i < count; ++i) {
        const std::size_t r =
            static_cast<std::size_t>(buffers.row_of_item[static_cast<std::size_t>(i)]);
        const T x = v[scalar ? 0 : i];
        switch (step.op) {
          case Op::reduce_sum:
            if constexpr (std::is_floating_point_v<T>) {
              buffers.sums[r] += static_cast<double>(x);
            } else {
              out[r] = wrap_add<T>(out[r], x);
            }
            break;
          case Op::reduce_min:
            out[r] = minimum<T>(out[r], x);
            break;
          case Op::reduce_max:
            out[r] = maximum<T>(out[r], x);
            break;
          case Op::reduce_any:
            if constexpr (std::is_integral_v<T>) out[r] = static_cast<T>(out[r] | (x != T(0)));
            break;
          case Op::reduce_all:
            if constexpr (std::is_integral_v<T>) out[r] = static_cast<T>(out[r] & (x != T(0)));
            break;
          default:
            break;
        }
      }
    }
    if constexpr (std::is_floating_point_v<T>) {
      if (step.op == Op::reduce_sum) {
        for (std::int64_t i = 0; i < n; ++i)
          out[i] = static_cast<T>(buffers.sums[static_cast<std::size_t>(i)]);
      }
      if (step.op == Op::reduce_min || step.op == Op::reduce_max) {
        for (std::int64_t i = 0; i < n; ++i) {
          if (o[i + 1] == o[i]) out[i] = std::numeric_limits<T>::quiet_NaN();
        }
      }
    }
  });
}

}  // namespace

const std::byte* resolve(const Source& source, const Frame& frame, Ty type) {
  switch (source.kind) {
    case Source::reg:
      return frame.regs[static_cast<std::size_t>(source.index)];
    case Source::dense:
      return frame.data->dense[static_cast<std::size_t>(source.index)] +
             frame.begin * static_cast<std::int64_t>(size_of(type));
    case Source::items:
      return frame.data->ragged[static_cast<std::size_t>(source.index)].values +
             frame.begin * static_cast<std::int64_t>(size_of(type));
    case Source::scalar:
      return source.value.data();
  }
  return nullptr;
}

void run(const Program& program, Frame& frame, std::int64_t n) {
  for (const Step& step : program.steps) {
    Operands o;
    o.out = frame.regs[static_cast<std::size_t>(step.dst)];
    switch (step.op) {
      case Op::len:
        run_len(step, frame, n);
        continue;
      case Op::index:
        run_index(step, frame, n);
        continue;
      case Op::reduce_sum:
      case Op::reduce_min:
      case Op::reduce_max:
      case Op::reduce_any:
      case Op::reduce_all:
        run_reduce(step, frame, n);
        continue;
      case Op::expand: {
        const Frame& outer = *frame.outer;
        const std::byte* source = resolve(step.a, outer, step.in);
        // row_of_item counts rows of the outer block; a dense column is at its start.
        run_expand(step.in, source, step.a.kind == Source::scalar, frame.row_of_item, o.out, n);
        continue;
      }
      default:
        break;
    }
    o.a = resolve(step.a, frame, step.op == Op::where ? Ty::b : step.in);
    o.a_scalar = step.a.kind == Source::scalar;
    if (step.op == Op::where) {
      o.b = resolve(step.b, frame, step.in);
      o.c = resolve(step.c, frame, step.in);
      o.b_scalar = step.b.kind == Source::scalar;
      o.c_scalar = step.c.kind == Source::scalar;
      run_where(step.in, o, n);
      continue;
    }
    if (step.op == Op::cast) {
      run_cast(step.in, step.out, o, n);
      continue;
    }
    if (static_cast<int>(step.op) <= static_cast<int>(Op::ne)) {
      o.b = resolve(step.b, frame, step.in);
      o.b_scalar = step.b.kind == Source::scalar;
      with_type(step.in, [&](auto t) { run_binary<decltype(t)>(step.op, o, n); });
    } else {
      with_type(step.in, [&](auto t) { run_unary<decltype(t)>(step.op, step.in == Ty::b, o, n); });
    }
  }
}

Scratch::Scratch(const Program& program) {
  // Kept per thread and only grown: allocating (and faulting in) registers
  // for every range of blocks would cost as much as evaluating them. A
  // thread runs one range at a time, so one buffer per thread suffices.
  thread_local std::vector<std::byte> memory;
  const std::size_t bytes = program.registers.size() * block_rows * 8 + 64;
  if (memory.size() < bytes) memory.resize(bytes);
  auto* base = reinterpret_cast<std::byte*>((reinterpret_cast<std::uintptr_t>(memory.data()) + 63) &
                                            ~std::uintptr_t{63});
  for (std::size_t r = 0; r < program.registers.size(); ++r) {
    regs_.push_back(base + r * block_rows * 8);
  }
}

Frame Scratch::frame(const BlockData& data, std::int64_t begin) const {
  Frame f;
  f.regs = regs_;
  f.data = &data;
  f.begin = begin;
  return f;
}

}  // namespace larder::expr::detail
