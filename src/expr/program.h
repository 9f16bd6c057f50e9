// The compiled form of a bound expression: a list of vector steps over
// registers of `block_rows` elements, run block by block (kernels.cpp).
// A program over rows may hold reductions, each with an inner program over
// the items of the jagged records of the block. Built once by bind.cpp,
// then read concurrently by the threads running blocks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "larder/core/dtype.h"

namespace larder::expr::detail {

// Elements per register: a block of rows (or of items inside a reduction).
// A block's registers fit in L2 (a float32 register is 64 KiB), so no
// temporary is ever column-sized. Measured on W6 (10M rows, four float32
// columns), blocks of 16384 rows evaluated in 9-10 ms where blocks of 2048
// took 14-15 ms: the interpreter passes over each block once per step,
// and each step reads its columns in runs of 64 KiB rather than 8 KiB. A
// cut over 1M rows already in cache ran faster too.
inline constexpr std::int64_t block_rows = 16384;

// The element types the engine computes in. f16 appears only while
// promoting (numpy's minimal type of a small float scalar), never in data.
enum class Ty : std::uint8_t { b, i8, i16, i32, i64, u8, u16, u32, u64, f16, f32, f64 };

std::size_t size_of(Ty t);
int category(Ty t);  // 0 bool, 1 integer, 2 float (numpy's kind order)
bool is_signed(Ty t);
bool is_float(Ty t);
bool is_integer(Ty t);  // signed or unsigned, not bool
std::string name_of(Ty t);
Ty ty_of(const DType& dtype);  // Error(type_mismatch) for dtypes the engine does not compute in
DType dtype_of(Ty t);
// numpy.promote_types.
Ty promote(Ty a, Ty b);

// Where an operand comes from.
struct Source {
  enum Kind : std::uint8_t { reg, dense, items, scalar } kind = scalar;
  int index = 0;                                // register, dense column or ragged column
  alignas(8) std::array<std::byte, 8> value{};  // a scalar, in the step's input type

  template <class T>
  T as() const {
    T v;
    std::memcpy(&v, value.data(), sizeof(T));
    return v;
  }
};

enum class Op : std::uint8_t {
  // T, T -> T
  add,
  sub,
  mul,
  div,
  floordiv,
  mod,
  pow,
  bitand_,
  bitor_,
  minimum,
  maximum,
  arctan2,
  // T, T -> bool
  lt,
  le,
  gt,
  ge,
  eq,
  ne,
  // T -> T
  neg,
  abs,
  invert,
  round,
  floor,
  ceil,
  sqrt,
  exp,
  log,
  log10,
  sin,
  cos,
  tan,
  // T -> bool
  isnan,
  isfinite,
  nonzero,
  logical_not,
  // in -> out
  cast,
  // bool, T, T -> T
  where,
  // an outer row value copied to each item of its row (inner programs)
  expand,
  // jagged: per row of the outer program
  len,
  index,
  reduce_sum,
  reduce_min,
  reduce_max,
  reduce_any,
  reduce_all,
};

struct Program;

struct Step {
  Op op = Op::add;
  Ty in = Ty::f64;   // type of the operands (after promotion); `where`: of b and c
  Ty out = Ty::f64;  // type of the result
  Source a, b, c;
  int dst = 0;  // register
  // Jagged steps: the ragged column whose records the step walks; a reduction
  // also lists every ragged column its inner program reads (equal lengths).
  int ragged = -1;
  std::vector<int> ragged_group;
  std::int64_t k = 0;  // index
  std::shared_ptr<const Program> inner;
};

struct Program {
  std::vector<Step> steps;
  std::vector<Ty> registers;
  bool items = false;  // runs over items of jagged records
};

// The columns of the block being evaluated, in memory.
struct BlockData {
  std::vector<const std::byte*> dense;  // per dense column, at row 0 of the chunk
  struct Jagged {
    const std::byte* values = nullptr;      // items of the chunk's records
    const std::int64_t* offsets = nullptr;  // chunk-local, first 0
  };
  std::vector<Jagged> ragged;
  std::vector<std::string> ragged_paths;  // for messages
  std::int64_t chunk_begin = 0;           // global row of the chunk's row 0
};

// One thread's registers and its place in the data.
struct Frame {
  std::vector<std::byte*> regs;
  const BlockData* data = nullptr;
  std::int64_t begin = 0;  // first row (or item) of the block, chunk-local
  // Inner frames: the frame of the rows and, per item, its row in that block.
  const Frame* outer = nullptr;
  const std::int32_t* row_of_item = nullptr;
};

// Registers for `program` on the calling thread, in a per-thread buffer:
// one Scratch per thread at a time (inner programs of reductions take
// theirs from another per-thread buffer when they run).
class Scratch {
 public:
  explicit Scratch(const Program& program);
  Frame frame(const BlockData& data, std::int64_t begin) const;

 private:
  std::vector<std::byte*> regs_;
};

// A pointer to the source's elements for this frame (a scalar: its value).
const std::byte* resolve(const Source& source, const Frame& frame, Ty type);

// Runs every step of `program` over `n` elements of `frame`.
void run(const Program& program, Frame& frame, std::int64_t n);

}  // namespace larder::expr::detail
