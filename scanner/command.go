package scanner

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/xferterm/xferterm/internal/safestring"
)

// Action is the value of the `ac` key (terminal-side.md §1.2).
type Action uint8

// Actions of the protocol. ActionNone is the zero value and never valid on the wire.
const (
	ActionNone Action = iota
	ActionSend
	ActionFile
	ActionData
	ActionEndData
	ActionReceive
	ActionCancel
	ActionStatus
	ActionFinish
)

var actionNames = [...]string{"", "send", "file", "data", "end_data", "receive", "cancel", "status", "finish"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "invalid"
}

// Compression is the value of the `zip` key.
type Compression uint8

// Compression values; CompressionNone is the default.
const (
	CompressionNone Compression = iota
	CompressionZlib
)

var compressionNames = [...]string{"none", "zlib"}

func (c Compression) String() string { return enumName(compressionNames[:], int(c)) }

// FileType is the value of the `ft` key.
type FileType uint8

// File types; FileRegular is the default.
const (
	FileRegular FileType = iota
	FileDirectory
	FileSymlink
	FileLink // a hard link
)

var fileTypeNames = [...]string{"regular", "directory", "symlink", "link"}

func (t FileType) String() string { return enumName(fileTypeNames[:], int(t)) }

// TransmissionType is the value of the `tt` key.
type TransmissionType uint8

// Transmission types; TransmitSimple is the default.
const (
	TransmitSimple TransmissionType = iota
	TransmitRsync
)

var transmissionNames = [...]string{"simple", "rsync"}

func (t TransmissionType) String() string { return enumName(transmissionNames[:], int(t)) }

func enumName(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return "invalid"
}

// OptInt is an optional integer field (`mod`, `prm`, `sz`). The zero value is absent,
// which is how kitty's default of -1 is represented.
type OptInt struct {
	Value int64
	Set   bool
}

// Some returns a present OptInt holding v.
func Some(v int64) OptInt { return OptInt{Value: v, Set: true} }

// Command is one OSC 5113 command: every key of the protocol table (terminal-side.md §1.2)
// as a typed field. The zero value has every field at its protocol default.
type Command struct {
	Action      Action           // ac
	Compression Compression      // zip
	FileType    FileType         // ft
	Transmit    TransmissionType // tt
	ID          string           // id (safe string)
	FileID      string           // fid (safe string)
	Bypass      string           // pw (base64 of UTF-8 on the wire)
	Quiet       int              // q
	Mtime       OptInt           // mod, nanoseconds since the epoch
	Permissions OptInt           // prm
	Size        OptInt           // sz
	Name        string           // n (base64 of UTF-8 on the wire)
	Status      string           // st (base64 of UTF-8 on the wire)
	Parent      string           // pr (safe string)
	Data        []byte           // d (base64 on the wire)

	// Padded is not a key: it says how the base64 values (pw, n, st, d) are padded with
	// '='. Parse sets it when any of them arrived padded, which only kitty's 0.26 client
	// does (see Dialect); AppendTo pads them when it is set, which that client demands
	// and the current one refuses (terminal-side.md §1.2).
	Padded bool
}

// Errors returned by Parse. A ParseError wraps one of them.
var (
	ErrNoAction = errors.New("scanner: no valid action")
	ErrNoID     = errors.New("scanner: missing session id")
	ErrBadValue = errors.New("scanner: bad value")
)

// ParseError reports a key whose value could not be decoded.
type ParseError struct {
	Key    string
	Reason string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("scanner: bad value for key %q: %s", e.Key, e.Reason)
}

// Unwrap makes errors.Is(err, ErrBadValue) true.
func (e *ParseError) Unwrap() error { return ErrBadValue }

