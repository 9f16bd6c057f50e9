#include "larder/collection/collection.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <set>

#include "collection_impl.h"
#include "larder/core/error.h"
#include "larder/core/random.h"

namespace larder::collection {
namespace {

// train, valid, test first, then the others by name.
void order_phases(std::vector<std::string>& phases) {
  std::sort(phases.begin(), phases.end(), [](const std::string& a, const std::string& b) {
    const auto rank = [](const std::string& p) {
      const auto& d = default_phases();
      return static_cast<std::size_t>(std::find(d.begin(), d.end(), p) - d.begin());
    };
    return std::pair(rank(a), a) < std::pair(rank(b), b);
  });
}

std::vector<std::string> group_names(store::Group& group, bool groups_only) {
  std::vector<std::string> names;
  for (const auto& m : group.members()) {
    if (m.name.empty() || m.name.front() == '.' || m.name.starts_with("larder.")) continue;
    if (groups_only && m.kind != store::NodeKind::group) continue;
    names.push_back(m.name);
  }
  return names;
}

Shape tail(const Shape& shape) {
  return Shape(std::vector<std::int64_t>(shape.begin() + (shape.rank() > 0 ? 1 : 0), shape.end()));
}

std::vector<std::int64_t> resolved_ids(const AxisSelection& rows, std::int64_t size,
                                       bool& drops_axis) {
  const auto axes = Selection{rows}.resolve(Shape{size});
  const ResolvedAxis& axis = axes.front();
  drops_axis = axis.drops_axis;
  std::vector<std::int64_t> ids(static_cast<std::size_t>(axis.count));
  for (std::int64_t k = 0; k < axis.count; ++k)
    ids[static_cast<std::size_t>(k)] = axis.source_index(k);
  return ids;
}

// The sample shape data of a variable must have (for the compatibility check).
std::string describe(const std::string& kind, const DType& dtype, const Shape& sample) {
  return fmt::format("{} {} {}", kind, dtype.name(), sample.to_string());
}

}  // namespace

// ---- rows of data -------------------------------------------------------

std::int64_t VariableData::rows() const {
  if (records) return records->size();
  return dense.rank() == 0 ? 1 : dense.shape()[0];
}

std::int64_t Variable::rows() const {
  return dense ? dense->rows() : ragged->size();
}

DType Variable::dtype() const {
  return dense ? dense->dtype() : ragged->dtype();
}

Shape Variable::sample_shape() const {
  if (dense) return tail(dense->shape());
  return ragged->shaped() ? Shape{} : ragged->inner_shape();
}

std::string Variable::kind() const {
  if (dense) return "dense";
  return ragged->shaped() ? "shaped" : "jagged";
}

void RecordRows::extend_into(ragged::Ragged& target) const {
  if (shapes.empty()) {
    target.extend(values, lengths);
  } else {
    target.extend(values, shapes);
  }
}

RecordRows slice_records(const ragged::Records& records, std::int64_t begin, std::int64_t end) {
  RecordRows out;
  const auto b = static_cast<std::size_t>(begin), e = static_cast<std::size_t>(end);
  out.values = records.values.view().select(
      Selection{AxisSelection::slice(records.offsets[b], records.offsets[e])});
  if (!records.shapes.empty()) {
    out.shapes.assign(records.shapes.begin() + static_cast<std::ptrdiff_t>(b),
                      records.shapes.begin() + static_cast<std::ptrdiff_t>(e));
  } else {
    for (std::size_t i = b; i < e; ++i)
      out.lengths.push_back(records.offsets[i + 1] - records.offsets[i]);
  }
  return out;
}

RecordRows gather_records(const ragged::Records& records, std::span<const std::int64_t> rows) {
  RecordRows out;
  const Shape item = tail(records.values.shape());
  const std::size_t item_bytes =
      static_cast<std::size_t>(item.num_elements()) * records.values.dtype().item_size();
  std::int64_t items = 0;
  for (auto r : rows) {
    const auto i = static_cast<std::size_t>(r);
    items += records.offsets[i + 1] - records.offsets[i];
  }
  std::vector<std::int64_t> dims{items};
  dims.insert(dims.end(), item.begin(), item.end());
  out.owned = Array::empty(records.values.dtype(), Shape(std::move(dims)));
  std::byte* to = out.owned.data();
  for (auto r : rows) {
    const auto i = static_cast<std::size_t>(r);
    const std::int64_t n = records.offsets[i + 1] - records.offsets[i];
    const auto bytes = static_cast<std::size_t>(n) * item_bytes;
    if (bytes > 0) {
      std::memcpy(to,
                  records.values.data() + static_cast<std::size_t>(records.offsets[i]) * item_bytes,
                  bytes);
    }
    to += bytes;
    if (records.shapes.empty()) {
      out.lengths.push_back(n);
    } else {
      out.shapes.push_back(records.shapes[i]);
    }
  }
  out.values = out.owned.view();
  return out;
}

std::int64_t block_rows(const Variable& v, std::size_t bytes) {
  std::size_t row_bytes = v.dtype().item_size();
  if (v.dense) {
    row_bytes *=
        static_cast<std::size_t>(std::max<std::int64_t>(v.sample_shape().num_elements(), 1));
  } else {
    const std::int64_t n = v.ragged->size();
    const auto stored = v.ragged->storage_info().logical_bytes;
    row_bytes = n > 0 ? std::max<std::size_t>(stored / static_cast<std::size_t>(n), 1) : 1;
  }
  return std::max<std::int64_t>(
      1, static_cast<std::int64_t>(bytes / std::max<std::size_t>(row_bytes, 1)));
}

// ---- Impl ---------------------------------------------------------------

std::string Collection::Impl::where(const std::string& phase, const std::string& name) const {
  std::string path = "/" + data_id + "/" + phase;
  if (!name.empty()) path += "/" + name;
  return path;
}

std::shared_ptr<store::Group> Collection::Impl::collection_group(bool create) {
  if (create) {
    auto group = root->require_group(data_id);
    if (!group->attrs().contains(kKindAttribute)) group->attrs().set(kKindAttribute, "collection");
    return group;
  }
  if (!root->contains(data_id)) return nullptr;
  auto node = root->open(data_id);
  if (node->kind() != store::NodeKind::group) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("'{}' is a dataset, not a collection", data_id), file(), "/" + data_id);
  }
  return std::static_pointer_cast<store::Group>(node);
}

