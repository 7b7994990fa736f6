package rrdfile

/*
#cgo pkg-config: librrd
#include <stdlib.h>
#include <rrd.h>

static int gm_tune(int argc, char **argv, char *errbuf, size_t n) {
	rrd_clear_error();
	int rc = rrd_tune(argc, argv);
	if (rc != 0) {
		snprintf(errbuf, n, "%s", rrd_get_error());
	}
	rrd_clear_error();
	return rc;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// AddDS adds data sources to an existing file in place, keeping its
// history (their past values are unknown): `rrdtool tune FILE DS:...`,
// which librrd 1.7 does by writing a new file and renaming it over the
// old one. dss are rrdcreate DS:... arguments.
func (LibRRD) AddDS(path string, dss []string) error {
	args := append([]string{"tune", path}, dss...)
	argv := make([]*C.char, len(args))
	for i, a := range args {
		argv[i] = C.CString(a)
		defer C.free(unsafe.Pointer(argv[i]))
	}
	var buf [512]C.char
	if C.gm_tune(C.int(len(argv)), &argv[0], &buf[0], C.size_t(len(buf))) != 0 {
		return fmt.Errorf("add data sources to %s: %s", path, C.GoString(&buf[0]))
	}
	return nil
}
