package rpn

// The vocabulary is rrdtool 1.7.2's CDEF RPN (man rrdgraph_rpn, checked
// against the installed rrdtool by rrdtool_test.go), minus what 1.7.2 gets
// wrong. Each operator has a shape that says how it uses the stack.
type shape int

const (
	fixed     shape = iota // pops in, pushes out
	reduce                 // n,OP: pops n values and the count, pushes 1 (AVG …)
	inPlace                // n,OP: reorders the top n values, pops the count (SORT, REV)
	percent                // p,n,PERCENT: pops n values, p and the count, pushes 1
	copyTop                // n,COPY: pushes copies of the top n values
	index                  // n,INDEX: pushes the n-th value from the top
	trend                  // name,seconds,TREND
	predict                // shifts…,n,window,name,PREDICT
	predictPc              // shifts…,n,window,percentile,name,PREDICTPERC
)

type op struct {
	shape   shape
	in, out int // for fixed
}

var ops = map[string]op{
	"+": {fixed, 2, 1}, "-": {fixed, 2, 1}, "*": {fixed, 2, 1}, "/": {fixed, 2, 1}, "%": {fixed, 2, 1},
	"ADDNAN": {fixed, 2, 1}, "POW": {fixed, 2, 1}, "ATAN2": {fixed, 2, 1},
	"SIN": {fixed, 1, 1}, "COS": {fixed, 1, 1}, "LOG": {fixed, 1, 1}, "EXP": {fixed, 1, 1},
	"SQRT": {fixed, 1, 1}, "ATAN": {fixed, 1, 1}, "FLOOR": {fixed, 1, 1}, "CEIL": {fixed, 1, 1},
	"DEG2RAD": {fixed, 1, 1}, "RAD2DEG": {fixed, 1, 1}, "ABS": {fixed, 1, 1},
	"LT": {fixed, 2, 1}, "LE": {fixed, 2, 1}, "GT": {fixed, 2, 1}, "GE": {fixed, 2, 1},
	"EQ": {fixed, 2, 1}, "NE": {fixed, 2, 1}, "UN": {fixed, 1, 1}, "ISINF": {fixed, 1, 1},
	"IF": {fixed, 3, 1}, "LIMIT": {fixed, 3, 1},
	"MIN": {fixed, 2, 1}, "MAX": {fixed, 2, 1}, "MINNAN": {fixed, 2, 1}, "MAXNAN": {fixed, 2, 1},
	"UNKN": {fixed, 0, 1}, "INF": {fixed, 0, 1}, "NEGINF": {fixed, 0, 1},
	"PREV": {fixed, 0, 1}, "COUNT": {fixed, 0, 1}, "NOW": {fixed, 0, 1}, "TIME": {fixed, 0, 1},
	"LTIME": {fixed, 0, 1}, "STEPWIDTH": {fixed, 0, 1},
	"NEWDAY": {fixed, 0, 1}, "NEWWEEK": {fixed, 0, 1}, "NEWMONTH": {fixed, 0, 1}, "NEWYEAR": {fixed, 0, 1},
	"DUP": {fixed, 1, 2}, "POP": {fixed, 1, 0}, "EXC": {fixed, 2, 2}, "DEPTH": {fixed, 0, 1},
	"AVG": {shape: reduce}, "SMIN": {shape: reduce}, "SMAX": {shape: reduce},
	"MEDIAN": {shape: reduce}, "STDEV": {shape: reduce},
	"SORT": {shape: inPlace}, "REV": {shape: inPlace},
	"PERCENT": {shape: percent},
	"COPY":    {shape: copyTop},
	"INDEX":   {shape: index},
	"TREND":   {shape: trend}, "TRENDNAN": {shape: trend},
	"PREDICT": {shape: predict}, "PREDICTSIGMA": {shape: predict},
	"PREDICTPERC": {shape: predictPc},
}

// refused are words a user may plausibly type that are not operators here,
// with the reason shown to them.
var refused = map[string]string{
	// rrdtool 1.7.2 rotates the wrong stack window (its own arguments
	// leak into the result).
	"ROLL": "ROLL is not allowed: rrdtool 1.7.2 computes it wrongly",
	// Newer rrdtool or other RPN dialects; 1.7.2 does not know them.
	"ROUND": "ROUND is not supported by rrdtool 1.7", "AND": "AND is not supported by rrdtool 1.7",
	"OR": "OR is not supported by rrdtool 1.7", "XOR": "XOR is not supported by rrdtool 1.7",
	"NOT": "NOT is not supported by rrdtool 1.7",
}

// vdefOnly are the VDEF functions, which consolidate a whole series and have
// no meaning inside a CDEF.
var vdefOnly = map[string]bool{
	"MAXIMUM": true, "MINIMUM": true, "AVERAGE": true, "TOTAL": true, "FIRST": true, "LAST": true,
	"PERCENTNAN": true, "LSLSLOPE": true, "LSLINT": true, "LSLCORREL": true,
}

// commands are rrd graph and xport statements: text that tries to add one
// is an injection attempt, and is named as such.
var commands = map[string]bool{
	"DEF": true, "CDEF": true, "VDEF": true, "PRINT": true, "GPRINT": true, "COMMENT": true,
	"LINE": true, "LINE1": true, "LINE2": true, "LINE3": true, "AREA": true, "TICK": true,
	"HRULE": true, "VRULE": true, "SHIFT": true, "STACK": true, "TEXTALIGN": true, "XPORT": true,
}