// Parse decodes an OSC 5113 payload (the bytes after "5113;") as kitty's terminal side
// does (terminal-side.md §1.3): unknown keys are ignored, the last duplicate wins, a value
// may contain '=', base64 is accepted padded or unpadded (Padded tells which), safe
// strings are filtered.
// A command without a valid action or id is rejected.
func Parse(payload []byte) (Command, error) {
	var c Command
	err := ParseInto(&c, payload)
	return c, err
}

// ParseInto is Parse into an existing Command, reusing the capacity of c.Data.
// c is reset first; on error its contents are unspecified.
func ParseInto(c *Command, payload []byte) error {
	data := c.Data[:0]
	*c = Command{Data: data}
	hasData := false
	for len(payload) > 0 {
		eq := bytes.IndexByte(payload, '=')
		if eq < 0 {
			break // a trailing key without '=' is ignored
		}
		key := bytes.TrimLeft(payload[:eq], ";")
		rest := payload[eq+1:]
		end := bytes.IndexByte(rest, ';')
		var val []byte
		if end < 0 {
			val, payload = rest, nil
		} else {
			val, payload = rest[:end], rest[end+1:]
		}
		if string(key) == "d" {
			hasData = true
		}
		if err := c.set(key, val); err != nil {
			return err
		}
	}
	if !hasData {
		c.Data = data[:0]
	}
	if c.Action == ActionNone {
		return ErrNoAction
	}
	if c.ID == "" {
		return ErrNoID
	}
	return nil
}

func (c *Command) set(key, val []byte) error {
	var err error
	switch string(key) {
	case "ac":
		var v int
		if v, err = parseEnum("ac", actionNames[1:], val); err == nil {
			c.Action = Action(v + 1)
		}
	case "zip":
		var v int
		if v, err = parseEnum("zip", compressionNames[:], val); err == nil {
			c.Compression = Compression(v)
		}
	case "ft":
		var v int
		if v, err = parseEnum("ft", fileTypeNames[:], val); err == nil {
			c.FileType = FileType(v)
		}
	case "tt":
		var v int
		if v, err = parseEnum("tt", transmissionNames[:], val); err == nil {
			c.Transmit = TransmissionType(v)
		}
	case "id":
		c.ID = safestring.Filter(val)
	case "fid":
		c.FileID = safestring.Filter(val)
	case "pr":
		c.Parent = safestring.Filter(val)
	case "pw":
		c.Bypass, err = c.parseText("pw", val)
	case "n":
		c.Name, err = c.parseText("n", val)
	case "st":
		c.Status, err = c.parseText("st", val)
	case "q":
		var v int64
		if v, err = parseInt("q", val); err == nil {
			c.Quiet = int(v)
		}
	case "mod":
		c.Mtime, err = parseOpt("mod", val)
	case "prm":
		c.Permissions, err = parseOpt("prm", val)
	case "sz":
		c.Size, err = parseOpt("sz", val)
	case "d":
		c.Data, err = c.decodeBase64(c.Data[:0], "d", val)
	}
	return err
}

func parseEnum(key string, names []string, val []byte) (int, error) {
	for i, n := range names {
		if string(val) == n {
			return i, nil
		}
	}
	return 0, &ParseError{Key: key, Reason: fmt.Sprintf("unknown value %q", val)}
}

// parseInt accepts an optional sign followed by decimal digits, like Python's int().
func parseInt(key string, val []byte) (int64, error) {
	v, err := strconv.ParseInt(string(val), 10, 64)
	if err != nil {
		return 0, &ParseError{Key: key, Reason: "not an integer"}
	}
	return v, nil
}

func parseOpt(key string, val []byte) (OptInt, error) {
	v, err := parseInt(key, val)
	if err != nil {
		return OptInt{}, err
	}
	if v == -1 {
		return OptInt{}, nil // kitty's "not given"
	}
	return Some(v), nil
}

func (c *Command) parseText(key string, val []byte) (string, error) {
	b, err := c.decodeBase64(nil, key, val)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", &ParseError{Key: key, Reason: "not valid UTF-8"}
	}
	return string(b), nil
}