std::shared_ptr<store::Group> Collection::Impl::memory_group(bool create) {
  if (!memory) {
    if (!create) return nullptr;
    memory = store::Store::memory(":memory:" + data_id);
  }
  auto r = memory->root();
  if (create) return r->require_group(data_id);
  return r->contains(data_id) ? r->open_group(data_id) : nullptr;
}

std::shared_ptr<store::Group> Collection::Impl::phase_group(const std::string& phase, bool create) {
  auto group = collection_group(create);
  if (!group) return nullptr;
  if (create) return group->require_group(phase);
  if (!group->contains(phase)) return nullptr;
  auto node = group->open(phase);
  return node->kind() == store::NodeKind::group ? std::static_pointer_cast<store::Group>(node)
                                                : nullptr;
}

std::shared_ptr<store::Group> Collection::Impl::memory_phase_group(const std::string& phase,
                                                                   bool create) {
  auto group = memory_group(create);
  if (!group) return nullptr;
  if (create) return group->require_group(phase);
  return group->contains(phase) ? group->open_group(phase) : nullptr;
}

std::optional<Variable> Collection::Impl::find(const std::string& phase, const std::string& name) {
  const auto open_in = [&](const std::shared_ptr<store::Group>& group,
                           bool in_memory) -> std::optional<Variable> {
    if (!group || !group->contains(name)) return std::nullopt;
    Variable v{
        .phase = phase, .name = name, .dense = nullptr, .ragged = nullptr, .in_memory = in_memory};
    auto node = group->open(name);
    if (auto records = ragged::Ragged::from_node(*group, name, node)) {
      v.ragged = std::move(records);
    } else if (node->kind() == store::NodeKind::dataset) {
      v.dense = std::static_pointer_cast<store::Dataset>(node);
      if (v.dense->shape().rank() == 0) {
        throw Error(ErrorCode::type_mismatch,
                    fmt::format("variable '{}' of phase '{}' is a scalar: a variable has a row per "
                                "sample",
                                name, phase),
                    file(), where(phase, name));
      }
    } else {
      throw Error(ErrorCode::type_mismatch,
                  fmt::format("'{}' in phase '{}' is a group that holds no ragged records, not a "
                              "variable",
                              name, phase),
                  file(), where(phase, name));
    }
    return v;
  };
  if (auto v = open_in(memory_phase_group(phase, false), true)) return v;
  return open_in(phase_group(phase, false), false);
}

