package testenv

import (
	"context"
	"io"
	"net/http/httptest"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 credentials and region the in-process server accepts (it accepts any).
const (
	S3AccessKey = "whirlpool-test"
	S3SecretKey = "whirlpool-test-secret"
	S3Region    = "us-east-1"
)

// S3Server is an in-process S3-compatible server (gofakes3, in memory) on
// 127.0.0.1, for path-style requests.
type S3Server struct {
	// Endpoint is the base URL, e.g. http://127.0.0.1:41234: the value for
	// a plugin's S3 endpoint property or AWS_ENDPOINT_URL_S3.
	Endpoint string
	// Client talks to the server with static credentials.
	Client *s3.Client
}

// S3 starts a server with the given buckets; it stops when the test ends.
func S3(t testing.TB, buckets ...string) *S3Server {
	t.Helper()
	backend := s3mem.New()
	faker := gofakes3.New(backend)
	srv := httptest.NewServer(faker.Server())
	t.Cleanup(srv.Close)
	s := &S3Server{Endpoint: srv.URL}
	s.Client = s3.New(s3.Options{
		Region:       S3Region,
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(S3AccessKey, S3SecretKey, ""),
	})
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatalf("testenv.S3: creating bucket %s: %v", b, err)
		}
	}
	return s
}

// SetEnv points the AWS SDK's default chain at the server for this test:
// static credentials, the region and the S3 endpoint, and no instance
// metadata lookups.
func (s *S3Server) SetEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", S3AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", S3SecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", S3Region)
	t.Setenv("AWS_ENDPOINT_URL_S3", s.Endpoint)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_PROFILE", "")
}

// Keys lists the object keys under prefix in bucket, sorted.
func (s *S3Server) Keys(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("testenv.S3: listing %s/%s: %v", bucket, prefix, err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	sort.Strings(keys)
	return keys
}

// Get returns an object's bytes.
func (s *S3Server) Get(t testing.TB, bucket, key string) []byte {
	t.Helper()
	out, err := s.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("testenv.S3: getting s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
