package install

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// jsonObject is an object's layout in a JSON text: byte offsets of its braces
// and of each member, so that members can be added and removed by text
// surgery that leaves every other byte alone.
type jsonObject struct {
	open, close int // offsets of '{' and '}'
	members     []jsonMember
}

type jsonMember struct {
	name                 string
	keyStart             int // offset of the key's opening quote
	valueStart, valueEnd int // the value's bytes are text[valueStart:valueEnd]
}

func (o *jsonObject) member(name string) (int, bool) {
	for i, m := range o.members {
		if m.name == name {
			return i, true
		}
	}
	return -1, false
}

// parseTopObject checks that text is one JSON object (surrounded by
// whitespace only) and returns its layout.
func parseTopObject(text []byte) (*jsonObject, error) {
	if !json.Valid(text) {
		var v any
		err := json.Unmarshal(text, &v)
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	p := &jsonScanner{b: text}
	p.ws()
	if p.i >= len(text) || text[p.i] != '{' {
		return nil, errors.New("not a JSON object")
	}
	return p.object()
}

// parseObjectAt returns the layout of the object starting at off.
func parseObjectAt(text []byte, off int) (*jsonObject, error) {
	if off >= len(text) || text[off] != '{' {
		return nil, errors.New("not a JSON object")
	}
	p := &jsonScanner{b: text, i: off}
	return p.object()
}

// jsonScanner walks a text already checked by json.Valid, so it only
// records offsets and does not diagnose errors.
type jsonScanner struct {
	b []byte
	i int
}

func (p *jsonScanner) ws() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *jsonScanner) object() (*jsonObject, error) {
	o := &jsonObject{open: p.i}
	p.i++ // {
	p.ws()
	if p.b[p.i] == '}' {
		o.close = p.i
		p.i++
		return o, nil
	}
	for {
		p.ws()
		m := jsonMember{keyStart: p.i}
		ks := p.i
		p.skipString()
		if err := json.Unmarshal(p.b[ks:p.i], &m.name); err != nil {
			return nil, fmt.Errorf("bad key at byte %d: %w", ks, err)
		}
		p.ws()
		p.i++ // :
		p.ws()
		m.valueStart = p.i
		p.skipValue()
		m.valueEnd = p.i
		o.members = append(o.members, m)
		p.ws()
		if p.b[p.i] == '}' {
			o.close = p.i
			p.i++
			return o, nil
		}
		p.i++ // ,
	}
}

func (p *jsonScanner) skipString() {
	p.i++ // opening quote
	for p.b[p.i] != '"' {
		if p.b[p.i] == '\\' {
			p.i++
		}
		p.i++
	}
	p.i++
}

func (p *jsonScanner) skipValue() {
	switch c := p.b[p.i]; c {
	case '"':
		p.skipString()
	case '{', '[':
		depth := 0
		for {
			switch p.b[p.i] {
			case '"':
				p.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			p.i++
			if depth == 0 {
				return
			}
		}
	default: // number, true, false, null
		for p.i < len(p.b) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(p.b[p.i])) {
			p.i++
		}
	}
}

// lineIndent returns the whitespace that starts the line holding off.
func lineIndent(text []byte, off int) string {
	start := bytes.LastIndexByte(text[:off], '\n') + 1
	end := start
	for end < len(text) && (text[end] == ' ' || text[end] == '\t') {
		end++
	}
	return string(text[start:end])
}

// jsonStyle is how a file lays out its objects, copied for inserted members.
type jsonStyle struct {
	pretty bool   // one member per line
	unit   string // one indentation level ("    ", "  ", "\t")
	colon  string // between a key and its value (": " or ":")
}

func detectStyle(text []byte, top *jsonObject) jsonStyle {
	st := jsonStyle{pretty: true, unit: "    ", colon: ": "}
	if len(top.members) == 0 {
		return st
	}
	m := top.members[0]
	ws := text[top.open+1 : m.keyStart]
	if !bytes.ContainsRune(ws, '\n') {
		st.pretty = false
		st.unit = ""
	} else if ind := lineIndent(text, m.keyStart); ind != "" {
		st.unit = ind
	}
	// The bytes between the key's closing quote and the value.
	ks := &jsonScanner{b: text, i: m.keyStart}
	ks.skipString()
	st.colon = string(text[ks.i:m.valueStart])
	if !st.pretty {
		st.colon = ":"
		if bytes.ContainsRune(text[ks.i:m.valueStart], ' ') {
			st.colon = ": "
		}
	}
	return st
}

// insertMember adds `"name": value` as the last member of obj. value must
// already be laid out for the member's indentation (see memberIndent).
func insertMember(text []byte, obj *jsonObject, name, value string, st jsonStyle) []byte {
	key, _ := json.Marshal(name)
	member := string(key) + st.colon + value
	var out bytes.Buffer
	if n := len(obj.members); n > 0 {
		last := obj.members[n-1]
		out.Write(text[:last.valueEnd])
		out.WriteString(",")
		out.Write(wsBeforeLast(text, obj))
		out.WriteString(member)
		out.Write(text[last.valueEnd:])
		return out.Bytes()
	}
	out.Write(text[:obj.open+1])
	if st.pretty {
		base := lineIndent(text, obj.open)
		out.WriteString("\n" + base + st.unit + member + "\n" + base)
	} else {
		out.WriteString(member)
	}
	out.Write(text[obj.close:])
	return out.Bytes()
}

// removeMember deletes member i of obj with its separator.
func removeMember(text []byte, obj *jsonObject, i int) []byte {
	m := obj.members[i]
	var out bytes.Buffer
	switch {
	case len(obj.members) == 1:
		out.Write(text[:obj.open+1])
		out.Write(text[obj.close:])
	case i > 0:
		// From the end of the previous value: drops ",<ws>member".
		out.Write(text[:obj.members[i-1].valueEnd])
		out.Write(text[m.valueEnd:])
	default:
		// First of several: drops "member,<ws>" up to the next key.
		out.Write(text[:m.keyStart])
		out.Write(text[obj.members[1].keyStart:])
	}
	return out.Bytes()
}

// wsBeforeLast returns the whitespace between the last member's key and the
// comma (or brace) before it.
func wsBeforeLast(text []byte, obj *jsonObject) []byte {
	n := len(obj.members)
	start := obj.open + 1
	if n > 1 {
		start = obj.members[n-2].valueEnd
	}
	sep := text[start:obj.members[n-1].keyStart]
	if i := bytes.LastIndexByte(sep, ','); i >= 0 {
		sep = sep[i+1:]
	}
	return sep
}

// memberIndent returns the indentation a member added to obj gets.
func memberIndent(text []byte, obj *jsonObject, st jsonStyle) string {
	if !st.pretty {
		return ""
	}
	if len(obj.members) > 0 {
		return lineIndent(text, obj.members[len(obj.members)-1].keyStart)
	}
	return lineIndent(text, obj.open) + st.unit
}

// layoutObject renders an object of string-keyed members whose values are
// already laid out, with the members at indentation ind+unit.
func layoutObject(names, values []string, ind string, st jsonStyle) string {
	var b bytes.Buffer
	b.WriteString("{")
	for i, n := range names {
		if i > 0 {
			b.WriteString(",")
		}
		if st.pretty {
			b.WriteString("\n" + ind + st.unit)
		}
		k, _ := json.Marshal(n)
		b.Write(k)
		b.WriteString(st.colon)
		b.WriteString(values[i])
	}
	if st.pretty {
		b.WriteString("\n" + ind)
	}
	b.WriteString("}")
	return b.String()
}
