#include "larder/trace/volume.h"

#include <fmt/format.h>
#include <kiss_fft.h>
#include <kiss_fftnd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "larder/core/astype.h"
#include "larder/core/error.h"
#include "larder/core/parallel.h"

namespace larder::trace {
namespace {

Selection rows(std::int64_t begin, std::int64_t end) {
  return Selection{AxisSelection::slice(begin, end, 1)};
}

std::string where(const store::Dataset& ds) {
  return ds.store_path().string();
}

// Rows of `ds` per slab so that `bytes_per_row` x rows stays within the
// budget: at least one, a whole number of chunks where chunks fit.
std::int64_t slab_rows(const store::Dataset& ds, std::int64_t bytes_per_row,
                       const VolumeOptions& options) {
  const std::int64_t total = std::max<std::int64_t>(ds.rows(), 1);
  std::int64_t n = std::clamp<std::int64_t>(
      options.memory_bytes / std::max<std::int64_t>(bytes_per_row, 1), 1, total);
  const std::vector<std::int64_t> chunks = ds.chunks();
  if (!chunks.empty() && chunks[0] > 0 && n >= chunks[0]) n -= n % chunks[0];
  return n;
}

std::int64_t row_elements(const Shape& shape) {
  std::int64_t n = 1;
  for (std::size_t i = 1; i < shape.rank(); ++i)
    n *= shape[i];
  return n;
}

void require_numeric(const store::Dataset& ds, const char* operation) {
  const DTypeKind kind = ds.dtype().kind();
  if (kind != DTypeKind::boolean && kind != DTypeKind::int_ && kind != DTypeKind::uint &&
      kind != DTypeKind::float_) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("{} takes numbers, not {}", operation, ds.dtype().numpy_str()),
                where(ds), ds.path());
  }
  if (ds.shape().rank() == 0)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} takes an array, not a scalar", operation), where(ds), ds.path());
}

// Calls f(T{}) with the C++ type of a numeric dtype.
template <class F>
void visit_numeric(const DType& dtype, F&& f) {
  switch (dtype.kind()) {
    case DTypeKind::boolean:
      return f(std::uint8_t{});
    case DTypeKind::uint:
      switch (dtype.item_size()) {
        case 1:
          return f(std::uint8_t{});
        case 2:
          return f(std::uint16_t{});
        case 4:
          return f(std::uint32_t{});
        default:
          return f(std::uint64_t{});
      }
    case DTypeKind::int_:
      switch (dtype.item_size()) {
        case 1:
          return f(std::int8_t{});
        case 2:
          return f(std::int16_t{});
        case 4:
          return f(std::int32_t{});
        default:
          return f(std::int64_t{});
      }
    default:
      if (dtype.item_size() == 4) return f(float{});
      return f(double{});
  }
}

// Count, mean and sum of squared deviations; merged as Chan et al. do.
struct Moments {
  double n = 0, mean = 0, m2 = 0;

  void merge(const Moments& other) {
    if (other.n == 0) return;
    const double total = n + other.n, delta = other.mean - mean;
    mean += delta * other.n / total;
    m2 += other.m2 + delta * delta * n * other.n / total;
    n = total;
  }
  double deviation() const {
    const double d = n > 0 ? std::sqrt(m2 / n) : 0.0;
    return d > 0 && std::isfinite(d) ? d : 1.0;
  }
};

Moments moments_of(const double* x, std::int64_t count, std::int64_t stride) {
  Moments m;
  for (std::int64_t i = 0; i < count; ++i)
    m.mean += x[i * stride];
  m.n = static_cast<double>(count);
  if (count == 0) return m;
  m.mean /= m.n;
  for (std::int64_t i = 0; i < count; ++i) {
    const double d = x[i * stride] - m.mean;
    m.m2 += d * d;
  }
  return m;
}

}  // namespace

void threshold(store::Dataset& in, const MakeOutput& out, double value,
               const VolumeOptions& options) {
  require_numeric(in, "threshold");
  const Shape shape = in.shape();
  const auto output =
      out({.dtype = DType::uint8(), .shape = shape, .chunks = in.chunks(), .codec = options.codec});
  const std::int64_t per_row = row_elements(shape);
  const std::int64_t step =
      slab_rows(in, per_row * static_cast<std::int64_t>(in.dtype().item_size() + 1), options);
  for (std::int64_t r = 0; r < in.rows(); r += step) {
    const std::int64_t end = std::min(r + step, in.rows());
    const Array slab = in.read(rows(r, end));
    Array result = Array::empty(DType::uint8(), slab.shape());
    std::uint8_t* o = reinterpret_cast<std::uint8_t*>(result.data());
    visit_numeric(slab.dtype(), [&](auto zero) {
      using T = decltype(zero);
      const T* x = reinterpret_cast<const T*>(slab.data());
      parallel_for(slab.num_elements(), 1 << 16, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i)
          o[i] = static_cast<double>(x[i]) > value ? 1 : 0;
      });
    });
    output->write(rows(r, end), result);
  }
}

