#include "trace_json.h"

#include <fmt/format.h>

#include <cstring>

#include "larder/core/error.h"

namespace larder::trace {
namespace {

constexpr std::string_view format_name = "larder.trace";
constexpr int format_version = 1;

[[noreturn]] void corrupt(const std::string& origin, const std::string& what) {
  throw Error(ErrorCode::corrupt, fmt::format("damaged trace record: {}", what), origin);
}

const nlohmann::json& member(const nlohmann::json& object, const char* key,
                             const std::string& origin, const std::string& where) {
  if (!object.is_object()) corrupt(origin, fmt::format("{} is not an object", where));
  const auto it = object.find(key);
  if (it == object.end()) corrupt(origin, fmt::format("{} has no \"{}\"", where, key));
  return *it;
}

std::string text_member(const nlohmann::json& object, const char* key, const std::string& origin,
                        const std::string& where) {
  const auto& value = member(object, key, origin, where);
  if (!value.is_string()) corrupt(origin, fmt::format("{}.{} is not a string", where, key));
  return value.get<std::string>();
}

std::string optional_text(const nlohmann::json& object, const char* key, const std::string& origin,
                          const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) return {};
  if (!it->is_string()) corrupt(origin, fmt::format("{}.{} is not a string", where, key));
  return it->get<std::string>();
}

std::int64_t integer_member(const nlohmann::json& object, const char* key,
                            const std::string& origin, const std::string& where) {
  const auto& value = member(object, key, origin, where);
  if (!value.is_number_integer())
    corrupt(origin, fmt::format("{}.{} is not an integer", where, key));
  return value.get<std::int64_t>();
}

std::vector<Port> ports_from(const nlohmann::json& list, const std::string& origin,
                             const std::string& where) {
  if (!list.is_array()) corrupt(origin, fmt::format("{} is not a list", where));
  std::vector<Port> ports;
  for (const auto& item : list) {
    ports.push_back({.name = text_member(item, "name", origin, where),
                     .hash = text_member(item, "hash", origin, where)});
  }
  return ports;
}

nlohmann::json ports_to(const std::vector<Port>& ports) {
  auto list = nlohmann::json::array();
  for (const auto& p : ports)
    list.push_back({{"name", p.name}, {"hash", p.hash}});
  return list;
}

NodeStatus status_from(const std::string& text, const std::string& origin) {
  for (auto s :
       {NodeStatus::running, NodeStatus::finished, NodeStatus::failed, NodeStatus::interrupted}) {
    if (to_string(s) == text) return s;
  }
  corrupt(origin, fmt::format("unknown node status \"{}\"", text));
}

}  // namespace

nlohmann::json to_json(const Node& node) {
  nlohmann::json j = {{"id", node.id},
                      {"operation", node.operation},
                      {"version", node.version},
                      {"params", node.params},
                      {"inputs", ports_to(node.inputs)},
                      {"outputs", ports_to(node.outputs)},
                      {"started", node.started},
                      {"finished", node.finished},
                      {"status", std::string(to_string(node.status))}};
  if (!node.error.empty()) j["error"] = node.error;
  return j;
}

