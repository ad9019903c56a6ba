package redshift

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/awsconf"
	"github.com/whirlpool-events/whirlpool/internal/dsn"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/props"
)

// Properties are the redshift output's properties, in README order.
var Properties = props.Join(props.Set{
	{Name: "dsn", Type: props.String, Meaning: "Connection string (postgres:// URL or key=value pairs); replaces db_host, db_port, user, password, database and sslmode.", Secret: true},
	{Name: "db_host", Type: props.String, Meaning: "Database host (the cluster or workgroup endpoint); required without dsn. (Fluent Bit keeps `host` for itself.)"},
	{Name: "db_port", Type: props.Int, Min: 1, Max: 65535, Meaning: "Database port; default 5439 with dialect redshift, 5432 with postgres. (Fluent Bit keeps `port` for itself.)"},
	{Name: "user", Type: props.String, Meaning: "Database user; required without dsn."},
	{Name: "password", Type: props.String, Meaning: "Database password.", Secret: true},
	{Name: "password_env", Type: props.String, Meaning: "Name of an environment variable holding the password (instead of password)."},
	{Name: "password_file", Type: props.String, Meaning: "File holding the password (trailing newline ignored; instead of password)."},
	{Name: "database", Type: props.String, Meaning: "Database name; required without dsn."},
	{Name: "sslmode", Type: props.Enum, Allowed: []string{"disable", "require", "verify-ca", "verify-full"}, Meaning: "TLS to the database: disable, require (encrypted, server not verified), verify-ca or verify-full; default verify-full with dialect redshift (the certificate is checked against the system's CAs, which include Amazon's), require with postgres."},
	{Name: "connect_timeout", Type: props.Duration, MinDur: time.Second, MaxDur: 10 * time.Minute, Default: "10s", Meaning: "Longest wait for a database connection."},
	{Name: "load_timeout", Type: props.Duration, MinDur: time.Second, MaxDur: 24 * time.Hour, Default: "10m", Meaning: "Longest time one batch (its whole transaction) may take before it is abandoned and retried."},
	{Name: "dialect", Type: props.Enum, Allowed: []string{"redshift", "postgres"}, Default: "redshift", Meaning: "redshift: only SQL Amazon Redshift accepts (SUPER for JSON columns); postgres: PostgreSQL (text for JSON columns)."},
	{Name: "load_method", Type: props.Enum, Allowed: []string{methodCopy, methodInsert, methodPgCopy}, Meaning: "copy (gzip'd JSON files on S3 + COPY, Redshift only), insert (multi-row INSERT, both dialects) or pg_copy (COPY FROM STDIN, PostgreSQL only); default copy with dialect redshift, pg_copy with postgres."},
	{Name: "s3_bucket", Type: props.String, Meaning: "copy: bucket for the staged files and manifests; required with load_method copy."},
	{Name: "s3_prefix", Type: props.String, Default: "whirlpool/", Meaning: "copy: key prefix of staged objects."},
}, s3AWS.Properties(), props.Set{
	{Name: "iam_role", Type: props.String, Default: "default", Meaning: "copy: IAM role ARN Redshift uses to read S3 (COPY ... IAM_ROLE); default: the cluster's default role."},
	{Name: "copy_credentials", Type: props.String, Meaning: "copy: a COPY CREDENTIALS string (e.g. aws_access_key_id=...;aws_secret_access_key=...) used instead of iam_role.", Secret: true},
	{Name: "failures_table", Type: props.String, Default: "failures.events", Meaning: "schema.table that receives failure rows."},
	{Name: "auto_create", Type: props.Bool, Default: "off", Meaning: "on: create missing schemas and tables and add missing columns; off: such records become failure rows."},
	{Name: "dedupe", Type: props.Bool, Default: "on", Meaning: "on: an event (uuid, expand_index) already in its table is not loaded again, across chunks and retries."},
	{Name: "batch_max_rows", Type: props.Int, Min: 1, Max: 10_000_000, Default: "50000", Meaning: "Most rows (one per destination of each record, failures included) in one batch, i.e. one transaction; a single chunk is never split."},
	{Name: "batch_max_bytes", Type: props.Size, Min: 1024, Max: 4 << 30, Default: "64M", Meaning: "Most record bytes (msgpack) in one batch."},
	{Name: "batch_max_wait", Type: props.Duration, MinDur: 0, MaxDur: time.Hour, Meaning: "Longest a flush waits for others to share its batch (only while other workers may still bring records); default 60s with dialect redshift (few large transactions: each commit is costly there, so batches are cut by batch_max_rows and batch_max_bytes), 2s with postgres."},
	{Name: "max_load_attempts", Type: props.Int, Min: 1, Max: 100, Default: "3", Meaning: "How many times one batch tries a table whose load the database refuses without naming the rows at fault (a data or COPY load error that bisection or the load error table cannot isolate) before that table's rows become LOAD_REJECTED failure rows with the database's message. Outages and conflicts with other loaders are retried without limit."},
})

