package validate

import (
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/failcode"
)

// dataModelDoc is the users' reference of the model (docs/data-model.md).
func dataModelDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/data-model.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the text of the "## title" section of doc.
func section(t *testing.T, doc, title string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, "\n## "+title+"\n")
	if !ok {
		t.Fatalf("docs/data-model.md has no section %q", title)
	}
	body, _, _ := strings.Cut(rest, "\n## ")
	return body
}

// docExample is the model in the "The model file" section.
func docExample(t *testing.T) string {
	t.Helper()
	s := section(t, dataModelDoc(t), "The model file")
	_, rest, ok := strings.Cut(s, "```yaml\n")
	if !ok {
		t.Fatal("docs/data-model.md: no yaml block in \"The model file\"")
	}
	example, _, _ := strings.Cut(rest, "```")
	return example
}

// The reference's example model is one the validator accepts as it is,
// without a warning.
func TestDataModelDocExampleLoads(t *testing.T) {
	m, err := ParseModel([]byte(docExample(t)))
	if err != nil {
		t.Fatal(err)
	}
	warnings, err := m.Check()
	if err != nil || len(warnings) > 0 {
		t.Fatalf("the example model: %v, warnings %v", err, warnings)
	}
}

// Every key of the model file format appears in the reference's example.
func TestDataModelDocShowsEveryKey(t *testing.T) {
	example := docExample(t)
	var keys []string
	var walk func(reflect.Type)
	seen := map[reflect.Type]bool{}
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Slice || typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			keys = append(keys, name)
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(Model{}))
	if len(keys) < 15 {
		t.Fatalf("found only %d keys in the model types: %v", len(keys), keys)
	}
	for _, k := range keys {
		if !regexp.MustCompile(`(?m)(^|[\s{,-])` + k + `:`).MatchString(example) {
			t.Errorf("the example in docs/data-model.md never shows the key %q", k)
		}
	}
}

// The reference lists exactly the field types the validator knows.
func TestDataModelDocListsEveryType(t *testing.T) {
	var listed, known []string
	for _, m := range regexp.MustCompile("(?m)^- `([a-z]+)`:").FindAllStringSubmatch(section(t, dataModelDoc(t), "Field types"), -1) {
		listed = append(listed, m[1])
	}
	for name := range typeNames {
		known = append(known, name)
	}
	sort.Strings(listed)
	sort.Strings(known)
	if !reflect.DeepEqual(listed, known) {
		t.Errorf("docs/data-model.md lists types %v, the validator knows %v", listed, known)
	}
}

// Every format the reference names is accepted for its type, and a format
// it does not name is refused.
func TestDataModelDocFormatsAreAccepted(t *testing.T) {
	check := func(typ, format string) error {
		m := &Model{Games: []Game{{Name: "g", Mappings: []Mapping{{Version: "1", Definition: "v1"}},
			Events: []Event{{Name: "e", Definitions: []Definition{{Version: "v1", Destinations: []string{"s.t"},
				Fields: []Field{{Name: "f", Path: "f", Type: typ, Format: format}}}}}}}}}
		_, err := m.Check()
		return err
	}
	types := section(t, dataModelDoc(t), "Field types")
	for _, tc := range []struct{ typ, formats string }{
		{"string", "uuid date email ipv4 ipv6 pattern:[a-z]+"},
		{"timestamp", "rfc3339 epoch_seconds epoch_millis"},
	} {
		for _, f := range strings.Fields(tc.formats) {
			name, _, _ := strings.Cut(f, ":")
			if !strings.Contains(types, "`"+name) {
				t.Errorf("docs/data-model.md does not name the %s format %q", tc.typ, name)
			}
			if err := check(tc.typ, f); err != nil {
				t.Errorf("%s format %q: %v", tc.typ, f, err)
			}
		}
		if check(tc.typ, "hex") == nil {
			t.Errorf("%s format \"hex\" (not in the reference) was accepted", tc.typ)
		}
	}
}

// Every failure code is in the reference's table, with its stage, and the
// table has no other code.
func TestEveryCodeDocumented(t *testing.T) {
	table := section(t, dataModelDoc(t), "Failure codes")
	rows := regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\| ([a-z]+) \\| \\S").FindAllStringSubmatch(table, -1)
	documented := map[string]string{}
	for _, r := range rows {
		documented[r[1]] = r[2]
	}
	for _, c := range failcode.Codes {
		if stage, ok := documented[string(c.Code)]; !ok || stage != string(c.Stage) {
			t.Errorf("docs/data-model.md has no row for %s with stage %s", c.Code, c.Stage)
		}
		delete(documented, string(c.Code))
	}
	for code := range documented {
		t.Errorf("docs/data-model.md documents %s, which is no failure code", code)
	}
}
