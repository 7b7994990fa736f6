package tail

import (
	"errors"
	"log/slog"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// maxWritten bounds the written paths remembered between two passes;
// beyond it the next pass simply rescans.
const maxWritten = 1024

// watcher turns file notifications on the globs' directories into wake-ups
// of the reader. Polling stays the ground truth: notifications only make
// new data arrive sooner.
type watcher struct {
	w    *fsnotify.Watcher
	log  *slog.Logger
	wake chan struct{}
	done chan struct{}

	mu      sync.Mutex
	rescan  bool
	written map[string]struct{}
}

func newWatcher(log *slog.Logger) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &watcher{w: fw, log: log, wake: make(chan struct{}, 1), done: make(chan struct{}),
		written: make(map[string]struct{})}
	go func() {
		defer close(w.done)
		w.run()
	}()
	return w, nil
}

func (w *watcher) run() {
	for {
		select {
		case ev, ok := <-w.w.Events:
			if !ok {
				return
			}
			w.mu.Lock()
			if ev.Op == fsnotify.Write && len(w.written) < maxWritten {
				w.written[ev.Name] = struct{}{}
			} else {
				w.rescan = true // created, renamed, removed, chmod: the file set may differ
			}
			w.mu.Unlock()
			select {
			case w.wake <- struct{}{}:
			default:
			}
		case err, ok := <-w.w.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.mu.Lock()
				w.rescan = true
				w.mu.Unlock()
				continue
			}
			w.log.Warn("file notifications", "err", err)
		}
	}
}

// take returns and resets what happened since the last call.
func (w *watcher) take() (rescan bool, written map[string]struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	rescan, written = w.rescan, w.written
	w.rescan, w.written = false, make(map[string]struct{})
	return rescan, written
}

// sync watches dirs. A directory deleted and created again lost its watch
// in the kernel, so the watch list is compared, not remembered.
func (w *watcher) sync(dirs []string, t *Tailer) {
	have := map[string]bool{}
	for _, d := range w.w.WatchList() {
		have[d] = true
	}
	for _, d := range dirs {
		if have[d] {
			continue
		}
		if err := w.w.Add(d); err != nil {
			t.limit.Log(w.log, "watch", "cannot watch directory (polling it)", "dir", d, "err", err)
		}
	}
}

func (w *watcher) close() {
	w.w.Close()
	<-w.done
}
