package rpn

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ziutek/rrd"
)

// The fixture is one metric RRD (SPEC §4 shape: step 60, DS "value") with
// a few hours of values and a gap of unknowns, bound as s0, s1 and s2.
const (
	fixStart = 1700000000
	fixSteps = 300
)

var (
	fixFile string
	vnames  = []string{"s0", "s1", "s2"}
	bind3   = map[string]string{"a": "s0", "b": "s1", "c": "s2"}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rpn-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixFile = filepath.Join(dir, "m.rrd")
	err = makeFixture(fixFile)
	code := 1
	if err == nil {
		code = m.Run()
	} else {
		fmt.Fprintln(os.Stderr, err)
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func makeFixture(file string) error {
	if out, err := exec.Command("rrdtool", "create", file, "--start", strconv.Itoa(fixStart), "--step", "60",
		"DS:value:GAUGE:600:U:U", "RRA:AVERAGE:0.5:1:1000").CombinedOutput(); err != nil {
		return fmt.Errorf("rrdtool create: %v: %s", err, out)
	}
	args := []string{"update", file}
	for i := 1; i <= fixSteps; i++ {
		if i > 100 && i < 120 {
			continue // a gap: unknown values
		}
		args = append(args, fmt.Sprintf("%d:%d", fixStart+i*60, (i*7)%23-5))
	}
	if out, err := exec.Command("rrdtool", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("rrdtool update: %v: %s", err, out)
	}
	return nil
}

// cliArgs is the rrdtool xport command line for CDEF x = rpn over the
// fixture's three vnames.
func cliArgs(rpn string) []string {
	a := []string{"xport", "--json", "--start", strconv.Itoa(fixStart + 3000), "--end", strconv.Itoa(fixStart + 15000), "--step", "60"}
	for _, v := range vnames {
		a = append(a, "DEF:"+v+"="+fixFile+":value:AVERAGE")
	}
	return append(a, "CDEF:x="+rpn, "XPORT:x:x")
}

// rrdtoolCLI runs the real rrdtool command with the expression.
func rrdtoolCLI(rpn string) error {
	out, err := exec.Command("rrdtool", cliArgs(rpn)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("rrdtool xport CDEF:x=%s: %v: %s", rpn, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// librrd runs the expression through librrd in this process, as a render
// worker would (fast enough for fuzzing; a crash in librrd fails the test).
func librrd(rpn string) error {
	e := rrd.NewExporter()
	for _, v := range vnames {
		e.Def(v, fixFile, "value", "AVERAGE")
	}
	e.CDef("x", rpn)
	e.XportDef("x", "x")
	res, err := e.Xport(time.Unix(fixStart+3000, 0), time.Unix(fixStart+15000, 0), time.Minute)
	if err != nil {
		return fmt.Errorf("librrd xport CDEF:x=%s: %w", rpn, err)
	}
	res.FreeValues()
	return nil
}

// runtimeOnly are rrd errors that depend on values computed while running,
// which no static check can rule out; they are errors, not crashes.
func runtimeOnly(err error) bool {
	return err != nil && strings.Contains(err.Error(), "negative shift step not allowed")
}
