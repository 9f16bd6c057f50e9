#include "json_attributes.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "larder/core/error.h"
#include "larder/store/element_json.h"

namespace larder::store {
namespace {

std::string to_hex(std::span<const std::byte> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::byte b : bytes) {
    out.push_back(kDigits[std::to_integer<unsigned>(b) >> 4]);
    out.push_back(kDigits[std::to_integer<unsigned>(b) & 15]);
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

class JsonAttributes final : public Attributes {
 public:
  JsonAttributes(AttributeOwner owner, AttributeDocument document)
      : owner_(std::move(owner)), document_(std::move(document)) {}

  std::vector<std::string> names() const override {
    owner_.check(false);
    auto [attrs, arrays] = document_.load();
    std::vector<std::string> out;
    for (const auto& [name, value] : attrs.items())
      out.push_back(name);
    for (const auto& [name, value] : arrays.items())
      out.push_back(name);
    std::sort(out.begin(), out.end());
    return out;
  }

  bool contains(std::string_view name) const override {
    owner_.check(false);
    auto [attrs, arrays] = document_.load();
    return attrs.contains(name) || arrays.contains(name);
  }

  AttributeValue get(std::string_view name) const override {
    owner_.check(false);
    auto [attrs, arrays] = document_.load();
    if (auto it = attrs.find(name); it != attrs.end()) return *it;
    if (auto it = arrays.find(name); it != arrays.end()) return decode(std::string(name), *it);
    throw missing(name, owner_.file, owner_.path);
  }

  void set(std::string_view name, const nlohmann::json& value) override {
    owner_.check(true);
    auto [attrs, arrays] = document_.load();
    arrays.erase(std::string(name));
    attrs[std::string(name)] = value;
    document_.save(attrs, arrays);
  }

  void set(std::string_view name, ArrayView value) override {
    owner_.check(true);
    if (!value.dtype().is_fixed_size()) {
      throw Error(ErrorCode::unsupported, "array attributes need a fixed-size dtype", owner_.file,
                  owner_.path);
    }
    const Array packed = Array::copy_of(value);
    auto [attrs, arrays] = document_.load();
    if (owner_.arrays == ArrayAttributeForm::json_lists) {
      arrays.erase(std::string(name));
      attrs[std::string(name)] = array_to_json(packed);
    } else {
      attrs.erase(std::string(name));
      arrays[std::string(name)] = {
          {"dtype", value.dtype().numpy_str()},
          {"shape", std::vector<std::int64_t>(value.shape().begin(), value.shape().end())},
          {"hex", to_hex(packed.bytes())}};
    }
    document_.save(attrs, arrays);
  }

  void remove(std::string_view name) override {
    owner_.check(true);
    auto [attrs, arrays] = document_.load();
    if (attrs.erase(std::string(name)) + arrays.erase(std::string(name)) == 0) {
      throw Error(ErrorCode::not_found, fmt::format("no attribute '{}'", name), owner_.file,
                  owner_.path);
    }
    document_.save(attrs, arrays);
  }

 private:
  Array decode(const std::string& name, const nlohmann::json& stored) const {
    const auto bad = [&](const std::string& what) {
      return Error(ErrorCode::corrupt, fmt::format("array attribute '{}': {}", name, what),
                   owner_.file, owner_.path);
    };
    if (!stored.is_object() || !stored.value("dtype", nlohmann::json()).is_string() ||
        !stored.value("shape", nlohmann::json()).is_array() ||
        !stored.value("hex", nlohmann::json()).is_string()) {
      throw bad("not an object with dtype, shape and hex");
    }
    try {
      const DType dtype = DType::from_string(stored["dtype"].get<std::string>());
      std::vector<std::int64_t> dims;
      for (const auto& d : stored["shape"]) {
        if (!d.is_number_integer()) throw bad("a shape extent is not an integer");
        dims.push_back(d.get<std::int64_t>());
      }
      const std::string& hex = stored["hex"].get_ref<const std::string&>();
      Array out = Array::empty(dtype, Shape(std::move(dims)));
      if (hex.size() != 2 * out.nbytes()) throw bad("hex does not hold dtype x shape bytes");
      for (std::size_t i = 0; i < out.nbytes(); ++i) {
        const int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) throw bad("hex has a character that is not a hex digit");
        out.data()[i] = static_cast<std::byte>(hi * 16 + lo);
      }
      return out;
    } catch (const Error& e) {
      if (e.code() == ErrorCode::corrupt) throw;
      throw bad(e.message());
    }
  }

  AttributeOwner owner_;
  AttributeDocument document_;
};

}  // namespace

std::unique_ptr<Attributes> make_json_attributes(AttributeOwner owner, AttributeDocument document) {
  return std::make_unique<JsonAttributes>(std::move(owner), std::move(document));
}

}  // namespace larder::store
