package sqs

import (
	"github.com/whirlpool-events/whirlpool/internal/jsonscan"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// validObject reports whether s is exactly one JSON object (RFC 8259) whose
// strings are valid UTF-8 without the noncharacters U+FFFE and U+FFFF, so
// that SQS accepts it in a message body as it is, nested at most
// record.MaxDepth levels (a deeper one is not embedded raw: it travels as
// a JSON string instead). One pass of jsonscan checks all of it: it was
// ~50% of the output's CPU as fastjson's validator followed by utf8.Valid,
// two searches for the noncharacters and a bracket count (BenchmarkOutput
// profile, docs/benchmarks/2026-12-01-stages-2.txt).
func validObject(s []byte) bool {
	i := 0 // past JSON's whitespace, without bytes.TrimLeft's cutset set up per call (0.8% of the edge's CPU)
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	if i == len(s) || s[i] != '{' {
		return false
	}
	return jsonscan.Valid(s, jsonscan.Options{UTF8: true, MaxDepth: record.MaxDepth})
}
