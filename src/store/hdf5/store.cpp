// Hdf5Store: opening, creating, flushing and closing an HDF5 file.
#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "driver.h"
#include "filters.h"
#include "journal.h"
#include "larder/core/error.h"

namespace larder::store::hdf5 {
namespace {

class Hdf5Store final : public Store {
 public:
  explicit Hdf5Store(Context context) : context_(std::move(context)) {
    Hdf5Lock lock;
    root_ = make_group(context_,
                       group_handle(check_id(H5Gopen2(context_->file.get(), "/", H5P_DEFAULT),
                                             "cannot open the root group", context_->name)),
                       "/");
  }
  ~Hdf5Store() override {
    try {
      close();
    } catch (...) {  // a destructor must not throw; close() reports errors to callers who ask
    }
  }

  std::shared_ptr<Group> root() override {
    context_->check_open("/");
    return root_;
  }
  const std::filesystem::path& path() const override { return context_->fs_path; }
  std::string_view driver() const override { return "hdf5"; }
  OpenMode mode() const override { return context_->mode; }
  bool is_open() const override { return context_->open; }

  void flush() override {
    context_->check_open("/");
    Hdf5Lock lock;
    if (is_writable(context_->mode)) {
      settle_datasets(context_);
      check(H5Fflush(context_->file.get(), H5F_SCOPE_LOCAL), "cannot flush", context_->name);
    }
  }

  void close() override {
    if (!context_->open) return;
    Hdf5Lock lock;
    if (is_writable(context_->mode)) settle_datasets(context_);
    context_->open = false;
    context_->data_files.clear();
    root_.reset();
    // H5F_CLOSE_STRONG: closing the file closes every object still open in it.
    const herr_t status = H5Fclose(context_->file.get());
    context_->file = Handle();
    if (status < 0) {
      throw Error(ErrorCode::io, fmt::format("cannot close the file ({})", error_stack()),
                  context_->name);
    }
  }

