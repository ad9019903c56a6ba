package validate

import (
	"context"
	"fmt"
)

// Stamp returns a short text that changes whenever the store's content
// changes: the highest definition and mapping revision ids and the number
// of games and events. Nothing in the store is ever deleted and every
// write (Apply, Rollback) inserts rows under one lock, so a reader that
// caches a loaded model (the model studio) reloads only when the stamp
// differs, instead of reading the whole model on every request.
func (s *Store) Stamp(ctx context.Context) (string, error) {
	var defs, maps, games, events int64
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT coalesce(max(id), 0) FROM whirlpool_model.definition_versions),
		(SELECT coalesce(max(id), 0) FROM whirlpool_model.mapping_versions),
		(SELECT count(*) FROM whirlpool_model.games),
		(SELECT count(*) FROM whirlpool_model.events)`).Scan(&defs, &maps, &games, &events)
	if err != nil {
		return "", fmt.Errorf("model store: %w", err)
	}
	return fmt.Sprintf("%d/%d/%d/%d", defs, maps, games, events), nil
}
