// The streaming volume operations against direct computations on the whole
// array, with a memory budget small enough that every one runs over many
// slabs.
#include "larder/trace/volume.h"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <numbers>

#include "../array_helpers.h"
#include "../error_of.h"
#include "larder/core/random.h"
#include "larder/store/store.h"

namespace larder::trace {
namespace {

using testing::error_of;

class Volume : public ::testing::Test {
 protected:
  std::unique_ptr<store::Store> store = store::Store::memory();
  VolumeOptions small{.memory_bytes = 4096};

  MakeOutput output(const std::string& name) {
    return [this, name](const store::DatasetOptions& o) {
      return store->root()->create_dataset(name, o);
    };
  }
  std::shared_ptr<store::Dataset> input(const std::string& name, const Array& values) {
    auto ds =
        store->root()->create_dataset(name, {.dtype = values.dtype(), .shape = values.shape()});
    ds->write(Selection(), values);
    return ds;
  }
};

Array random_volume(std::int64_t z, std::int64_t y, std::int64_t x, std::uint64_t seed) {
  Random random(seed);
  std::vector<float> v(static_cast<std::size_t>(z * y * x));
  for (float& f : v)
    f = static_cast<float>(random.uniform());
  return testing::array_of<float>(v, Shape{z, y, x});
}

TEST_F(Volume, ThresholdBinarizesEveryElement) {
  const Array volume = random_volume(20, 9, 11, 1);
  auto in = input("v", volume);
  threshold(*in, output("bin"), 0.5, small);
  const auto got = testing::values_of<std::uint8_t>(store->root()->open_dataset("bin")->read());
  const auto want = testing::values_of<float>(volume);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(got[i], want[i] > 0.5f ? 1 : 0) << i;
}

TEST_F(Volume, PatchesOnTheStrideGridWithMinimumFill) {
  // A 6 x 8 x 8 volume of zeros with one block of ones at z 0-2, y 4-7, x 0-3.
  std::vector<std::uint8_t> v(6 * 8 * 8, 0);
  for (int z = 0; z < 3; ++z)
    for (int y = 4; y < 8; ++y)
      for (int x = 0; x < 4; ++x)
        v[static_cast<std::size_t>(z * 64 + y * 8 + x)] = 1;
  auto in = input("bin", testing::array_of<std::uint8_t>(v, Shape{6, 8, 8}));

  const PatchCount all =
      extract_patches(*in, output("p_all"), output("c_all"), {.shape = {3, 4, 4}}, small);
  EXPECT_EQ(all.examined, 2 * 2 * 2);
  EXPECT_EQ(all.kept, 8);

  const PatchCount filled =
      extract_patches(*in, output("p"), output("c"),
                      {.shape = {3, 4, 4}, .stride = {3, 2, 2}, .min_fill = 0.5}, small);
  // Corners z in {0, 3}, y and x in {0, 2, 4}: 18 examined; kept where more
  // than half the 48 voxels are ones: (0, 4, 0) only (full), (0, 4, 2) has 24.
  EXPECT_EQ(filled.examined, 18);
  EXPECT_EQ(filled.kept, 1);
  EXPECT_EQ(testing::values_of<std::int64_t>(store->root()->open_dataset("c")->read()),
            (std::vector<std::int64_t>{0, 4, 0}));
  const Array patch = store->root()->open_dataset("p")->read();
  EXPECT_EQ(patch.shape(), (Shape{1, 3, 4, 4}));
  for (const std::uint8_t b : testing::values_of<std::uint8_t>(patch))
    EXPECT_EQ(b, 1);

  std::string why;
  EXPECT_EQ(error_of(
                [&] {
                  extract_patches(*in, output("x"), output("y"), {.shape = {7, 1, 1}});
                },
                &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("does not fit"), std::string::npos) << why;
}

TEST_F(Volume, PatchFftIsTheMagnitudeOfTheDft) {
  const Array patches = random_volume(5, 4, 6, 2).reshaped(Shape{5, 2, 2, 6});
  auto in = input("patches", patches);
  patch_fft(*in, output("fft"), small);
  const auto got = testing::values_of<float>(store->root()->open_dataset("fft")->read());
  const auto x = testing::values_of<float>(patches);
  // The direct sum over the 2 x 2 x 6 grid of each patch.
  const int nz = 2, ny = 2, nx = 6;
  for (int p = 0; p < 5; ++p) {
    for (int kz = 0; kz < nz; ++kz)
      for (int ky = 0; ky < ny; ++ky)
        for (int kx = 0; kx < nx; ++kx) {
          std::complex<double> sum = 0;
          for (int z = 0; z < nz; ++z)
            for (int y = 0; y < ny; ++y)
              for (int xx = 0; xx < nx; ++xx) {
                const double phase =
                    -2 * std::numbers::pi *
                    (double(kz * z) / nz + double(ky * y) / ny + double(kx * xx) / nx);
                sum += double(x[static_cast<std::size_t>(p * 24 + z * 12 + y * 6 + xx)]) *
                       std::polar(1.0, phase);
              }
          const std::size_t at = static_cast<std::size_t>(p * 24 + kz * 12 + ky * 6 + kx);
          ASSERT_NEAR(got[at], std::abs(sum), 1e-4) << p << " " << kz << ky << kx;
        }
  }
}

TEST_F(Volume, StandardizeGlobalAndPerFeature) {
  const Array table = testing::array_of<double>({1, 10, 2, 20, 3, 30, 4, 40}, Shape{4, 2});
  auto in = input("t", table);
  const Standardization per = standardize(*in, output("per"), true, {.memory_bytes = 16});
  EXPECT_DOUBLE_EQ(per.mean[0], 2.5);
  EXPECT_DOUBLE_EQ(per.mean[1], 25);
  EXPECT_DOUBLE_EQ(per.std[0], std::sqrt(1.25));
  const auto z = testing::values_of<double>(store->root()->open_dataset("per")->read());
  EXPECT_NEAR(z[0], (1 - 2.5) / std::sqrt(1.25), 1e-12);
  EXPECT_NEAR(z[7], (40 - 25) / std::sqrt(125.0), 1e-12);

  const Array volume = random_volume(30, 5, 7, 3);
  auto v = input("v", volume);
  const Standardization all = standardize(*v, output("all"), false, small);
  ASSERT_EQ(all.mean.size(), 1u);
  const auto s = testing::values_of<float>(store->root()->open_dataset("all")->read());
  double mean = 0, square = 0;
  for (const float f : s)
    mean += f;
  mean /= static_cast<double>(s.size());
  for (const float f : s)
    square += (f - mean) * (f - mean);
  EXPECT_NEAR(mean, 0, 1e-5);
  EXPECT_NEAR(square / static_cast<double>(s.size()), 1, 1e-4);
}

}  // namespace
}  // namespace larder::trace