 private:
  Context context_;
  std::shared_ptr<Group> root_;
};

// Opens a file whose superblock's end-of-allocation lies at most
// kMaxShortfall bytes past its end; in write mode, first restores the
// missing (free) bytes as zeros. -1 when that is not the file's problem.
hid_t open_short_file(const std::string& name, hid_t fapl, bool writable) {
  constexpr haddr_t kMaxShortfall = 4096;  // HDF5's allocators reserve 2 KiB blocks
  Handle probe_fapl = plist_handle(H5Pcopy(fapl));
  hbool_t skip_eof_check = 1;
  if (H5Pexist(probe_fapl.get(), "skip_eof_check") <= 0 ||
      H5Pset(probe_fapl.get(), "skip_eof_check", &skip_eof_check) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return -1;
  }
  const hid_t probe = H5Fopen(name.c_str(), H5F_ACC_RDONLY, probe_fapl.get());
  if (probe < 0) {
    H5Eclear2(H5E_DEFAULT);
    return -1;
  }
  haddr_t eoa = 0;
  H5Fget_eoa(probe, &eoa);
  // Every object header must still be in the file (a file cut short by a
  // copy fails here; one a killed flush left short does not).
  const auto visit = [](hid_t, const char*, const H5O_info_t*, void*) -> herr_t { return 0; };
  const bool whole =
      H5Ovisit2(probe, H5_INDEX_NAME, H5_ITER_NATIVE, visit, nullptr, H5O_INFO_BASIC) >= 0;
  H5Fclose(probe);
  H5Eclear2(H5E_DEFAULT);
  if (!whole) return -1;
  std::error_code ec;
  const auto size = static_cast<haddr_t>(std::filesystem::file_size(name, ec));
  if (ec || eoa <= size || eoa - size > kMaxShortfall) return -1;
  if (writable) {
    if (::truncate(name.c_str(), static_cast<off_t>(eoa)) != 0) return -1;
    return H5Fopen(name.c_str(), H5F_ACC_RDWR, fapl);
  }
  return H5Fopen(name.c_str(), H5F_ACC_RDONLY, probe_fapl.get());
}

bool file_exists(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

}  // namespace

// A new file appears whole or not at all: it is written under a temporary
// name beside `path` and renamed into place (with `exclusive`, linked, so
// an existing file is never replaced). A writer killed while creating it
// leaves at most the temporary file, never a `path` that does not open.
void create_atomically(const std::filesystem::path& path, bool exclusive, hid_t fapl) {
  const std::string name = path.string();
  const std::string temp = fmt::format("{}.larder-new-{}", name, ::getpid());
  const hid_t file = H5Fcreate(temp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (file < 0 || H5Fclose(file) < 0) {
    const std::string stack = error_stack();
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw Error(
        ErrorCode::io,
        fmt::format("cannot create the file ({})", stack.empty() ? "HDF5 gave no reason" : stack),
        name);
  }
  const int status =
      exclusive ? ::link(temp.c_str(), name.c_str()) : ::rename(temp.c_str(), name.c_str());
  const int error = errno;
  if (exclusive || status != 0) ::unlink(temp.c_str());
  if (status != 0) {
    throw Error(ErrorCode::io,
                fmt::format("cannot create the file: {}",
                            error == EEXIST ? "it exists and mode 'w-' does not overwrite"
                                            : std::strerror(error)),
                name);
  }
}

std::unique_ptr<Store> open_store(const std::filesystem::path& path, OpenMode mode,
                                  const StoreOptions& options) {
  register_filters();
  const std::string name = path.string();
  const bool present = file_exists(path);
  if ((mode == OpenMode::read || mode == OpenMode::read_write) && !present && !options.in_memory) {
    throw Error(ErrorCode::not_found, "no such file", name);
  }
  if (mode == OpenMode::create_new && present) {
    throw Error(ErrorCode::io, "the file exists and mode 'w-' does not overwrite", name);
  }
  const bool create = mode == OpenMode::truncate || mode == OpenMode::create_new ||
                      (mode == OpenMode::append && !present);
  if (!create && present && options.untrusted) verify_in_child(path, options);

  auto context = std::make_shared<FileContext>();
  context->fs_path = path;
  context->name = name;
  context->options = options;
  context->mode = mode;

  Hdf5Lock lock;
  if (!create && present) {
    const htri_t is_hdf5 = H5Fis_hdf5(name.c_str());
    if (is_hdf5 <= 0) {
      throw Error(ErrorCode::corrupt, "not an HDF5 file (no HDF5 signature found)", name);
    }
  }
  Handle fapl = plist_handle(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  if (options.in_memory) {
    check(H5Pset_fapl_core(fapl.get(), std::size_t{64} << 20, options.write_back ? 1 : 0),
          "cannot set up an in-memory file", name);
  }
  hid_t file;
  if (create && !options.in_memory) {
    create_atomically(path, mode == OpenMode::create_new, fapl.get());
    file = H5Fopen(name.c_str(), H5F_ACC_RDWR, fapl.get());
  } else if (create) {
    file = H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
  } else {
    file = H5Fopen(name.c_str(), is_writable(mode) ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get());
  }
  if (file < 0 && !create && present && !options.in_memory) {
    // "truncated file": a flush shrinks the end-of-allocation when it frees
    // space at the end of the file (an allocator's unused remainder) and
    // truncates the file before rewriting the superblock; a writer killed
    // in between leaves a file a few bytes shorter than its superblock says.
    // Accept that much (the missing bytes were free space), not more.
    const std::string first_error = error_stack();
    file = open_short_file(name, fapl.get(), is_writable(mode));
    if (file < 0) {
      throw Error(ErrorCode::corrupt, fmt::format("cannot open the file ({})", first_error), name);
    }
  }
  if (file < 0) {
    const std::string stack = error_stack();
    const ErrorCode code = (create || !present) ? ErrorCode::io : ErrorCode::corrupt;
    throw Error(code,
                fmt::format("cannot {} the file ({})", create ? "create" : "open",
                            stack.empty() ? "HDF5 gave no reason" : stack),
                name);
  }
  if (!create && !options.in_memory) {
    // A writer killed in a flush can leave metadata past the end-of-file
    // address its superblock records (a B-tree node, or a chunk an index
    // entry points to). Make every byte in the file addressable, so the
    // library neither refuses to read them nor hands that space out again.
    H5Fincrement_filesize(file, 0);
    H5Eclear2(H5E_DEFAULT);
  }
  context->file = file_handle(file);
  auto store = std::make_unique<Hdf5Store>(context);
  if (is_writable(mode) && !options.in_memory) {
    // Datasets a killed writer left unsettled are repaired now, so that
    // other tools see every committed row (see formats/hdf5.md, "Recovery").
    for (const std::string& dataset : AppendJournal::unclean_datasets(context)) {
      if (H5Lexists(context->file.get(), dataset.c_str(), H5P_DEFAULT) > 0)
        store->root()->open_dataset(dataset);
      H5Eclear2(H5E_DEFAULT);
    }
  }
  return store;
}

}  // namespace larder::store::hdf5
