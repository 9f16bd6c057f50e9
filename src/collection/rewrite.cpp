// Operations that write a new version of whole variables (astype, onehot,
// argmax, shuffle, to_storage) and the swap that puts it in place.
//
// The swap: every new version is written beside its variable under
// swap_name(); then the attribute larder.swap names them (the commit
// point); then each variable is replaced by a copy of its new version, and
// the attribute goes. A crash before the attribute leaves the old
// variables (and stale new versions, removed by the next rewrite); a crash
// after it is finished by the next writable open, which repeats the
// replacement — it is idempotent.
#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "collection_impl.h"
#include "larder/core/astype.h"
#include "larder/core/error.h"
#include "larder/core/random.h"
#include "larder/store/copy.h"

namespace larder::collection {
namespace {

// `group`'s variable `name` replaced by its new version, if there is one.
void swap_in(store::Group& group, const std::string& name) {
  const std::string next = swap_name(name);
  if (!group.contains(next)) return;
  if (group.contains(name)) group.remove(name);
  store::copy(group, next, group, name);
  group.remove(next);
}

AxisSelection rows_between(std::int64_t begin, std::int64_t end) {
  return AxisSelection::slice(begin, end);
}

// Records with their values replaced by `values` (the same items, converted).
RecordRows with_values(const ragged::Records& records, ArrayView values) {
  RecordRows rows = slice_records(records, 0, records.size());
  rows.values = values;
  return rows;
}

}  // namespace

void Collection::Impl::rewrite(
    const std::string& phase, const std::vector<std::string>& names,
    const std::function<void(const Variable&, store::Group&, const std::string&)>& write) {
  remove_stale_versions();
  std::vector<std::pair<std::shared_ptr<store::Group>, std::string>> stored, in_memory;
  {
    std::vector<Variable> variables;
    for (const auto& name : names)
      variables.push_back(require(phase, name));
    for (const auto& v : variables) {
      auto group = holder(v);
      const std::string next = swap_name(v.name);
      if (group->contains(next)) group->remove(next);
      try {
        write(v, *group, next);
      } catch (...) {
        // Nothing stored changes when a rewrite fails: drop the new versions.
        for (const auto& w : variables) {
          auto g = holder(w);
          if (g->contains(swap_name(w.name))) g->remove(swap_name(w.name));
        }
        throw;
      }
      (v.in_memory ? in_memory : stored).emplace_back(std::move(group), v.name);
    }
  }  // the old versions are closed before they are replaced
  for (const auto& [group, name] : in_memory)
    swap_in(*group, name);
  if (stored.empty()) return;
  nlohmann::json swapping = nlohmann::json::array();
  for (const auto& entry : stored)
    swapping.push_back(entry.second);
  collection_group(true)->attrs().set(kSwapAttribute, {{"phase", phase}, {"names", swapping}});
  finish_swap();
}

void Collection::Impl::finish_swap() {
  auto group = collection_group(false);
  if (!group || !group->attrs().contains(kSwapAttribute)) return;
  const auto swap = group->attrs().get_json(kSwapAttribute);
  if (!swap.is_object() || !swap.contains("phase") || !swap["phase"].is_string() ||
      !swap.contains("names") || !swap["names"].is_array()) {
    throw Error(ErrorCode::corrupt,
                fmt::format("attribute {} of collection '{}' is not a swap record: {}",
                            kSwapAttribute, data_id, swap.dump()),
                file(), "/" + data_id);
  }
  const auto phase = swap["phase"].get<std::string>();
  check_name(phase, "phase");
  if (auto phase_node = phase_group(phase, false)) {
    for (const auto& name : swap["names"]) {
      if (!name.is_string()) continue;
      check_name(name.get<std::string>(), "variable");
      swap_in(*phase_node, name.get<std::string>());
    }
  }
  group->attrs().remove(kSwapAttribute);
}

void Collection::Impl::remove_stale_versions() {
  auto group = collection_group(false);
  if (!group) return;
  for (const auto& phase : group->members()) {
    if (phase.kind != store::NodeKind::group) continue;
    auto node = group->open_group(phase.name);
    for (const auto& m : node->members()) {
      if (m.name.starts_with(kSwapPrefix)) node->remove(m.name);
    }
  }
}

void Collection::astype(const std::string& phase, const std::string& name, const DType& dtype) {
  const Variable v = impl_->require(phase, name);
  if (!can_astype(v.dtype(), dtype)) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("variable '{}' of phase '{}' cannot be converted from {} to {}", name,
                            phase, v.dtype().name(), dtype.name()),
                file_, impl_->where(phase, name));
  }
  impl_->rewrite(
      phase, {name}, [&](const Variable& var, store::Group& group, const std::string& at) {
        const std::int64_t step = block_rows(var);
        if (var.dense) {
          auto out = impl_->create_dense(group, at, dtype, var.sample_shape(), var.dense->codec(),
                                         var.dense->chunks());
          for (std::int64_t b = 0; b < var.rows(); b += step) {
            const std::int64_t e = std::min(var.rows(), b + step);
            out->append(larder::astype(var.dense->read(Selection{rows_between(b, e)}), dtype));
          }
          return;
        }
        auto out = impl_->create_ragged(group, at, dtype, var.sample_shape(), var.ragged->shaped(),
                                        var.ragged->codec());
        for (std::int64_t b = 0; b < var.rows(); b += step) {
          const std::int64_t e = std::min(var.rows(), b + step);
          const ragged::Records records = var.ragged->read(b, e);
          const Array converted = larder::astype(records.values, dtype);
          with_values(records, converted).extend_into(*out);
        }
      });
  impl_->changed();
}

