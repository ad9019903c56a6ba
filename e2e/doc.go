// Package e2e holds Whirlpool's end-to-end tests: the built plugins, loaded
// into the test host as Fluent Bit would load them, wired into pipelines
// against the real local components (SQS emulator, PostgreSQL).
package e2e