PatchCount extract_patches(store::Dataset& in, const MakeOutput& patches, const MakeOutput& corners,
                           const PatchOptions& patch, const VolumeOptions& options) {
  require_numeric(in, "patch extraction");
  const Shape shape = in.shape();
  if (shape.rank() != 3) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("patch extraction takes a (Z, Y, X) volume, not {}", shape.to_string()),
                where(in), in.path());
  }
  std::array<std::int64_t, 3> size = patch.shape, stride = patch.stride;
  for (int a = 0; a < 3; ++a) {
    if (stride[a] == 0) stride[a] = size[a];
    if (size[a] < 1 || size[a] > shape[a] || stride[a] < 1) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("patch shape ({}) with stride ({}) does not fit a volume of {}",
                              fmt::join(size, ", "), fmt::join(stride, ", "), shape.to_string()),
                  where(in), in.path());
    }
  }
  const std::int64_t voxels = size[0] * size[1] * size[2];
  const std::size_t item = in.dtype().item_size();
  const std::int64_t per_chunk = std::max<std::int64_t>(
      1, (std::int64_t{1} << 20) / (voxels * static_cast<std::int64_t>(item)));
  const auto patch_out = patches({.dtype = in.dtype(),
                                  .shape = Shape{0, size[0], size[1], size[2]},
                                  .chunks = {per_chunk, size[0], size[1], size[2]},
                                  .codec = options.codec,
                                  .extendable = true});
  const auto corner_out = corners({.dtype = DType::int64(),
                                   .shape = Shape{0, 3},
                                   .chunks = {16384, 3},
                                   .codec = options.codec,
                                   .extendable = true});

  const std::int64_t grid_y = (shape[1] - size[1]) / stride[1] + 1,
                     grid_x = (shape[2] - size[2]) / stride[2] + 1;
  PatchCount count;
  for (std::int64_t z0 = 0; z0 + size[0] <= shape[0]; z0 += stride[0]) {
    const Array slab = in.read(rows(z0, z0 + size[0]));
    const std::byte* s = slab.data();
    const std::int64_t sy = shape[2] * static_cast<std::int64_t>(item), sz = shape[1] * sy;
    // Per row of the grid, the patches kept, filled in parallel and joined in order.
    std::vector<std::vector<std::int64_t>> kept(static_cast<std::size_t>(grid_y));
    parallel_for(grid_y, 1, [&](std::int64_t gb, std::int64_t ge) {
      for (std::int64_t gy = gb; gy < ge; ++gy) {
        for (std::int64_t gx = 0; gx < grid_x; ++gx) {
          const std::int64_t y0 = gy * stride[1], x0 = gx * stride[2];
          bool keep = true;
          if (patch.min_fill) {
            std::int64_t nonzero = 0;
            visit_numeric(slab.dtype(), [&](auto zero) {
              using T = decltype(zero);
              for (std::int64_t z = 0; z < size[0]; ++z)
                for (std::int64_t y = 0; y < size[1]; ++y) {
                  const T* row = reinterpret_cast<const T*>(s + z * sz + (y0 + y) * sy) + x0;
                  for (std::int64_t x = 0; x < size[2]; ++x)
                    nonzero += row[x] != T(0);
                }
            });
            keep = static_cast<double>(nonzero) > *patch.min_fill * static_cast<double>(voxels);
          }
          if (keep) kept[static_cast<std::size_t>(gy)].push_back(x0);
        }
      }
    });
    std::int64_t n = 0;
    for (const auto& row : kept)
      n += static_cast<std::int64_t>(row.size());
    count.examined += grid_y * grid_x;
    if (n == 0) continue;
    Array out = Array::empty(in.dtype(), Shape{n, size[0], size[1], size[2]});
    Array at = Array::empty(DType::int64(), Shape{n, 3});
    std::int64_t k = 0;
    const std::size_t line = static_cast<std::size_t>(size[2]) * item;
    for (std::int64_t gy = 0; gy < grid_y; ++gy) {
      for (const std::int64_t x0 : kept[static_cast<std::size_t>(gy)]) {
        const std::int64_t y0 = gy * stride[1];
        std::byte* p = out.data() + k * voxels * static_cast<std::int64_t>(item);
        for (std::int64_t z = 0; z < size[0]; ++z)
          for (std::int64_t y = 0; y < size[1]; ++y, p += line)
            std::memcpy(p, s + z * sz + (y0 + y) * sy + x0 * static_cast<std::int64_t>(item), line);
        auto c = at.values<std::int64_t>().subspan(static_cast<std::size_t>(3 * k), 3);
        c[0] = z0;
        c[1] = y0;
        c[2] = x0;
        ++k;
      }
    }
    patch_out->append(out);
    corner_out->append(at);
    count.kept += n;
  }
  return count;
}

