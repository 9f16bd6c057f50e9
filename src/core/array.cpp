#include "larder/core/array.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "larder/core/error.h"

namespace larder {
namespace {

constexpr std::size_t kAlignment = 64;

// AddressSanitizer watches heap blocks, not mappings: under it every
// buffer comes from the heap.
#ifndef __SANITIZE_ADDRESS__
constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kMappedBytes = std::size_t{4} << 20;

// Freed large mappings, kept for the next buffer of about their size: a
// process that evaluates or reads the same sizes over and over (a mask per
// cut, a batch per step) then reuses pages it already has instead of the
// kernel zeroing fresh ones at every fault. On the 2-core VM, fresh huge
// pages were zeroed at ~1 GB/s when the hypervisor had taken the memory back,
// and that doubled the time of a cut over 10M rows. At most kCachedBytes
// and kCachedMappings are kept; the oldest go first.
class MappingCache {
 public:
  static MappingCache& instance() {
    static auto* cache = new MappingCache;  // never destroyed: buffers outlive statics
    return *cache;
  }

  // A kept mapping of at least `size` bytes and at most twice that, or
  // {nullptr, 0}.
  std::pair<std::byte*, std::size_t> take(std::size_t size) {
    const std::lock_guard lock(mutex_);
    auto best = kept_.end();
    for (auto it = kept_.begin(); it != kept_.end(); ++it) {
      if (it->second >= size && it->second / 2 <= size &&
          (best == kept_.end() || it->second < best->second)) {
        best = it;
      }
    }
    if (best == kept_.end()) return {nullptr, 0};
    const auto found = *best;
    kept_.erase(best);
    bytes_ -= found.second;
    return found;
  }

  void give_back(std::byte* p, std::size_t size) {
    std::vector<std::pair<std::byte*, std::size_t>> evicted;
    {
      const std::lock_guard lock(mutex_);
      if (size > kCachedBytes) {
        evicted.emplace_back(p, size);
      } else {
        while (!kept_.empty() &&
               (bytes_ + size > kCachedBytes || kept_.size() >= kCachedMappings)) {
          evicted.push_back(kept_.front());
          bytes_ -= kept_.front().second;
          kept_.erase(kept_.begin());
        }
        kept_.emplace_back(p, size);
        bytes_ += size;
      }
    }
    for (const auto& [q, n] : evicted)
      ::munmap(q, n);
  }

 private:
  static constexpr std::size_t kCachedBytes = std::size_t{128} << 20;
  static constexpr std::size_t kCachedMappings = 8;
  std::mutex mutex_;
  std::vector<std::pair<std::byte*, std::size_t>> kept_;  // oldest first
  std::size_t bytes_ = 0;
};

// Large buffers get their own mapping, starting on a 2 MiB boundary and
// marked for transparent huge pages: filling one then takes a page fault
// per 2 MiB instead of one per 4 KiB (reading 80 MB of ragged values
// faulted 20,000 times, a quarter of the read), and whoever reads it later
// misses the TLB less. The mapping ends with the buffer, so its last,
// partial 2 MiB stays in small pages and costs no memory beyond what is
// used. nullptr when the kernel says no; the caller falls back to the heap.
std::shared_ptr<std::byte> allocate_mapped(std::size_t nbytes) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t size = (nbytes + page - 1) / page * page;
  const auto release = [](std::size_t n) {
    return [n](std::byte* q) { MappingCache::instance().give_back(q, n); };
  };
  if (auto [kept, kept_size] = MappingCache::instance().take(size); kept != nullptr) {
    return std::shared_ptr<std::byte>(kept, release(kept_size));
  }
  void* p =
      ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  auto* base = static_cast<std::byte*>(p);
  const std::size_t head =
      (kHugePage - reinterpret_cast<std::uintptr_t>(base) % kHugePage) % kHugePage;
  if (head > 0) ::munmap(base, head);
  ::munmap(base + head + size, kHugePage - head);
  base += head;
  ::madvise(base, size, MADV_HUGEPAGE);  // advice only: small pages if refused
  return std::shared_ptr<std::byte>(base, release(size));
}
#endif

std::shared_ptr<std::byte> allocate(std::size_t nbytes) {
#ifndef __SANITIZE_ADDRESS__
  if (nbytes >= kMappedBytes) {
    if (auto p = allocate_mapped(nbytes)) return p;
  }
#endif
  // aligned_alloc wants a multiple of the alignment, and a non-zero size.
  const std::size_t rounded =
      std::max(kAlignment, (nbytes + kAlignment - 1) / kAlignment * kAlignment);
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (p == nullptr) {
    throw Error(ErrorCode::io, fmt::format("out of memory allocating {} bytes", nbytes));
  }
  return std::shared_ptr<std::byte>(static_cast<std::byte*>(p), [](std::byte* q) { std::free(q); });
}

void require_fixed_size(const DType& dtype) {
  if (!dtype.is_fixed_size()) {
    throw Error(ErrorCode::unsupported,
                fmt::format("an Array cannot hold dtype {}: its elements have no fixed size",
                            dtype.name()));
  }
}

// Copies one element of `size` bytes; fixed sizes compile to a single move.
inline void copy_item(std::byte* dst, const std::byte* src, std::size_t size) {
  switch (size) {
    case 1:
      *dst = *src;
      return;
    case 2:
      std::memcpy(dst, src, 2);
      return;
    case 4:
      std::memcpy(dst, src, 4);
      return;
    case 8:
      std::memcpy(dst, src, 8);
      return;
    case 16:
      std::memcpy(dst, src, 16);
      return;
    default:
      std::memcpy(dst, src, size);
  }
}

// Walks the selected elements in C order. `Visit(element_pointer, run_length)`
// gets runs of `run_length` contiguous elements where the innermost axis allows.
template <class Byte, class Visit>
void walk(Byte* base, std::span<const std::int64_t> strides, const std::vector<ResolvedAxis>& axes,
          std::size_t axis, std::size_t item, Visit&& visit) {
  const ResolvedAxis& a = axes[axis];
  const std::int64_t stride = strides[axis];
  if (axis + 1 == axes.size()) {
    if (!a.is_list && (a.step * stride == static_cast<std::int64_t>(item) || a.count == 1)) {
      if (a.count > 0) visit(base + a.start * stride, a.count);
      return;
    }
    for (std::int64_t k = 0; k < a.count; ++k)
      visit(base + a.source_index(k) * stride, 1);
    return;
  }
  for (std::int64_t k = 0; k < a.count; ++k) {
    walk(base + a.source_index(k) * stride, strides, axes, axis + 1, item, visit);
  }
}

}  // namespace

