package iamapi

// Position is a place in a policy document as the IAM simulator reports
// it: a 1-based line and column (in characters).
type Position struct {
	Line   int `xml:"Line"`
	Column int `xml:"Column"`
}

// span is where one statement of a policy document lies.
type span struct{ Start, End Position }

// statementSpans returns the place of each statement of a policy document,
// in Statement order, in IAM's convention: StartPosition is the column just
// after the statement's opening brace and EndPosition the column just after
// its closing brace. (The AWS CLI's simulate-custom-policy example reports
// Start 1:38 and End 1:167 for a one-line document whose statement braces
// sit at columns 37 and 166.) A document that is not a JSON object, or a
// statement that is not an object, yields no span for it.
func statementSpans(doc string) []span {
	sc := spanScanner{s: doc}
	sc.space()
	if sc.peek() != '{' {
		return nil
	}
	var out []span
	sc.i++
	for {
		sc.space()
		if sc.peek() != '"' {
			return out
		}
		kStart := sc.i
		if !sc.str() {
			return out
		}
		key := doc[kStart+1 : sc.i-1]
		sc.space()
		if sc.peek() != ':' {
			return out
		}
		sc.i++
		sc.space()
		vStart := sc.i
		if key == "Statement" {
			out = out[:0]
			switch sc.peek() {
			case '{':
				if !sc.value() {
					return out
				}
				out = append(out, sc.span(vStart, sc.i-1))
			case '[':
				sc.i++
				for {
					sc.space()
					if sc.peek() == ']' {
						sc.i++
						break
					}
					eStart := sc.i
					isObj := sc.peek() == '{'
					if !sc.value() {
						return out
					}
					if isObj {
						out = append(out, sc.span(eStart, sc.i-1))
					}
					sc.space()
					if sc.peek() == ',' {
						sc.i++
					}
				}
			default:
				if !sc.value() {
					return out
				}
			}
		} else if !sc.value() {
			return out
		}
		sc.space()
		if sc.peek() != ',' {
			return out
		}
		sc.i++
	}
}

type spanScanner struct {
	s string
	i int
}

func (sc *spanScanner) peek() byte {
	if sc.i >= len(sc.s) {
		return 0
	}
	return sc.s[sc.i]
}

func (sc *spanScanner) space() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// str skips a string starting at the current quote.
func (sc *spanScanner) str() bool {
	sc.i++
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case '\\':
			sc.i += 2
		case '"':
			sc.i++
			return true
		default:
			sc.i++
		}
	}
	return false
}

// value skips one JSON value; false means the document ended early.
func (sc *spanScanner) value() bool {
	switch sc.peek() {
	case '"':
		return sc.str()
	case '{', '[':
		depth := 0
		for sc.i < len(sc.s) {
			switch sc.s[sc.i] {
			case '"':
				if !sc.str() {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					sc.i++
					return true
				}
			}
			sc.i++
		}
		return false
	case 0:
		return false
	}
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return true
		}
		sc.i++
	}
	return true
}

// span converts the byte offsets of a statement's braces into positions.
func (sc *spanScanner) span(open, close int) span {
	return span{Start: sc.after(open), End: sc.after(close)}
}

// after returns the position just after the byte at offset off.
func (sc *spanScanner) after(off int) Position {
	line, col := 1, 1
	for _, r := range sc.s[:off] {
		if r == '\n' {
			line, col = line+1, 1
			continue
		}
		col++
	}
	return Position{Line: line, Column: col + 1}
}
