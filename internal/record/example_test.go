package record_test

import (
	"fmt"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/record"
)

// A chunk is built with AppendRecord (the body with msgp's Append
// functions), read back with a Decoder, whose Records alias the chunk, and
// a body is written as JSON with AppendJSON.
func Example() {
	body := msgp.AppendMapHeader(nil, 3)
	body = msgp.AppendString(body, "game")
	body = msgp.AppendString(body, "demo")
	body = msgp.AppendString(body, "level")
	body = msgp.AppendInt(body, 3)
	body = msgp.AppendString(body, "tags")
	body = msgp.AppendArrayHeader(body, 2)
	body = msgp.AppendString(body, "new")
	body = msgp.AppendNil(body)

	t := time.Date(2026, 11, 21, 23, 45, 27, 123000000, time.UTC)
	chunk := record.AppendRecord(nil, t, nil, body)
	chunk = record.AppendRecord(chunk, t.Add(time.Second), nil, body)

	d := record.NewDecoder(chunk)
	var r record.Record
	for d.Next(&r) {
		level, _ := r.Body.Get("level")
		n, _ := level.Int()
		js, err := r.Body.AppendJSON(nil)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println(r.Time.Format(time.RFC3339Nano), n, string(js))
	}
	if err := d.Err(); err != nil {
		fmt.Println("error:", err)
	}
	// Output:
	// 2026-11-21T23:45:27.123Z 3 {"game":"demo","level":3,"tags":["new",null]}
	// 2026-11-21T23:45:28.123Z 3 {"game":"demo","level":3,"tags":["new",null]}
}

// A chunk that stops short is an error the Decoder keeps: the records
// before it are read, Offset says where the rest begins.
func ExampleDecoder_Err() {
	body := msgp.AppendMapHeader(nil, 1)
	body = msgp.AppendString(body, "n")
	body = msgp.AppendInt(body, 1)
	one := record.AppendRecord(nil, time.Unix(0, 0), nil, body)
	chunk := append(one, one[:len(one)-1]...) // the second record cut

	d := record.NewDecoder(chunk)
	var r record.Record
	n := 0
	for d.Next(&r) {
		n++
	}
	fmt.Println(n, "record; the rest from byte", d.Offset(), "of", len(chunk), "does not decode:", d.Err() != nil)
	// Output:
	// 1 record; the rest from byte 17 of 33 does not decode: true
}
