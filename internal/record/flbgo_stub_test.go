package record

// flbgoDecode decodes a chunk with fluent-bit-go (set in flbgo_test.go when
// cgo is available) and returns the number of records.
var flbgoDecode func(chunk []byte) (int, error)
