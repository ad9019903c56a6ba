// Package testmodel applies a data-model file to a test database's model
// store, as `whirlpool-model apply` does. It is its own package, not part
// of testenv, because filters/validate's own tests use testenv.
package testmodel

import (
	"context"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/validate"
)

// ApplyFile loads the model in file and applies it to the store at dsn,
// failing the test on any error.
func ApplyFile(t testing.TB, dsn, file string) {
	t.Helper()
	m, err := validate.LoadFile(file)
	if err != nil {
		t.Fatalf("loading %s: %v", file, err)
	}
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
	if _, err := st.Apply(ctx, m); err != nil {
		t.Fatalf("applying %s: %v", file, err)
	}
}
