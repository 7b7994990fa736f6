// Package etc embeds the commented default configuration, so the binary runs
// without a config file and print-config can show it.
package etc

import _ "embed"

// DefaultConfig is etc/graphmetrics.toml.
//
//go:embed graphmetrics.toml
var DefaultConfig []byte
