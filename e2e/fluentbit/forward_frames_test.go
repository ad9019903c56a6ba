package fluentbit

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/forward"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// BenchmarkForwardFrames measures what the real forward input costs per
// megabyte of records by the size of the Forward messages that carry them
// (PackedForward, each acknowledged before the next, as internal/forward
// sends them), into a null output: the engine's CPU milliseconds per MB.
// The forward input parses what it holds from the start again after every
// read from its socket, so a message much larger than a read costs it
// more than its size; forward.FrameMax (the sqs input's 4 MiB) and the
// eventing input's forwardFrame (1 MiB) say why each input sends its size.
func BenchmarkForwardFrames(b *testing.B) {
	bin := testenv.FluentBit(b)
	const total = 128 << 20
	for _, frame := range []int{forward.FrameMax, 1 << 20, 256 << 10, 64 << 10} {
		b.Run(sizeName(frame), func(b *testing.B) {
			records := frameOfRecords(frame)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dir := b.TempDir()
				sock := filepath.Join(dir, "fw.sock")
				cmd := exec.Command(bin, "-q", "-f", "0.05", "-i", "forward", "-p", "unix_path="+sock, "-o", "null", "-m", "*")
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				stop := func() { cmd.Process.Kill(); cmd.Wait() }
				var conn net.Conn
				waitFor(b, 10*time.Second, "the forward input's socket", func() (err error) {
					conn, err = net.Dial("unix", sock)
					return err
				})
				rd := msgp.NewReader(conn)
				cpu0 := processCPU(cmd.Process.Pid)
				b.StartTimer()
				sent := 0
				for seq := 0; sent < total; seq++ {
					id := strconv.Itoa(seq)
					msg := msgp.AppendArrayHeader(nil, 3)
					msg = msgp.AppendString(msg, "frames")
					msg = msgp.AppendBytes(msg, records)
					msg = msgp.AppendString(msgp.AppendString(msgp.AppendMapHeader(msg, 1), "chunk"), id)
					if _, err := conn.Write(msg); err != nil {
						stop()
						b.Fatalf("writing message %d: %v", seq, err)
					}
					if err := readForwardAck(rd, id); err != nil {
						stop()
						b.Fatalf("message %d: %v", seq, err)
					}
					sent += len(records)
				}
				b.StopTimer()
				time.Sleep(200 * time.Millisecond) // the null output's last flush
				cpu := processCPU(cmd.Process.Pid) - cpu0
				conn.Close()
				stop()
				b.ReportMetric(float64(cpu.Milliseconds())/float64(sent>>20), "engine-ms/MB")
			}
		})
	}
}

// frameOfRecords is records of about 300 bytes each (a map of eight short
// strings), as many as fit in size bytes.
func frameOfRecords(size int) []byte {
	body := msgp.AppendMapHeader(nil, 8)
	for i := 0; i < 8; i++ {
		body = msgp.AppendString(body, fmt.Sprintf("key%d", i))
		body = msgp.AppendString(body, strings.Repeat("v", 28))
	}
	one := record.AppendRecord(nil, time.Unix(1700000000, 0), nil, body)
	out := make([]byte, 0, size)
	for len(out)+len(one) <= size {
		out = append(out, one...)
	}
	return out
}

// readForwardAck reads the forward input's answer, {"ack": id}.
func readForwardAck(rd *msgp.Reader, id string) error {
	n, err := rd.ReadMapHeader()
	if err != nil {
		return fmt.Errorf("reading the acknowledgement: %w", err)
	}
	for ; n > 0; n-- {
		k, err := rd.ReadString()
		if err != nil {
			return err
		}
		v, err := rd.ReadString()
		if err != nil {
			return err
		}
		if k == "ack" && v != id {
			return fmt.Errorf("acknowledged %q, want %q", v, id)
		}
	}
	return nil
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return strconv.Itoa(n>>20) + "MiB"
	}
	return strconv.Itoa(n>>10) + "KiB"
}
