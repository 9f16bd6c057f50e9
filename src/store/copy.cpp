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
                         .shuffle = !options.codec && from.shuffle_filter(),
                         .fill_value = from.fill_value()};
  if (created.dtype.kind() == DTypeKind::vstring) created.codec = codec::CodecSpec{};
  // A chunk may be larger than a fixed axis in some formats (an HDF5 axis
  // with an unlimited maximum); no chunk needs to be.
  for (std::size_t a = 0; a < created.chunks.size() && a < shape.rank(); ++a) {
    if (a > 0 || !created.extendable)
      created.chunks[a] = std::min(created.chunks[a], std::max<std::int64_t>(shape[a], 1));
  }
  // A driver without HDF5's shuffle filter (all but HDF5), or without
  // compression (mmap, memory), takes the source's shuffle and codec as
  // unavailable, not as wrong: they are dropped, the shuffle first. A codec
  // the caller named is never dropped.
  std::shared_ptr<Dataset> to;
  while (!to) {
    try {
      to = target.create_dataset(path, created);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::unsupported) throw;
      if (created.shuffle) {
        created.shuffle = false;
      } else if (!options.codec && created.codec.id != "none") {
        created.codec = codec::CodecSpec{};
      } else {
        throw;
      }
    }
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

// Copies the node at `source_path` to `target_path` below `target` ("":
// a group's attributes and members into `target` itself).
void copy_node(Group& source, std::string_view source_path, Group& target,
               std::string_view target_path, const CopyOptions& options, WalkPath& walk) {
  auto node = source.open(source_path);
  if (node->kind() == NodeKind::dataset) {
    copy_dataset(static_cast<Dataset&>(*node), target, target_path, options);
    return;
  }
  auto& group = static_cast<Group&>(*node);
  if (!walk.enter(group)) {
    throw Error(ErrorCode::unsupported,
                "a hard link back to a group it is inside of: this cycle cannot be copied",
                group.store_path().string(), group.path());
  }
  // Listed before the target is made: a group copied below itself in the
  // same store does not copy its own copy.
  const auto members = group.members();
  auto made = target_path.empty() ? std::shared_ptr<Group>() : target.create_group(target_path);
  Group& into = made ? *made : target;
  copy_attributes(group.attrs(), into.attrs());
  for (const auto& member : members)
    copy_node(group, member.name, into, member.name, options, walk);
  walk.leave();
}

[[noreturn]] void exists(const Group& target, const std::string& path) {
  throw Error(ErrorCode::invalid_argument, fmt::format("the copy target '{}' exists already", path),
              target.store_path().string(), path);
}

}  // namespace

void copy(Group& source, std::string_view source_path, Group& target, std::string_view target_path,
          const CopyOptions& options) {
  // What the copy makes below `target`, none of which may exist yet: the
  // target path, or (copying a group into `target` itself) its members.
  std::vector<std::string> made;
  if (!split_path(target_path).empty()) {
    made.emplace_back(target_path);
    if (target.contains(target_path)) exists(target, made.back());
  } else {
    target_path = "";
    auto node = source.open(source_path);
    if (node->kind() == NodeKind::dataset) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("copying the dataset '{}' needs a target path for it", node->path()),
                  target.store_path().string(), target.path());
    }
    for (const auto& member : static_cast<Group&>(*node).members()) {
      made.push_back(member.name);
      if (target.contains(member.name)) exists(target, member.name);
    }
  }
  try {
    WalkPath walk;
    copy_node(source, source_path, target, target_path, options, walk);
  } catch (...) {
    // A copy that fails leaves nothing of itself behind.
    for (const auto& path : made) {
      try {
        if (target.contains(path)) target.remove(path);
      } catch (const Error&) {  // the original error is the one to report
      }
    }
    throw;
  }
}

}  // namespace larder::store
