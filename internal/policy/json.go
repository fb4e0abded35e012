package policy

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// The policy grammar is decoded through a small ordered JSON tree rather than
// straight into structs: IAM accepts "one object or a list" in several
// places, strict validation must see duplicate keys, and condition values may
// be numbers or booleans that compare as their literal text.

type jsonKind uint8

const (
	jsonString jsonKind = iota + 1
	jsonNumber
	jsonBool
	jsonNull
	jsonObject
	jsonArray
)

func (k jsonKind) String() string {
	switch k {
	case jsonString:
		return "string"
	case jsonNumber:
		return "number"
	case jsonBool:
		return "boolean"
	case jsonNull:
		return "null"
	case jsonObject:
		return "object"
	case jsonArray:
		return "array"
	}
	return "value"
}

type jsonValue struct {
	kind    jsonKind
	text    string // string value, number literal, "true" or "false"
	members []jsonMember
	elems   []jsonValue
}

type jsonMember struct {
	key string
	val jsonValue
}

// decodeJSON decodes data into a tree. The syntax is checked by
// encoding/json first, so the scanner below only walks valid JSON; string
// values share the memory of one copy of the document.
func decodeJSON(data []byte) (jsonValue, error) {
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		if se, ok := errors.AsType[*json.SyntaxError](err); ok && strings.HasPrefix(se.Error(), "unexpected end of JSON input") {
			err = io.ErrUnexpectedEOF // the document ended inside a value
		}
		return jsonValue{}, err
	}
	sc := scanner{src: string(data)}
	sc.skipSpace()
	return sc.value(0)
}

// maxDepth bounds nesting; a policy is at most five levels deep.
const maxDepth = 64

// scanner walks a document that json.Valid accepted.
type scanner struct {
	src string
	pos int
}

func (sc *scanner) skipSpace() {
	for sc.pos < len(sc.src) {
		switch sc.src[sc.pos] {
		case ' ', '\t', '\r', '\n':
			sc.pos++
		default:
			return
		}
	}
}

func (sc *scanner) value(depth int) (jsonValue, error) {
	if depth > maxDepth {
		return jsonValue{}, errors.New("nesting too deep")
	}
	switch c := sc.src[sc.pos]; c {
	case '{':
		sc.pos++
		v := jsonValue{kind: jsonObject}
		sc.skipSpace()
		if sc.src[sc.pos] == '}' {
			sc.pos++
			return v, nil
		}
		for {
			sc.skipSpace()
			key, err := sc.str()
			if err != nil {
				return jsonValue{}, err
			}
			sc.skipSpace()
			sc.pos++ // ':'
			sc.skipSpace()
			val, err := sc.value(depth + 1)
			if err != nil {
				return jsonValue{}, err
			}
			v.members = append(v.members, jsonMember{key: key, val: val})
			sc.skipSpace()
			if sc.src[sc.pos] == '}' {
				sc.pos++
				return v, nil
			}
			sc.pos++ // ','
		}
	case '[':
		sc.pos++
		v := jsonValue{kind: jsonArray, elems: []jsonValue{}}
		sc.skipSpace()
		if sc.src[sc.pos] == ']' {
			sc.pos++
			return v, nil
		}
		for {
			sc.skipSpace()
			e, err := sc.value(depth + 1)
			if err != nil {
				return jsonValue{}, err
			}
			v.elems = append(v.elems, e)
			sc.skipSpace()
			if sc.src[sc.pos] == ']' {
				sc.pos++
				return v, nil
			}
			sc.pos++ // ','
		}
	case '"':
		s, err := sc.str()
		return jsonValue{kind: jsonString, text: s}, err
	case 't':
		sc.pos += len("true")
		return jsonValue{kind: jsonBool, text: "true"}, nil
	case 'f':
		sc.pos += len("false")
		return jsonValue{kind: jsonBool, text: "false"}, nil
	case 'n':
		sc.pos += len("null")
		return jsonValue{kind: jsonNull}, nil
	default:
		start := sc.pos
		for sc.pos < len(sc.src) && strings.IndexByte("+-.0123456789eE", sc.src[sc.pos]) >= 0 {
			sc.pos++
		}
		return jsonValue{kind: jsonNumber, text: sc.src[start:sc.pos]}, nil
	}
}

// str reads a string at the current position. Plain valid UTF-8 is sliced
// from the source; escapes and invalid UTF-8 go through encoding/json so the
// result is exactly what json.Unmarshal gives.
func (sc *scanner) str() (string, error) {
	start := sc.pos
	sc.pos++
	plain := true
	for {
		c := sc.src[sc.pos]
		if c == '"' {
			break
		}
		if c == '\\' {
			plain = false
			sc.pos += 2
			continue
		}
		if c >= utf8.RuneSelf {
			plain = false
		}
		sc.pos++
	}
	sc.pos++
	raw := sc.src[start:sc.pos]
	if plain || utf8.ValidString(raw) && !strings.Contains(raw, "\\") {
		return raw[1 : len(raw)-1], nil
	}
	var out string
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return "", err
	}
	return out, nil
}
