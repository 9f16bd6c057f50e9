// `larder info FILE` — the tree of a store with shapes, dtypes, chunks,
// codecs, bytes on disk and compression ratios.
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "larder/collection/collection.h"
#include "larder/ragged/ragged.h"
#include "larder/store/store.h"
#include "location.h"

namespace larder::cli {
namespace {

// A file's size, or the sum over a directory store's files (mmap, memmpy).
std::uintmax_t bytes_on_disk(const std::filesystem::path& path) {
  if (!std::filesystem::is_directory(path)) return std::filesystem::file_size(path);
  std::uintmax_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path))
    if (entry.is_regular_file()) total += entry.file_size();
  return total;
}

nlohmann::json describe(ragged::Ragged& r) {
  const auto info = r.storage_info();
  const auto codec = r.codec();
  return {{"kind", "ragged"},
          {"records", r.size()},
          {"dtype", r.dtype().numpy_str()},
          {"record_shape", r.record_shape()},
          {"format", r.format()},
          {"filters", info.filters},
          {"codec", codec ? codec->to_json() : nlohmann::json(nullptr)},
          {"logical_bytes", info.logical_bytes},
          {"stored_bytes", info.stored_bytes}};
}

// "12 B -> 350 B (0.03x)"
std::string sizes_text(const store::StorageInfo& info) {
  std::string out = fmt::format("{} -> {}", human_bytes(static_cast<double>(info.logical_bytes)),
                                human_bytes(static_cast<double>(info.stored_bytes)));
  if (info.stored_bytes > 0) {
    out += fmt::format(" ({:.2f}x)", static_cast<double>(info.logical_bytes) /
                                         static_cast<double>(info.stored_bytes));
  }
  return out;
}

nlohmann::json describe(store::Dataset& ds) {
  const auto info = ds.storage_info();
  const Shape shape = ds.shape();
  nlohmann::json d{{"kind", "dataset"},
                   {"shape", std::vector<std::int64_t>(shape.begin(), shape.end())},
                   {"dtype", ds.dtype().numpy_str()},
                   {"layout", info.layout},
                   {"filters", info.filters},
                   {"logical_bytes", info.logical_bytes},
                   {"stored_bytes", info.stored_bytes}};
  d["chunks"] = ds.chunks().empty() ? nlohmann::json(nullptr) : nlohmann::json(ds.chunks());
  const auto codec = ds.codec();
  d["codec"] = codec ? codec->to_json() : nlohmann::json(nullptr);
  d["extendable"] = ds.extendable();
  return d;
}

void print_attrs(store::Attributes& attrs, std::size_t indent) {
  for (const auto& name : attrs.names()) {
    std::string value = attrs.get_json(name).dump();
    if (value.size() > 60) value = value.substr(0, 57) + "...";
    fmt::print("{}@{} = {}\n", std::string(indent, ' '), name, value);
  }
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("info", "Show a store's tree: shapes, dtypes, chunks, codecs, sizes");
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto attrs = std::make_shared<bool>(false);
  cmd->add_option("FILE", *file, "The store (FILE or FILE:PATH)")->required();
  cmd->add_flag("--json", *json, "Print JSON instead of a tree");
  cmd->add_flag("--attrs", *attrs, "Also list attributes");
  cmd->callback([file, json, attrs] {
    const Location where = parse_location(*file);
    print_info(where.file, where.path, *json, *attrs);
  });
}

namespace {

// "  collection: train 700, valid 200, test 100 rows" for a group that is
// a compiled collection ("  collection, not compiled" before compile()).
std::string collection_summary(store::Store& st, store::Node& group) {
  auto& attributes = group.attrs();
  if (!attributes.contains("larder.kind")) return {};
  const auto kind = attributes.get_json("larder.kind");
  if (!kind.is_string() || kind.get<std::string>() != "collection") return {};
  const std::string& path = group.path();
  const std::string parent = path.substr(0, path.find_last_of('/'));
  auto c = collection::Collection::open(parent.empty() ? st.root() : st.root()->open_group(parent),
                                        group.name());
  const auto metadata = c->metadata();
  if (!metadata) return "  collection, not compiled";
  std::vector<std::string> sizes;
  for (const auto& p : metadata->phases)
    sizes.push_back(fmt::format("{} {}", p.name, p.size));
  return fmt::format("  collection: {} rows", fmt::join(sizes, ", "));
}

}  // namespace

