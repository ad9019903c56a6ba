package redshift

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"unsafe"

	"github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/internal/dsn"
)

// Executor is where the output's SQL goes, as text: the database, or (in
// tests of load_method copy, which only Amazon Redshift can run) a recorder
// of statements. Every statement the output sends passes through a Session.
type Executor interface {
	// Session returns one database session (temporary tables live in it).
	Session(ctx context.Context) (Session, error)
	Close() error
}

// Session runs statements on one connection.
type Session interface {
	// Exec runs one statement and returns the rows it affected.
	Exec(ctx context.Context, query string) (int64, error)
	// Query runs one query and returns its rows as text (NULL as "").
	Query(ctx context.Context, query string) ([][]string, error)
	// Close returns the connection (to its pool).
	Close() error
}

// copier is implemented by database sessions that can run COPY FROM STDIN.
type copier interface {
	// CopyIn runs query (COPY ... FROM STDIN) with the rows that rows
	// appends, block by block.
	CopyIn(ctx context.Context, query string, rows copyRows) error
}

// copyRows appends the next rows to dst, in PostgreSQL's text format, each
// ending in '\n', until dst holds about copyBlock bytes, and reports
// whether rows remain. Built a block at a time into one buffer, a batch's
// COPY data never exists whole: building all of it first cost a growing
// buffer of the batch's size (and its page faults) per table per batch.
type copyRows func(dst []byte) (out []byte, more bool)

// dbExecutor runs SQL on a database/sql pool with lib/pq.
type dbExecutor struct{ db *sql.DB }

func openDB(c *config) (*dbExecutor, error) {
	connector, err := pq.NewConnector(c.dsn)
	if err != nil {
		return nil, fmt.Errorf("database connection string %s: %v", c.redacted, dsn.RedactError(err, c.dsn))
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(2)
	return &dbExecutor{db: db}, nil
}

func (e *dbExecutor) Session(ctx context.Context) (Session, error) {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return &dbSession{conn: conn}, nil
}

func (e *dbExecutor) Close() error { return e.db.Close() }

type dbSession struct{ conn *sql.Conn }

func (s *dbSession) Exec(ctx context.Context, query string) (int64, error) {
	res, err := s.conn.ExecContext(ctx, query)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (s *dbSession) Query(ctx context.Context, query string) ([][]string, error) {
	rows, err := s.conn.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func (s *dbSession) Close() error { return s.conn.Close() }

// copyBlock is how much COPY data goes to lib/pq per call.
const copyBlock = 256 << 10

// CopyIn streams rows through lib/pq's COPY support without re-encoding:
// whole lines go in blocks (CopyData appends the final newline itself, and
// copies the block, so the buffer is reused).
func (s *dbSession) CopyIn(ctx context.Context, query string, rows copyRows) error {
	return s.conn.Raw(func(dc any) error {
		prep, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return errors.New("the driver cannot prepare COPY")
		}
		st, err := prep.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		cd, ok := st.(interface {
			CopyData(ctx context.Context, line string) (driver.Result, error)
		})
		if !ok {
			st.Close()
			return errors.New("the driver has no raw COPY data support")
		}
		buf := make([]byte, 0, copyBlock+copyBlock/4)
		for more := true; more; {
			buf, more = rows(buf[:0])
			if len(buf) == 0 {
				continue
			}
			block := buf[:len(buf)-1] // without the final '\n', which CopyData adds
			if _, err := cd.CopyData(ctx, unsafe.String(unsafe.SliceData(block), len(block))); err != nil {
				st.Close()
				return err
			}
		}
		ex, ok := st.(driver.StmtExecContext)
		if ok {
			_, err = ex.ExecContext(ctx, nil)
		} else {
			//lint:ignore SA1019 lib/pq's documented way to end COPY for drivers without ExecContext
			_, err = st.Exec(nil)
		}
		if err != nil {
			st.Close()
			return err
		}
		return st.Close()
	})
}
