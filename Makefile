# Whirlpool: Fluent Bit plugins in Go.
#   make        build every plugin into build/<name>.so
#   make test   go.mod/go.sum tidy, vet, staticcheck, the race detector on
#               pure-Go packages, then every test (builds the plugins the
#               tests load)
#   make tidy   fail if go mod tidy would change go.mod or go.sum
#   make demo   run the pipeline in a local Fluent Bit
#   make studio run the model studio (whirlpool-model serve) on the demo
#               database; prints the URL and the first admin password
#   make fuzz   run the codec and validation fuzzers for FUZZTIME each
#   make bench  run the benchmarks
#   make image-tree  lay out the container image's files in build/image
#               (what the Dockerfile copies; e2e/image runs them)
#   make image  docker build -t $(IMAGE) . (needs Docker)

GO        ?= go
BUILD     := build
PLUGINS   := $(notdir $(wildcard plugins/in_* plugins/out_*))
SOS       := $(PLUGINS:%=$(BUILD)/%.so)
FUZZTIME  ?= 30s
IMAGE     ?= whirlpool:dev
export CGO_ENABLED := 1

# Pure-Go packages (no cgo, no plugin loading) also run under the race
# detector.
RACE_PKGS := ./filters/... ./internal/record ./internal/props ./internal/metrics ./internal/awsconf ./internal/dsn ./internal/logsafe ./internal/failcode ./internal/fastb64 ./internal/timefmt ./internal/jsonscan ./internal/swar
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all test tidy vet staticcheck race demo studio fuzz bench clean image-tree image

all: $(SOS)

$(BUILD)/%.so: FORCE
	@mkdir -p $(BUILD)
	$(GO) build -buildmode=c-shared -trimpath -o $@ ./plugins/$*
	@rm -f $(BUILD)/$*.h

FORCE:

# go mod tidy -diff (Go 1.23+) prints what tidying would change and exits
# non-zero if anything would: a missing or stale requirement fails the test.
tidy:
	$(GO) mod tidy -diff

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

race:
	$(GO) test -race -count=1 $(RACE_PKGS)

scripts/sqs/node_modules/local-aws-sqs/package.json: scripts/sqs/package-lock.json
	npm ci --prefix scripts/sqs --no-audit --no-fund --loglevel=error

test: tidy all vet staticcheck race scripts/sqs/node_modules/local-aws-sqs/package.json
	$(GO) test -count=1 -p 4 -timeout 15m ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=30000x

# make test fuzzes a fixed number of inputs, not a duration: a -fuzztime
# duration is a wall-clock deadline that Go's fuzzing coordinator can miss
# on a busy machine and then fails with "context deadline exceeded" having
# found nothing.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./internal/record/
	$(GO) test -run '^$$' -fuzz '^FuzzRoundTrip$$' -fuzztime $(FUZZTIME) ./internal/record/
	$(GO) test -run '^$$' -fuzz '^FuzzSkipMatchesMsgp$$' -fuzztime $(FUZZTIME) ./internal/record/
	$(GO) test -run '^$$' -fuzz '^FuzzSplitScalarMatchesMsgp$$' -fuzztime $(FUZZTIME) ./internal/record/
	$(GO) test -run '^$$' -fuzz '^FuzzColumnsInOrder$$' -fuzztime $(FUZZTIME) ./filters/validate/
	$(GO) test -run '^$$' -fuzz '^FuzzScanEqualsTree$$' -fuzztime $(FUZZTIME) ./filters/validate/
	$(GO) test -run '^$$' -fuzz '^FuzzValid$$' -fuzztime $(FUZZTIME) ./internal/jsonscan/
	$(GO) test -run '^$$' -fuzz '^FuzzSkim$$' -fuzztime $(FUZZTIME) ./internal/jsonscan/
	$(GO) test -run '^$$' -fuzz '^FuzzScanEnvelopeSkim$$' -fuzztime $(FUZZTIME) ./inputs/sqs/

bench:
	scripts/bench

demo: all
	scripts/demo

studio:
	scripts/studio

image-tree: all
	scripts/image-tree $(BUILD)/image

image:
	docker build -t $(IMAGE) .

clean:
	rm -rf $(BUILD)
