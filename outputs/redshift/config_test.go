package redshift

import (
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// TestInitReportsEveryBadPropertyAtOnce: the loader's properties, its S3
// (awsconf) settings, the validate and metrics sets are read with one
// reader, so one Init names every bad property.
func TestInitReportsEveryBadPropertyAtOnce(t *testing.T) {
	_, err := newPlugin(plugin.Env{Name: "redshift.0", Log: &testenv.Log{}, Config: testenv.Config{
		"db_host": "h", "user": "u", "database": "d", "s3_bucket": "bucket",
		"batch_max_rows": "0",       // the loader's own
		"sts_endpoint":   "ftp://x", // awsconf (S3)
		"expand_limit":   "0",       // validate
		"metrics_port":   "-1",      // metrics
	}})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"batch_max_rows", "sts_endpoint", "expand_limit", "metrics_port"} {
		if !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

// TestS3UsesTheSharedAWSSettings: load_method copy reads the same AWS
// settings as the SQS plugins (assume-role included) under the names its
// users have.
func TestS3UsesTheSharedAWSSettings(t *testing.T) {
	c, err := parseConfig(testenv.Config{
		"db_host": "h", "user": "u", "database": "d", "s3_bucket": "bucket",
		"s3_region": "eu-west-1", "s3_endpoint": "http://127.0.0.1:9000", "role_arn": "arn:aws:iam::123456789012:role/w",
		"external_id": "x-1", "sts_endpoint": "http://127.0.0.1:9001",
	})
	if err != nil {
		t.Fatal(err)
	}
	s := c.s3
	if s.Region != "eu-west-1" || s.Endpoint != "http://127.0.0.1:9000" || s.RoleARN != "arn:aws:iam::123456789012:role/w" ||
		s.ExternalID != "x-1" || s.STSEndpoint != "http://127.0.0.1:9001" || s.SessionName != "whirlpool-redshift" {
		t.Errorf("S3 settings %+v", s)
	}
}

// TestDBPort reads db_port with its declared bounds, defaults it by dialect
// and refuses it beside dsn.
func TestDBPort(t *testing.T) {
	for _, tc := range []struct {
		cfg     testenv.Config
		want    string // in the DSN
		wantErr string
	}{
		{testenv.Config{"db_host": "h", "user": "u", "database": "d", "load_method": "insert"}, "port=5439", ""},
		{testenv.Config{"db_host": "h", "user": "u", "database": "d", "dialect": "postgres"}, "port=5432", ""},
		{testenv.Config{"db_host": "h", "user": "u", "database": "d", "dialect": "postgres", "db_port": "6543"}, "port=6543", ""},
		{testenv.Config{"db_host": "h", "user": "u", "database": "d", "dialect": "postgres", "db_port": "0"}, "", `property "db_port": invalid value "0": want an integer from 1 to 65535`},
		{testenv.Config{"dsn": "host=h user=u", "dialect": "postgres", "db_port": "6543"}, "", `property "db_port": set either dsn or db_host/db_port/user/database, not both`},
	} {
		c, err := parseConfig(tc.cfg)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: error %v, want %q", tc.cfg, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%v: %v", tc.cfg, err)
		case !strings.Contains(c.dsn, tc.want):
			t.Errorf("%v: dsn %q lacks %q", tc.cfg, c.redacted, tc.want)
		}
	}
}
