// Package rpn checks the RRD RPN expressions users write on /metrics
// charts (SPEC §6) before anything reaches librrd.
//
// An expression is a comma-separated list of tokens over names a, b, c, …
// that the chart binds to its chosen series. Only three kinds of token
// exist: numbers, bound names, and rrdtool 1.7.2's CDEF operators. Compile
// rejects everything else — whitespace, ':', control characters, graph
// statements such as DEF or PRINT, file names, unbound names — with an
// *Error naming the token and its position, checks every operator's stack
// use (counts such as 3,AVG must be literal numbers, so the stack depth is
// known before running), and returns the expression with the user's names
// replaced by the caller's internal vnames and numbers rewritten in one
// canonical form. The output therefore contains only the characters
// A-Z a-z 0-9 _ . + - * / % ( ), and only vnames the caller chose.
//
// Decisions:
//   - Infinity and unknown are written as rrd's operators INF, NEGINF and
//     UNKN; number literals such as "inf" or "nan" are not numbers here.
//   - Numbers: optional sign, digits with an optional fraction, optional
//     exponent (e or E); at most 15 digits before and after the point and 3
//     in the exponent, and finite.
//   - rrdtool 1.7.2 quirks are refused rather than passed on: ROLL (it
//     rotates the wrong window), PERCENT ranks below the first element (it
//     reads below the stack), an expression ending in a number or using no
//     series (rrdtool refuses both), and the operators 1.7.2 lacks (ROUND,
//     AND, OR, XOR, NOT).
//   - CPU-heavy windows are bounded: TREND over at most 366 days, PREDICT
//     over at most 100 shifts and a week of window-seconds in all. The
//     render worker's timeout remains the backstop.
package rpn

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Limits on user expressions (Compile) and on generated ones (Check).
const (
	MaxBytes       = 1000 // bytes of a user expression
	MaxTokens      = 100  // tokens of a user expression
	MaxCheckTokens = 2000 // tokens of a generated expression (aggregates of many series)
	MaxDepth       = 1000 // values on the stack at any point

	maxNumber      = 40              // bytes of one number literal (rrdtool parses up to 40)
	maxTrend       = 366 * 24 * 3600 // seconds of a TREND window
	maxShifts      = 100             // PREDICT shift count
	maxPredictWork = 7 * 24 * 3600   // PREDICT shifts × window seconds
	maxShown       = 32              // bytes of a token quoted in an error
	safeChars      = "+-*/%._()"     // besides letters and digits
	vnamePattern   = `^[a-z][a-z0-9_]{0,30}$`
	userPattern    = `^[a-z][a-z0-9]{0,7}$`
)

// ErrInvalid is wrapped by every *Error.
var ErrInvalid = errors.New("invalid expression")

var (
	vnameRE = regexp.MustCompile(vnamePattern)
	userRE  = regexp.MustCompile(userPattern)
	identRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// Error is a refused expression: which token (1-based Index and byte Offset
// in the expression; Index 0 means the expression as a whole) and why.
type Error struct {
	Index  int
	Offset int
	Token  string
	Reason string
}

func (e *Error) Error() string {
	if e.Index == 0 {
		return "expression: " + e.Reason
	}
	return fmt.Sprintf("token %d %s: %s", e.Index, quote(e.Token), e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

func quote(s string) string {
	if len(s) > maxShown {
		return strconv.Quote(s[:maxShown]) + "…"
	}
	return strconv.Quote(s)
}

// Compile checks a user expression whose names are the keys of bind, and
// returns it with every name replaced by its value (an internal vname).
// A bind key is a lowercase name such as a, b or a1 (see Name); a value
// matches ^[a-z][a-z0-9_]{0,30}$. Errors are *Error, except for a bad bind,
// which is the caller's mistake.
func Compile(expr string, bind map[string]string) (string, error) {
	toks, err := CompileTokens(expr, bind)
	if err != nil {
		return "", err
	}
	return strings.Join(toks, ","), nil
}

// CompileTokens is Compile returning the tokens, the form render.CDef takes.
func CompileTokens(expr string, bind map[string]string) ([]string, error) {
	for k, v := range bind {
		if !userRE.MatchString(k) || !vnameRE.MatchString(v) {
			return nil, fmt.Errorf("rpn: bad binding %q → %q", k, v)
		}
	}
	if expr == "" {
		return nil, &Error{Reason: "empty"}
	}
	if len(expr) > MaxBytes {
		return nil, &Error{Reason: fmt.Sprintf("longer than %d bytes", MaxBytes)}
	}
	toks := strings.Split(expr, ",")
	offsets := make([]int, len(toks))
	off := 0
	for i, t := range toks {
		offsets[i] = off
		off += len(t) + 1
	}
	if len(toks) > MaxTokens {
		return nil, &Error{Index: MaxTokens + 1, Offset: offsets[MaxTokens], Token: toks[MaxTokens],
			Reason: fmt.Sprintf("an expression has at most %d tokens", MaxTokens)}
	}
	c := checker{
		toks: toks, offsets: offsets,
		lookup: func(s string) (string, bool) { v, ok := bind[s]; return v, ok },
		bound:  bind,
	}
	return c.run()
}

// Check verifies an expression already in internal form (tokens whose names
// are vnames for which defined is true, numbers in canonical form): the
// second check a render worker makes before librrd sees anything, and the
// check of generated aggregates (see Average, Total).
func Check(tokens []string, defined func(vname string) bool) error {
	if len(tokens) == 0 {
		return &Error{Reason: "empty"}
	}
	if len(tokens) > MaxCheckTokens {
		return &Error{Reason: fmt.Sprintf("more than %d tokens", MaxCheckTokens)}
	}
	offsets := make([]int, len(tokens))
	off := 0
	for i, t := range tokens {
		offsets[i] = off
		off += len(t) + 1
	}
	c := checker{
		toks: tokens, offsets: offsets, canonical: true,
		lookup: func(s string) (string, bool) { return s, vnameRE.MatchString(s) && defined(s) },
	}
	_, err := c.run()
	return err
}

// Name is the user-facing name of the i-th chosen series (from 0): a … z,
// then a1 … z1, a2 …
func Name(i int) string {
	n := string(rune('a' + i%26))
	if i >= 26 {
		n += strconv.Itoa(i / 26)
	}
	return n
}

// Average is the mean of the series, ignoring unknown values (rrd's AVG);
// unknown only where all are unknown.
func Average(vnames []string) []string {
	switch len(vnames) {
	case 0:
		return nil
	case 1:
		return []string{vnames[0]}
	}
	return append(append([]string(nil), vnames...), strconv.Itoa(len(vnames)), "AVG")
}

// Total is the sum of the series, an unknown counting as zero unless all
// are unknown (rrd's ADDNAN).
func Total(vnames []string) []string {
	if len(vnames) == 0 {
		return nil
	}
	out := []string{vnames[0]}
	for _, v := range vnames[1:] {
		out = append(out, v, "ADDNAN")
	}
	return out
}
