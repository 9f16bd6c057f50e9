// Whole reads and writes at an offset of a file descriptor (pread/pwrite
// retried on EINTR and short transfers), whole files replaced atomically,
// and small text files read whole. Shared by the store drivers; free
// functions without shared state, safe from any thread (two threads must
// not replace the same file at once).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace larder::store {

// A file opened read-only, closed with its last owner.
class ReadOnlyFile {
 public:
  // Error(io) naming `name` if it cannot be opened.
  explicit ReadOnlyFile(const std::string& name);
  ~ReadOnlyFile();
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;

  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

// Reads `out.size()` bytes at `offset`; returns how many it read, fewer only
// where the file ends. Error(io) naming `file` and `path` if the read fails.
std::size_t read_at(int fd, std::span<std::byte> out, std::uint64_t offset, const std::string& file,
                    const std::string& path);

// Writes all of `bytes` at `offset`; Error(io) naming `file` and `path` if
// the write fails.
void write_at(int fd, std::span<const std::byte> bytes, std::uint64_t offset,
              const std::string& file, const std::string& path);

struct ReplaceOptions {
  std::filesystem::path temp{};  // default: `file` + ".tmp", beside it
  // fsync the new file before the rename and its folder after: the result
  // survives a power cut, not only the process.
  bool sync = false;
};

// Writes `bytes` to `file` atomically: first to a temporary, then renamed
// over `file`, so a reader sees the old content or the new, never a mix.
// Error(io) naming `file`; the temporary is gone.
void replace_file(const std::filesystem::path& file, std::span<const std::byte> bytes,
                  const ReplaceOptions& options = {});
void replace_file(const std::filesystem::path& file, std::string_view text,
                  const ReplaceOptions& options = {});

// Makes the directory `path` holding one file, `name`, with `text`: built
// under a temporary name beside it, then renamed, so a new store appears
// whole. Error(io) naming `path` if it exists (mode 'w-' does not
// overwrite) or cannot be made.
void create_store_directory(const std::filesystem::path& path, const std::string& name,
                            std::string_view text);

// Makes `folder` and its missing parents; Error(io) naming it and why when
// it cannot (`what` says what the folder is, e.g. "the output directory").
void make_directories(const std::filesystem::path& folder, std::string_view what = "the folder");

// A whole (small) file as text; Error(not_found) naming it and `node_path`
// when it does not exist, Error(io) when it cannot be read, and
// Error(invalid_argument) naming both sizes when it holds more than
// `max_bytes` (checked before reading).
std::string read_text(const std::filesystem::path& file, const std::string& node_path,
                      std::uint64_t max_bytes = std::uint64_t{1} << 30);

}  // namespace larder::store
