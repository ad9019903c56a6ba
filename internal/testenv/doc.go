// Package testenv starts the real components Whirlpool's tests talk to, on
// loopback: the local-aws-sqs emulator (sqs.go), databases on the local
// PostgreSQL server (postgres.go) and an in-process S3-compatible server
// (s3.go). Tests never mock these components; when one cannot be started,
// the test fails and says how to provide it (.ci/run provides all of them).
package testenv
