#include "larder/store/copy.h"

#include <fmt/format.h>

#include <algorithm>

#include "larder/core/error.h"

namespace larder::store {
namespace {

void copy_attributes(Attributes& from, Attributes& to) {
  for (const auto& name : from.names()) {
    AttributeValue value = from.get(name);
    if (auto* json = std::get_if<nlohmann::json>(&value)) {
      to.set(name, *json);
    } else {
      to.set(name, std::get<Array>(value).view());
    }
  }
}

void copy_dataset(Dataset& from, Group& target, std::string_view path, const CopyOptions& options) {
  const Shape shape = from.shape();
  DatasetOptions created{.dtype = from.dtype(),
                         .shape = shape,
                         .chunks = from.chunks(),
                         .codec = options.codec.value_or(from.codec().value_or(codec::CodecSpec{})),
                         .extendable = from.extendable(),
                         .fill_value = from.fill_value()};
  if (created.dtype.kind() == DTypeKind::vstring) created.codec = codec::CodecSpec{};
  std::shared_ptr<Dataset> to;
  try {
    to = target.create_dataset(path, created);
  } catch (const Error& e) {
    // A driver that stores no compression (mmap) takes the source's codec
    // as unavailable, not as wrong: the copy is stored plain. A codec the
    // caller named is never dropped.
    if (e.code() != ErrorCode::unsupported || options.codec || created.codec.id == "none") throw;
    created.codec = codec::CodecSpec{};
    created.chunks.clear();
    to = target.create_dataset(path, created);
  }
  copy_attributes(from.attrs(), to->attrs());
  if (shape.rank() == 0) {
    if (from.dtype().is_fixed_size()) {
      to->write(Selection(), from.read());
    } else {
      to->write_strings(Selection(), from.read_strings(Selection()));
    }
    return;
  }
  const std::size_t row_bytes =
      std::max<std::size_t>(1, static_cast<std::size_t>(shape.without_first().num_elements()) *
                                   std::max<std::size_t>(from.dtype().item_size(), sizeof(char*)));
  const std::int64_t block =
      std::max<std::int64_t>(1, static_cast<std::int64_t>(options.block_bytes / row_bytes));
  for (std::int64_t begin = 0; begin < shape[0]; begin += block) {
    const Selection rows{AxisSelection::slice(begin, std::min(shape[0], begin + block))};
    if (from.dtype().is_fixed_size()) {
      const Array values = from.read(rows);
      to->write(rows, values);
      if (options.progress) options.progress->advance(static_cast<std::int64_t>(values.nbytes()));
    } else {
      to->write_strings(rows, from.read_strings(rows));
    }
  }
}

void copy_node(Group& source, std::string_view source_path, Group& target,
               std::string_view target_path, const CopyOptions& options) {
  auto node = source.open(source_path);
  if (node->kind() == NodeKind::dataset) {
    copy_dataset(static_cast<Dataset&>(*node), target, target_path, options);
    return;
  }
  auto& group = static_cast<Group&>(*node);
  auto made = target_path.empty() ? std::shared_ptr<Group>() : target.create_group(target_path);
  Group& into = made ? *made : target;
  copy_attributes(group.attrs(), into.attrs());
  for (const auto& member : group.members())
    copy_node(group, member.name, into, member.name, options);
}

}  // namespace

void copy(Group& source, std::string_view source_path, Group& target, std::string_view target_path,
          const CopyOptions& options) {
  if (!target_path.empty() && !split_path(target_path).empty() && target.contains(target_path)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("the copy target '{}' exists already", target_path),
                target.store_path().string(), std::string(target_path));
  }
  copy_node(source, source_path, target, target_path, options);
}

}  // namespace larder::store