Variable Collection::Impl::require(const std::string& phase, const std::string& name) {
  if (auto v = find(phase, name)) return *v;
  auto group = phase_group(phase, false);
  if (!group && !memory_phase_group(phase, false)) {
    std::vector<std::string> phases;
    if (auto c = collection_group(false)) phases = group_names(*c, true);
    throw Error(ErrorCode::not_found,
                fmt::format("collection '{}' has no phase '{}' (phases: {})", data_id, phase,
                            phases.empty() ? "none" : fmt::format("{}", fmt::join(phases, ", "))),
                file(), where(phase));
  }
  std::set<std::string> names;
  if (group) {
    for (auto& n : group_names(*group, false))
      names.insert(n);
  }
  if (auto m = memory_phase_group(phase, false)) {
    for (auto& n : group_names(*m, false))
      names.insert(n);
  }
  throw Error(ErrorCode::not_found,
              fmt::format("phase '{}' of collection '{}' has no variable '{}' (variables: {})",
                          phase, data_id, name,
                          names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))),
              file(), where(phase, name));
}

std::shared_ptr<store::Group> Collection::Impl::holder(const Variable& v) {
  return v.in_memory ? memory_phase_group(v.phase, true) : phase_group(v.phase, true);
}

std::shared_ptr<store::Dataset> Collection::Impl::create_dense(
    store::Group& group, const std::string& path, const DType& dtype, const Shape& sample,
    std::optional<codec::CodecSpec> codec, std::vector<std::int64_t> chunks) {
  std::vector<std::int64_t> dims{0};
  dims.insert(dims.end(), sample.begin(), sample.end());
  if (chunks.empty()) {
    const auto row_bytes = static_cast<std::int64_t>(dtype.item_size()) *
                           std::max<std::int64_t>(sample.num_elements(), 1);
    const std::int64_t rows =
        options.chunk_rows > 0 ? options.chunk_rows
                               : std::max<std::int64_t>(1, (std::int64_t{256} << 10) / row_bytes);
    chunks = dims;
    chunks[0] = rows;
    for (std::size_t i = 1; i < chunks.size(); ++i)
      chunks[i] = std::max<std::int64_t>(chunks[i], 1);
  }
  return group.create_dataset(path, {.dtype = dtype.native(),
                                     .shape = Shape(std::move(dims)),
                                     .chunks = std::move(chunks),
                                     .codec = codec.value_or(options.codec),
                                     .extendable = true});
}

std::shared_ptr<ragged::Ragged> Collection::Impl::create_ragged(
    store::Group& group, const std::string& path, const DType& dtype, const Shape& inner,
    bool shaped, std::optional<codec::CodecSpec> codec) {
  return ragged::Ragged::create(group, path,
                                {.dtype = dtype.native(),
                                 .inner_shape = shaped ? Shape{} : inner,
                                 .shaped = shaped,
                                 .codec = codec.value_or(options.codec)});
}