// decodeBase64 appends the decoding of val (standard alphabet, padding optional) to dst,
// and notes padding in c.Padded.
func (c *Command) decodeBase64(dst []byte, key string, val []byte) ([]byte, error) {
	if trimmed := bytes.TrimRight(val, "="); len(trimmed) < len(val) {
		val, c.Padded = trimmed, true
	}
	need := base64.RawStdEncoding.DecodedLen(len(val))
	if cap(dst)-len(dst) < need {
		grown := make([]byte, len(dst), len(dst)+need)
		copy(grown, dst)
		dst = grown
	}
	n, err := base64.RawStdEncoding.Decode(dst[len(dst):len(dst)+need], val)
	if err != nil {
		return dst, &ParseError{Key: key, Reason: "invalid base64"}
	}
	return dst[:len(dst)+n], nil
}

// Prefix starts every serialized payload.
const Prefix = "5113;"

// AppendTo appends the payload of c ("5113;" and the keys) to dst, as kitty serializes
// (terminal-side.md §1.4): the fixed key order ac, zip, ft, tt, id, fid, pw, q, mod, prm,
// sz, n, st, pr, d; only fields that differ from their default; base64 unpadded, as kitty
// writes it, unless c.Padded.
func (c *Command) AppendTo(dst []byte) []byte {
	dst = append(dst, Prefix...)
	first := true
	key := func(k string) {
		if !first {
			dst = append(dst, ';')
		}
		first = false
		dst = append(dst, k...)
		dst = append(dst, '=')
	}
	if c.Action != ActionNone {
		key("ac")
		dst = append(dst, c.Action.String()...)
	}
	if c.Compression != CompressionNone {
		key("zip")
		dst = append(dst, c.Compression.String()...)
	}
	if c.FileType != FileRegular {
		key("ft")
		dst = append(dst, c.FileType.String()...)
	}
	if c.Transmit != TransmitSimple {
		key("tt")
		dst = append(dst, c.Transmit.String()...)
	}
	if c.ID != "" {
		key("id")
		dst = safestring.Append(dst, c.ID)
	}
	if c.FileID != "" {
		key("fid")
		dst = safestring.Append(dst, c.FileID)
	}
	if c.Bypass != "" {
		key("pw")
		dst = c.appendBase64(dst, []byte(c.Bypass))
	}
	if c.Quiet != 0 {
		key("q")
		dst = strconv.AppendInt(dst, int64(c.Quiet), 10)
	}
	for _, f := range [...]struct {
		k string
		v OptInt
	}{{"mod", c.Mtime}, {"prm", c.Permissions}, {"sz", c.Size}} {
		if f.v.Set && f.v.Value != -1 {
			key(f.k)
			dst = strconv.AppendInt(dst, f.v.Value, 10)
		}
	}
	if c.Name != "" {
		key("n")
		dst = c.appendBase64(dst, []byte(c.Name))
	}
	if c.Status != "" {
		key("st")
		dst = c.appendBase64(dst, []byte(c.Status))
	}
	if c.Parent != "" {
		key("pr")
		dst = safestring.Append(dst, c.Parent)
	}
	if len(c.Data) > 0 {
		key("d")
		dst = c.appendBase64(dst, c.Data)
	}
	return dst
}

// AppendOSC appends c as a complete escape sequence, ESC ] 5113;… ESC \, to dst.
func (c *Command) AppendOSC(dst []byte) []byte {
	dst = append(dst, "\x1b]"...)
	dst = c.AppendTo(dst)
	return append(dst, "\x1b\\"...)
}

// String returns the payload of c.
func (c *Command) String() string { return string(c.AppendTo(nil)) }

func (c *Command) appendBase64(dst, b []byte) []byte {
	if c.Padded {
		return base64.StdEncoding.AppendEncode(dst, b)
	}
	return base64.RawStdEncoding.AppendEncode(dst, b)
}
