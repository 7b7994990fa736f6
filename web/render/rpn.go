package render

// arity of the RRD RPN operators we let through: values popped and pushed.
// Operators whose count comes from the stack (AVG, SMIN, ...) are listed in
// counted and need a literal count right before them.
var arity = map[string][2]int{
	"+": {2, 1}, "-": {2, 1}, "*": {2, 1}, "/": {2, 1}, "%": {2, 1},
	"ADDNAN": {2, 1}, "MIN": {2, 1}, "MAX": {2, 1}, "MINNAN": {2, 1}, "MAXNAN": {2, 1},
	"LT": {2, 1}, "LE": {2, 1}, "GT": {2, 1}, "GE": {2, 1}, "EQ": {2, 1}, "NE": {2, 1},
	"AND": {2, 1}, "OR": {2, 1}, "XOR": {2, 1}, "ATAN2": {2, 1}, "POW": {2, 1},
	"UN": {1, 1}, "ISINF": {1, 1}, "ABS": {1, 1}, "FLOOR": {1, 1}, "CEIL": {1, 1},
	"SQRT": {1, 1}, "SIN": {1, 1}, "COS": {1, 1}, "LOG": {1, 1}, "EXP": {1, 1},
	"ATAN": {1, 1}, "DEG2RAD": {1, 1}, "RAD2DEG": {1, 1}, "NOT": {1, 1},
	"IF": {3, 1}, "LIMIT": {3, 1},
	"UNKN": {0, 1}, "INF": {0, 1}, "NEGINF": {0, 1}, "PREV": {0, 1}, "COUNT": {0, 1},
	"NOW": {0, 1}, "TIME": {0, 1}, "LTIME": {0, 1}, "STEPWIDTH": {0, 1},
	"NEWDAY": {0, 1}, "NEWWEEK": {0, 1}, "NEWMONTH": {0, 1}, "NEWYEAR": {0, 1},
	"DUP": {1, 2}, "POP": {1, 0}, "EXC": {2, 2},
}

var counted = map[string]bool{"AVG": true, "SMIN": true, "SMAX": true, "MEDIAN": true, "STDEV": true}

const maxRPN = 1000

// CheckRPN accepts only numbers, names in defined and the operators above,
// and checks that the expression leaves exactly one value on the stack.
func CheckRPN(tokens []string, defined map[string]bool) error {
	if len(tokens) == 0 || len(tokens) > maxRPN {
		return invalid("expression must have 1..%d tokens", maxRPN)
	}
	depth := 0
	for i, t := range tokens {
		switch {
		case numberRE.MatchString(t) || defined[t]:
			depth++
		case counted[t]:
			n, ok := literalCount(tokens, i)
			if !ok {
				return invalid("%s needs a literal count before it", t)
			}
			if depth < n+1 {
				return invalid("stack underflow at %q", t)
			}
			depth -= n
		default:
			a, ok := arity[t]
			if !ok {
				return invalid("unknown token %q", t)
			}
			if depth < a[0] {
				return invalid("stack underflow at %q", t)
			}
			depth += a[1] - a[0]
		}
	}
	if depth != 1 {
		return invalid("expression leaves %d values, want 1", depth)
	}
	return nil
}

func literalCount(tokens []string, i int) (int, bool) {
	if i == 0 {
		return 0, false
	}
	n := 0
	for _, c := range tokens[i-1] {
		if c < '0' || c > '9' || n > 1000 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n >= 1
}
