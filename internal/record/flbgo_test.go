//go:build cgo

package record

import (
	"fmt"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"
)

func init() { flbgoDecode = flbgoDecodeChunk }

// flbgoDecodeChunk decodes a chunk the way fluent-bit-go plugins do:
// output.NewDecoder copies the chunk with C.GoBytes and makes a new ugorji
// MsgpackHandle; output.GetRecord decodes each whole record into
// interface{} by reflection. For the [[ts, meta], body] form it gets the
// header as []interface{} (the metadata map is decoded too, then dropped)
// and returns its first element, the EventTime as output.FLBTime, with the
// body as map[interface{}]interface{} (strings as []byte). So it does
// decode every record fully; it returns -1 at the end of the chunk (and on
// a decode error, which is why the caller checks the count). The loop
// also reads each string value, as the whirlpool benchmark does.
func flbgoDecodeChunk(chunk []byte) (int, error) {
	dec := output.NewDecoder(unsafe.Pointer(&chunk[0]), len(chunk))
	n, sink := 0, 0
	for {
		ret, ts, rec := output.GetRecord(dec)
		if ret != 0 {
			if ret != -1 {
				return n, fmt.Errorf("GetRecord returned %d", ret)
			}
			break
		}
		if _, ok := ts.(output.FLBTime); !ok {
			return n, fmt.Errorf("timestamp is %T", ts)
		}
		for _, v := range rec {
			if s, ok := v.([]byte); ok {
				sink += len(s)
			}
		}
		n++
	}
	if sink == 0 {
		return n, fmt.Errorf("no strings read")
	}
	return n, nil
}
