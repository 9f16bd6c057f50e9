// The cut cache in .larder/cuts and the cut flow.
#include "larder/expr/cut.h"

#include <fmt/format.h>

#include <array>

#include "larder/core/error.h"
#include "larder/core/hash.h"

namespace larder::expr {
namespace {

// Where entries go: zarr refuses names starting with '.' (its own), so a
// zarr store keeps them under the second name.
constexpr std::array<std::string_view, 2> cuts_groups = {".larder/cuts", "_larder/cuts"};

bool holds(store::Group& group, const std::string& path) {
  try {
    return group.contains(path);
  } catch (const Error&) {
    return false;  // a name the driver refuses
  }
}

nlohmann::json checksums_json(const std::vector<ColumnChecksum>& checksums) {
  nlohmann::json out = nlohmann::json::object();
  for (const ColumnChecksum& c : checksums)
    out[c.path] = c.checksum;
  return out;
}

nlohmann::json constants_or_empty(const nlohmann::json& constants) {
  return constants.is_null() ? nlohmann::json::object() : constants;
}

// The stored entry, when it is for this expression and constants.
std::shared_ptr<store::Dataset> entry_for(store::Group& group, const std::string& path,
                                          const std::string& normalized,
                                          const nlohmann::json& constants) {
  if (!holds(group, path)) return nullptr;
  std::shared_ptr<store::Node> node = group.open(path);
  if (node->kind() != store::NodeKind::dataset) return nullptr;
  auto ds = std::static_pointer_cast<store::Dataset>(node);
  store::Attributes& attrs = ds->attrs();
  if (!attrs.contains("larder.expression") || !attrs.contains("larder.constants") ||
      !attrs.contains("larder.columns")) {
    return nullptr;
  }
  // The key is a hash: compare what it hashes too.
  if (attrs.get_json("larder.expression") != normalized) return nullptr;
  if (attrs.get_json("larder.constants") != constants.dump()) return nullptr;
  return ds;
}

bool store_entry(store::Group& group, const std::string& path, const std::string& normalized,
                 const nlohmann::json& constants, const std::vector<ColumnChecksum>& checksums,
                 std::int64_t total, const Array& rows) {
  try {
    if (holds(group, path)) group.remove(path);
    auto ds = group.create_dataset(
        path, {.dtype = DType::int64(),
               .shape = Shape{rows.num_elements()},
               .chunks = {std::max<std::int64_t>(
                   1, std::min<std::int64_t>(rows.num_elements(), std::int64_t{1} << 17))},
               .extendable = true});
    if (rows.num_elements() > 0) ds->write(Selection(), rows);
    store::Attributes& attrs = ds->attrs();
    attrs.set("larder.expression", normalized);
    attrs.set("larder.constants", constants.dump());
    attrs.set("larder.columns", checksums_json(checksums).dump());
    attrs.set("larder.rows", total);
    return true;
  } catch (const Error&) {
    return false;  // a store opened read-only: the cut is simply not cached
  }
}

}  // namespace

std::string cut_key(const store::Group& group, const Expression& expression,
                    const nlohmann::json& constants) {
  Hasher h;
  h.update(expression.normalized()).update("\n");
  h.update(constants_or_empty(constants).dump()).update("\n");
  h.update(group.path());
  return hex64(h.digest64());
}

CutResult cut(store::Group& group, const Expression& expression, const CutOptions& options) {
  const nlohmann::json constants = constants_or_empty(options.constants);
  const EvaluateOptions evaluate{.constants = constants};
  CutResult result;
  if (!options.cache) {
    result.rows = select(group, expression, evaluate);
    result.total = rows_of(group, expression, evaluate);
    return result;
  }
  const std::string normalized = expression.normalized();
  result.key = cut_key(group, expression, constants);
  if (!options.recreate) {
    std::shared_ptr<store::Dataset> entry;
    for (std::string_view where : cuts_groups) {
      entry = entry_for(group, fmt::format("{}/{}", where, result.key), normalized, constants);
      if (entry) break;
    }
    if (entry) {
      const std::vector<ColumnChecksum> now = checksums_of(group, expression, evaluate);
      if (entry->attrs().get_json("larder.columns") == checksums_json(now).dump()) {
        result.rows = entry->read();
        result.total = entry->attrs().get_json("larder.rows").get<std::int64_t>();
        result.from_cache = true;
        return result;
      }
    }
  }
  std::vector<ColumnChecksum> checksums;
  result.rows = select_with_checksums(group, expression, evaluate, checksums);
  result.total = rows_of(group, expression, evaluate);
  for (std::string_view where : cuts_groups) {
    result.stored = store_entry(group, fmt::format("{}/{}", where, result.key), normalized,
                                constants, checksums, result.total, result.rows);
    if (result.stored) break;
  }
  return result;
}

CutResult cut(store::Group& group, std::string_view expression, const CutOptions& options) {
  return cut(group, Expression::parse(expression), options);
}

CutFlow cut_flow(store::Group& group, const std::vector<std::string>& cuts,
                 const nlohmann::json& constants) {
  std::vector<Expression> parsed;
  for (const std::string& c : cuts)
    parsed.push_back(Expression::parse(c));
  const EvaluateOptions options{.constants = constants_or_empty(constants)};
  CutFlow flow;
  if (parsed.empty()) return flow;
  const std::vector<std::int64_t> counts = count_flow(group, parsed, options);
  flow.total = rows_of(group, parsed.front(), options);
  for (std::size_t i = 0; i < cuts.size(); ++i)
    flow.steps.push_back({cuts[i], counts[i]});
  return flow;
}

}  // namespace larder::expr
