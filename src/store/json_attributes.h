// Attributes kept in a JSON document (the mmap driver's larder.json and
// sidecars, the zarr driver's .zattrs): JSON values under their names, and
// numeric Array values either as {dtype, shape, hex} objects in a separate
// "array_attrs" object (mmap: they read back as Arrays) or as nested JSON
// lists among the others (zarr, as zarr-python stores numpy arrays: they
// read back as JSON). The document is loaded on every call and saved after
// every change, so what another object or process saved is seen. One thread
// at a time per Attributes object, like its node.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "larder/store/attributes.h"

namespace larder::store {

// Where the attributes live: `load` gives the document's "attrs" and
// "array_attrs" objects, `save` stores them.
struct AttributeDocument {
  std::function<std::pair<nlohmann::json, nlohmann::json>()> load;
  std::function<void(const nlohmann::json& attrs, const nlohmann::json& array_attrs)> save;
};

enum class ArrayAttributeForm {
  hex,         // {dtype, shape, hex} in array_attrs; read back as Arrays
  json_lists,  // nested JSON lists in attrs; read back as JSON
};

// The node the attributes belong to: names for messages, and the checks its
// store makes before a read (`writing` false) or a change (true).
struct AttributeOwner {
  std::string file;  // the store, for messages
  std::string path;  // the node inside it
  std::function<void(bool writing)> check;
  ArrayAttributeForm arrays = ArrayAttributeForm::hex;
};

std::unique_ptr<Attributes> make_json_attributes(AttributeOwner owner, AttributeDocument document);

}  // namespace larder::store