void Collection::onehot(const std::string& phase, const std::string& name, std::int64_t classes,
                        const DType& dtype) {
  const Variable v = impl_->require(phase, name);
  const bool integers = v.dtype().kind() == DTypeKind::int_ ||
                        v.dtype().kind() == DTypeKind::uint ||
                        v.dtype().kind() == DTypeKind::boolean;
  if (!v.dense || !integers || v.sample_shape().num_elements() != 1) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("onehot() needs one integer per row, but variable '{}' of phase '{}' "
                            "holds {} {} {}",
                            name, phase, v.kind(), v.dtype().name(), v.sample_shape().to_string()),
                file_, impl_->where(phase, name));
  }
  if (classes < 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("onehot() needs at least one class, got {}", classes), file_,
                impl_->where(phase, name));
  }
  impl_->rewrite(
      phase, {name}, [&](const Variable& var, store::Group& group, const std::string& at) {
        auto out = impl_->create_dense(group, at, dtype, Shape{classes}, var.dense->codec());
        const Array one =
            larder::astype(Array::from_values<std::int64_t>(std::vector<std::int64_t>{1}), dtype);
        const std::size_t item = dtype.item_size();
        const std::int64_t step = std::max<std::int64_t>(
            1, (std::int64_t{16} << 20) / (classes * static_cast<std::int64_t>(item)));
        for (std::int64_t b = 0; b < var.rows(); b += step) {
          const std::int64_t e = std::min(var.rows(), b + step);
          const Array labels =
              larder::astype(var.dense->read(Selection{rows_between(b, e)}), DType::int64());
          Array block = Array::zeros(dtype.native(), Shape{e - b, classes});
          const auto values = labels.values<std::int64_t>();
          for (std::size_t i = 0; i < values.size(); ++i) {
            if (values[i] < 0 || values[i] >= classes) {
              throw Error(
                  ErrorCode::invalid_argument,
                  fmt::format("row {} of variable '{}' of phase '{}' holds {}, not a class in "
                              "[0, {})",
                              b + static_cast<std::int64_t>(i), var.name, var.phase, values[i],
                              classes),
                  file_, impl_->where(var.phase, var.name));
            }
            std::memcpy(block.data() + (i * static_cast<std::size_t>(classes) +
                                        static_cast<std::size_t>(values[i])) *
                                           item,
                        one.data(), item);
          }
          out->append(block);
        }
      });
  impl_->changed();
}

