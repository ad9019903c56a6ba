package validate

import (
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// The model store is PostgreSQL only: a model_dsn naming an Amazon Redshift
// cluster or Serverless workgroup is refused at start, naming model_dsn,
// before any connection; PostgreSQL hosts (RDS, Aurora, local) pass.
func TestModelDSNRefusesRedshift(t *testing.T) {
	t.Setenv("PGHOST", "")
	for _, tc := range []struct {
		dsn      string
		redshift string // the host reported, "" when allowed
	}{
		{"postgres://u:p@analytics.abc123xyz.us-east-1.redshift.amazonaws.com:5439/dev", "analytics.abc123xyz.us-east-1.redshift.amazonaws.com"},
		{"postgresql://u@wg.123456789012.eu-west-1.redshift-serverless.amazonaws.com/dev?sslmode=verify-full", "wg.123456789012.eu-west-1.redshift-serverless.amazonaws.com"},
		{"host=c1.abc.cn-north-1.redshift.amazonaws.com.cn port=5439 dbname=dev", "c1.abc.cn-north-1.redshift.amazonaws.com.cn"},
		{"dbname=dev host='C1.ABC.US-WEST-2.REDSHIFT.AMAZONAWS.COM.' user=u", "C1.ABC.US-WEST-2.REDSHIFT.AMAZONAWS.COM."},
		{"user=u password='a host=x' host = wg.1.us-east-1.redshift-serverless.amazonaws.com", "wg.1.us-east-1.redshift-serverless.amazonaws.com"},
		{"postgres://u@models.abc.us-east-1.rds.amazonaws.com:5432/whirlpool", ""},
		{"host=127.0.0.1 dbname=whirlpool sslmode=disable", ""},
		{"postgres://u@x.redshift.amazonaws.com.example.org/db", ""},
		{"postgres://u@redshift.internal/db", ""},
		{"dbname=whirlpool", ""},
	} {
		if got := RedshiftHost(tc.dsn); got != tc.redshift {
			t.Errorf("RedshiftHost(%q) = %q, want %q", tc.dsn, got, tc.redshift)
		}
		r := Properties.Read(testenv.Config{"model_dsn": tc.dsn})
		ReadConfig(r)
		err := r.Err()
		if tc.redshift == "" {
			if err != nil {
				t.Errorf("model_dsn %q: %v", tc.dsn, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), `"model_dsn"`) || !strings.Contains(err.Error(), "Amazon Redshift") || !strings.Contains(err.Error(), "PostgreSQL") {
			t.Errorf("model_dsn %q: error %v, want one naming model_dsn, Amazon Redshift and PostgreSQL", tc.dsn, err)
		}
		if strings.Contains(tc.dsn, ":p@") && strings.Contains(err.Error(), ":p@") {
			t.Errorf("model_dsn %q: the error shows the password: %v", tc.dsn, err)
		}
		// The plugin refuses to start; so does whirlpool-model (OpenStore).
		if _, err := New(plugin.Env{Config: testenv.Config{"model_dsn": tc.dsn}}); err == nil || !strings.Contains(err.Error(), "model_dsn") {
			t.Errorf("New with model_dsn %q: %v, want an error naming model_dsn", tc.dsn, err)
		}
		if _, err := OpenStore(tc.dsn); err == nil || !strings.Contains(err.Error(), "Amazon Redshift") {
			t.Errorf("OpenStore(%q): %v, want the Redshift refusal", tc.dsn, err)
		}
	}
	// lib/pq takes the host from PGHOST when the DSN names none.
	t.Setenv("PGHOST", "c1.abc.us-east-1.redshift.amazonaws.com")
	if got := RedshiftHost("dbname=dev"); got != "c1.abc.us-east-1.redshift.amazonaws.com" {
		t.Errorf("RedshiftHost with PGHOST = %q", got)
	}
}

// A server behind a name that hides it (a proxy, private DNS) is refused
// at connect by what SELECT version() says.
func TestRedshiftVersionIsRecognised(t *testing.T) {
	for v, want := range map[string]bool{
		"PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 (Red Hat 3.4.2-6.fc3), Redshift 1.0.77467": true,
		"PostgreSQL 16.4 on x86_64-pc-linux-gnu, compiled by gcc (GCC) 12.4.0, 64-bit":                                              false,
		"PostgreSQL 15.4 (Debian 15.4-1.pgdg120+1) on x86_64-pc-linux-gnu":                                                          false,
	} {
		if got := isRedshiftVersion(v); got != want {
			t.Errorf("isRedshiftVersion(%q) = %v, want %v", v, got, want)
		}
	}
}
