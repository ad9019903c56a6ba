package redshift

import (
	"testing"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/record"
)

// rowSet says a row is repeated exactly when an earlier row since reset
// has its uuid and expand_index.
func TestRowSetFindsRepeatedKeysOnly(t *testing.T) {
	row := func(uuid string, index int) *rec {
		return &rec{uuid: record.Value(msgp.AppendString(nil, uuid)), expandIndex: record.Value(msgp.AppendInt(nil, index))}
	}
	type step struct {
		uuid     string
		index    int
		repeated bool
	}
	steps := []step{
		{"a", -1, false}, {"a", -1, true}, {"a", 0, false}, {"b", -1, false}, {"a", 0, true},
		{"b", -1, true}, {"c", 2, false}, {"c", 2, true}, {"a", -1, true},
	}
	s := rowSet{}
	for round := 0; round < 2; round++ { // reset forgets every key
		s.reset()
		for i, st := range steps {
			if got := s.repeated(row(st.uuid, st.index)); got != st.repeated {
				t.Errorf("round %d step %d (%s, %d): repeated = %v, want %v", round, i, st.uuid, st.index, got, st.repeated)
			}
		}
	}
}
