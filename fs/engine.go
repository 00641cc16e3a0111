package fs

import (
	"errors"
	"sync"
	"time"

	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// Limits bound what a remote can make the engine do. The zero value of a field means
// its default.
type Limits struct {
	// MaxSessions is the number of live sessions per direction (terminal-side.md §2).
	// Further sessions get no reply. Default 10.
	MaxSessions int
	// IdleTimeout discards a session with no activity for this long. Default 10 min.
	IdleTimeout time.Duration
	// SpecTimeout is how long a receive session waits for the `sz` specs it announced
	// before asking for approval with what has arrived. Default 2 s.
	SpecTimeout time.Duration
	// MaxPacket is the largest decoded data packet accepted. Default 1 MiB.
	MaxPacket int
	// MaxFileSize caps the bytes written for one file (decompressed), which stops a
	// zlib bomb. Default 1 TiB.
	MaxFileSize int64
	// DiskReserve is the free space a write must leave on the destination file system.
	// Default 64 MiB.
	DiskReserve int64
	// MaxOutbox caps the bytes of replies queued for the child. Default 4 MiB.
	MaxOutbox int
	// MaxHeld caps the memory the engine holds for the remote, over all sessions: spec
	// names, upload entries, queued requests and signatures, listings, the buffers of
	// open files (see budget.go). Default 24 MiB.
	MaxHeld int64
}

// Default limits.
const (
	DefaultMaxSessions = 10
	DefaultIdleTimeout = 10 * time.Minute
	DefaultSpecTimeout = 2 * time.Second
	DefaultMaxPacket   = 1 << 20
	DefaultMaxFileSize = 1 << 40
	DefaultDiskReserve = 64 << 20
	DefaultMaxOutbox   = 4 << 20
	DefaultMaxHeld     = 24 << 20
	// MaxDataPacket is the most raw bytes the engine puts in one outgoing data packet.
	MaxDataPacket = 4096
)

func (l Limits) withDefaults() Limits {
	if l.MaxSessions <= 0 {
		l.MaxSessions = DefaultMaxSessions
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.SpecTimeout <= 0 {
		l.SpecTimeout = DefaultSpecTimeout
	}
	if l.MaxPacket <= 0 {
		l.MaxPacket = DefaultMaxPacket
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultMaxFileSize
	}
	if l.DiskReserve <= 0 {
		l.DiskReserve = DefaultDiskReserve
	}
	if l.MaxOutbox <= 0 {
		l.MaxOutbox = DefaultMaxOutbox
	}
	if l.MaxHeld <= 0 {
		l.MaxHeld = DefaultMaxHeld
	}
	return l
}

// Config configures an Engine.
type Config struct {
	// Home is the directory relative and "~/" paths resolve against (§8). Required.
	Home string
	// Approver decides sessions and destinations. Required.
	Approver transfer.Approver
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Events receives audit events; nil means none. It is called with the engine's
	// lock held, so it must not call back into the Engine.
	Events func(transfer.Event)
	// Umask is the process's file mode creation mask: a file or directory the remote
	// sends without a mode (`prm`) gets 0666 or 0777 less it. Reading the mask sets it,
	// for the whole process, so the program reads it once at start-up (ReadUmask) and
	// passes it here; the engine never reads it itself. Nil means DefaultUmask.
	Umask  *uint32
	Limits Limits
}

// DefaultUmask is the file mode creation mask of an engine whose Config has none.
const DefaultUmask = 0o022

// Engine is the terminal side of the protocol: it serves send and receive sessions
// against the local disk.
//
// Concurrency: HandlePayload and Handle are called by one goroutine (the output pump).
// Pull is called by one other goroutine (the pty writer). Ready, Active, Running,
// CancelAll, Tick and Close may be called from any goroutine. Every one of them holds
// the engine's lock from start to end, and none of them waits for a person or for a
// walk of the disk while it holds it: see "Waiting" in the package comment.
type Engine struct {
	cfg   Config
	umask uint32 // Config.Umask, read once

	parsed scanner.Command // scratch for HandlePayload; owned by the pump goroutine

	mu        sync.Mutex // guards the fields below
	uploads   map[string]*upload
	downloads map[string]*download
	outbox    outbox
	held      budget // the memory held for the remote (Limits.MaxHeld)
	closed    bool
	ready     chan struct{} // capacity 1: a token means Pull may have something

	uploadHooks uploadHooks // file-system fault injection for tests; zero in production

	work sync.WaitGroup // background jobs (see background); not waited for in production
}

// ErrClosed is returned by Handle after Close.
var ErrClosed = errors.New("fs: engine closed")

// NewEngine returns an Engine serving cfg.
func NewEngine(cfg Config) (*Engine, error) {
	if cfg.Home == "" {
		return nil, errors.New("fs: no home directory")
	}
	if cfg.Approver == nil {
		return nil, errors.New("fs: no approver")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Limits = cfg.Limits.withDefaults()
	umask := uint32(DefaultUmask)
	if cfg.Umask != nil {
		umask = *cfg.Umask & 0o777
	}
	return &Engine{
		cfg:       cfg,
		umask:     umask,
		held:      budget{limit: cfg.Limits.MaxHeld},
		uploads:   make(map[string]*upload),
		downloads: make(map[string]*download),
		ready:     make(chan struct{}, 1),
	}, nil
}

// HandlePayload parses one OSC 5113 payload and handles it. Payloads that do not parse
// are dropped without a reply, as kitty does (§1.3). The payload is not retained.
func (e *Engine) HandlePayload(payload []byte) error {
	return e.HandlePayloadFrom(payload, scanner.DialectCurrent)
}

// HandlePayloadFrom is HandlePayload for a payload that d's client may have sent, as the
// bytes before it tell (scanner.Sniffer): a session it opens serves that client.
func (e *Engine) HandlePayloadFrom(payload []byte, d scanner.Dialect) error {
	if err := scanner.ParseInto(&e.parsed, payload); err != nil {
		return err
	}
	return e.handle(&e.parsed, d)
}

// Handle dispatches one command (terminal-side.md §2). cmd is not retained. A padded
// base64 value in it makes its session serve kitty's 0.26 client (scanner.Dialect).
func (e *Engine) Handle(cmd *scanner.Command) error {
	return e.handle(cmd, scanner.DialectCurrent)
}

func (e *Engine) handle(cmd *scanner.Command, d scanner.Dialect) error {
	if cmd.Padded {
		d = scanner.Dialect026
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	id := cmd.ID
	// 1. cancel goes to the session that owns the id. For an unknown id kitty stays
	// silent; we answer CANCELED: nothing is left to cancel, the client need not wait
	// for its CancelWait, and xferterm's client uses it to learn that its codes reach a
	// terminal that has read everything it wrote before (a multiplexer in between may
	// drop them; see internal/passthrough). Nothing is created or stored.
	if cmd.Action == scanner.ActionCancel {
		if u := e.uploads[id]; u != nil {
			u.touch(e.now())
			u.hear(d)
			u.handle(cmd)
		} else if dl := e.downloads[id]; dl != nil {
			dl.touch(e.now())
			dl.hear(d)
			dl.handle(cmd)
		} else if id != "" {
			g := generation{dialect: d}
			_ = e.reply(g.encode(&scanner.Command{Action: scanner.ActionStatus, ID: id, Status: scanner.StatusCanceled})) // A full outbox: the child is not reading; nothing to answer then.
		}
		return nil
	}
	// 2. Expired sessions are pruned.
	e.expire()
	// 3. Upload handler, then independently the download handler.
	if u := e.uploads[id]; u != nil {
		u.touch(e.now())
		u.hear(d)
		u.handle(cmd)
	} else if cmd.Action == scanner.ActionSend {
		if len(e.uploads) < e.cfg.Limits.MaxSessions {
			e.startUpload(cmd, d)
		}
	}
	if dl := e.downloads[id]; dl != nil {
		dl.touch(e.now())
		dl.hear(d)
		dl.handle(cmd)
	} else if cmd.Action == scanner.ActionReceive {
		if len(e.downloads) < e.cfg.Limits.MaxSessions {
			e.startDownload(cmd, d)
		}
	}
	return nil
}

// question is a request the Approver could not decide at once: it waits for a person.
// Every field is guarded by e.mu.
type question struct {
	pending transfer.Pending
	done    bool // answered or withdrawn: a later answer is ignored
}

// ask asks the Approver about r, with e.mu held. When the Approver decides at once, ask
// returns the decision and a nil question. Otherwise it returns the question, and
// decide is called later, under e.mu, with the answer, unless the question is withdrawn
// first (the session's teardown does that) or the engine is closed.
func (e *Engine) ask(r transfer.Request, decide func(transfer.Decision)) (transfer.Decision, *question) {
	q := &question{}
	answer := func(d transfer.Decision) {
		e.deliver(func() {
			if q.done {
				return // withdrawn, or a second answer
			}
			q.done = true
			decide(d)
		})
	}
	d, pending := e.cfg.Approver.Ask(r, answer)
	if pending == nil {
		q.done = true
		return d, nil
	}
	q.pending = pending
	return transfer.Decision{}, q
}

// withdraw takes the question back, if it still waits. Called with e.mu held; nil does
// nothing.
func (q *question) withdraw() {
	if q == nil || q.done {
		return
	}
	q.done = true
	q.pending.Withdraw()
}

// deliver runs f with e.mu held, unless the engine is closed: how an answer or the
// result of a background job comes back to the engine, as an event among the others.
func (e *Engine) deliver(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	f()
}

// background runs job on its own goroutine: work that may take long and must not hold
// e.mu (a walk of the disk). The job hands its result back through deliver. Called with
// e.mu held.
func (e *Engine) background(job func()) {
	e.work.Go(job)
}

// expire drops sessions idle for longer than the limit. Called with e.mu held.
func (e *Engine) expire() {
	now := e.now()
	for id, u := range e.uploads {
		if now.Sub(u.lastActive) > e.cfg.Limits.IdleTimeout {
			u.destroy("expired")
			delete(e.uploads, id)
		}
	}
	for id, d := range e.downloads {
		if now.Sub(d.lastActive) > e.cfg.Limits.IdleTimeout {
			d.destroy("expired")
			delete(e.downloads, id)
		}
	}
}

// Tick runs timers: idle expiry, receive sessions whose specs are late, send sessions
// whose files have all failed. The proxy calls it about once a second.
func (e *Engine) Tick() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.expire()
	now := e.now()
	for _, u := range e.uploads {
		u.tick(now)
	}
	for _, d := range e.downloads {
		d.tick(now)
	}
}

// Active reports whether any session is live (pending or approved).
func (e *Engine) Active() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.uploads)+len(e.downloads) > 0
}

// Running reports whether an approved transfer is under way: a send session that was
// allowed, or a receive session that is listing or sending. A session that is still
// collecting its specs or waiting for a decision does not count: nothing on the screen
// tells the user about it. The proxy takes Ctrl+C as "cancel the transfer" only while
// this is true.
func (e *Engine) Running() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, u := range e.uploads {
		if u.approved && !u.gone {
			return true
		}
	}
	for _, d := range e.downloads {
		if d.state == dlListing || d.state == dlServing {
			return true
		}
	}
	return false
}

