#include "larder/trace/graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace larder::trace {
namespace {

// Quotes `text` for DOT.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string_view to_string(NodeStatus status) noexcept {
  switch (status) {
    case NodeStatus::running:
      return "running";
    case NodeStatus::finished:
      return "finished";
    case NodeStatus::failed:
      return "failed";
    case NodeStatus::interrupted:
      return "interrupted";
  }
  return "running";
}

std::vector<Edge> edges_of(const std::vector<Node>& nodes) {
  std::vector<Edge> edges;
  // variable -> the latest finished step that wrote it, and the hash of
  // what it wrote: a step read that output only if it read the same content.
  std::map<std::string, std::pair<std::int64_t, const std::string*>> written;
  for (const auto& node : nodes) {
    if (node.status != NodeStatus::finished) continue;
    for (const auto& in : node.inputs) {
      const auto it = written.find(in.name);
      if (it != written.end() && *it->second.second == in.hash)
        edges.push_back({.from = it->second.first, .to = node.id, .variable = in.name});
    }
    for (const auto& out : node.outputs)
      written[out.name] = {node.id, &out.hash};
  }
  return edges;
}

Lineage lineage_of(const std::vector<Node>& nodes, const std::string& variable,
                   const std::string& hash) {
  Lineage lineage{.variable = variable, .steps = {}, .sources = {}};
  std::set<std::int64_t> taken;
  std::set<std::string> sources;
  // Walk back from the end: each wanted (variable, content) comes from the
  // latest finished step before the step that wanted it, if that step wrote
  // that content; else it is a source (set by hand, or replaced since).
  struct Wanted {
    std::string name;
    std::string hash;  // empty: whatever the latest step wrote
    std::size_t before;
  };
  std::vector<Wanted> wanted{{variable, hash, nodes.size()}};
  while (!wanted.empty()) {
    const Wanted want = wanted.back();
    wanted.pop_back();
    bool found = false;
    for (std::size_t i = want.before; i-- > 0 && !found;) {
      const Node& node = nodes[i];
      if (node.status != NodeStatus::finished) continue;
      for (const Port& out : node.outputs) {
        if (out.name != want.name) continue;
        found = true;
        if ((want.hash.empty() || out.hash == want.hash) && taken.insert(node.id).second) {
          for (const auto& in : node.inputs)
            wanted.push_back({in.name, in.hash, i});
        } else if (!want.hash.empty() && out.hash != want.hash) {
          sources.insert(want.name);
        }
        break;
      }
    }
    if (!found) sources.insert(want.name);
  }
  for (const auto& node : nodes) {
    if (taken.count(node.id)) lineage.steps.push_back(node);
  }
  lineage.sources.assign(sources.begin(), sources.end());
  return lineage;
}

std::string to_dot(const Graph& graph, const std::string& title) {
  std::string out = fmt::format("digraph {} {{\n  rankdir=LR;\n", quoted(title));
  std::set<std::string> variables;
  for (const auto& node : graph.nodes) {
    for (const auto& p : node.inputs)
      variables.insert(p.name);
    for (const auto& p : node.outputs)
      variables.insert(p.name);
  }
  for (const auto& v : variables)
    out += fmt::format("  {} [shape=ellipse, label={}];\n", quoted("var:" + v), quoted(v));
  for (const auto& node : graph.nodes) {
    const std::string id = quoted(fmt::format("step:{}", node.id));
    out += fmt::format("  {} [shape=box, label={}{}];\n", id,
                       quoted(fmt::format("#{} {} v{}\n{}", node.id, node.operation, node.version,
                                          to_string(node.status))),
                       node.status == NodeStatus::finished ? "" : ", style=dashed");
    for (const auto& p : node.inputs)
      out += fmt::format("  {} -> {};\n", quoted("var:" + p.name), id);
    for (const auto& p : node.outputs)
      out += fmt::format("  {} -> {};\n", id, quoted("var:" + p.name));
  }
  return out + "}\n";
}

}  // namespace larder::trace
