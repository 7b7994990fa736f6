package parser

import "fmt"

var (
	errNoInstance = fmt.Errorf("%w: no customer/instance (no body prefix and no tag)", ErrMalformedSyslog)
	errPrefix     = fmt.Errorf("%w: body is not \"customer instance [:] RECORD\"", ErrMalformedSyslog)
)

// Attribute applies the body rule of SPEC §2.1 to m: the body is
// "[customer instance [:]] RECORD". When the body already starts like a
// record (see looksLikeRecord) there is no prefix, and customer is the tag
// and instance the PROCID, or the tag again when there is no PROCID; a
// message without a tag then cannot be attributed. Otherwise the first two
// words are customer and instance, a lone ":" word after them (written by
// syslog-ng 3 clients) is skipped, and the rest is the record.
//
// The record is not parsed here (see ParseRecord). The slices alias m, and
// Attribute does not allocate.
func Attribute(m Message) (customer, instance, record []byte, err error) {
	body := m.Body
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
	customer, rest, ok := cutWord(body)
	if !ok {
		return nil, nil, nil, errPrefix
	}
	instance, record, ok = cutWord(rest)
	if !ok {
		return nil, nil, nil, errPrefix
	}
	if len(record) >= 2 && record[0] == ':' && record[1] == ' ' {
		record = record[2:]
	}
	if len(record) == 0 || isColon(record) || isColon(customer) || isColon(instance) {
		return nil, nil, nil, errPrefix
	}
	return customer, instance, record, nil
}

func isColon(b []byte) bool { return len(b) == 1 && b[0] == ':' }