void Collection::argmax(const std::string& phase, const std::string& name, int axis) {
  const Variable v = impl_->require(phase, name);
  const Shape sample = v.sample_shape();
  if (!v.dense || sample.rank() == 0) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("argmax() needs rows of at least one axis, but variable '{}' of phase "
                            "'{}' holds {} {} {}",
                            name, phase, v.kind(), v.dtype().name(), sample.to_string()),
                file_, impl_->where(phase, name));
  }
  if (axis < 1 || static_cast<std::size_t>(axis) > sample.rank()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("argmax() axis {} is not an axis of a row of '{}' (shape (N, {})): "
                            "use 1 to {}",
                            axis, name, fmt::join(sample, ", "), sample.rank()),
                file_, impl_->where(phase, name));
  }
  const auto a = static_cast<std::size_t>(axis - 1);
  std::int64_t outer = 1, inner = 1;
  for (std::size_t i = 0; i < a; ++i)
    outer *= sample[i];
  for (std::size_t i = a + 1; i < sample.rank(); ++i)
    inner *= sample[i];
  const std::int64_t length = sample[a];
  std::vector<std::int64_t> kept;
  for (std::size_t i = 0; i < sample.rank(); ++i) {
    if (i != a) kept.push_back(sample[i]);
  }
  impl_->rewrite(
      phase, {name}, [&](const Variable& var, store::Group& group, const std::string& at) {
        auto out = impl_->create_dense(group, at, DType::int64(), Shape(kept), var.dense->codec());
        const std::int64_t step = block_rows(var);
        for (std::int64_t b = 0; b < var.rows(); b += step) {
          const std::int64_t e = std::min(var.rows(), b + step);
          const Array values =
              larder::astype(var.dense->read(Selection{rows_between(b, e)}), DType::float64());
          const auto x = values.values<double>();
          std::vector<std::int64_t> dims{e - b};
          dims.insert(dims.end(), kept.begin(), kept.end());
          Array result = Array::empty(DType::int64(), Shape(std::move(dims)));
          auto r = result.values<std::int64_t>();
          std::size_t at_result = 0;
          for (std::int64_t row = 0; row < e - b; ++row) {
            for (std::int64_t o = 0; o < outer; ++o) {
              for (std::int64_t in = 0; in < inner; ++in) {
                const auto base =
                    static_cast<std::size_t>(((row * outer + o) * length) * inner + in);
                // numpy's rule: the first largest value, and the first NaN if any.
                std::int64_t best = 0;
                double best_value = length > 0 ? x[base] : 0;
                for (std::int64_t k = 1; k < length && !std::isnan(best_value); ++k) {
                  const double value = x[base + static_cast<std::size_t>(k * inner)];
                  if (value > best_value || std::isnan(value)) {
                    best = k;
                    best_value = value;
                  }
                }
                r[at_result++] = best;
              }
            }
          }
          out->append(result);
        }
      });
  impl_->changed();
}

void Collection::shuffle(const std::string& phase, std::uint64_t seed) {
  const std::vector<std::string> names = variables(phase);
  const std::int64_t rows = size(phase);
  const std::vector<std::int64_t> order = permutation(rows, seed);
  impl_->rewrite(
      phase, names, [&](const Variable& var, store::Group& group, const std::string& at) {
        const std::int64_t step = block_rows(var, std::size_t{32} << 20);
        const auto ids = [&](std::int64_t b, std::int64_t e) {
          return std::span<const std::int64_t>(order).subspan(static_cast<std::size_t>(b),
                                                              static_cast<std::size_t>(e - b));
        };
        if (var.dense) {
          auto out = impl_->create_dense(group, at, var.dtype(), var.sample_shape(),
                                         var.dense->codec(), var.dense->chunks());
          for (std::int64_t b = 0; b < rows; b += step) {
            out->append(var.dense->gather(ids(b, std::min(rows, b + step))));
          }
          return;
        }
        auto out = impl_->create_ragged(group, at, var.dtype(), var.sample_shape(),
                                        var.ragged->shaped(), var.ragged->codec());
        for (std::int64_t b = 0; b < rows; b += step) {
          const ragged::Records records = var.ragged->gather(ids(b, std::min(rows, b + step)));
          slice_records(records, 0, records.size()).extend_into(*out);
        }
      });
}

void Collection::to_memory(const std::vector<std::string>& names, const std::string& phase) {
  for (const auto& name : names) {
    const Variable v = impl_->require(phase, name);
    if (v.in_memory) continue;
    auto target = impl_->memory_phase_group(phase, true);
    store::copy(*impl_->phase_group(phase, false), name, *target, name);
  }
}

void Collection::to_storage(const std::vector<std::string>& names, const std::string& phase) {
  std::vector<std::string> moving;
  for (const auto& name : names) {
    if (impl_->require(phase, name).in_memory) moving.push_back(name);
  }
  if (moving.empty()) return;
  auto memory = impl_->memory_phase_group(phase, false);
  auto stored = impl_->phase_group(phase, true);
  for (const auto& name : moving) {
    // The memory store keeps no compression: the stored version's codec
    // comes back, or the collection's for a variable made in memory.
    std::optional<codec::CodecSpec> codec = impl_->options.codec;
    if (stored->contains(name)) {
      auto node = stored->open(name);
      if (auto records = ragged::Ragged::from_node(*stored, name, node)) {
        codec = records->codec();
      } else if (node->kind() == store::NodeKind::dataset) {
        codec = std::static_pointer_cast<store::Dataset>(node)->codec();
      }
    }
    if (stored->contains(swap_name(name))) stored->remove(swap_name(name));
    store::copy(*memory, name, *stored, swap_name(name), {.codec = codec});
  }
  nlohmann::json swapping(moving);
  impl_->collection_group(true)->attrs().set(kSwapAttribute,
                                             {{"phase", phase}, {"names", swapping}});
  impl_->finish_swap();
  for (const auto& name : moving)
    memory->remove(name);
  impl_->changed();
}

}  // namespace larder::collection
