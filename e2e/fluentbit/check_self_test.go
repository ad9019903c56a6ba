package fluentbit

import (
	"strings"
	"testing"
)

// TestCheckCatchesLossAndDuplicates checks the checker itself (no engine):
// a loss, a duplicate, a row never sent, a wrong expansion and a missing
// second destination are all reported, and tolerated retry duplicates are
// not.
func TestCheckCatchesLossAndDuplicates(t *testing.T) {
	l := newLoad("", "")
	run := l.run(0)
	lc := expect{table: "pixel_quest.level_complete", rows: 1}
	lc2 := expect{table: "pixel_quest.level_complete", also: "analytics.progress", rows: 1}
	buy := expect{table: "pixel_quest.purchase_item", rows: 2}
	l.batches = []*batch{
		{first: 0, exp: []expect{lc, lc, lc}, ok: true, attempts: 1},                                             // 0 once, 1 missing, 2 twice
		{first: 3, exp: []expect{lc}, ok: true, attempts: 2, unanswered: 1},                                      // 3 twice, tolerated
		{first: 4, exp: []expect{buy, lc2}, ok: true, attempts: 1},                                               // 4 index 1 missing, 5 no progress row
		{first: 6, exp: []expect{{table: failuresTable, rows: 1, code: "UNKNOWN_EVENT"}}, ok: true, attempts: 1}, // wrong code
	}
	rows := []row{
		{table: lc.table, uuid: "a", run: run, expandIndex: -1, seq: 0},
		{table: lc.table, uuid: "b", run: run, expandIndex: -1, seq: 2},
		{table: lc.table, uuid: "c", run: run, expandIndex: -1, seq: 2},
		{table: lc.table, uuid: "d", run: run, expandIndex: -1, seq: 3},
		{table: lc.table, uuid: "e", run: run, expandIndex: -1, seq: 3},
		{table: buy.table, uuid: "f", run: run, expandIndex: 0, seq: 4},
		{table: lc.table, uuid: "g", run: run, expandIndex: -1, seq: 5},
		{table: failuresTable, uuid: "h", run: run, expandIndex: -1, seq: 6, code: "VERSION_UNMAPPED"},
		{table: lc.table, uuid: "i", run: run, expandIndex: -1, seq: 99},
	}
	v := check(l, []string{"steady"}, rows)
	if v.missing != 1 || v.phases[0].missing != 1 || v.phases[0].twice != 1 || v.phases[0].landed != 6 {
		t.Errorf("missing %d, phase %+v; want 1 missing, 1 twice, 6 landed", v.missing, v.phases[0])
	}
	all := strings.Join(v.problems, "\n")
	for _, want := range []string{"seq 2 (", "expand_index [0]", "seq 5 uuid g: 0 rows in analytics.progress", `codes "VERSION_UNMAPPED", want "UNKNOWN_EVENT"`, "seq 99"} {
		if !strings.Contains(all, want) {
			t.Errorf("no problem mentions %q; problems:\n%s", want, all)
		}
	}
	if strings.Contains(all, "seq 3 ") {
		t.Errorf("a duplicate from an unanswered attempt was reported:\n%s", all)
	}
}