void Collection::Impl::changed() {
  if (compiled == false) return;
  auto group = collection_group(false);
  if (!group || !group->attrs().contains(kMetadataAttribute)) {
    compiled = false;
    return;
  }
  auto json = group->attrs().get_json(kMetadataAttribute);
  if (json.is_object() && json.value("compiled", false)) {
    json["compiled"] = false;
    group->attrs().set(kMetadataAttribute, json);
  }
  compiled = false;
}

// ---- Collection ---------------------------------------------------------

Collection::Collection(std::shared_ptr<store::Group> root, std::string data_id,
                       CollectionOptions options)
    : impl_(std::make_unique<Impl>()), data_id_(data_id), file_(root->store_path().string()) {
  impl_->root = std::move(root);
  impl_->data_id = std::move(data_id);
  impl_->options = std::move(options);
}

Collection::~Collection() = default;

std::unique_ptr<Collection> Collection::open(std::shared_ptr<store::Group> root,
                                             std::string data_id,
                                             const CollectionOptions& options) {
  check_name(data_id, "collection");
  std::unique_ptr<Collection> c(new Collection(std::move(root), std::move(data_id), options));
  if (auto group = c->impl_->collection_group(false);
      group && group->attrs().contains(kSwapAttribute)) {
    try {
      c->impl_->finish_swap();
    } catch (const Error&) {
      // A read-only store cannot finish the swap; its readers see the
      // variables as the crash left them until a writable open does.
    }
  }
  return c;
}

std::vector<std::string> Collection::data_ids(store::Group& root) {
  std::vector<std::string> ids;
  for (const auto& name : group_names(root, true)) {
    auto group = root.open_group(name);
    bool is_collection = false;
    if (group->attrs().contains(kKindAttribute)) {
      const auto kind = group->attrs().get_json(kKindAttribute);
      is_collection = kind.is_string() && kind.get<std::string>() == "collection";
    }
    for (const auto& p : default_phases())
      is_collection = is_collection || group->contains(p);
    if (is_collection) ids.push_back(name);
  }
  return ids;
}

std::vector<std::string> Collection::phases() {
  std::set<std::string> names;
  if (auto group = impl_->collection_group(false)) {
    for (auto& n : group_names(*group, true))
      names.insert(n);
  }
  if (auto m = impl_->memory_group(false)) {
    for (auto& n : group_names(*m, true))
      names.insert(n);
  }
  std::vector<std::string> out(names.begin(), names.end());
  order_phases(out);
  return out;
}

bool Collection::has_phase(const std::string& phase) {
  return impl_->phase_group(phase, false) || impl_->memory_phase_group(phase, false);
}

std::vector<std::string> Collection::variables(const std::string& phase) {
  auto group = impl_->phase_group(phase, false);
  auto memory = impl_->memory_phase_group(phase, false);
  if (!group && !memory) {
    throw Error(ErrorCode::not_found,
                fmt::format("collection '{}' has no phase '{}' (phases: {})", data_id_, phase,
                            fmt::join(phases(), ", ")),
                file_, impl_->where(phase));
  }
  std::set<std::string> names;
  if (group) {
    for (auto& n : group_names(*group, false))
      names.insert(n);
  }
  if (memory) {
    for (auto& n : group_names(*memory, false))
      names.insert(n);
  }
  return {names.begin(), names.end()};
}

bool Collection::contains(const std::string& phase, const std::string& name) {
  if (name.empty() || name.front() == '.' || name.starts_with("larder.")) return false;
  if (auto m = impl_->memory_phase_group(phase, false); m && m->contains(name)) return true;
  auto group = impl_->phase_group(phase, false);
  return group && group->contains(name);
}

Variable Collection::variable(const std::string& phase, const std::string& name) {
  return impl_->require(phase, name);
}

