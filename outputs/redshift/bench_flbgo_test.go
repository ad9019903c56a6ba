//go:build cgo

package redshift

import (
	"encoding/json"
	"testing"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"
)

func init() { flbgoBaseline = flbgoJSONLines }

// flbgoJSONLines is what a plugin written with fluent-bit-go typically does:
// GetRecord (reflection decode into maps), then encoding/json per row.
func flbgoJSONLines(b *testing.B, chunk, dst []byte) []byte {
	dec := output.NewDecoder(unsafe.Pointer(&chunk[0]), len(chunk))
	for {
		ret, _, rec := output.GetRecord(dec)
		if ret != 0 {
			break
		}
		row := map[string]any{}
		for k, v := range rec {
			key, _ := k.(string)
			switch x := v.(type) {
			case []byte:
				row[key] = string(x)
			case map[any]any:
				for ck, cv := range x {
					if s, ok := cv.([]byte); ok {
						cv = string(s)
					}
					row[ck.(string)] = cv
				}
			default:
				row[key] = x
			}
		}
		delete(row, "destinations")
		js, err := json.Marshal(row)
		if err != nil {
			b.Fatal(err)
		}
		dst = append(append(dst, js...), '\n')
	}
	return dst
}
