#include "file_io.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "larder/core/error.h"

namespace larder::store {

ReadOnlyFile::ReadOnlyFile(const std::string& name)
    : fd_(::open(name.c_str(), O_RDONLY | O_CLOEXEC)) {
  if (fd_ < 0) {
    throw Error(ErrorCode::io,
                fmt::format("cannot open {} for reading: {}", name, std::strerror(errno)), name);
  }
}

ReadOnlyFile::~ReadOnlyFile() {
  ::close(fd_);
}

std::size_t read_at(int fd, std::span<std::byte> out, std::uint64_t offset, const std::string& file,
                    const std::string& path) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      throw Error(ErrorCode::io,
                  fmt::format("cannot read at byte {}: {}", offset + done, std::strerror(errno)),
                  file, path);
    }
    if (n == 0) break;  // the end of the file
    done += static_cast<std::size_t>(n);
  }
  return done;
}

void write_at(int fd, std::span<const std::byte> bytes, std::uint64_t offset,
              const std::string& file, const std::string& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw Error(ErrorCode::io,
                  fmt::format("cannot write at byte {}: {}", offset + done,
                              n < 0 ? std::strerror(errno) : "nothing written"),
                  file, path);
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace larder::store