std::int64_t Collection::size(const std::string& phase) {
  std::int64_t rows = -1;
  std::string first;
  for (const auto& name : variables(phase)) {
    const std::int64_t n = impl_->require(phase, name).rows();
    if (rows < 0) {
      rows = n;
      first = name;
    } else if (n != rows) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("variables of phase '{}' differ in length: '{}' has {} rows, '{}' "
                              "has {}",
                              phase, first, rows, name, n),
                  file_, impl_->where(phase));
    }
  }
  return std::max<std::int64_t>(rows, 0);
}

void Collection::add(const std::vector<VariableData>& data, const Split& split,
                     std::optional<std::uint64_t> shuffle_seed) {
  if (data.empty()) throw Error(ErrorCode::invalid_argument, "add() needs at least one variable");
  const std::int64_t rows = data.front().rows();
  std::set<std::string> seen;
  for (const auto& d : data) {
    check_name(d.name, "variable");
    if (!seen.insert(d.name).second) {
      throw Error(ErrorCode::invalid_argument, fmt::format("variable '{}' is given twice", d.name),
                  file_);
    }
    if (!d.records && d.dense.rank() == 0) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("data of variable '{}' is a scalar: give rows (N, ...)", d.name),
                  file_);
    }
    if (d.rows() != rows) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("variables added together need the same rows: '{}' has {}, '{}' "
                              "has {}",
                              data.front().name, rows, d.name, d.rows()),
                  file_);
    }
  }
  const auto plan = split.plan(rows);

  // Every check before the first write: a variable that exists must take
  // the new rows as they are. existing[p * data.size() + v]: variable v of
  // the plan's phase p, opened once for the checks and the writes.
  std::vector<std::optional<Variable>> existing;
  for (const auto& [phase, count] : plan) {
    for (const auto& d : data)
      existing.push_back(impl_->find(phase, d.name));
  }
  for (std::size_t p = 0; p < plan.size(); ++p) {
    const std::string& phase = plan[p].first;
    for (std::size_t v = 0; v < data.size(); ++v) {
      const VariableData& d = data[v];
      const auto& stored = existing[p * data.size() + v];
      if (!stored) continue;
      const std::string kind =
          !d.records ? "dense" : (d.records->shapes.empty() ? "jagged" : "shaped");
      const Shape sample =
          d.records ? (d.records->shapes.empty() ? tail(d.records->values.shape()) : Shape{})
                    : tail(d.dense.shape());
      const DType dtype = d.dense.dtype();
      if (stored->kind() != kind || stored->dtype().native() != dtype.native() ||
          stored->sample_shape() != sample) {
        throw Error(ErrorCode::type_mismatch,
                    fmt::format("cannot append {} rows to variable '{}' of phase '{}', which "
                                "holds {}",
                                describe(kind, dtype, sample), d.name, phase,
                                describe(stored->kind(), stored->dtype(), stored->sample_shape())),
                    file_, impl_->where(phase, d.name));
      }
    }
  }

  std::vector<std::int64_t> order;
  if (shuffle_seed) order = permutation(rows, *shuffle_seed);
  std::int64_t begin = 0;
  for (std::size_t p = 0; p < plan.size(); ++p) {
    const auto& [phase, count] = plan[p];
    const std::int64_t end = begin + count;
    const std::span<const std::int64_t> ids =
        order.empty() ? std::span<const std::int64_t>{}
                      : std::span<const std::int64_t>(order).subspan(
                            static_cast<std::size_t>(begin), static_cast<std::size_t>(count));
    for (std::size_t v = 0; v < data.size(); ++v) {
      const VariableData& d = data[v];
      const auto& stored = existing[p * data.size() + v];
      if (d.records) {
        const RecordRows part =
            order.empty() ? slice_records(*d.records, begin, end) : gather_records(*d.records, ids);
        std::shared_ptr<ragged::Ragged> target =
            stored ? stored->ragged
                   : impl_->create_ragged(*impl_->phase_group(phase, true), d.name, d.dense.dtype(),
                                          tail(d.records->values.shape()),
                                          !d.records->shapes.empty(), std::nullopt);
        if (part.size() > 0) part.extend_into(*target);
      } else {
        const Array copy =
            order.empty()
                ? Array::empty(DType::uint8(), Shape{0})
                : take(d.dense, Selection{AxisSelection::indices({ids.begin(), ids.end()})});
        const ArrayView part = order.empty()
                                   ? d.dense.select(Selection{AxisSelection::slice(begin, end)})
                                   : copy.view();
        std::shared_ptr<store::Dataset> target =
            stored ? stored->dense
                   : impl_->create_dense(*impl_->phase_group(phase, true), d.name, d.dense.dtype(),
                                         tail(d.dense.shape()), std::nullopt);
        if (count > 0) target->append(part);
      }
    }
    begin = end;
  }
  impl_->changed();
}

