package store

import "graphmetrics/store/hist"

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
	// URLs are the second's requests per URL pattern (issue 12; empty
	// when the aggregator has no URL statistics or nothing finished or
	// hung). They point into the aggregator's memory, like App.
	URLs []URLStat
}

// URLScheme is the app-time histogram scheme of the URL statistics: 59
// buckets per decade from 1 ms to 346 s, every percentile within 1.97%.
var URLScheme = hist.NewScheme(59, 300)

// UnknownURL is the pattern of requests whose B record was not seen (a
// log or a restart that began mid-request): their A still counts.
const UnknownURL = "?"

// URLStat is one URL pattern's requests in one second.
type URLStat struct {
	Pattern              string
	Count, Errors, Hangs uint32
	AppSumUS, AppMaxUS   uint64 // app times (A − C) in µs: sum and largest
	App                  []byte // URLScheme histogram (store/hist encoding); nil without app times
}

// DataSources are the tracelog RRD data-source names, in file order.
var DataSources = [...]string{"requests", "errors", "app_sum", "app_n", "waiting", "busy", "starts", "hung"}

// Point is one value of a generic metric (SPEC §5).
type Point struct {
	Time  int64 // Unix seconds
	Value float64
}