// s3AWS are the AWS settings of load_method copy: the same properties and
// client code as the SQS plugins', under the names users already have
// (s3_region, s3_endpoint, role_arn).
var s3AWS = awsconf.Use{
	Names:           awsconf.Names{Region: "s3_region", Endpoint: "s3_endpoint", RoleARN: "role_arn", ExternalID: "external_id", SessionName: "role_session_name", STSEndpoint: "sts_endpoint"},
	Prefix:          "copy: ",
	RegionMeaning:   "the bucket's region (also sent as COPY ... REGION); default: the region in s3_endpoint, else the AWS environment.",
	EndpointMeaning: "custom S3 endpoint URL (path-style), e.g. an S3-compatible server.",
	SessionDefault:  "whirlpool-redshift",
}

// Dialect is the SQL flavour the output speaks.
type Dialect int

// Dialects.
const (
	Redshift Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "redshift"
}

// Load methods.
const (
	methodCopy   = "copy"
	methodInsert = "insert"
	methodPgCopy = "pg_copy"
)

type config struct {
	dsn            string // full DSN, secrets included: never log
	redacted       string // for messages
	connectTimeout time.Duration
	loadTimeout    time.Duration
	dialect        Dialect
	method         string

	s3Bucket, s3Prefix       string
	s3                       awsconf.Settings
	iamRole, copyCredentials string

	failures   tableName
	autoCreate bool
	dedupe     bool

	maxRows  int
	maxBytes int64
	maxWait  time.Duration

	maxLoadAttempts int
}

