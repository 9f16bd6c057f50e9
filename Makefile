# larder — the two commands a fresh Debian 12 machine needs:
#   make demo   install dependencies, build, run the main job on example data
#   make test   install dependencies, build, run every test
# and: make bench, make fuzz, make format, make install.

BUILD      ?= build
ASAN_BUILD ?= build-asan
PYTHON     := /usr/bin/python3
GENERATOR  := -G Ninja
CMAKE_ARGS ?=

.PHONY: all deps build demo test bench fuzz format format-check install clean

all: build

deps:
	@scripts/install-deps

# Configures once, then lets Ninja decide what is stale.
$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLARDER_WERROR=ON $(CMAKE_ARGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD)

demo: build
	./$(BUILD)/larder demo

test: deps
	scripts/run-tests

bench: build
	$(PYTHON) bench/run.py --build $(BUILD)

fuzz: deps
	scripts/fuzz

format:
	scripts/format

format-check:
	scripts/format --check

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz

# Kill -9 an appending writer 1,000 times per format; checks every row left
# behind (`make test` runs 200 HDF5 and 300 mmap trials).
.PHONY: crash-test
crash-test: build
	./$(BUILD)/tests/crash/larder-crash-test --trials 1000 --jobs 2 --dir $(CURDIR)/$(BUILD)/test-tmp
	./$(BUILD)/tests/crash/larder-crash-test --format mmap --trials 1000 --jobs 2 \
	  --max-delay-ms 120 --max-rows 2000000 --dir $(CURDIR)/$(BUILD)/test-tmp
