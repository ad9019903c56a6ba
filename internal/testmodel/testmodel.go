// Package testmodel gives tests the sample data model
// (filters/validate/testdata/model.yaml, game galaxy) and applies models to
// a test database's model store, as `whirlpool-model apply` does. It is its
// own package, not part of testenv, because filters/validate's own tests
// use testenv.
package testmodel

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/flbhost"
)

// SampleFile returns the path of filters/validate/testdata/model.yaml.
func SampleFile(t testing.TB) string {
	t.Helper()
	root, err := flbhost.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "filters/validate/testdata/model.yaml")
}

// Sample loads the sample model afresh, so a test may change its copy.
func Sample(t testing.TB) *validate.Model {
	t.Helper()
	m, err := validate.LoadFile(SampleFile(t))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Validator returns a validator over m with default options, closed when
// the test ends.
func Validator(t testing.TB, m *validate.Model) *validate.Validator {
	t.Helper()
	v, err := validate.NewWithModel(m, validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// Apply writes m to the model store at dsn, creating the store if needed,
// and returns the changes the store reports.
func Apply(t testing.TB, dsn string, m *validate.Model) []validate.Change {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := validate.OpenStore(dsn)
	if err != nil {
		t.Fatalf("model store: %v", err)
	}
	defer st.Close()
	if err := st.Init(ctx); err != nil {
		t.Fatalf("model store init: %v", err)
	}
	changes, err := st.Apply(ctx, m)
	if err != nil {
		t.Fatalf("applying the model: %v", err)
	}
	return changes
}

// ApplyFile loads the model in file and applies it to the store at dsn.
func ApplyFile(t testing.TB, dsn, file string) {
	t.Helper()
	m, err := validate.LoadFile(file)
	if err != nil {
		t.Fatalf("loading %s: %v", file, err)
	}
	Apply(t, dsn, m)
}