void Collection::create_empty(const std::vector<std::string>& names, const Shape& shape,
                              const Split& split, const DType& dtype) {
  if (shape.rank() == 0) {
    throw Error(ErrorCode::invalid_argument, "create_empty() needs a shape with rows first, got ()",
                file_);
  }
  const auto plan = split.plan(shape[0]);
  for (const auto& name : names) {
    check_name(name, "variable");
    for (const auto& [phase, count] : plan) {
      if (contains(phase, name)) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("variable '{}' of phase '{}' exists already", name, phase), file_,
                    impl_->where(phase, name));
      }
    }
  }
  for (const auto& name : names) {
    for (const auto& [phase, count] : plan) {
      auto ds = impl_->create_dense(*impl_->phase_group(phase, true), name, dtype, tail(shape),
                                    std::nullopt);
      std::vector<std::int64_t> dims(shape.begin(), shape.end());
      dims[0] = count;
      ds->resize(Shape(std::move(dims)));
    }
  }
  impl_->changed();
}

void Collection::update(const std::string& phase, const std::string& name,
                        const AxisSelection& rows, ArrayView values) {
  const auto existing = impl_->find(phase, name);
  if (!existing) {
    const auto* slice = std::get_if<Slice>(&rows.get());
    const bool every_row = std::holds_alternative<AxisSelection::All>(rows.get()) ||
                           (slice && !slice->start && !slice->stop && slice->step == 1);
    if (every_row) {
      add({VariableData(name, values)}, Split::phase(phase));
      return;
    }
    impl_->require(phase, name);  // throws not_found
  }
  if (!existing->dense) {
    throw Error(ErrorCode::unsupported,
                fmt::format("variable '{}' of phase '{}' holds ragged records, which are only "
                            "appended to, not updated",
                            name, phase),
                file_, impl_->where(phase, name));
  }
  existing->dense->write(Selection{rows}, values);
}

