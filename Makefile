# mlrc: build, test and lint. `make help` lists the targets.
GO      ?= go
PKG     := github.com/mlrc/mlrc
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# -s -w: no symbol table or DWARF in the release binary (110 MB -> 80 MB);
# build without them (go build ./cmd/mlrc) to debug.
LDFLAGS := -s -w -X $(PKG)/internal/buildinfo.Version=$(VERSION) -X $(PKG)/internal/buildinfo.Commit=$(COMMIT)
BIN     := bin/mlrc
# TAGS=kubernetes builds the Kubernetes executor in (client-go: +37 MB).
TAGS    ?=

.PHONY: help build modules demo deps test unit lint bench bench-tasks race clean fuzz-research

help:
	@echo "make build      build $(BIN) (TAGS=kubernetes: with the Kubernetes executor)"
	@echo "make demo       install what experiments need (apt), build, and run mlrc research on the digits example;"
	@echo "                with no model configured, a labelled rehearsal (scripted model answers, all else real)"
	@echo "make test       install what the tests need (apt), then lint and run every test"
	@echo "make unit       run the tests only"
	@echo "make lint       gofmt, go vet, go mod tidy check"
	@echo "make fuzz-research [N=50]  N research runs on digits against ../shared/tools/fakellm.py --mode schema"
	@echo "                (seeds 1..N, random schema-valid answers): a table of exit, phase, report, failure"
	@echo "make bench      build, then measure mlrc's performance figures (mlrc bench perf; a few minutes)"
	@echo "make bench-tasks  mlrc bench over the five example tasks with the scripted model examples/rehearsal/bench.yaml:"
	@echo "                the table shows each chosen idea's expected and measured change (needs ../shared/data)"
	@echo "make race       the tests of the packages with concurrency under the race detector (slow: run it alone)"

build: modules
	$(GO) build -tags "$(TAGS)" -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mlrc

# The main job: a whole research run — ideas from the Fashion-MNIST paper
# (arXiv metadata the repository carries), experiments on the digits task
# (data from scikit-learn, no download) in the sandbox, validation over
# three seeds, and the report in the run directory.
#
# With no model configured (mlrc doctor --which-model finds none), the same
# run is a rehearsal: the model's answers come from the script
# examples/rehearsal/digits.yaml, offline; everything else is real, and the
# terminal, the run record and the report say "rehearsal". A model that is
# configured but does not answer is not replaced: the run fails and says why.
DEMO_ARGS := --paper examples/papers/fashion-mnist.md --task examples/tasks/digits --auto
REHEARSAL := examples/rehearsal/digits.yaml

demo: deps build
	./$(BIN) doctor --skip-model || true
	@model=$$(./$(BIN) doctor --which-model 2>/dev/null); rc=$$?; \
	if [ $$rc -eq 0 ]; then \
	  echo "./$(BIN) research $(DEMO_ARGS)   # model $$model"; \
	  ./$(BIN) research $(DEMO_ARGS); \
	elif [ $$rc -eq 3 ]; then \
	  echo "no model is configured (see mlrc doctor): running the rehearsal instead"; \
	  echo "./$(BIN) research --rehearsal $(REHEARSAL) --offline $(DEMO_ARGS)"; \
	  ./$(BIN) research --rehearsal $(REHEARSAL) --offline $(DEMO_ARGS); \
	else \
	  ./$(BIN) doctor --which-model; exit 1; \
	fi

test: deps lint unit

deps:
	./scripts/install-deps.sh

# The first build downloads the modules: say so, with a time hint.
modules:
	@GO=$(GO) ./scripts/go-modules.sh

unit:
	$(GO) test -count=1 -timeout 30m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@cp go.mod /tmp/mlrc-go.mod.bak; cp go.sum /tmp/mlrc-go.sum.bak; \
	  $(GO) mod tidy; \
	  if ! git diff --quiet -- go.mod go.sum 2>/dev/null; then \
	    echo "go mod tidy changes go.mod/go.sum: run it and commit"; git diff -- go.mod go.sum; \
	    cp /tmp/mlrc-go.mod.bak go.mod; cp /tmp/mlrc-go.sum.bak go.sum; exit 1; fi

# The weak-model campaign: N research runs on the digits task against a
# fake model answering random but schema-valid JSON; fails on a crash, a run
# without a report, or a failure its report does not name.
N ?= 50
MAX_STEPS ?= 3
fuzz-research: build
	MAX_STEPS=$(MAX_STEPS) ./scripts/fuzz-research.sh $(N)

# The performance figures of the README's benchmark section, as ratios,
# median of RUNS runs each.
RUNS ?= 5
bench: build
	./$(BIN) bench perf --runs $(RUNS)

# mlrc bench over the five example tasks, research end to end, with the
# scripted model examples/rehearsal/bench.yaml (no language model; its
# answers are checked against every request's schema).
BENCH_TASKS := digits fashion-mnist house-price semrel spaceship-titanic
bench-tasks: build
	./$(BIN) bench --model scripted/examples/rehearsal/bench.yaml --offline --n 1 \
	  --paper examples/papers/fashion-mnist.md $(foreach t,$(BENCH_TASKS),--task examples/tasks/$(t))

# The packages that run goroutines of their own (the sandbox's pipes and
# watchers, concurrent validation re-runs, tree search, the store, model
# streams), under the race detector. Slow: run it alone; -short leaves out
# the tests of 1 GiB files, which time out at the race detector's pace.
RACE_PKGS ?= ./sandbox/... ./snapshot/... ./experiment/... ./validate/... ./store/... ./llm/... ./agent/... ./internal/cli/...
race:
	$(GO) test -race -short -count=1 -timeout 90m $(RACE_PKGS)

clean:
	rm -rf bin
