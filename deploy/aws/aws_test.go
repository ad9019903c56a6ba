// Package aws_test checks the IAM policies and the S3 lifecycle rule of
// deploy/aws: each parses, grants exactly the actions its tier needs on the
// resources it names, and the staging prefix matches what the redshift
// output writes.
package aws_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/outputs/redshift"
)

type policy struct {
	Version   string
	Statement []statement
}

type statement struct {
	Sid       string
	Effect    string
	Principal map[string]any
	Action    []string
	Resource  any
	Condition map[string]any
}

func readJSON(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// stagingPrefix is the redshift output's default s3_prefix, under which
// the policies grant S3 access.
func stagingPrefix(t *testing.T) string {
	t.Helper()
	spec, ok := redshift.Properties.Lookup("s3_prefix")
	if !ok || spec.Default == "" {
		t.Fatal("the redshift output declares no default s3_prefix")
	}
	return spec.Default
}

// Each policy file grants exactly the actions its tier's plugins call,
// nothing with a wildcard action, only Allow, on the resources listed.
func TestPoliciesGrantExactlyWhatEachTierUses(t *testing.T) {
	prefix := stagingPrefix(t)
	queue := "arn:aws:sqs:REGION:ACCOUNT_ID:whirlpool-events"
	objects := "arn:aws:s3:::BUCKET/" + prefix + "*"
	cases := []struct {
		file string
		// action -> resource it is granted on
		want map[string]string
	}{
		// The sqs output calls SendMessageBatch, which sqs:SendMessage
		// authorises (SQS has no separate batch permissions).
		{"edge-policy.json", map[string]string{"sqs:SendMessage": queue}},
		// The sqs input calls ReceiveMessage, DeleteMessageBatch and
		// ChangeMessageVisibilityBatch; the redshift output (load_method
		// copy) PutObject's its files and manifests under s3_prefix.
		{"processor-policy.json", map[string]string{
			"sqs:ReceiveMessage":          queue,
			"sqs:DeleteMessage":           queue,
			"sqs:ChangeMessageVisibility": queue,
			"s3:PutObject":                objects,
		}},
		// With role_arn set, the processor's own credentials only assume
		// the role that carries processor-policy.json.
		{"processor-assume-role-policy.json", map[string]string{"sts:AssumeRole": "arn:aws:iam::ACCOUNT_ID:role/whirlpool-processor"}},
		// The role COPY runs with (iam_role) reads the staged files.
		{"redshift-copy-role-policy.json", map[string]string{
			"s3:GetObject":  objects,
			"s3:ListBucket": "arn:aws:s3:::BUCKET",
		}},
	}
	for _, c := range cases {
		var p policy
		readJSON(t, c.file, &p)
		if p.Version != "2012-10-17" {
			t.Errorf("%s: Version %q, want 2012-10-17", c.file, p.Version)
		}
		got := map[string]string{}
		for _, s := range p.Statement {
			if s.Effect != "Allow" {
				t.Errorf("%s: statement %s: Effect %q", c.file, s.Sid, s.Effect)
			}
			res, ok := s.Resource.(string)
			if !ok {
				t.Errorf("%s: statement %s: Resource %v, want one ARN", c.file, s.Sid, s.Resource)
			}
			for _, a := range s.Action {
				if strings.Contains(a, "*") {
					t.Errorf("%s: wildcard action %s", c.file, a)
				}
				if _, dup := got[a]; dup {
					t.Errorf("%s: %s granted twice", c.file, a)
				}
				got[a] = res
			}
			if slices.Contains(s.Action, "s3:ListBucket") {
				// ListBucket only under the staging prefix.
				want := map[string]any{"StringLike": map[string]any{"s3:prefix": []any{prefix + "*"}}}
				if b1, _ := json.Marshal(s.Condition); string(b1) != mustJSON(want) {
					t.Errorf("%s: s3:ListBucket condition %s, want %s", c.file, b1, mustJSON(want))
				}
			}
		}
		for a, r := range c.want {
			if got[a] != r {
				t.Errorf("%s: %s on %q, want on %q", c.file, a, got[a], r)
			}
		}
		for a := range got {
			if _, ok := c.want[a]; !ok {
				t.Errorf("%s grants %s, which its tier does not use", c.file, a)
			}
		}
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// The COPY role trusts Redshift (provisioned and Serverless) to assume it,
// and nothing else.
func TestCopyRoleTrustsRedshiftOnly(t *testing.T) {
	var p policy
	readJSON(t, "redshift-copy-role-trust.json", &p)
	if len(p.Statement) != 1 {
		t.Fatalf("redshift-copy-role-trust.json: %d statements, want 1", len(p.Statement))
	}
	s := p.Statement[0]
	if s.Effect != "Allow" || !slices.Equal(s.Action, []string{"sts:AssumeRole"}) || len(s.Principal) != 1 {
		t.Errorf("redshift-copy-role-trust.json: %+v", s)
	}
	if got := mustJSON(s.Principal["Service"]); got != `["redshift.amazonaws.com","redshift-serverless.amazonaws.com"]` {
		t.Errorf("redshift-copy-role-trust.json: Service principals %s", got)
	}
}

// The lifecycle rule expires the staged batches (<s3_prefix>YYYY/MM/DD/...,
// needed only while one load attempt runs: every attempt stages its files
// anew) and keeps raw_events/ (named by failure rows' raw_event_s3_uri)
// longer.
func TestLifecycleExpiresStagedBatchesNotRawEvents(t *testing.T) {
	prefix := stagingPrefix(t)
	var lc struct {
		Rules []struct {
			ID                             string
			Status                         string
			Filter                         struct{ Prefix string }
			Expiration                     struct{ Days int }
			NoncurrentVersionExpiration    struct{ NoncurrentDays int }
			AbortIncompleteMultipartUpload *struct{ DaysAfterInitiation int }
		}
	}
	readJSON(t, "s3-lifecycle.json", &lc)
	staged := prefix + time.Now().UTC().Format("2006/01/02") + "/batch/schema.table/part-00000.json.gz"
	rawEvent := prefix + "raw_events/0123abcd"
	expiry := func(key string) (days int) {
		for _, r := range lc.Rules {
			if r.Status != "Enabled" {
				t.Errorf("s3-lifecycle.json: rule %s is %s", r.ID, r.Status)
			}
			if r.Filter.Prefix == "" || r.Expiration.Days <= 0 {
				t.Errorf("s3-lifecycle.json: rule %s needs a prefix and Expiration.Days", r.ID)
			}
			// S3 honours the shortest of overlapping expirations.
			if strings.HasPrefix(key, r.Filter.Prefix) && (days == 0 || r.Expiration.Days < days) {
				days = r.Expiration.Days
			}
		}
		return days
	}
	s, r := expiry(staged), expiry(rawEvent)
	if s == 0 || s > 7 {
		t.Errorf("s3-lifecycle.json: staged file %s expires after %d days, want 1 to 7", staged, s)
	}
	if r == 0 || r < 30 {
		t.Errorf("s3-lifecycle.json: raw event %s expires after %d days, want a rule of its own of at least 30", rawEvent, r)
	}
}