// CancelAll cancels every live session as if its client had sent `cancel`, answering
// CANCELED so that the client exits, and cleans up. It reports whether there was any.
// The proxy calls it when the user presses Ctrl+C during a transfer.
func (e *Engine) CancelAll() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := len(e.uploads) + len(e.downloads)
	for id, u := range e.uploads {
		u.abort()
		delete(e.uploads, id)
	}
	for id, d := range e.downloads {
		d.abort()
		delete(e.downloads, id)
	}
	return n > 0
}

// Close ends every session without replies (withdrawing their questions), removes
// temporary files, and makes the engine refuse further commands. It does not wait for a
// background walk of the disk to end: what such a walk finds afterwards is dropped. It
// is safe to call more than once.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	for id, u := range e.uploads {
		u.destroy("closed")
		delete(e.uploads, id)
	}
	for id, d := range e.downloads {
		d.destroy("closed")
		delete(e.downloads, id)
	}
	e.outbox.reset()
	e.signal()
	return nil
}

// Ready returns a channel that receives a token whenever Pull may have something to
// return. A token may be stale; Pull then returns nothing.
func (e *Engine) Ready() <-chan struct{} { return e.ready }

// Pull appends to dst the next bytes to write into the child's input: whole escape
// sequences only, replies first in the order they were made, then outgoing file data.
// It appends about max bytes at most (but at least one whole sequence when any is
// pending) and returns dst unchanged when nothing is pending. File data is produced
// here, at the pace the caller writes it, so memory stays bounded.
func (e *Engine) Pull(dst []byte, max int) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return dst
	}
	start := len(dst)
	dst = e.outbox.pop(dst, max)
	for len(dst)-start < max {
		before := len(dst)
		for _, d := range e.downloads {
			dst = d.produce(dst, max-(len(dst)-start))
			if len(dst)-start >= max {
				break
			}
		}
		for _, u := range e.uploads {
			if len(dst)-start >= max {
				break
			}
			dst = u.produce(dst, max-(len(dst)-start)) // rsync signatures (rsync.md §8.1)
		}
		if len(dst) == before {
			break
		}
	}
	if e.outbox.len() > 0 || e.producing() {
		e.signal()
	}
	return dst
}

