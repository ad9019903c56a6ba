package validate_test

import (
	"fmt"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/fieldname"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// A model is loaded from YAML text; the Validator turns each record of the
// contract into valid records (a row per destination, its columns) or into
// one failure record listing every error found.
func Example() {
	m, err := validate.ParseModel([]byte(`
games:
  - name: demo
    mappings:
      - {version: '.*', definition: v1}
    events:
      - name: level_up
        definitions:
          - version: v1
            destinations: [demo.level_up]
            fields:
              - {name: player_id, path: player, type: string, mandatory: true, max_length: 8}
              - {name: level, path: level, type: integer, mandatory: true, min: 0}
`))
	if err != nil {
		fmt.Println("model:", err)
		return
	}
	v, err := validate.NewWithModel(m, validate.Options{})
	if err != nil {
		fmt.Println("validator:", err)
		return
	}
	defer v.Close()

	var e enrich.Enricher
	key := enrich.Key{Game: "demo", Version: "1.0", Event: "level_up"}
	now := time.Now()
	var in []byte
	in = e.AppendRecord(in, key, []byte(`{"player":"p1","level":3}`), now)
	in = e.AppendRecord(in, key, []byte(`{"player":"far too long","level":-1}`), now)

	var out []byte
	d := record.NewDecoder(in)
	var r record.Record
	for d.Next(&r) {
		out = v.AppendValidated(out, r)
	}
	for d = record.NewDecoder(out); d.Next(&r); {
		switch validate.StatusOf(r.Body) {
		case validate.Valid:
			fmt.Println("valid:", show(r.Body, fieldname.Destinations), show(r.Body, fieldname.Columns))
		case validate.Failure:
			errs, _ := r.Body.Get(fieldname.Errors)
			fmt.Print("failure:")
			errs.Array(func(_ int, e record.Value) bool {
				em, _ := e.Map()
				code, _ := em.Get("code")
				path, _ := em.Get("path")
				c, _ := code.Str()
				p, _ := path.Str()
				fmt.Printf(" %s at %s;", c, p)
				return true
			})
			fmt.Println()
		}
	}
	// Output:
	// valid: ["demo.level_up"] {"player_id":"p1","level":3}
	// failure: FIELD_TOO_LONG at player; FIELD_OUT_OF_RANGE at level;
}

// show writes one key of a record body as JSON.
func show(body record.Map, key string) string {
	v, _ := body.Get(key)
	js, err := v.AppendJSON(nil)
	if err != nil {
		return err.Error()
	}
	return string(js)
}
