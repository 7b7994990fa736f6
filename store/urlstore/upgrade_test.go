package urlstore

import (
	"compress/flate"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"graphmetrics/store"
	"graphmetrics/store/segfile"
)

// weekLayout makes this package write hour rows in week files with the
// prefix "h", as versions before day files did, until the returned func
// restores the levels.
func weekLayout() (restore func()) {
	saved := levels
	levels[lvHour] = levels[lvWeek]
	levels[lvWeek] = level{"unused", 3600, 7 * 86400, 400 * 86400}
	return func() { levels = saved }
}

// sparseReqs makes requests in a few seconds of every hour of [start,
// start+hours×3600).
func sparseReqs(r *rand.Rand, start int64, hours int) []req {
	var out []req
	for h := range int64(hours) {
		out = append(out, genReqs(r, start+h*3600+r.Int64N(3000), 4, 6)...)
	}
	return out
}

// checkRanges checks tables and hourly series of the ranges against reqs.
func checkRanges(t *testing.T, dataDir string, reqs []req, ranges [][2]int64) {
	t.Helper()
	DropCache()
	keys := []store.Key{keyA}
	for _, rg := range ranges {
		checkTable(t, dataDir, keys, reqs, rg[0], rg[1])
		for _, u := range []string{"/u1", "/u4"} {
			sr, err := Over(dataDir, keys, u, rg[0], rg[1], 3600)
			if err != nil {
				t.Fatal(err)
			}
			for i, row := range sr.R {
				f := sr.Start + int64(i)*sr.Step
				sameRow(t, fmt.Sprintf("over %s at %d", u, f), row, expect(reqs, f, f+sr.Step)[u])
			}
		}
	}
}

// TestWeekFilesUpgrade: a directory written with hour rows in week files
// (closed ones pattern-major and compressed whole, the open one plain with
// hours past its first day, an hour not summed yet) reads the same with
// day files, and further writes and a restart neither lose nor count
// twice an hour: the week files are read until they expire, day files
// hold only hours after the newest of them.
func TestWeekFilesUpgrade(t *testing.T) {
	const week = 7 * 86400
	dataDir := t.TempDir()
	dir := Dir(dataDir, keyA)
	r := rand.New(rand.NewPCG(12, 7))
	wk := int64(t0 - t0%week + week) // a week's start
	start := wk - 3*86400
	old := sparseReqs(r, start, (3+7+2)*24+13) // ends 13 hours into week 3's third day
	restore := weekLayout()
	write(t, New(Options{DataDir: dataDir}), keyA, buckets(old))
	// The weeks before the open one closed, as earlier versions did:
	// pattern-major, and the first one compressed whole (older ones).
	lv := levels[lvHour]
	segfile.RewriteOlder(dir, lv.Prefix, ".u", lv.Span, wk+week, func(plain string, seg int64) error {
		return segfile.Rewrite(plain, "c", func(data []byte) ([]byte, error) { return encodeCol(data, lv, seg) })
	}, func(path string, err error) { t.Fatal(path, err) })
	first := segPath(dir, levels[lvHour], wk-week)
	data, err := os.ReadFile(first + "c")
	var groups []byte
	if err == nil {
		groups, err = colGroups(data, levels[lvHour], wk-week)
	}
	if err == nil {
		err = os.WriteFile(first, groups, 0o644)
	}
	if err == nil {
		err = segfile.Compress(first, flate.DefaultCompression, func(d []byte) int { return len(d) })
	}
	if err == nil {
		err = os.Remove(first + "c")
	}
	if err != nil {
		t.Fatal(err)
	}
	end := old[len(old)-1].t + 1
	ranges := [][2]int64{
		{start, end}, {wk - 5*3600, wk + 30*3600}, {wk + 2*86400, wk + 3*86400},
		{wk + week, wk + week + 2*86400}, {end - 86400, end},
	}
	checkRanges(t, dataDir, old, ranges)
	restore()
	wantFiles(t, dir, []string{"h-*.uz", "h-*.uc", "h-*.u"}, []string{"hd-*"})

	// Read with day files, then written on, restarted and written on.
	checkRanges(t, dataDir, old, ranges)
	all := old
	for round, hours := range []int{40, 30} {
		more := sparseReqs(r, floorTo(end, 3600)+3600, hours)
		write(t, New(Options{DataDir: dataDir}), keyA, buckets(more))
		all = append(all, more...)
		end = all[len(all)-1].t + 1
		checkRanges(t, dataDir, all, append(ranges, [2]int64{start, end}, [2]int64{wk + week, end}, [2]int64{end - 86400, end}))
		if round == 0 { // the open week file is closed (pattern-major) like the others
			wantFiles(t, dir, []string{"h-*.uz", "h-*.uc", "hd-*.uc", "hd-*.u"}, []string{"h-*.u"})
		}
	}
}

// wantFiles checks that the patterns match some file of dir, and the
// others none.
func wantFiles(t *testing.T, dir string, some, none []string) {
	t.Helper()
	for _, p := range slices.Concat(some, none) {
		m, err := filepath.Glob(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if (len(m) > 0) != slices.Contains(some, p) {
			t.Errorf("files %s: %v", p, m)
		}
	}
}
