// Package rrdretry retries a librrd read that met the daemon's writer.
//
// librrd's fetch, xport and graph take a shared fcntl lock on every file
// they read and give up at once ("could not lock RRD") when the writer
// holds its exclusive lock for an update, which lasts a few milliseconds.
// On a busy daemon a chart would then show an error now and then; a read
// is instead tried again a few times, with a short growing pause.
package rrdretry

import (
	"github.com/ziutek/rrd"

	"strings"
	"time"
)

// Attempts is how often a locked read is tried in all (about 0.6 s of
// pauses before the last).
const Attempts = 6

// Locked says whether err is librrd's lock refusal.
func Locked(err error) bool {
	return err != nil && strings.Contains(err.Error(), "could not lock RRD")
}

// Do runs read until it succeeds, fails otherwise, or was locked out
// Attempts times.
func Do(read func() error) error {
	pause := 10 * time.Millisecond
	for i := 1; ; i++ {
		err := read()
		if !Locked(err) || i == Attempts {
			return err
		}
		time.Sleep(pause)
		pause *= 2
	}
}

// Fetch is rrd.Fetch, tried again while the writer holds the file's lock.
func Fetch(file, cf string, start, end time.Time, step time.Duration) (res rrd.FetchResult, err error) {
	err = Do(func() (err error) {
		res, err = rrd.Fetch(file, cf, start, end, step)
		return err
	})
	return res, err
}
