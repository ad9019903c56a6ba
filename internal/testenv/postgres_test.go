package testenv

import (
	"database/sql"
	"strings"
	"testing"
)

// Each call gives an empty database of its own that is gone after the test.
func TestPostgresFreshDatabase(t *testing.T) {
	var names []string
	t.Run("create", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			dsn := Postgres(t)
			db, err := sql.Open("postgres", dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var name string
			if err := db.QueryRow("SELECT current_database()").Scan(&name); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(name, "whirlpool_test_") {
				t.Fatalf("database %q", name)
			}
			if _, err := db.Exec("CREATE TABLE t (x int)"); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}
	})
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("want two distinct databases, got %v", names)
	}
	admin, err := sql.Open("postgres", PostgresServerDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, n := range names {
		var count int
		if err := admin.QueryRow("SELECT count(*) FROM pg_database WHERE datname = $1", n).Scan(&count); err != nil {
			t.Fatal(err)
		}
		if count != 0 {
			t.Errorf("database %s still exists after the test", n)
		}
	}
}
