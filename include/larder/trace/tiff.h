// TIFF stacks into (Z, Y, X) datasets, one slice at a time.
//
// A multi-page TIFF file, or a folder of single-page slices taken in natural
// order ("slice_2" before "slice_10"), becomes one dataset of shape
// (pages, height, width) — (pages, height, width, samples) for multi-sample
// pixels — in the TIFF's own sample type (uint8/16/32, int8/16/32, float32/64).
// Slices are decoded and written one by one, so memory stays at one slice
// whatever the stack's size; strip and tiled layouts and every compression
// libtiff decodes are read. Pages that differ in size or type are an Error
// naming the file and page, and the half-written dataset is removed.
// libtiff never prints: its messages go into the Error. Safe from any thread
// on different groups.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "larder/core/array.h"
#include "larder/store/group.h"

namespace larder::trace {

struct TiffOptions {
  codec::CodecSpec codec{};  // of the dataset written
  // Folders: the file suffixes taken as slices (case-insensitive).
  std::vector<std::string> extensions{".tif", ".tiff"};
};

// What import_tiff wrote.
struct TiffStack {
  std::shared_ptr<store::Dataset> dataset;
  std::vector<std::filesystem::path>
      files;  // the slices' files, in order (one for a multi-page file)
};

TiffStack import_tiff(const std::filesystem::path& file_or_folder, store::Group& parent,
                      std::string_view name, const TiffOptions& options = {});

// Every page of a TIFF held in memory, decoded, as one (pages, height,
// width[, samples]) array; Error(corrupt/unsupported) for anything else. At
// most `max_bytes` are decoded. The reader under import_tiff, and what the
// fuzzer drives.
Array decode_tiff(std::span<const std::byte> bytes, std::string_view origin,
                  std::size_t max_bytes = std::size_t{1} << 30);

// Writes `stack` ((pages, height, width[, samples]) of a TIFF sample type)
// as a multi-page TIFF, uncompressed or deflated: for tests and for
// exporting slices.
void write_tiff(const std::filesystem::path& file, ArrayView stack, bool deflate = false);

}  // namespace larder::trace
