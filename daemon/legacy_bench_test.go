package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkImportLegacy imports 1,000 legacy files of a year of minutes
// each into an empty data_dir (import), against copying the same files
// (copy: the disk's floor for reading and writing them).
//
//	go test ./daemon -run '^$' -bench ImportLegacy -benchtime 1x -count 3
func BenchmarkImportLegacy(b *testing.B) {
	now := time.Now().Unix()
	end := now - now%60 - 15*60
	src := filepath.Join(b.TempDir(), "h__c__i.rrd")
	makeLegacyFile(b, src, end, 366*1440)
	const n = 1000
	dir := copyLegacy(b, src, n)
	b.Run("copy", func(b *testing.B) {
		for range b.N {
			dst := b.TempDir()
			if out, err := exec.Command("cp", "-r", dir, dst).CombinedOutput(); err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
			exec.Command("sync").Run()
		}
	})
	b.Run("import", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			dataDir := b.TempDir()
			cfg := filepath.Join(b.TempDir(), "gm.toml")
			os.WriteFile(cfg, []byte(testConfig(dataDir, "")), 0o644)
			b.StartTimer()
			out, err := exec.Command(graphmetricsBin(b), "import-legacy", "-config", cfg, dir).CombinedOutput()
			if err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
			b.StopTimer()
			os.RemoveAll(dataDir)
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
	})
}
