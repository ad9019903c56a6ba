// Package studio drives the model studio (whirlpool-model serve) in a real
// headless Chromium, the way a game team uses it, against the real
// pipeline: it signs in with an account made by `whirlpool-model user
// add`, creates an event definition and a version mapping in the editor,
// tries a bad and a good sample, publishes through the review page, sees
// the new event's rows arrive in PostgreSQL through the shipped edge and
// processor running in the real Fluent Bit (the processor re-reads the
// store the studio writes every second), reads the violations, publishes a
// breaking revision, rolls it back, reads the definition's history and
// replays the failure the breaking revision caused.
//
// Requirements: Chromium (chromium, chromium-browser or google-chrome on
// PATH, or /usr/bin/chromium; $WHIRLPOOL_CHROMIUM names another), the real
// engine ($FLUENT_BIT, else ../shared/bin/fluent-bit), the plugins (make),
// the local PostgreSQL and the SQS emulator (scripts/stack up test).
// Without Chromium or the engine the test skips and says why; with
// WHIRLPOOL_REQUIRE_CHROMIUM set (.ci/run sets it after installing
// Debian's chromium) a missing Chromium fails it instead.
//
// With WHIRLPOOL_SCREENSHOTS=1 the test also writes a screenshot of each
// page it visits into docs/studio/*.png (the README's "Model studio"
// section links them):
//
//	WHIRLPOOL_SCREENSHOTS=1 go test -count=1 -v ./e2e/studio/
package studio
