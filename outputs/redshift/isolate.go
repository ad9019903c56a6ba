package redshift

// This file holds the isolation of the rows a table refuses: when a load
// fails on data, halving the rows (each half tried in a transaction rolled
// back) until the refused rows are found, so they become failure rows and
// the rest of the batch commits.

import (
	"context"
	"errors"

	"github.com/whirlpool-events/whirlpool/internal/failcode"
)

// isolate finds the rows of the failing table the database refuses and
// marks them rejected; it returns how many.
func (o *Output) isolate(ctx context.Context, s Session, b *batch, te *tableErr) (int, error) {
	if o.cfg.method == methodCopy {
		return o.isolateCopy(ctx, s, b, te)
	}
	tl := te.t
	found := 0
	var probe func(recs []*rec, known error) error
	probe = func(recs []*rec, known error) error {
		err := known
		if err == nil {
			if _, err := s.Exec(ctx, "BEGIN"); err != nil {
				return err
			}
			_, err = o.loadTable(ctx, s, b, tl, recs)
			o.rollback(ctx, s)
			if err == nil {
				return nil
			}
			if !isDataError(err) {
				return err
			}
		}
		if len(recs) == 1 {
			key := rejectKey{recs[0], tl.name.String()}
			if _, again := b.rejected[key]; again && tl.failures {
				// even the minimal row is refused: nothing more can be done
				b.dropped[recs[0]] = errorMessage(err)
				uuid, _ := recs[0].fvals[fUUID].Str()
				o.env.Log.Errorf("the failures table %s refused the failure row of event %q even without its raw event; it is dropped: %s",
					tl.name, cleanText(uuid), errorMessage(err))
				o.Stats.FailuresDropped.Add(1)
			} else {
				b.rejected[key] = errorMessage(err)
			}
			found++
			return nil
		}
		h := len(recs) / 2
		if err := probe(recs[:h], nil); err != nil {
			return err
		}
		return probe(recs[h:], nil)
	}
	var big *rowTooBig
	if errors.As(te.err, &big) {
		b.rejected[rejectKey{big.r, tl.name.String()}] = big.Error()
		return 1, nil
	}
	if err := probe(tl.recs, te.err); err != nil {
		return found, err
	}
	o.env.Log.Warnf("%d row(s) rejected by %s went to %s as %s: %s", found, tl.name, o.cfg.failures, failcode.LoadRejected, errorMessage(te.err))
	return found, nil
}
