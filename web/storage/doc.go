// Package storage is the web UI's SQLite database (SPEC §4's
// graphmetrics.db under data_dir): local accounts (bcrypt hashes, and a
// generation that a password change bumps to end older sessions), pages of
// charts, and the scs sessions. It holds every SQL statement of the UI;
// the web handlers use it through web.Store, and the daemon's `user`
// command through DB's methods.
package storage
