package awsconf

import "testing"

// TestRegionFromURL covers the URL shapes AWS documents for SQS and S3
// endpoints, and emulator URLs that carry no region.
func TestRegionFromURL(t *testing.T) {
	for _, c := range []struct{ name, url, want string }{
		{"sqs", "https://sqs.us-east-2.amazonaws.com/123456789012/q", "us-east-2"},
		{"sqs fifo", "https://sqs.us-east-2.amazonaws.com/123456789012/q.fifo", "us-east-2"},
		{"legacy regional", "https://us-east-2.queue.amazonaws.com/123456789012/q", "us-east-2"},
		{"legacy us-east-1", "https://queue.amazonaws.com/123456789012/q", "us-east-1"},
		{"vpc endpoint", "https://vpce-0abc-xyz.sqs.us-east-2.vpce.amazonaws.com/123456789012/q", "us-east-2"},
		{"fips", "https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/q", "us-gov-west-1"},
		{"gov cloud", "https://sqs.us-gov-west-1.amazonaws.com/123456789012/q", "us-gov-west-1"},
		{"china", "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", "cn-north-1"},
		{"dualstack", "https://sqs.us-east-2.api.aws/123456789012/q", "us-east-2"},
		{"fips dualstack", "https://sqs-fips.us-east-2.api.aws/123456789012/q", "us-east-2"},
		{"upper case host", "https://SQS.EU-WEST-1.AMAZONAWS.COM/123456789012/q", "eu-west-1"},
		{"s3", "https://s3.eu-west-1.amazonaws.com", "eu-west-1"},
		{"s3 virtual host", "https://bucket.s3.eu-west-1.amazonaws.com", "eu-west-1"},
		{"bucket named like a region", "https://logs-us-west-2.s3.eu-west-1.amazonaws.com", "eu-west-1"},
		{"s3 dualstack", "https://bucket.s3.dualstack.eu-west-1.amazonaws.com", "eu-west-1"},
		{"s3 dash form", "https://s3-eu-west-1.amazonaws.com", "eu-west-1"},
		{"s3 global", "https://s3.amazonaws.com", ""},
		{"localstack regional", "http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/q", "us-east-1"},
		{"localstack", "http://localhost.localstack.cloud:4566/000000000000/q", ""},
		{"ip emulator", "http://127.0.0.1:4566/123456789012/q", ""},
		{"localhost emulator", "http://localhost:9324/queue/q", ""},
		{"not a url", "::not a url", ""},
		{"empty", "", ""},
	} {
		if got := RegionFromURL(c.url); got != c.want {
			t.Errorf("%s: RegionFromURL(%q) = %q, want %q", c.name, c.url, got, c.want)
		}
	}
}

func TestValidRegion(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"eu-west-1", true}, {"us-gov-west-1", true}, {"cn-north-1", true}, {"ap-southeast-3", true}, {"eusc-de-east-1", true},
		{"", false}, {"eu-west", false}, {"EU-WEST-1", false}, {"eu_west_1", false}, {"s3", false},
	} {
		if got := ValidRegion(c.s); got != c.want {
			t.Errorf("ValidRegion(%q) = %t, want %t", c.s, got, c.want)
		}
	}
}
