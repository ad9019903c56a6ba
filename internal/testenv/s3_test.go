package testenv_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// The copy path of the redshift output relies on: PutObject with path-style
// addressing, listing by prefix, reading back byte for byte, and a missing
// bucket being an error.
func TestS3StoresAndListsObjects(t *testing.T) {
	srv := testenv.S3(t, "stage")
	ctx := context.Background()
	body := []byte{0x1f, 0x8b, 0, 1, 2, 3}
	for _, k := range []string{"p/b.gz", "p/a.gz", "q/c"} {
		if _, err := srv.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("stage"), Key: aws.String(k), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.Keys(t, "stage", "p/"); len(got) != 2 || got[0] != "p/a.gz" || got[1] != "p/b.gz" {
		t.Fatalf("keys under p/ = %q", got)
	}
	if got := srv.Get(t, "stage", "p/a.gz"); !bytes.Equal(got, body) {
		t.Fatalf("object = %x, want %x", got, body)
	}
	if _, err := srv.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("nope"), Key: aws.String("k"), Body: bytes.NewReader(body)}); err == nil {
		t.Fatal("PutObject into a missing bucket succeeded")
	}
}
