package testenv

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
)

// readmeRoleNames are the example names the README's "Database roles"
// section uses; LoaderRoles replaces them with per-test ones.
const (
	readmeLoader   = "whirlpool_loader"
	readmeReader   = "whirlpool_model_reader"
	readmeDatabase = "whirlpool"
)

// LoaderRoles creates, in the test's database, the two roles the README's
// "Database roles" section grants (the statements are read from the README,
// so the test proves what users copy): a loader with no rights on
// whirlpool_model and a read-only model reader. It returns their names
// (unique to the database); they are dropped when the test ends, after the
// test's later cleanups. db must be connected to the database as its owner,
// with the model store already applied (the grants cover its tables).
func LoaderRoles(t testing.TB, db *sql.DB) (loader, reader string) {
	t.Helper()
	stmts, err := readmeRoleStatements()
	if err != nil {
		t.Fatal(err)
	}
	var database string
	if err := db.QueryRow(`SELECT current_database()`).Scan(&database); err != nil {
		t.Fatalf("current_database(): %v", err)
	}
	suffix := strings.TrimPrefix(database, "whirlpool_test_")
	loader, reader = readmeLoader+"_"+suffix, readmeReader+"_"+suffix
	t.Cleanup(func() {
		for _, role := range []string{loader, reader} {
			_, _ = db.Exec(`DROP OWNED BY ` + role) // its tables in this database, its grants
			_, _ = db.Exec(`DROP ROLE ` + role)
		}
	})
	names := strings.NewReplacer(readmeReader, reader, readmeLoader, loader)
	onDatabase := regexp.MustCompile(`\bDATABASE ` + readmeDatabase + `\b`)
	for _, s := range stmts {
		s = names.Replace(s)
		s = onDatabase.ReplaceAllString(s, `DATABASE "`+database+`"`)
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("README's role statement %q: %v", s, err)
		}
	}
	return loader, reader
}

// readmeRoleStatements returns the SQL statements of the README's first sql
// block after "**Database roles.**", without passwords (the test server
// trusts local connections) and comments.
func readmeRoleStatements() ([]string, error) {
	root, err := flbhost.ModuleRoot()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		return nil, fmt.Errorf("reading the README: %w", err)
	}
	_, rest, ok := strings.Cut(string(b), "**Database roles.**")
	if !ok {
		return nil, fmt.Errorf("README.md has no \"**Database roles.**\" section")
	}
	_, rest, ok = strings.Cut(rest, "```sql\n")
	if !ok {
		return nil, fmt.Errorf("README.md: no sql block in \"Database roles\"")
	}
	block, _, _ := strings.Cut(rest, "```")
	password := regexp.MustCompile(` PASSWORD '[^']*'`)
	var out []string
	for _, s := range strings.Split(block, ";") {
		var lines []string
		for _, line := range strings.Split(s, "\n") {
			line, _, _ = strings.Cut(line, "--")
			if line = strings.TrimSpace(line); line != "" {
				lines = append(lines, line)
			}
		}
		if len(lines) > 0 {
			out = append(out, password.ReplaceAllString(strings.Join(lines, " "), ""))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("README.md: the \"Database roles\" sql block is empty")
	}
	return out, nil
}

// ModelStoreDigest is the content of every table of the model store
// (schema whirlpool_model) as one string: equal digests, unchanged store.
// The test fails if there is no store.
func ModelStoreDigest(t testing.TB, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'whirlpool_model' ORDER BY table_name`)
	if err != nil {
		t.Fatalf("listing the model store's tables: %v", err)
	}
	var tables []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, s)
	}
	rows.Close()
	if len(tables) == 0 {
		t.Fatal("no model store")
	}
	var out []string
	for _, tbl := range tables {
		var n int
		var d string
		if err := db.QueryRow(`SELECT count(*), coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM whirlpool_model.`+
			pq.QuoteIdentifier(tbl)+` x`).Scan(&n, &d); err != nil {
			t.Fatalf("digest of whirlpool_model.%s: %v", tbl, err)
		}
		out = append(out, fmt.Sprintf("%s:%d:%s", tbl, n, d))
	}
	return strings.Join(out, ",")
}