// producing reports whether a download has data ready. Called with e.mu held.
func (e *Engine) producing() bool {
	for _, d := range e.downloads {
		if d.hasData() {
			return true
		}
	}
	for _, u := range e.uploads {
		if u.hasData() {
			return true
		}
	}
	return false
}

// reply queues cmd for the child. Called with e.mu held. It reports false when the
// outbox is full; the caller then destroys the session that made the reply, so a child
// that never reads its input cannot grow memory without bound.
func (e *Engine) reply(cmd *scanner.Command) bool {
	if !e.outbox.push(cmd, e.cfg.Limits.MaxOutbox) {
		return false
	}
	e.signal()
	return true
}

// signal leaves a token in e.ready without blocking.
func (e *Engine) signal() {
	select {
	case e.ready <- struct{}{}:
	default:
	}
}

func (e *Engine) now() time.Time { return e.cfg.Now() }

// event sends an audit event, if anyone listens. Called with e.mu held.
func (e *Engine) event(ev transfer.Event) {
	if e.cfg.Events == nil {
		return
	}
	ev.Time = e.now()
	e.cfg.Events(ev)
}

// outbox is the queue of whole reply sequences waiting for the pty writer.
type outbox struct {
	seqs  [][]byte
	bytes int
}

func (o *outbox) push(cmd *scanner.Command, limit int) bool {
	seq := cmd.AppendOSC(nil)
	if o.bytes+len(seq) > limit {
		return false
	}
	o.seqs = append(o.seqs, seq)
	o.bytes += len(seq)
	return true
}

// pop appends whole sequences to dst: at least one when any is queued, then more while
// the appended total stays within max.
func (o *outbox) pop(dst []byte, max int) []byte {
	n, added := 0, 0
	for n < len(o.seqs) {
		s := o.seqs[n]
		if n > 0 && added+len(s) > max {
			break
		}
		added += len(s)
		dst = append(dst, s...)
		o.bytes -= len(s)
		o.seqs[n] = nil
		n++
	}
	o.seqs = o.seqs[n:]
	if len(o.seqs) == 0 {
		o.seqs = nil
	}
	return dst
}

func (o *outbox) len() int { return len(o.seqs) }

func (o *outbox) reset() { *o = outbox{} }