void patch_fft(store::Dataset& patches, const MakeOutput& out, const VolumeOptions& options) {
  require_numeric(patches, "patch_fft");
  const Shape shape = patches.shape();
  if (shape.rank() < 2 || shape.rank() > 4) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("patch_fft takes (n, ...) records of 1 to 3 axes, not {}", shape.to_string()),
        where(patches), patches.path());
  }
  std::vector<int> dims;
  for (std::size_t a = 1; a < shape.rank(); ++a) {
    if (shape[a] < 1 || shape[a] > (1 << 20))
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("patch_fft cannot transform {}", shape.to_string()), where(patches),
                  patches.path());
    dims.push_back(static_cast<int>(shape[a]));
  }
  const std::int64_t voxels = row_elements(shape);
  std::vector<std::int64_t> chunks(shape.dims().begin(), shape.dims().end());
  chunks[0] = std::clamp<std::int64_t>((std::int64_t{1} << 20) / (voxels * 4), 1,
                                       std::max<std::int64_t>(shape[0], 1));
  const auto output =
      out({.dtype = DType::float32(), .shape = shape, .chunks = chunks, .codec = options.codec});
  const std::int64_t step = slab_rows(
      patches, voxels * static_cast<std::int64_t>(patches.dtype().item_size() + 8), options);
  for (std::int64_t r = 0; r < patches.rows(); r += step) {
    const std::int64_t end = std::min(r + step, patches.rows());
    Array values = astype(patches.read(rows(r, end)), DType::float32());  // transformed in place
    float* v = values.values<float>().data();
    std::atomic<bool> planned = true;
    parallel_for(end - r, 1, [&](std::int64_t b, std::int64_t e) {
      // kiss_fftnd keeps scratch in its configuration: one per range.
      kiss_fftnd_cfg plan =
          kiss_fftnd_alloc(dims.data(), static_cast<int>(dims.size()), 0, nullptr, nullptr);
      if (!plan) {
        planned = false;
        return;
      }
      std::vector<kiss_fft_cpx> input(static_cast<std::size_t>(voxels)), spectrum(input.size());
      for (std::int64_t p = b; p < e; ++p) {
        float* x = v + p * voxels;
        for (std::int64_t i = 0; i < voxels; ++i)
          input[static_cast<std::size_t>(i)] = {x[i], 0.0f};
        kiss_fftnd(plan, input.data(), spectrum.data());
        for (std::int64_t i = 0; i < voxels; ++i) {
          const kiss_fft_cpx c = spectrum[static_cast<std::size_t>(i)];
          x[i] = std::hypot(c.r, c.i);
        }
      }
      kiss_fft_free(plan);
    });
    if (!planned)
      throw Error(ErrorCode::io,
                  fmt::format("KISS FFT could not plan a transform of {}", shape.to_string()),
                  where(patches), patches.path());
    output->write(rows(r, end), values);
  }
}

Standardization standardize(store::Dataset& in, const MakeOutput& out, bool per_feature,
                            const VolumeOptions& options) {
  require_numeric(in, "standardize");
  const Shape shape = in.shape();
  const std::int64_t features = per_feature ? row_elements(shape) : 1;
  const DType out_dtype = in.dtype() == DType::float64() ? DType::float64() : DType::float32();
  const std::int64_t per_row = row_elements(shape);
  const std::int64_t step =
      slab_rows(in, per_row * static_cast<std::int64_t>(in.dtype().item_size() + 8), options);

  // Pass 1: the moments, slab by slab, merged.
  std::vector<Moments> moments(static_cast<std::size_t>(features));
  for (std::int64_t r = 0; r < in.rows(); r += step) {
    const std::int64_t end = std::min(r + step, in.rows());
    const Array x = astype(in.read(rows(r, end)), DType::float64());
    const double* d = x.values<double>().data();
    if (per_feature) {
      parallel_for(features, 64, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t f = b; f < e; ++f)
          moments[static_cast<std::size_t>(f)].merge(moments_of(d + f, end - r, features));
      });
    } else {
      const std::int64_t n = x.num_elements(), block = 1 << 16;
      std::vector<Moments> parts(static_cast<std::size_t>((n + block - 1) / block));
      parallel_for(static_cast<std::int64_t>(parts.size()), 1, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t p = b; p < e; ++p)
          parts[static_cast<std::size_t>(p)] =
              moments_of(d + p * block, std::min(block, n - p * block), 1);
      });
      for (const Moments& part : parts)
        moments[0].merge(part);
    }
  }
  Standardization stats;
  for (const Moments& m : moments) {
    stats.mean.push_back(m.mean);
    stats.std.push_back(m.deviation());
  }

  // Pass 2: the standardized values.
  const auto output =
      out({.dtype = out_dtype, .shape = shape, .chunks = in.chunks(), .codec = options.codec});
  for (std::int64_t r = 0; r < in.rows(); r += step) {
    const std::int64_t end = std::min(r + step, in.rows());
    Array x = astype(in.read(rows(r, end)), DType::float64());
    double* d = x.values<double>().data();
    parallel_for(x.num_elements(), 1 << 16, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) {
        const std::size_t f = per_feature ? static_cast<std::size_t>(i % features) : 0;
        d[i] = (d[i] - stats.mean[f]) / stats.std[f];
      }
    });
    output->write(rows(r, end),
                  out_dtype == DType::float64() ? std::move(x) : astype(x, out_dtype));
  }
  return stats;
}

}  // namespace larder::trace
