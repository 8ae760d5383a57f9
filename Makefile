# mlrc: build, test and lint. `make help` lists the targets.
GO      ?= go
PKG     := github.com/mlrc/mlrc
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# -s -w: no symbol table or DWARF in the release binary (110 MB -> 80 MB);
# build without them (go build ./cmd/mlrc) to debug.
LDFLAGS := -s -w -X $(PKG)/internal/buildinfo.Version=$(VERSION) -X $(PKG)/internal/buildinfo.Commit=$(COMMIT)
BIN     := bin/mlrc

.PHONY: help build demo deps test unit lint bench clean fuzz-research

help:
	@echo "make build      build $(BIN)"
	@echo "make demo       install what experiments need (apt), build, and run mlrc research on the digits example"
	@echo "                (needs a model: see README)"
	@echo "make test       install what the tests need (apt), then lint and run every test"
	@echo "make unit       run the tests only"
	@echo "make lint       gofmt, go vet, go mod tidy check"
	@echo "make fuzz-research [N=50]  N research runs on digits against ../shared/tools/fakellm.py --mode schema"
	@echo "                (seeds 1..N, random schema-valid answers): a table of exit, phase, report, failure"
	@echo "make bench      build, then measure mlrc's performance figures (mlrc bench perf; a few minutes)"

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mlrc

# The main job: a whole research run — ideas from the Fashion-MNIST paper
# (arXiv metadata the repository carries), experiments on the digits task
# (data from scikit-learn, no download) in the sandbox, validation over
# three seeds, and the report in the run directory.
demo: deps build
	./$(BIN) doctor --skip-model || true
	./$(BIN) research --paper examples/papers/fashion-mnist.md --task examples/tasks/digits --auto

test: deps lint unit

deps:
	./scripts/install-deps.sh

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

clean:
	rm -rf bin
