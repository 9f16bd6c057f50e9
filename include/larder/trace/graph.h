// The operation graph of a trace group: the steps applied, in order, with
// their parameters, inputs and outputs and the content hashes of both.
// Plain values read from trace.json; inspecting them touches no array data.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace larder::trace {

enum class NodeStatus { running, finished, failed, interrupted };
std::string_view to_string(NodeStatus status) noexcept;

struct Port {
  std::string name{};  // the variable
  std::string hash{};  // its content hash when the step ran
  friend bool operator==(const Port&, const Port&) = default;
};

struct Node {
  std::int64_t id = 0;  // unique in the group, increasing
  std::string operation;
  int version = 1;
  nlohmann::json params = nlohmann::json::object();
  std::vector<Port> inputs;
  std::vector<Port> outputs;
  std::string started;   // UTC, ISO 8601
  std::string finished;  // empty until the step ends
  NodeStatus status = NodeStatus::running;
  std::string error{};  // for a failed step
};

// Edge from the step that produced a variable to a step that read it.
struct Edge {
  std::int64_t from = 0;
  std::int64_t to = 0;
  std::string variable{};
};

struct Graph {
  std::vector<Node> nodes;
  std::vector<Edge> edges;
};

// The edges of `nodes`: a finished step's input comes from the latest
// earlier finished step that wrote a variable of that name, when it read
// what that step wrote (the hashes agree).
std::vector<Edge> edges_of(const std::vector<Node>& nodes);

// How `variable` came to be: the finished steps it depends on, oldest
// first, and the variables they start from (read but produced by no step,
// or replaced since a step wrote them).
struct Lineage {
  std::string variable;
  std::vector<Node> steps;
  std::vector<std::string> sources;
};
// `hash`: the variable's content now (empty: take the latest step that
// wrote it); a step counts only if it wrote the content that was read.
Lineage lineage_of(const std::vector<Node>& nodes, const std::string& variable,
                   const std::string& hash = {});

// Graphviz DOT of a graph: variables as ellipses, steps as boxes.
std::string to_dot(const Graph& graph, const std::string& title);

nlohmann::json to_json(const Node& node);
// Error(corrupt) naming `origin` for a node that is not well formed.
Node node_from_json(const nlohmann::json& json, const std::string& origin);

}  // namespace larder::trace
