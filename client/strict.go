package client

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/xferterm/xferterm/scanner"
)

// ErrInvalidReply is wrapped by every error ParseStrict returns.
var ErrInvalidReply = errors.New("client: invalid reply from the terminal")

// ReplyError reports a reply payload that the real client would refuse
// (reference-client.md §3). Key is the offending key, "" when the problem is not tied
// to one.
type ReplyError struct {
	Key    string
	Reason string
}

func (e *ReplyError) Error() string {
	if e.Key == "" {
		return "client: invalid reply from the terminal: " + e.Reason
	}
	return fmt.Sprintf("client: invalid reply from the terminal: key %q: %s", e.Key, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidReply) true.
func (e *ReplyError) Unwrap() error { return ErrInvalidReply }

// replyKeys are the keys of the protocol table (terminal-side.md §1.2). The real client
// treats any other key in a reply as fatal [T39].
var replyKeys = map[string]bool{
	"ac": true, "zip": true, "ft": true, "tt": true, "id": true, "fid": true, "pw": true,
	"q": true, "mod": true, "prm": true, "sz": true, "n": true, "st": true, "pr": true, "d": true,
}

// base64Keys are decoded with Go's unpadded decoder by the real client, which rejects
// '=' padding [T08, T09].
var base64Keys = map[string]bool{"n": true, "st": true, "pw": true, "d": true}

// ParseStrict decodes a reply payload (the bytes after "ESC ] 5113 ;") exactly as
// strictly as the real client, kitten transfer, does (reference-client.md §3,
// terminal-side.md §1.2): every segment must be key=value, every key must be one of the
// protocol table, n/st/pw/d must be unpadded base64, enum values must be exact names,
// integers must be decimal, and ac and id must be present. scanner.Parse, which is what
// the terminal side uses, is lenient about all of these.
//
// Empty segments (";;") are skipped. Errors wrap ErrInvalidReply.
func ParseStrict(payload []byte) (scanner.Command, error) {
	for rest := payload; len(rest) > 0; {
		var seg []byte
		if i := bytes.IndexByte(rest, ';'); i >= 0 {
			seg, rest = rest[:i], rest[i+1:]
		} else {
			seg, rest = rest, nil
		}
		if len(seg) == 0 {
			continue
		}
		eq := bytes.IndexByte(seg, '=')
		if eq < 0 {
			return scanner.Command{}, &ReplyError{Reason: fmt.Sprintf("field %q has no value", seg)}
		}
		key, val := string(seg[:eq]), seg[eq+1:]
		if !replyKeys[key] {
			return scanner.Command{}, &ReplyError{Key: key, Reason: "the field name is not known"}
		}
		if base64Keys[key] && bytes.IndexByte(val, '=') >= 0 {
			return scanner.Command{}, &ReplyError{Key: key, Reason: "illegal base64 data (padding)"}
		}
	}
	cmd, err := scanner.Parse(payload)
	if err != nil {
		var pe *scanner.ParseError
		switch {
		case errors.As(err, &pe):
			return scanner.Command{}, &ReplyError{Key: pe.Key, Reason: pe.Reason}
		case errors.Is(err, scanner.ErrNoAction):
			return scanner.Command{}, &ReplyError{Key: "ac", Reason: "no valid action"}
		case errors.Is(err, scanner.ErrNoID):
			return scanner.Command{}, &ReplyError{Key: "id", Reason: "missing session id"}
		}
		return scanner.Command{}, &ReplyError{Reason: err.Error()}
	}
	return cmd, nil
}
