package config

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"graphmetrics/store"
)

// Zone is a time zone written as an IANA name or "Local", loaded once when
// the config is decoded.
type Zone struct{ *time.Location }

// UnmarshalText loads the zone.
func (z *Zone) UnmarshalText(b []byte) error {
	loc, err := time.LoadLocation(string(b))
	if err != nil {
		return fmt.Errorf("unknown zone %q", b)
	}
	z.Location = loc
	return nil
}

// MarshalText writes the zone's name.
func (z Zone) MarshalText() ([]byte, error) { return []byte(z.Location.String()), nil }

// Level is a slog level written as debug, info, warn or error.
type Level struct{ slog.Level }

// UnmarshalText reads one of the four names.
func (l *Level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "debug":
		l.Level = slog.LevelDebug
	case "info":
		l.Level = slog.LevelInfo
	case "warn":
		l.Level = slog.LevelWarn
	case "error":
		l.Level = slog.LevelError
	default:
		return fmt.Errorf("%q is not debug, info, warn or error", b)
	}
	return nil
}

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) {
	return []byte(strings.ToLower(l.Level.String())), nil
}

// Archives are the tracelog archives, each written CF:STEP:SPAN
// (store.ParseArchive).
type Archives []store.Archive
