// larder._larder._Loader and _Epoch: the C++ Loader for larder.Loader
// (python/larder/loader.py), which turns the source forms into columns.
#include "larder/loader/loader.h"

#include <fmt/format.h>

#include "bindings.h"
#include "larder/core/error.h"

namespace larder::python {
namespace {

using loader::Batch;
using loader::Column;
using loader::Epoch;
using loader::Loader;
using loader::LoaderOptions;

// (name, column) pairs: a larder.Dataset, a larder.Ragged, or anything numpy takes.
std::vector<Column> columns_from(const py::list& items) {
  std::vector<Column> columns;
  for (const py::handle item : items) {
    const auto pair = item.cast<py::tuple>();
    if (pair.size() != 2) {
      throw Error(ErrorCode::invalid_argument, "a column is a (name, array) pair");
    }
    Column column{.name = pair[0].cast<std::string>(), .source = {}};
    const py::handle source = pair[1];
    if (py::isinstance<store::Dataset>(source)) {
      column.source = source.cast<std::shared_ptr<store::Dataset>>();
    } else if (py::isinstance<ragged::Ragged>(source)) {
      column.source = source.cast<std::shared_ptr<ragged::Ragged>>();
    } else {
      column.source = std::make_shared<const Array>(from_numpy(source));
    }
    columns.push_back(std::move(column));
  }
  return columns;
}

LoaderOptions options_from(std::int64_t batch_size, const std::string& shuffle, std::uint64_t seed,
                           bool drop_last, py::object subset, py::object pad, std::int64_t rank,
                           std::int64_t world_size, int prefetch, int threads,
                           std::int64_t block_size, std::int64_t window, bool clip,
                           bool equal_shards) {
  LoaderOptions options{
      .batch_size = batch_size,
      .sampler = {.shuffle = loader::shuffle_from_string(shuffle),
                  .seed = seed,
                  .block_size = block_size,
                  .window = window,
                  .rank = rank,
                  .world_size = world_size,
                  .shard_rule = equal_shards ? loader::ShardRule::equal : loader::ShardRule::cover},
      .drop_last = drop_last,
      .clip = clip,
      .prefetch = prefetch,
      .threads = threads,
  };
  if (!subset.is_none()) {
    const Array ids = from_numpy(py::module_::import("numpy").attr("asarray")(subset, "int64"));
    const auto v = ids.values<std::int64_t>();
    options.subset = std::vector<std::int64_t>(v.begin(), v.end());
  }
  if (!pad.is_none()) {
    for (const auto& [name, spec] : pad.cast<py::dict>()) {
      const auto pair = spec.cast<py::tuple>();
      if (pair.size() != 2) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("pad of '{}' is a (width, fill) pair", name.cast<std::string>()));
      }
      options.pad[name.cast<std::string>()] = {.width = pair[0].cast<std::int64_t>(),
                                               .fill = to_json(pair[1])};
    }
  }
  return options;
}

py::dict to_dict(Batch batch) {
  py::dict out;
  for (auto& field : batch.fields)
    out[py::str(field.name)] = to_numpy(std::move(field.values));
  out["_index"] = to_numpy(std::move(batch.index));
  return out;
}

}  // namespace

void bind_loader(py::module_& m) {
  py::class_<Epoch>(m, "_Epoch", "One epoch being read; iterate for batches.")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__",
           [](Epoch& e) {
             std::optional<Batch> batch;
             {
               py::gil_scoped_release release;
               batch = e.next();
             }
             if (!batch) throw py::stop_iteration();
             return to_dict(std::move(*batch));
           })
      .def("__len__", &Epoch::size)
      .def_property_readonly("number", &Epoch::number);

  py::class_<Loader>(m, "_Loader", "The engine's batch loader; use larder.Loader.")
      .def(py::init([](py::list columns, std::int64_t batch_size, const std::string& shuffle,
                       std::uint64_t seed, bool drop_last, py::object subset, py::object pad,
                       std::int64_t rank, std::int64_t world_size, int prefetch, int threads,
                       std::int64_t block_size, std::int64_t window, bool clip, bool equal_shards) {
             auto cols = columns_from(columns);
             auto options =
                 options_from(batch_size, shuffle, seed, drop_last, subset, pad, rank, world_size,
                              prefetch, threads, block_size, window, clip, equal_shards);
             py::gil_scoped_release release;
             return Loader::create(std::move(cols), options);
           }),
           py::arg("columns"), py::arg("batch_size"), py::arg("shuffle") = "none",
           py::arg("seed") = 0, py::arg("drop_last") = false, py::arg("subset") = py::none(),
           py::arg("pad") = py::none(), py::arg("rank") = 0, py::arg("world_size") = 1,
           py::arg("prefetch") = 2, py::arg("threads") = 1, py::arg("block_size") = 0,
           py::arg("window") = 8, py::arg("clip") = false, py::arg("equal_shards") = false)
      .def(
          "start",
          [](Loader& l) {
            py::gil_scoped_release release;
            return l.start();
          },
          "Starts reading the current epoch in the background; the epoch moves on by one.")
      .def("read",
           [](Loader& l, py::object ids) {
             const Array rows =
                 from_numpy(py::module_::import("numpy").attr("asarray")(ids, "int64"));
             std::optional<Batch> batch;
             {
               py::gil_scoped_release release;
               batch = l.read(rows.values<std::int64_t>());
             }
             return to_dict(std::move(*batch));
           })
      .def("__len__", &Loader::size)
      .def_property_readonly("rows", &Loader::rows)
      .def_property_readonly("rows_per_epoch", [](Loader& l) { return l.sampler().size(); })
      .def_property_readonly("block_size", [](Loader& l) { return l.options().sampler.block_size; })
      .def_property("epoch", &Loader::epoch, &Loader::set_epoch);

  m.def(
      "_split_rows",
      [](std::int64_t rows, py::object subset, std::vector<double> fractions,
         std::uint64_t split_seed) {
        std::optional<std::vector<std::int64_t>> ids;
        if (!subset.is_none()) {
          const Array a = from_numpy(py::module_::import("numpy").attr("asarray")(subset, "int64"));
          const auto v = a.values<std::int64_t>();
          ids = std::vector<std::int64_t>(v.begin(), v.end());
        }
        py::list parts;
        for (auto& part : loader::split_rows(rows, ids, fractions, split_seed))
          parts.append(to_numpy(Array::from_values<std::int64_t>(part)));
        return parts;
      },
      py::arg("rows"), py::arg("subset"), py::arg("fractions"), py::arg("split_seed"));
}

}  // namespace larder::python