Array Collection::get(const std::string& phase, const std::string& name,
                      const AxisSelection& rows) {
  if (phase == "all") {
    // The phases back to back, in phases() order; rows index that whole.
    std::vector<Variable> parts;
    std::int64_t total = 0;
    for (const auto& p : phases()) {
      if (!contains(p, name) && variables(p).empty()) continue;  // an empty phase
      parts.push_back(impl_->require(p, name));
      total += parts.back().rows();
    }
    if (parts.empty()) impl_->require("all", name);
    bool drops = false;
    const auto ids = resolved_ids(rows, total, drops);
    const Shape sample = parts.front().sample_shape();
    std::vector<std::int64_t> dims{static_cast<std::int64_t>(ids.size())};
    dims.insert(dims.end(), sample.begin(), sample.end());
    Array out = Array::empty(parts.front().dtype().native(), Shape(std::move(dims)));
    const std::size_t row_bytes =
        static_cast<std::size_t>(std::max<std::int64_t>(sample.num_elements(), 1)) *
        out.dtype().item_size();
    std::int64_t offset = 0;
    for (const auto& v : parts) {
      if (!v.dense || v.sample_shape() != sample || v.dtype().native() != out.dtype()) {
        throw Error(
            ErrorCode::type_mismatch,
            fmt::format("variable '{}' differs between phases: {} in '{}', {} in '{}'", name,
                        describe(parts.front().kind(), out.dtype(), sample), parts.front().phase,
                        describe(v.kind(), v.dtype(), v.sample_shape()), v.phase),
            file_, impl_->where(v.phase, name));
      }
      std::vector<std::int64_t> local, positions;
      for (std::size_t k = 0; k < ids.size(); ++k) {
        if (ids[k] >= offset && ids[k] < offset + v.rows()) {
          local.push_back(ids[k] - offset);
          positions.push_back(static_cast<std::int64_t>(k));
        }
      }
      if (!local.empty()) {
        const Array got = packed_as(v.dense->gather(local), out.dtype()).clone();
        for (std::size_t k = 0; k < positions.size(); ++k) {
          std::memcpy(out.data() + static_cast<std::size_t>(positions[k]) * row_bytes,
                      got.data() + k * row_bytes, row_bytes);
        }
      }
      offset += v.rows();
    }
    return drops ? std::move(out).reshaped(sample) : std::move(out);
  }
  const Variable v = impl_->require(phase, name);
  if (!v.dense) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("variable '{}' of phase '{}' holds ragged records: read them with "
                            "get_records()",
                            name, phase),
                file_, impl_->where(phase, name));
  }
  return v.dense->read(Selection{rows});
}

ragged::Records Collection::get_records(const std::string& phase, const std::string& name,
                                        const AxisSelection& rows) {
  const Variable v = impl_->require(phase, name);
  if (!v.ragged) {
    throw Error(
        ErrorCode::type_mismatch,
        fmt::format("variable '{}' of phase '{}' is dense: read it with get()", name, phase), file_,
        impl_->where(phase, name));
  }
  if (const auto* s = std::get_if<Slice>(&rows.get()); s && s->step == 1) {
    const auto axes = Selection{rows}.resolve(Shape{v.rows()});
    return v.ragged->read(axes.front().start, axes.front().start + axes.front().count);
  }
  if (std::holds_alternative<AxisSelection::All>(rows.get())) return v.ragged->read(0, v.rows());
  bool drops = false;
  const auto ids = resolved_ids(rows, v.rows(), drops);
  return v.ragged->gather(ids);
}

Array Collection::get_stacked(const std::string& phase, const std::vector<std::string>& names,
                              const AxisSelection& rows) {
  if (names.empty()) throw Error(ErrorCode::invalid_argument, "get_stacked() needs variables");
  std::vector<Array> parts;
  for (const auto& name : names) {
    Array part = get(phase, name, rows);
    if (!parts.empty() &&
        (part.shape() != parts.front().shape() || part.dtype() != parts.front().dtype())) {
      throw Error(ErrorCode::type_mismatch,
                  fmt::format("variables stacked together need one dtype and shape: '{}' is {} "
                              "{}, '{}' is {} {}",
                              names.front(), parts.front().dtype().name(),
                              parts.front().shape().to_string(), name, part.dtype().name(),
                              part.shape().to_string()),
                  file_, impl_->where(phase, name));
    }
    parts.push_back(std::move(part));
  }
  const bool drops = std::holds_alternative<AxisSelection::Index>(rows.get());
  const Shape& each = parts.front().shape();
  const auto m = static_cast<std::int64_t>(parts.size());
  std::vector<std::int64_t> dims;
  if (drops) {
    dims = {m};
    dims.insert(dims.end(), each.begin(), each.end());
  } else {
    dims = {each[0], m};
    dims.insert(dims.end(), each.begin() + 1, each.end());
  }
  Array out = Array::empty(parts.front().dtype(), Shape(std::move(dims)));
  const std::int64_t n = drops ? 1 : each[0];
  const std::size_t row_bytes = n > 0 ? parts.front().nbytes() / static_cast<std::size_t>(n) : 0;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < m; ++j) {
      if (row_bytes == 0) continue;
      std::memcpy(
          out.data() + static_cast<std::size_t>(i * m + j) * row_bytes,
          parts[static_cast<std::size_t>(j)].data() + static_cast<std::size_t>(i) * row_bytes,
          row_bytes);
    }
  }
  return out;
}