Array Array::empty(DType dtype, Shape shape) {
  require_fixed_size(dtype);
  const std::size_t nbytes = static_cast<std::size_t>(shape.num_elements()) * dtype.item_size();
  return Array(dtype, std::move(shape), allocate(nbytes));
}

Array Array::zeros(DType dtype, Shape shape) {
  Array a = empty(dtype, std::move(shape));
  std::memset(a.data(), 0, a.nbytes());
  return a;
}

Array Array::copy_of(ArrayView view) {
  return take(view, Selection());
}

Array Array::adopt(DType dtype, Shape shape, std::shared_ptr<std::byte> data) {
  require_fixed_size(dtype);
  if (data == nullptr && shape.num_elements() != 0) {
    throw Error(ErrorCode::invalid_argument, "Array::adopt was given no buffer");
  }
  return Array(dtype, std::move(shape), std::move(data));
}

Array Array::adopt_read_only(DType dtype, Shape shape, std::shared_ptr<std::byte> data) {
  Array a = adopt(dtype, std::move(shape), std::move(data));
  a.read_only_ = true;
  return a;
}

MutableArrayView Array::mutable_view() {
  if (read_only_) {
    throw Error(ErrorCode::invalid_argument,
                "this array is a read-only view of a memory-mapped file: read it through a const "
                "Array (std::as_const), or clone() it to write");
  }
  return MutableArrayView(data_.get(), dtype_, shape_);
}

Array Array::reshaped(Shape shape) && {
  if (shape.num_elements() != num_elements()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("cannot reshape an array of shape {} ({} elements) to {}",
                            shape_.to_string(), num_elements(), shape.to_string()));
  }
  shape_ = std::move(shape);
  return std::move(*this);
}

Array take(ArrayView source, const Selection& selection) {
  const auto axes = selection.resolve(source.shape());
  Array out = Array::empty(source.dtype(), result_shape(axes));
  const std::size_t item = source.dtype().item_size();
  if (out.num_elements() == 0) return out;
  if (axes.empty()) {  // a scalar
    copy_item(out.data(), source.data(), item);
    return out;
  }
  std::byte* cursor = out.data();
  walk(source.data(), source.strides(), axes, 0, item, [&](const std::byte* src, std::int64_t run) {
    if (run == 1) {
      copy_item(cursor, src, item);
    } else {
      std::memcpy(cursor, src, static_cast<std::size_t>(run) * item);
    }
    cursor += static_cast<std::size_t>(run) * item;
  });
  return out;
}

void put(MutableArrayView target, const Selection& selection, ArrayView values) {
  const auto axes = selection.resolve(target.shape());
  const Shape wanted = result_shape(axes);
  if (values.dtype().native() != target.dtype().native() ||
      values.dtype().byte_order() != target.dtype().byte_order()) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("cannot write values of dtype {} into an array of dtype {}",
                            values.dtype().numpy_str(), target.dtype().numpy_str()));
  }
  // One value fills the selection, whatever its shape (as numpy's a[i] = [x]).
  const bool broadcast = values.num_elements() == 1;
  if (!broadcast && values.shape() != wanted) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("cannot write values of shape {} into a selection of shape {}",
                            values.shape().to_string(), wanted.to_string()));
  }
  if (wanted.num_elements() == 0) return;
  const std::size_t item = target.dtype().item_size();
  // Values may be strided: bring them into C order first (cheap for contiguous input).
  Array packed_storage = Array::empty(values.dtype(), Shape{});
  const std::byte* packed = values.data();
  if (!values.is_contiguous()) {
    packed_storage = Array::copy_of(values);
    packed = packed_storage.data();
  }
  if (axes.empty()) {
    copy_item(target.data(), packed, item);
    return;
  }
  const std::byte* cursor = packed;
  walk(target.data(), target.strides(), axes, 0, item, [&](std::byte* dst, std::int64_t run) {
    if (broadcast) {
      for (std::int64_t k = 0; k < run; ++k)
        copy_item(dst + k * item, packed, item);
      return;
    }
    if (run == 1) {
      copy_item(dst, cursor, item);
    } else {
      std::memcpy(dst, cursor, static_cast<std::size_t>(run) * item);
    }
    cursor += static_cast<std::size_t>(run) * item;
  });
}

Array packed_as(ArrayView values, const DType& dtype) {
  const bool same_order = values.dtype().is_native() == dtype.is_native();
  if (values.is_contiguous() && same_order) {
    return Array::adopt(dtype, values.shape(),
                        std::shared_ptr<std::byte>(std::shared_ptr<std::byte>(),
                                                   const_cast<std::byte*>(values.data())));
  }
  Array packed = Array::copy_of(values);
  if (!same_order) byteswap(packed.data(), static_cast<std::size_t>(packed.num_elements()), dtype);
  return Array::adopt(dtype, packed.shape(), packed.buffer());
}

}  // namespace larder
