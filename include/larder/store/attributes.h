// Attributes — the small named values attached to a group or a dataset.
//
// A value is either JSON (numbers, strings, booleans, lists and objects) or
// a numeric Array. Drivers store them the way the format's own tools read
// them: in HDF5 a number is a scalar attribute, a string a UTF-8 string, a
// list of strings a string array, an Array a dataspace of its shape; a JSON
// list or object with no such form is stored as JSON text and named in the
// "larder.json" attribute so it reads back as JSON. An Attributes object
// belongs to its node and is used from one thread at a time.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "larder/core/array.h"
#include "larder/core/error.h"

namespace larder::store {

using AttributeValue = std::variant<nlohmann::json, Array>;

class Attributes {
 public:
  virtual ~Attributes() = default;

  virtual std::vector<std::string> names() const = 0;
  virtual bool contains(std::string_view name) const = 0;
  // Error(not_found) naming the attribute and the names that exist.
  virtual AttributeValue get(std::string_view name) const = 0;
  virtual void set(std::string_view name, const nlohmann::json& value) = 0;
  virtual void set(std::string_view name, ArrayView value) = 0;
  virtual void remove(std::string_view name) = 0;

  // get() as JSON; an Array becomes a (nested) JSON list.
  nlohmann::json get_json(std::string_view name) const;

 protected:
  // What get() raises for a name that is not there: Error(not_found)
  // naming it and the attributes that exist.
  Error missing(std::string_view name, const std::string& file, const std::string& path) const;
};

}  // namespace larder::store