void Collection::remove(const std::string& phase, const std::string& name) {
  const Variable v = impl_->require(phase, name);
  impl_->holder(v)->remove(name);
  impl_->changed();
}

void Collection::clear() {
  if (impl_->root->contains(data_id_)) impl_->root->remove(data_id_);
  if (impl_->memory) impl_->memory.reset();
  impl_->compiled = std::nullopt;
}

nlohmann::json Metadata::to_json() const {
  nlohmann::json sizes = nlohmann::json::object(), variables = nlohmann::json::object();
  nlohmann::json order = nlohmann::json::array();
  for (const auto& p : phases) {
    sizes[p.name] = p.size;
    order.push_back(p.name);
    nlohmann::json vars = nlohmann::json::object();
    for (const auto& v : p.variables) {
      vars[v.name] = {
          {"kind", v.kind},
          {"dtype", v.dtype.numpy_str()},
          {"shape", std::vector<std::int64_t>(v.sample_shape.begin(), v.sample_shape.end())}};
    }
    variables[p.name] = std::move(vars);
  }
  return {{"version", 1},    {"compiled", true}, {"total", total},
          {"phases", order}, {"sizes", sizes},   {"variables", variables}};
}

Metadata Metadata::from_json(const nlohmann::json& json, const std::string& where) {
  try {
    Metadata m;
    m.total = json.at("total").get<std::int64_t>();
    for (const auto& name : json.at("phases")) {
      Phase p{.name = name.get<std::string>(), .size = 0, .variables = {}};
      p.size = json.at("sizes").at(p.name).get<std::int64_t>();
      for (const auto& [var, info] : json.at("variables").at(p.name).items()) {
        p.variables.push_back(
            {.name = var,
             .kind = info.at("kind").get<std::string>(),
             .dtype = DType::from_string(info.at("dtype").get<std::string>()),
             .sample_shape = Shape(info.at("shape").get<std::vector<std::int64_t>>())});
      }
      m.phases.push_back(std::move(p));
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::corrupt, fmt::format("collection metadata does not parse: {}", e.what()),
                "", where);
  } catch (const Error& e) {
    throw Error(ErrorCode::corrupt, fmt::format("collection metadata does not parse: {}", e.what()),
                "", where);
  }
}

Metadata Collection::compile() {
  Metadata m;
  for (const auto& phase : phases()) {
    Metadata::Phase p{.name = phase, .size = size(phase), .variables = {}};
    for (const auto& name : variables(phase)) {
      const Variable v = impl_->require(phase, name);
      p.variables.push_back({.name = name,
                             .kind = v.kind(),
                             .dtype = v.dtype().native(),
                             .sample_shape = v.sample_shape()});
    }
    m.total += p.size;
    m.phases.push_back(std::move(p));
  }
  auto group = impl_->collection_group(true);
  group->attrs().set(kMetadataAttribute, m.to_json());
  impl_->compiled = true;
  return m;
}

std::optional<Metadata> Collection::metadata() {
  auto group = impl_->collection_group(false);
  if (!group || !group->attrs().contains(kMetadataAttribute)) return std::nullopt;
  const auto json = group->attrs().get_json(kMetadataAttribute);
  if (!json.is_object() || !json.value("compiled", false)) return std::nullopt;
  return Metadata::from_json(json, "/" + data_id_);
}

}  // namespace larder::collection
