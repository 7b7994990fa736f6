package store

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ziutek/rrd"
)

// LibRRD is the RRD implementation on librrd (cgo, ziutek/rrd). Creating
// and updating use librrd's reentrant calls; different files may be
// written concurrently, one file only by one goroutine.
type LibRRD struct{}

// Create refuses to overwrite an existing file, and removes what it left
// behind if librrd fails (a half-written file would block every retry).
func (LibRRD) Create(path string, step time.Duration, start int64, args []string) error {
	c := rrd.NewCreator(path, time.Unix(start, 0), uint(step/time.Second))
	for _, a := range args {
		f := strings.Split(a, ":")
		if len(f) < 3 {
			return fmt.Errorf("create %s: bad argument %q", path, a)
		}
		rest := make([]any, 0, len(f)-2)
		for _, x := range f[2:] {
			rest = append(rest, x)
		}
		switch f[0] {
		case "DS":
			c.DS(f[1], f[2], rest[1:]...)
		case "RRA":
			c.RRA(f[1], rest...)
		default:
			return fmt.Errorf("create %s: bad argument %q", path, a)
		}
	}
	if err := c.Create(false); err != nil {
		if !os.IsExist(err) {
			os.Remove(path)
		}
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

// Update passes all rows to one rrd_update call.
func (LibRRD) Update(path string, rows []string) error {
	if len(rows) == 0 {
		return nil
	}
	u := rrd.NewUpdater(path)
	for _, r := range rows {
		u.Cache(r)
	}
	if err := u.Update(); err != nil {
		return fmt.Errorf("update %s: %w", path, err)
	}
	return nil
}

func (LibRRD) LastUpdate(path string) (int64, time.Duration, error) {
	info, err := rrd.Info(path)
	if err != nil {
		return 0, 0, fmt.Errorf("info %s: %w", path, err)
	}
	last, ok1 := info["last_update"].(uint)
	step, ok2 := info["step"].(uint)
	if !ok1 || !ok2 || step == 0 {
		return 0, 0, fmt.Errorf("info %s: no last_update/step", path)
	}
	return int64(last), time.Duration(step) * time.Second, nil
}
