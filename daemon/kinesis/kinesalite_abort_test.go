//go:build cgo

package kinesis

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A client that goes away in the middle of a request (a daemon killed by
// the crash tests) must not take kinesalite down for the rest of the test:
// the library throws from the request's error listener, and
// contrib/kinesalite/run.js catches that one case.
func TestKinesaliteSurvivesAbortedRequest(t *testing.T) {
	k := startKinesalite(t)
	u, err := url.Parse(k.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-amz-json-1.1\r\n"+
		"X-Amz-Target: Kinesis_20131202.ListStreams\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n", u.Host)
	// "100 Continue" says the server is reading this request's body.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.Contains(line, " 100 ") {
		t.Fatalf("no 100 Continue: %q, %v", line, err)
	}
	fmt.Fprint(c, `{"Limit":`)
	c.Close()
	k.CreateStream(t, "after-abort", 1) // still serving
}
