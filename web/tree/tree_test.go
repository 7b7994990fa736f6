package tree

import (
	"fmt"
	"graphmetrics/store"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPoolName(t *testing.T) {
	for in, want := range map[string]string{
		"app-8080": "app-instances", "app8081": "app-instances", "zope_10001": "zope-instances",
		"worker3": "worker-workers", "worker-12": "worker-workers", "app-1": "app-workers",
		"instance": "", "8080": "", "app-123456": "", "": "",
	} {
		if got := PoolName(in); got != want {
			t.Errorf("PoolName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNatural(t *testing.T) {
	s := []string{"worker10", "worker2", "app-8081", "app-8080", "worker1", "a", "worker02x"}
	slices.SortFunc(s, Natural)
	want := []string{"a", "app-8080", "app-8081", "worker1", "worker2", "worker02x", "worker10"}
	if !slices.Equal(s, want) {
		t.Fatalf("got %q want %q", s, want)
	}
}

func touch(t *testing.T, root string, elems ...string) {
	t.Helper()
	p := filepath.Join(append([]string{root}, elems...)...)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTree(t *testing.T) {
	root := t.TempDir()
	touch(t, root, "h1", "acme", "app-8080.rrd")
	touch(t, root, "h1", "acme", "app-8081.rrd")
	touch(t, root, "h2", "acme", "app-8080.rrd")
	touch(t, root, "h2", "acme", "zeo.rrd")
	touch(t, root, "h2", "acme", "worker3.rrd")
	touch(t, root, "h1", "beta", "instance.rrd")
	touch(t, root, "h1", "beta", ".hidden.rrd")
	touch(t, root, "h1", "beta", "notes.txt")
	touch(t, root, "h1", "beta", "bad\\name.rrd")
	touch(t, root, ".tmp", "acme", "x.rrd")
	outside := t.TempDir()
	touch(t, outside, "c", "evil.rrd")
	if err := os.Symlink(outside, filepath.Join(root, "linked")); err != nil {
		t.Fatal(err)
	}

	now := time.Unix(1e9, 0)
	tr := New(Options{Root: root, Now: func() time.Time { return now }})
	s := tr.Get()
	var got []string
	for _, c := range s.Customers {
		for _, g := range c.Groups {
			var names []string
			for _, i := range g.Instances {
				names = append(names, g.Label(i))
			}
			got = append(got, fmt.Sprintf("%s/%s:%s=%s", c.Name, g.Kind, g.Name, strings.Join(names, ",")))
		}
	}
	want := []string{
		"acme/pool:app-instances=app-8080 on h1,app-8080 on h2,app-8081 on h1",
		"acme/host:h1=app-8080,app-8081", // port instances are under their host as well
		"acme/host:h2=app-8080,zeo",
		"acme/pool:worker-workers=worker3 on h2",
		"beta/host:h1=instance",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("tree:\n got %q\nwant %q", got, want)
	}
	if i := s.Instance("h2", "acme", "zeo"); i == nil || i.File != filepath.Join(root, "h2", "acme", "zeo.rrd") {
		t.Fatalf("Instance: %+v", i)
	}
	for _, k := range [][3]string{{"linked", "c", "evil"}, {"h1", "beta", "../beta/instance"}, {"..", "h1", "beta"}} {
		if tr.Instance(k[0], k[1], k[2]) != nil {
			t.Errorf("%q must not be an instance", k)
		}
	}

	// A new instance is found on a miss once the snapshot is MinAge old,
	// without waiting for MaxAge.
	touch(t, root, "h3", "beta", "new.rrd")
	if tr.Instance("h3", "beta", "new") != nil {
		t.Fatal("rebuilt before MinAge")
	}
	now = now.Add(3 * time.Second)
	if tr.Instance("h3", "beta", "new") == nil {
		t.Fatal("new instance not found after MinAge")
	}
	if g := tr.Group("acme", Pool, "app-instances"); g == nil || len(g.Instances) != 3 {
		t.Fatalf("Group: %+v", g)
	}
}

// TestTreeShowsOriginalNames: files are named by store's reversible escape
// (issue 11 row 10); the tree shows and looks up the original names.
func TestTreeShowsOriginalNames(t *testing.T) {
	data := t.TempDir()
	keys := []store.Key{
		{Host: "10.0.0.1", Customer: "coll", Instance: "coll:x"},
		{Host: "10.0.0.1", Customer: "coll", Instance: "coll_x"},
		{Host: "10.0.0.1", Customer: "coll", Instance: ".dot"},
		{Host: "10.0.0.1", Customer: "a b", Instance: "x/y"},
	}
	root := filepath.Join(data, "rrd", "tracelog")
	for _, k := range keys {
		rel, err := filepath.Rel(root, store.TracelogFile(data, k))
		if err != nil {
			t.Fatal(err)
		}
		touch(t, root, rel)
	}
	s := New(Options{Root: root}).Get()
	files := map[string]bool{}
	for _, k := range keys {
		name := k.Instance
		if name == "x/y" {
			name = "x%2Fy" // a slash cannot be shown in a name
		}
		i := s.Instance(k.Host, k.Customer, name)
		if i == nil {
			t.Fatalf("%+v not listed as %q; have %+v", k, name, s.Instances)
		}
		if i.File != store.TracelogFile(data, k) || files[i.File] {
			t.Errorf("%+v: file %s", k, i.File)
		}
		files[i.File] = true
	}
	if len(s.Instances) != len(keys) {
		t.Errorf("%d instances, want %d", len(s.Instances), len(keys))
	}
}
