package store

// Key identifies an instance: SPEC §2 "(host, customer, instance)".
// The fields are raw names; paths are built from them with sanitizing.
type Key struct {
	Host, Customer, Instance string
}

// Bucket is one second [Time, Time+1) of one instance (SPEC §3).
type Bucket struct {
	Time     int64 // Unix seconds, start of the second
	Requests uint32
	Errors   uint32
	AppSum   float64 // seconds
	AppN     uint32
	Waiting  int32 // level at the end of the second
	Busy     int32 // level at the end of the second
	Starts   uint32
	// App is the histogram (store/hist, hist.Default, encoded) of the
	// application times counted in AppSum/AppN; nil when AppN is 0. It
	// points into the aggregator's memory: a Sink copies what it keeps.
	App  []byte
	Hung int32 // level at the end of the second: running longer than hung_after
}

// DataSources are the tracelog RRD data-source names, in file order.
var DataSources = [...]string{"requests", "errors", "app_sum", "app_n", "waiting", "busy", "starts", "hung"}

// Point is one value of a generic metric (SPEC §5).
type Point struct {
	Time  int64 // Unix seconds
	Value float64
}