Node node_from_json(const nlohmann::json& json, const std::string& origin) {
  const std::string where = "node";
  Node node;
  node.id = integer_member(json, "id", origin, where);
  node.operation = text_member(json, "operation", origin, where);
  const std::int64_t version = integer_member(json, "version", origin, where);
  if (version < 0 || version > 1'000'000'000)
    corrupt(origin, fmt::format("node {} has version {}", node.id, version));
  node.version = static_cast<int>(version);
  node.params = member(json, "params", origin, where);
  node.inputs = ports_from(member(json, "inputs", origin, where), origin, where + ".inputs");
  node.outputs = ports_from(member(json, "outputs", origin, where), origin, where + ".outputs");
  node.started = text_member(json, "started", origin, where);
  node.finished = text_member(json, "finished", origin, where);
  node.status = status_from(text_member(json, "status", origin, where), origin);
  node.error = optional_text(json, "error", origin, where);
  return node;
}

nlohmann::json variable_to_json(const VariableInfo& info) {
  nlohmann::json j = {{"kind", std::string(to_string(info.kind))},
                      {"dtype", info.dtype.numpy_str()},
                      {"shape", std::vector<std::int64_t>(info.shape.begin(), info.shape.end())},
                      {"nbytes", info.nbytes},
                      {"hash", info.hash}};
  if (info.kind == VariableKind::link) {
    j["file"] = info.link_file;
    j["path"] = info.link_path;
    if (!info.link_stamp.empty()) j["stamp"] = info.link_stamp;
  }
  return j;
}

VariableInfo variable_from_json(const std::string& name, const nlohmann::json& json,
                                const std::string& origin) {
  const std::string where = "variable " + name;
  VariableInfo info;
  info.name = name;
  try {
    info.kind = variable_kind_from(text_member(json, "kind", origin, where));
    info.dtype = DType::from_string(text_member(json, "dtype", origin, where));
  } catch (const Error& e) {
    if (e.code() == ErrorCode::corrupt && !e.file().empty()) throw;
    corrupt(origin, fmt::format("{}: {}", where, e.message()));
  }
  const auto& shape = member(json, "shape", origin, where);
  if (!shape.is_array()) corrupt(origin, where + ".shape is not a list");
  std::vector<std::int64_t> dims;
  for (const auto& d : shape) {
    if (!d.is_number_integer() || d.get<std::int64_t>() < 0)
      corrupt(origin, where + ".shape holds a value that is not a size");
    dims.push_back(d.get<std::int64_t>());
  }
  try {
    info.shape = Shape(std::move(dims));
  } catch (const Error& e) {  // a size whose product overflows
    corrupt(origin, fmt::format("{}.shape: {}", where, e.message()));
  }
  const std::size_t rank = info.shape.rank();
  if ((info.kind == VariableKind::table && rank != 2) ||
      (info.kind == VariableKind::dict && rank != 1) ||
      (info.kind == VariableKind::scalar && rank != 0)) {
    corrupt(origin, fmt::format("{}.shape {} does not fit a {}", where, info.shape.to_string(),
                                to_string(info.kind)));
  }
  const auto& nbytes = member(json, "nbytes", origin, where);
  if (!nbytes.is_number_unsigned()) corrupt(origin, where + ".nbytes is not a size");
  info.nbytes = nbytes.get<std::uint64_t>();
  info.hash = text_member(json, "hash", origin, where);
  if (info.kind == VariableKind::link) {
    info.link_file = text_member(json, "file", origin, where);
    info.link_path = text_member(json, "path", origin, where);
    info.link_stamp = optional_text(json, "stamp", origin, where);
  }
  return info;
}

TraceRecord parse_trace_json(std::string_view text, const std::string& origin) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    corrupt(origin, fmt::format("not JSON ({})", e.what()));
  }
  if (!json.is_object()) corrupt(origin, "the top level is not an object");
  if (text_member(json, "format", origin, "trace") != format_name)
    corrupt(origin, "\"format\" is not \"larder.trace\"");
  const std::int64_t version = integer_member(json, "version", origin, "trace");
  if (version != format_version) {
    throw Error(
        ErrorCode::unsupported,
        fmt::format("trace format version {} (this larder reads {})", version, format_version),
        origin);
  }
  TraceRecord record;
  record.code = text_member(json, "code", origin, "trace");
  const auto& seed = member(json, "seed", origin, "trace");
  if (!seed.is_number_unsigned()) corrupt(origin, "\"seed\" is not an unsigned integer");
  record.seed = seed.get<std::uint64_t>();
  if (const auto clean = json.find("clean"); clean != json.end()) {
    if (!clean->is_boolean()) corrupt(origin, "\"clean\" is not a boolean");
    record.clean = clean->get<bool>();
  }
  const auto& groups = member(json, "groups", origin, "trace");
  if (!groups.is_object()) corrupt(origin, "\"groups\" is not an object");
  for (const auto& [name, group] : groups.items()) {
    try {
      check_variable_name(name);
    } catch (const Error&) {
      corrupt(origin, fmt::format("group name \"{}\" is not an identifier", name));
    }
    const std::string where = "group " + name;
    GroupRecord g;
    const auto& variables = member(group, "variables", origin, where);
    if (!variables.is_object()) corrupt(origin, where + ".variables is not an object");
    for (const auto& [vname, v] : variables.items())
      g.variables.emplace(vname, variable_from_json(vname, v, origin));
    const auto& nodes = member(group, "nodes", origin, where);
    if (!nodes.is_array()) corrupt(origin, where + ".nodes is not a list");
    for (const auto& n : nodes)
      g.nodes.push_back(node_from_json(n, origin));
    g.next_id = integer_member(group, "next_id", origin, where);
    for (const auto& n : g.nodes) {
      if (n.id >= g.next_id) corrupt(origin, fmt::format("{}: node id {} >= next_id", where, n.id));
    }
    record.groups.emplace(name, std::move(g));
  }
  return record;
}

std::string format_trace_json(const TraceRecord& record) {
  nlohmann::json groups = nlohmann::json::object();
  for (const auto& [name, g] : record.groups) {
    nlohmann::json variables = nlohmann::json::object();
    for (const auto& [vname, v] : g.variables)
      variables[vname] = variable_to_json(v);
    auto nodes = nlohmann::json::array();
    for (const auto& n : g.nodes)
      nodes.push_back(to_json(n));
    groups[name] = {
        {"variables", std::move(variables)}, {"nodes", std::move(nodes)}, {"next_id", g.next_id}};
  }
  const nlohmann::json json = {{"format", format_name}, {"version", format_version},
                               {"code", record.code},   {"seed", record.seed},
                               {"clean", record.clean}, {"groups", std::move(groups)}};
  return json.dump(1) + "\n";
}

}  // namespace larder::trace
