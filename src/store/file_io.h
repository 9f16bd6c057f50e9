// Whole reads and writes at an offset of a file descriptor: pread/pwrite
// retried on EINTR and short transfers. Shared by the store drivers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

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

}  // namespace larder::store
