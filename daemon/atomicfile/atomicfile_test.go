package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// Write creates the directory, replaces the file and leaves no temp file;
// a failure leaves the old content.
func TestWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "x.json")
	for _, content := range []string{"one", "two"} {
		if err := Write(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != content {
			t.Fatalf("content %q, want %q", got, content)
		}
	}
	if err := Write(filepath.Join(path, "under-a-file"), []byte("x")); err == nil {
		t.Fatal("no error writing under a plain file")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file", len(entries))
	}
}
