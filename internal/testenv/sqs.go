package testenv

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/klauspost/compress/s2"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
)

// SQSAccountID is the account id in the emulator's queue URLs.
const SQSAccountID = "123456789012"

// SQSFixCommand is what provides the emulator on a machine that lacks it,
// run from the repository root.
const SQSFixCommand = "npm ci --prefix scripts/sqs"

// SQSServer is a running local-aws-sqs emulator on 127.0.0.1.
type SQSServer struct {
	// Endpoint is the emulator's base URL, e.g. http://127.0.0.1:41234: the
	// value for a plugin's endpoint property or AWS_ENDPOINT_URL_SQS.
	Endpoint string
	Port     int

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *sqsLog
	client *sqs.Client
}

// SQS starts the emulator (node scripts/sqs/server.js) with the given queues
// already created; a name ending in .fifo makes a FIFO queue. It stops when
// the test ends. Missing node or emulator packages fail the test with the
// command that provides them.
func SQS(t testing.TB, queues ...string) *SQSServer {
	t.Helper()
	root, err := flbhost.ModuleRoot()
	if err != nil {
		t.Fatalf("testenv.SQS: %v", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("testenv.SQS: node is not installed (want Node.js 18 or later on PATH; "+
			"on Debian: apt-get install -y nodejs npm), then run %q in %s", SQSFixCommand, root)
	}
	script := filepath.Join(root, "scripts", "sqs", "server.js")
	if _, err := os.Stat(filepath.Join(root, "scripts", "sqs", "node_modules", "local-aws-sqs", "package.json")); err != nil {
		t.Fatalf("testenv.SQS: the SQS emulator is not installed: run %q in %s", SQSFixCommand, root)
	}

	args := append([]string{script, "0"}, queues...)
	cmd := exec.Command(node, args...)
	cmd.Dir = root
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errBuf := &sqsLog{}
	cmd.Stderr = errBuf
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv.SQS: starting %s: %v", script, err)
	}
	s := &SQSServer{cmd: cmd, stdin: stdin, stderr: errBuf}
	t.Cleanup(s.stop)

	type ready struct {
		port int
		err  error
	}
	ch := make(chan ready, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, err := r.ReadString('\n')
		if err != nil {
			ch <- ready{err: fmt.Errorf("no ready line: %v", err)}
			return
		}
		var msg struct{ Port int }
		if err := json.Unmarshal([]byte(line), &msg); err != nil || msg.Port == 0 {
			ch <- ready{err: fmt.Errorf("bad ready line %q", line)}
			return
		}
		ch <- ready{port: msg.Port}
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case rd := <-ch:
		if rd.err != nil {
			t.Fatalf("testenv.SQS: emulator did not start: %v\nstderr:\n%s\n(if node_modules is stale, run %q)",
				rd.err, errBuf.String(), SQSFixCommand)
		}
		s.Port = rd.port
	case <-time.After(30 * time.Second):
		t.Fatalf("testenv.SQS: emulator did not report its port within 30s\nstderr:\n%s", errBuf.String())
	}
	s.Endpoint = "http://127.0.0.1:" + strconv.Itoa(s.Port)
	s.client = NewSQSClient(s.Endpoint)
	return s
}

// QueueURL returns the URL of the queue named name.
func (s *SQSServer) QueueURL(name string) string {
	return s.Endpoint + "/" + SQSAccountID + "/" + name
}

// Client returns an SQS client for the emulator (static fake credentials,
// region us-east-1).
func (s *SQSServer) Client() *sqs.Client { return s.client }

// Stderr returns what the emulator has written to its standard error.
func (s *SQSServer) Stderr() string { return s.stderr.String() }

// NewSQSClient returns an aws-sdk-go-v2 SQS client for endpoint with static
// fake credentials and region us-east-1, for tests that talk to the emulator
// through something in between (a fault-injecting proxy).
func NewSQSClient(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

func (s *SQSServer) stop() {
	// Closing stdin makes server.js exit; kill it if it does not.
	_ = s.stdin.Close()
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

type sqsLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *sqsLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 1<<20 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *sqsLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// DecodeBody decodes a compressed message body by its whirlpool.format
// (ndjson.gz.b64 or ndjson.s2.b64) into the lines' bytes, failing the test
// when the body is not that.
func DecodeBody(t testing.TB, format, body string) []byte {
	t.Helper()
	switch format {
	case "ndjson.gz.b64":
		return GunzipBase64(t, body)
	case "ndjson.s2.b64":
		raw, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			t.Fatalf("message body is not base64: %v", err)
		}
		plain, err := s2.Decode(nil, raw)
		if err != nil {
			t.Fatalf("message body is not an S2 block: %v", err)
		}
		return plain
	}
	t.Fatalf("message format %q is not a compressed one", format)
	return nil
}

// GunzipBase64 decodes a message body of the ndjson-gzip-base64 format
// (base64 of gzipped JSON lines) into the lines' bytes, failing the test
// when the body is not that.
func GunzipBase64(t testing.TB, body string) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		t.Fatalf("message body is not base64: %v", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("message body is not gzip: %v", err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("message body is not gzip: %v", err)
	}
	return plain
}
