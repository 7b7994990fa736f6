package web

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// kinesalite is a local Kinesis-compatible server (contrib/kinesalite,
// installed by `make deps`) on a free loopback port, with a producer.
type kinesalite struct {
	url    string
	client *kinesis.Client
}

// awsEnv is what the daemon needs to talk to kinesalite through the
// standard AWS configuration chain: dummy keys, nothing from this
// machine's files.
func awsEnv(t testing.TB) []string {
	return []string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(t.TempDir(), "none"), "AWS_EC2_METADATA_DISABLED=true"}
}

func startKinesalite(t testing.TB) *kinesalite {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".deps", "kinesalite", "node_modules", "kinesalite", "index.js")); err != nil {
		t.Fatalf("kinesalite is not installed: run contrib/kinesalite/install.sh (make deps): %v", err)
	}
	cmd := exec.Command("node", filepath.Join(root, "contrib", "kinesalite", "run.js"),
		"--createStreamMs", "0", "--deleteStreamMs", "0", "--updateStreamMs", "0")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start kinesalite: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	port := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		port <- strings.TrimSpace(line)
		io.Copy(io.Discard, r) // never let the server block on a full pipe
	}()
	var p string
	select {
	case p = <-port:
	case <-time.After(20 * time.Second):
		t.Fatal("kinesalite did not report its port")
	}
	if p == "" {
		t.Fatal("kinesalite exited without a port")
	}
	k := &kinesalite{url: "http://127.0.0.1:" + p}
	k.client = kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(k.url),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	return k
}

func (k *kinesalite) createStream(t testing.TB, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := k.client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	waitUntil(t, 10*time.Second, "stream "+name+" active", func() bool {
		out, err := k.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
	})
}

// put sends records (JSON documents) in order.
func (k *kinesalite) put(t testing.TB, stream string, records []string) {
	t.Helper()
	in := &kinesis.PutRecordsInput{StreamName: aws.String(stream)}
	for _, r := range records {
		in.Records = append(in.Records, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte(r)})
	}
	out, err := k.client.PutRecords(context.Background(), in)
	if err != nil {
		t.Fatalf("put records: %v", err)
	}
	if n := aws.ToInt32(out.FailedRecordCount); n > 0 {
		t.Fatalf("put records: %d failed", n)
	}
}
