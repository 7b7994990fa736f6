package main

import (
	"bufio"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// makeLegacyFile builds a legacy zc.graphmetrics file with rrdtool, exactly
// as its collecttracelogs.py defined it, holding minutes minutes ending at
// end (a multiple of 60): errors, restarts, gaps and unknown spr.
func makeLegacyFile(t testing.TB, path string, end int64, minutes int) {
	t.Helper()
	first := end - int64(minutes)*60 // minute M is written at M+60
	args := []string{"create", path, "--step", "60", "--start", strconv.FormatInt(first, 10)}
	for _, ds := range []string{"rpm", "epm", "bl", "spr", "start"} {
		args = append(args, "DS:"+ds+":GAUGE:120:U:U")
	}
	args = append(args, "RRA:AVERAGE:0.99:1:1600", "RRA:AVERAGE:0.99:5:2880", "RRA:AVERAGE:0.99:60:9600")
	if out, err := exec.Command("rrdtool", args...).CombinedOutput(); err != nil {
		t.Fatalf("rrdtool create: %v\n%s", err, out)
	}
	cmd := exec.Command("rrdtool", "-")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(in)
	n := 0
	for i := range minutes {
		if i%10007 < 300 && i > 0 { // five hours of silence now and then
			continue
		}
		if n%500 == 0 {
			if n > 0 {
				w.WriteString("\n")
			}
			w.WriteString("update " + path)
		}
		n++
		rpm := float64(i * 37 % 600)
		spr := "U"
		if i%13 != 0 && rpm > 0 {
			spr = strconv.FormatFloat(600+float64(i%250)+0.5, 'f', -1, 64)
		}
		start := 0
		if i%2011 == 0 {
			start = 1
		}
		fmt.Fprintf(w, " %d:%g:%g:%d:%s:%d", first+int64(i+1)*60, rpm, math.Mod(rpm, 7), i%4, spr, start)
	}
	w.WriteString("\n")
	w.Flush()
	in.Close()
	if err := cmd.Wait(); err != nil || strings.Contains(out.String(), "ERROR") {
		t.Fatalf("rrdtool update: %v\n%.2000s", err, out.String())
	}
}