void print_info(const std::string& file, const std::string& path, bool json, bool attrs) {
  const Location where{file, path};
  auto st = store::Store::open(where.file, "r");
  auto top = st->root()->open(where.path);
  // Each node with its ragged view, where it holds ragged records (whose
  // own members are not listed).
  struct Entry {
    std::string path;
    std::shared_ptr<store::Node> node;
    std::unique_ptr<ragged::Ragged> records;
  };
  std::vector<Entry> nodes;
  nodes.push_back({top->path(), top, ragged::Ragged::from_node(*st->root(), where.path, top)});
  if (top->kind() == store::NodeKind::group && !nodes[0].records) {
    auto group = std::static_pointer_cast<store::Group>(top);
    std::string skip;  // the ragged group being passed over
    group->visit([&](const std::string& p, store::NodeKind) {
      if (!skip.empty() && p.starts_with(skip)) return;
      std::shared_ptr<store::Node> node = group->open(p);
      Entry entry{p, node, ragged::Ragged::from_node(*group, p, node)};
      if (entry.records && node->kind() == store::NodeKind::group) skip = p + "/";
      nodes.push_back(std::move(entry));
    });
  }
  std::uint64_t logical = 0, stored = 0;
  if (json) {
    nlohmann::json out{
        {"file", where.file}, {"driver", st->driver()}, {"nodes", nlohmann::json::array()}};
    for (auto& [p, node, records] : nodes) {
      nlohmann::json d = records ? describe(*records)
                         : node->kind() == store::NodeKind::dataset
                             ? describe(static_cast<store::Dataset&>(*node))
                             : nlohmann::json{{"kind", "group"}};
      d["path"] = node->path();
      nlohmann::json a = nlohmann::json::object();
      for (const auto& name : node->attrs().names())
        a[name] = node->attrs().get_json(name);
      d["attrs"] = a;
      out["nodes"].push_back(d);
    }
    fmt::print("{}\n", out.dump(2));
    return;
  }
  fmt::print("{} ({}, {} on disk)\n", where.file, st->driver(),
             human_bytes(static_cast<double>(bytes_on_disk(where.file))));
  for (auto& [p, node, records] : nodes) {
    const std::size_t depth =
        node == top ? 0 : static_cast<std::size_t>(std::count(p.begin(), p.end(), '/')) + 1;
    const std::string indent(2 * depth, ' ');
    const std::string name = node == top ? node->path() : node->name();
    if (records) {
      const auto info = records->storage_info();
      logical += info.logical_bytes;
      stored += info.stored_bytes;
      fmt::print("{}{:<16} ragged, {} records of {} {} {}  {}\n", indent, name, records->size(),
                 records->dtype().name(), records->record_shape(),
                 info.filters.empty() ? "uncompressed" : info.filters, sizes_text(info));
    } else if (node->kind() == store::NodeKind::group) {
      fmt::print("{}{}{}{}\n", indent, name, name.ends_with('/') ? "" : "/",
                 collection_summary(*st, *node));
    } else {
      auto& ds = static_cast<store::Dataset&>(*node);
      const auto info = ds.storage_info();
      logical += info.logical_bytes;
      stored += info.stored_bytes;
      std::string line = fmt::format("{}{:<16} {:<14} {:<8}", indent, name, ds.shape().to_string(),
                                     ds.dtype().name());
      if (!ds.chunks().empty()) line += fmt::format(" chunks=({})", fmt::join(ds.chunks(), ", "));
      line += fmt::format(" {}", info.filters.empty() ? "uncompressed" : info.filters);
      fmt::print("{}  {}\n", line, sizes_text(info));
    }
    if (attrs) print_attrs(node->attrs(), 2 * depth + 4);
  }
  if (stored > 0) {
    fmt::print("total: {} of data in {} ({:.2f}x)\n", human_bytes(static_cast<double>(logical)),
               human_bytes(static_cast<double>(stored)),
               static_cast<double>(logical) / static_cast<double>(stored));
  }
}

}  // namespace larder::cli