package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"
)

// ErrNoDaemon means no daemon answers on the socket.
var ErrNoDaemon = errors.New("no daemon answers on the control socket")

// stopWait bounds how long Run waits for the daemon to end a command it
// was asked to stop.
const stopWait = 60 * time.Second

// Run has the daemon listening at path run a command, and logs the
// command's records to log as they come. When ctx ends, Run asks the
// daemon to stop the command and waits (up to a minute) for its last
// records; it returns ctx's error then.
func Run(ctx context.Context, path, command string, args []string, log *slog.Logger) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("%w (%s): %w", ErrNoDaemon, path, err)
	}
	uc := c.(*net.UnixConn)
	defer uc.Close()
	req, err := json.Marshal(Request{Command: command, Args: args})
	if err != nil {
		return err
	}
	if _, err := uc.Write(append(req, '\n')); err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	stop := context.AfterFunc(ctx, func() {
		uc.CloseWrite()
		uc.SetReadDeadline(time.Now().Add(stopWait))
	})
	defer stop()
	err = readRecords(bufio.NewReader(uc), log)
	return errors.Join(ctx.Err(), err)
}

// readRecords logs the records of r until the end record, whose error it
// returns.
func readRecords(r io.Reader, log *slog.Logger) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	for {
		var rec Record
		if err := dec.Decode(&rec); err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("the daemon ended the command without a result (stopped or killed?)")
			}
			return fmt.Errorf("control socket: %w", err)
		}
		if rec.End {
			if rec.Err != "" {
				return errors.New(rec.Err)
			}
			return nil
		}
		var level slog.Level
		if level.UnmarshalText([]byte(rec.Level)) != nil {
			level = slog.LevelInfo
		}
		attrs := make([]slog.Attr, 0, len(rec.Attrs))
		for _, a := range rec.Attrs {
			attrs = append(attrs, slogAttr(a))
		}
		log.LogAttrs(context.Background(), level, rec.Msg, attrs...)
	}
}
