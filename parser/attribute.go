package parser

import "fmt"

var (
	errNoInstance = fmt.Errorf("%w: no customer/instance (no body prefix and no tag)", ErrMalformedSyslog)
	errPrefix     = fmt.Errorf("%w: body is not \"customer instance [:] RECORD\"", ErrMalformedSyslog)
)

// Attribute applies the body rule of SPEC §2.1 to m: the body is
// "[customer instance [:]] RECORD", and a lone ":" word after the prefix
// (written by syslog-ng 3 clients) is skipped.
//
//   - When the body already starts like a record (see looksLikeRecord) there
//     is no prefix: customer is the tag and instance the PROCID, or the tag
//     again when there is no PROCID. Without a tag the record cannot be
//     attributed.
//   - When the message has a tag and the body is "instance [:] RECORD", a
//     relay took the customer for the program name: syslog-ng and rsyslog
//     end a tag at the first space, so "acme app-8080 : A ..." from Python
//     is forwarded with APP-NAME "acme" and MSG "app-8080 : A ...". The tag
//     is the customer and the word the instance.
//   - Otherwise the first two words are customer and instance.
//
// Leading spaces of the body are skipped (rsyslog's %msg% keeps the space
// that followed the tag). The record is not parsed here (see ParseRecord).
// The slices alias m, and Attribute does not allocate.
func Attribute(m Message) (customer, instance, record []byte, err error) {
	body := m.Body
	for len(body) > 0 && body[0] == ' ' {
		body = body[1:]
	}
	if looksLikeRecord(body) {
		if len(m.Tag) == 0 {
			return nil, nil, nil, errNoInstance
		}
		instance = m.ProcID
		if len(instance) == 0 {
			instance = m.Tag
		}
		return m.Tag, instance, body, nil
	}
	if len(m.Tag) == 1 && isCode(m.Tag[0]) && looksLikeRecordRest(body) {
		// A relay took the code of a record that had no prefix for a tag
		// ("B" and "RID TIMESTAMP ..."): still nobody to attribute it to.
		return nil, nil, nil, errNoInstance
	}
	first, rest, ok := cutWord(body)
	if !ok || isColon(first) {
		return nil, nil, nil, errPrefix
	}
	if len(m.Tag) > 0 {
		if r := skipColon(rest); looksLikeRecord(r) {
			return m.Tag, first, r, nil
		}
	}
	instance, record, ok = cutWord(rest)
	if !ok || isColon(instance) {
		return nil, nil, nil, errPrefix
	}
	record = skipColon(record)
	if len(record) == 0 || isColon(record) {
		return nil, nil, nil, errPrefix
	}
	return first, instance, record, nil
}

// skipColon drops a leading lone ":" word.
func skipColon(b []byte) []byte {
	if len(b) >= 2 && b[0] == ':' && b[1] == ' ' {
		return b[2:]
	}
	return b
}

func isColon(b []byte) bool { return len(b) == 1 && b[0] == ':' }
