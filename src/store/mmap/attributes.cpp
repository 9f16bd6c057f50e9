// Attributes of mmap groups and arrays: JSON values under "attrs", numeric
// arrays under "array_attrs" as {dtype, shape, hex} (C-order bytes in hex).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "driver.h"
#include "larder/core/error.h"

namespace larder::store::mmap {
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
  JsonAttributes(Context context, std::string path, AttributeDocument document)
      : context_(std::move(context)), path_(std::move(path)), document_(std::move(document)) {}

  std::vector<std::string> names() const override {
    context_->check_open(path_);
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
    context_->check_open(path_);
    auto [attrs, arrays] = document_.load();
    return attrs.contains(name) || arrays.contains(name);
  }

  AttributeValue get(std::string_view name) const override {
    context_->check_open(path_);
    auto [attrs, arrays] = document_.load();
    if (auto it = attrs.find(name); it != attrs.end()) return *it;
    if (auto it = arrays.find(name); it != arrays.end()) return decode(std::string(name), *it);
    throw missing(name, context_->name, path_);
  }

  void set(std::string_view name, const nlohmann::json& value) override {
    context_->check_writable(path_);
    auto [attrs, arrays] = document_.load();
    arrays.erase(std::string(name));
    attrs[std::string(name)] = value;
    document_.save(attrs, arrays);
  }

  void set(std::string_view name, ArrayView value) override {
    context_->check_writable(path_);
    if (!value.dtype().is_fixed_size()) {
      throw Error(ErrorCode::unsupported, "array attributes need a fixed-size dtype",
                  context_->name, path_);
    }
    const Array packed = Array::copy_of(value);
    auto [attrs, arrays] = document_.load();
    attrs.erase(std::string(name));
    arrays[std::string(name)] = {
        {"dtype", value.dtype().numpy_str()},
        {"shape", std::vector<std::int64_t>(value.shape().begin(), value.shape().end())},
        {"hex", to_hex(packed.bytes())}};
    document_.save(attrs, arrays);
  }

  void remove(std::string_view name) override {
    context_->check_writable(path_);
    auto [attrs, arrays] = document_.load();
    if (attrs.erase(std::string(name)) + arrays.erase(std::string(name)) == 0) {
      throw Error(ErrorCode::not_found, fmt::format("no attribute '{}'", name), context_->name,
                  path_);
    }
    document_.save(attrs, arrays);
  }

 private:
  Array decode(const std::string& name, const nlohmann::json& stored) const {
    const auto bad = [&](const std::string& what) {
      return Error(ErrorCode::corrupt, fmt::format("array attribute '{}': {}", name, what),
                   context_->name, path_);
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

  Context context_;
  std::string path_;
  AttributeDocument document_;
};

}  // namespace

std::unique_ptr<Attributes> make_attributes(Context context, std::string path,
                                            AttributeDocument document) {
  return std::make_unique<JsonAttributes>(std::move(context), std::move(path), std::move(document));
}

}  // namespace larder::store::mmap
