package rrdfile

// #include <malloc.h>
import "C"

// librrd mallocs whole archives (creating a file, and in some updates).
// glibc's malloc raises its mmap threshold to the size of the largest
// block freed, so after the first such block every later one comes from
// the arena of the thread that asked, and stays resident there when freed:
// one archive's worth per thread that ever ran a librrd call.

// FixCHeap pins glibc's mmap threshold (which also stops the dynamic
// raising), so large blocks are mapped and unmapped on their own and
// freed memory returns to the OS. Call it once at start.
func FixCHeap() { C.mallopt(C.M_MMAP_THRESHOLD, 256<<10) }

// TrimCHeap hands the C heap's free memory back to the OS (glibc's
// malloc_trim, every arena).
func TrimCHeap() { C.malloc_trim(0) }
