package redshift

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/whirlpool-events/whirlpool/internal/awsconf"
)

// copyFileBytes bounds the uncompressed size of one staged file, so a big
// table's batch is split into several files Redshift loads in parallel.
const copyFileBytes = 32 << 20

// s3Stager writes the files of load_method copy.
type s3Stager struct {
	client *s3.Client
	bucket string
	prefix string
}

func newS3Stager(ctx context.Context, c *config) (*s3Stager, error) {
	cfg, err := c.s3.Config(ctx, awsconf.RegionFromURL(c.s3.Endpoint))
	if err != nil {
		return nil, fmt.Errorf("S3 for load_method copy: %w", err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if c.s3.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.s3.Endpoint)
			o.UsePathStyle = true
		}
	})
	return &s3Stager{client: client, bucket: c.s3Bucket, prefix: c.s3Prefix}, nil
}

func (s *s3Stager) url(key string) string { return "s3://" + s.bucket + "/" + key }

func (s *s3Stager) put(ctx context.Context, key string, body []byte, contentType string) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String(contentType),
	})
	if err != nil {
		return fmt.Errorf("writing %s: %w", s.url(key), err)
	}
	return nil
}

// rawEventsDir is where, under s3_prefix, the raw text of failures that
// raw_event (SUPER) cannot hold whole is kept (raw_event_s3_uri).
const rawEventsDir = "raw_events/"

// putRaw keeps a failure's raw text under its SHA-256 (so a retried
// batch writes the same object) and returns its s3:// URL.
func (s *s3Stager) putRaw(ctx context.Context, text []byte) (string, error) {
	sum := sha256.Sum256(text)
	key := s.prefix + rawEventsDir + hex.EncodeToString(sum[:])
	typ := "text/plain; charset=utf-8"
	if json.Valid(text) {
		typ = "application/json"
	}
	if err := s.put(ctx, key, text, typ); err != nil {
		return "", err
	}
	return s.url(key), nil
}

// stagedFile is one gzip'd JSON-lines file and the rows it holds.
type stagedFile struct {
	url   string
	first int // index of its first row in the table's rows
	rows  int
	size  int64 // bytes, compressed
}

// manifest is Redshift's COPY manifest.
type manifest struct {
	Entries []manifestEntry `json:"entries"`
}

type manifestEntry struct {
	URL       string       `json:"url"`
	Mandatory bool         `json:"mandatory"`
	Meta      manifestMeta `json:"meta"`
}

type manifestMeta struct {
	ContentLength int64 `json:"content_length"`
}

// jsonPaths is a COPY JSONPaths file: one path per column, in order.
type jsonPaths struct {
	JSONPaths []string `json:"jsonpaths"`
}

func gzipBytes(data []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func mustJSON(v any) []byte {
	b, _ := json.MarshalIndent(v, "", "  ")
	return append(b, '\n')
}
