package awsconf

import "testing"

func TestRegionFromURL(t *testing.T) {
	for url, want := range map[string]string{
		"https://sqs.eu-west-1.amazonaws.com/123456789012/events": "eu-west-1",
		"https://sqs.us-gov-west-1.amazonaws.com/1/q":             "us-gov-west-1",
		"https://sqs.cn-north-1.amazonaws.com.cn/1/q":             "cn-north-1",
		"http://127.0.0.1:4566/123456789012/events":               "",
		"https://queue.amazonaws.com/123/q":                       "",
		"::not a url":                                             "",
	} {
		if got := RegionFromURL(url); got != want {
			t.Errorf("%s: %q, want %q", url, got, want)
		}
	}
}
