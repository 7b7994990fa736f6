// Package sampletest holds what tests need of the shared tracelog sample
// (testdata/zservertracelog-sample.log at the repository's root, 209 lines of one Zope
// instance on 2009-07-30): its lines and its per-minute values, derived by
// hand from SPEC §3, so every test that checks them checks the same facts.
package sampletest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Minute is one minute of the sample (times read as UTC).
type Minute struct {
	At       string // "15:MM" on 2009-07-30
	Requests uint32
	Errors   uint32
	AppN     uint32
	AppSum   float64 // seconds
	Waiting  int32   // level at the minute's last bucket
	Busy     int32
}

// Minutes was derived by reading testdata/zservertracelog-sample.log line
// by line and applying SPEC §3 by hand (not with this package):
//   - requests: the A lines whose timestamp falls in the minute; errors: those
//     with data starting with 5 (only line 32, "500 84", at 15:49:25).
//   - app_n / app_sum: every A in the log has a C for its RID (line 1's C at
//     15:47:18.436894 belongs to line 3's A), so app_n = requests; app_sum is
//     the sum of A−C, booked in the A's minute. E.g. 15:47: 2.912186 (lines
//     1/3) + 0.638260 (7/8); 15:48: 60.003431 (12/13, A a minute after C) +
//     0.003474 + 0.003523; 15:49: 62.418440 (27/32, the 500) + 0.003836 +
//     0.252708 + 0.003325; 15:50: 0.190123 + 0.015669; 15:51: 60.134272 +
//     0.184486 + 0.017693 + 0.003967 + 0.003514 + 0.004232; 15:52: 0.003211 +
//     9.693661 + 0.003794 + 0.319940 + 0.003372 + 8.299530 + 0.003526;
//     15:53: 0.003385 + 7.339574 + 61.502412 + 0.350755 + 0.016141 +
//     0.003776 + 0.181654 + 0.003542 + 0.015727 + 0.015290 + 0.879732;
//     15:54: 0.137797 + 0.003526 + 0.003645 + 0.003092 + 0.132899 + 0.003540.
//   - waiting at the minute's last second: RIDs with I and no C yet.
//     15:48:59: -1447142132 (I 15:48:22, C 15:49:25). 15:51:59: -1451735092.
//     15:52:59: -1450432916. 15:53:59: -1448404052, -1459223188. The log ends
//     at 15:54:56 (no bucket after the last record for old timestamps), where
//     -1451986836 waits.
//   - busy: RIDs with C and no A. -1302919956 (C 15:50:25) never gets an A;
//     15:47 and 15:48 end with one request in the application, 15:50 with
//     -1449313684 too, 15:52 with -1452077108.
//
// Totals: 41 requests (41 A lines), 1 error, app_n 41.
var Minutes = []Minute{
	{"15:47", 2, 0, 2, 3.550446, 0, 1},
	{"15:48", 3, 0, 3, 60.010428, 1, 1},
	{"15:49", 4, 1, 4, 62.678309, 0, 0},
	{"15:50", 2, 0, 2, 0.205792, 0, 2},
	{"15:51", 6, 0, 6, 60.348164, 1, 1},
	{"15:52", 7, 0, 7, 18.327034, 1, 2},
	{"15:53", 11, 0, 11, 70.311988, 2, 1},
	{"15:54", 6, 0, 6, 0.284499, 1, 1},
}

// Path finds the sample in the repository's testdata/ folder, from any
// package directory of the module.
func Path(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for ; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "zservertracelog-sample.log")
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("go.mod not found above the working directory")
		}
	}
}

// Lines are the sample's 209 lines, without newlines.
func Lines(t testing.TB) []string {
	t.Helper()
	raw, err := os.ReadFile(Path(t))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
}
