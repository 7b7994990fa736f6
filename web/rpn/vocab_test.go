package rpn

import (
	"compress/gzip"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

const manPage = "/usr/share/man/man1/rrdgraph_rpn.1.gz"

// documentedOperators reads the operator headings of the installed
// rrdgraph_rpn(1), such as "count,SORT" or "LT, LE, GT, GE, EQ, NE".
func documentedOperators(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(manPage)
	if err != nil {
		t.Fatalf("rrdtool's manual page (package rrdtool): %v", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start, end := strings.Index(text, `.SH "OPERATORS"`), strings.Index(text, `.SH "VARIABLES"`)
	if start < 0 || end < start {
		t.Fatalf("%s: no OPERATORS section", manPage)
	}
	roff := strings.NewReplacer(`\s-1`, "", `\s0`, "", `\fB`, "", `\fR`, "", `\fI`, "", `\&`, "", `\-`, "-")
	headStart := regexp.MustCompile(`^[a-z,]+\\fB`)
	placeholder := regexp.MustCompile(`^([a-z-]+|<[^>]+>|\.\.\.)$`)
	operator := regexp.MustCompile(`^([A-Z][A-Z0-9]+|[-+*/%]|PREV\(vname\))$`)
	seen := map[string]bool{}
	for _, line := range strings.Split(text[start:end], "\n") {
		// Operator headings are lines of bold operators and italic
		// arguments: \&\fIcount\fR,\fB\s-1SORT\s0\fR or n,m,\fB\s-1ROLL\s0\fR
		if !strings.HasPrefix(line, `\&\f`) && !headStart.MatchString(line) ||
			!strings.HasSuffix(line, `\fR`) && !strings.HasSuffix(line, `\fR and`) {
			continue
		}
		line = roff.Replace(line)
		var ops []string
		heading := true
		for _, w := range strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == ',' }) {
			switch {
			case operator.MatchString(w):
				ops = append(ops, w)
			case placeholder.MatchString(w) && w != "...":
			default:
				heading = false
			}
		}
		if heading {
			for _, o := range ops {
				seen[o] = true
			}
		}
	}
	var out []string
	for o := range seen {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

// TestVocabularyIsTheDocumentedOne: every operator rrdtool 1.7.2 documents
// is either allowed or refused with a reason, and nothing undocumented is
// allowed.
func TestVocabularyIsTheDocumentedOne(t *testing.T) {
	doc := documentedOperators(t)
	if len(doc) < 60 {
		t.Fatalf("only %d operators found in %s: %v", len(doc), manPage, doc)
	}
	for _, o := range doc {
		_, ok := ops[o]
		if !ok && refused[o] == "" && o != "PREV(vname)" {
			t.Errorf("documented operator %s is neither allowed nor refused", o)
		}
	}
	for o := range ops {
		if !slices.Contains(doc, o) {
			t.Errorf("operator %s is allowed but not documented", o)
		}
	}
	if !slices.Contains(doc, "PREV(vname)") {
		t.Error("PREV(vname) not documented")
	}
	t.Logf("%d documented operators: %v", len(doc), doc)
}