var s3BucketRe = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// parseConfig reads the loader's properties alone (Properties).
func parseConfig(cfg plugin.Config) (*config, error) {
	r := Properties.Read(cfg)
	c := readConfig(r)
	if err := r.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// CheckConfig reads and checks the loader's properties (Properties) as the
// output does at start, without connecting, and returns the dialect, the
// load method and the connection string with its password redacted; for
// tests of the shipped pipelines.
func CheckConfig(cfg plugin.Config) (d Dialect, method, redactedDSN string, err error) {
	c, err := parseConfig(cfg)
	if err != nil {
		return 0, "", "", err
	}
	return c.dialect, c.method, c.redacted, nil
}

// readConfig reads the loader's properties from r, whose set includes
// Properties, recording every problem on r.
func readConfig(r *props.Reader) *config {
	c := &config{}

	switch r.Enum("dialect") {
	case "postgres":
		c.dialect = Postgres
	default:
		c.dialect = Redshift
	}
	c.method = r.Enum("load_method")
	if c.method == "" {
		c.method = methodCopy
		if c.dialect == Postgres {
			c.method = methodPgCopy
		}
	}
	switch {
	case c.method == methodPgCopy && c.dialect == Redshift:
		r.Fail("load_method", "pg_copy (COPY FROM STDIN) does not exist on Amazon Redshift: with dialect redshift use copy or insert")
	case c.method == methodCopy && c.dialect == Postgres:
		r.Fail("load_method", "copy loads from S3, which PostgreSQL cannot do: with dialect postgres use pg_copy or insert")
	}

	c.connectTimeout = r.Duration("connect_timeout")
	c.loadTimeout = r.Duration("load_timeout")
	sslmode := r.Enum("sslmode")
	if sslmode == "" {
		// Redshift endpoints carry certificates of a public CA, so the
		// server can be verified by default; a local PostgreSQL usually
		// has a self-signed one.
		sslmode = "require"
		if c.dialect == Redshift {
			sslmode = "verify-full"
		}
	}

	password := r.String("password")
	hasTimeout := false
	if env := r.String("password_env"); env != "" {
		if password != "" {
			r.Fail("password_env", "set only one of password, password_env and password_file")
		}
		v, ok := os.LookupEnv(env)
		if !ok {
			r.Fail("password_env", "environment variable %q is not set", env)
		}
		password = v
	}
	if file := r.String("password_file"); file != "" {
		if password != "" || r.String("password_env") != "" {
			r.Fail("password_file", "set only one of password, password_env and password_file")
		}
		b, err := os.ReadFile(file)
		if err != nil {
			r.Fail("password_file", "cannot read %q: %v", file, errWithoutContent(err))
		}
		password = strings.TrimRight(string(b), "\r\n")
	}

	if userDSN := r.String("dsn"); userDSN != "" {
		for _, p := range []string{"db_host", "db_port", "user", "database"} {
			if r.IsSet(p) {
				r.Fail(p, "set either dsn or db_host/db_port/user/database, not both")
			}
		}
		if strings.HasPrefix(userDSN, "postgres://") || strings.HasPrefix(userDSN, "postgresql://") {
			if _, err := url.Parse(userDSN); err != nil {
				r.Fail("dsn", "not a valid postgres:// URL")
			}
		} else if !strings.Contains(userDSN, "=") {
			r.Fail("dsn", "want a postgres:// URL or key=value pairs")
		}
		c.dsn = userDSN
		hasTimeout = strings.Contains(userDSN, "connect_timeout")
		if password != "" {
			c.dsn = dsn.Append(c.dsn, "password", password)
		}
		if r.IsSet("sslmode") {
			c.dsn = dsn.Append(c.dsn, "sslmode", sslmode)
		}
	} else {
		host := r.Required("db_host")
		user := r.Required("user")
		db := r.Required("database")
		port := 5439
		if c.dialect == Postgres {
			port = 5432
		}
		if r.IsSet("db_port") {
			port = r.Int("db_port")
		}
		kv := []string{"host", host, "port", strconv.Itoa(port), "user", user, "dbname", db, "sslmode", sslmode}
		if password != "" {
			kv = append(kv, "password", password)
		}
		for i := 0; i < len(kv); i += 2 {
			c.dsn = dsn.Append(c.dsn, kv[i], kv[i+1])
		}
	}
	if c.dsn != "" && !hasTimeout { // the user DSN's own, not one in a password
		c.dsn = dsn.Append(c.dsn, "connect_timeout", strconv.Itoa(max(1, int(c.connectTimeout/time.Second))))
	}
	c.redacted = dsn.Redact(c.dsn)

	c.s3Bucket = r.String("s3_bucket")
	c.s3Prefix = r.String("s3_prefix")
	c.s3 = s3AWS.Read(r)
	c.iamRole = r.String("iam_role")
	c.copyCredentials = r.String("copy_credentials")
	if c.method == methodCopy {
		if c.s3Bucket == "" {
			r.Fail("s3_bucket", "is required with load_method copy")
		} else if !s3BucketRe.MatchString(c.s3Bucket) {
			r.Fail("s3_bucket", "invalid bucket name %q", c.s3Bucket)
		}
		if strings.ContainsAny(c.s3Prefix, "'\\\n\r") || strings.HasPrefix(c.s3Prefix, "/") {
			r.Fail("s3_prefix", "invalid value %q: no quotes, backslashes, newlines or leading /", c.s3Prefix)
		}
		if c.s3Prefix != "" && !strings.HasSuffix(c.s3Prefix, "/") {
			c.s3Prefix += "/"
		}
		if !validRegion(c.s3.Region) {
			r.Fail("s3_region", "invalid value %q: want a region such as eu-west-1", c.s3.Region)
		}
		if c.iamRole != "default" && !iamRoleRe.MatchString(c.iamRole) {
			r.Fail("iam_role", "invalid value %q: want default or role ARNs (arn:aws:iam::123456789012:role/name, comma-separated for a chain)", c.iamRole)
		}
		if strings.ContainsAny(c.copyCredentials, "'\\\n\r") {
			r.Fail("copy_credentials", "must not contain quotes, backslashes or newlines")
		}
	}

	ft, err := parseTableName(r.String("failures_table"))
	if err != nil {
		r.Fail("failures_table", "%v", err)
	}
	c.failures = ft
	c.autoCreate = r.Bool("auto_create")
	c.dedupe = r.Bool("dedupe")
	c.maxRows = r.Int("batch_max_rows")
	c.maxBytes = r.Size("batch_max_bytes")
	c.maxWait = 2 * time.Second
	if c.dialect == Redshift {
		c.maxWait = time.Minute
	}
	if r.IsSet("batch_max_wait") {
		c.maxWait = r.Duration("batch_max_wait")
	}
	c.maxLoadAttempts = r.Int("max_load_attempts")
	return c
}

var (
	iamRoleRe = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]+(,arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]+)*$`)
)

// validRegion accepts an unset region (the AWS environment's) or one of
// the shape awsconf parses from URLs.
func validRegion(s string) bool { return s == "" || awsconf.ValidRegion(s) }

// errWithoutContent keeps os errors (which never carry file content).
func errWithoutContent(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("%s: %v", pe.Op, pe.Err)
	}
	return err
}
