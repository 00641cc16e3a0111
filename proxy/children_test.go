package proxy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/xferterm/xferterm/internal/ptytest"
	"github.com/xferterm/xferterm/proxy"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(ptytest.HelperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

// helper runs the child side of a test and returns its exit code; the modes of
// ptytest.Helper are there too.
func helper(mode string) int {
	switch mode {
	case "keys":
		return helperKeys(true)
	case "flood":
		return helperFlood()
	case "cat":
		_, _ = io.Copy(os.Stdout, os.Stdin)
		return 0
	case "print":
		// PRINT (hex) goes out as is, from raw mode so that nothing is translated.
		b, _ := hex.DecodeString(os.Getenv("PRINT"))
		if _, err := term.MakeRaw(0); err != nil {
			return 101
		}
		_, _ = os.Stdout.Write(b)
		return 0
	case "ask":
		// An OSC 5113 sequence between two words, then keystrokes as "keys" reports them.
		if _, err := term.MakeRaw(0); err != nil {
			return 101
		}
		_, _ = os.Stdout.WriteString("before\x1b]5113;ac=send;id=ask\x1b\\after\n")
		return helperKeys(true)
	case "kitten":
		// Draws like the kitten (text, its modes, the cursor hidden; or KITTEN_SCREEN),
		// asks with OSC 5113, writes AFTER once the proxy reads on, then keystrokes as
		// "keys" reports them (without its READY line).
		if _, err := term.MakeRaw(0); err != nil {
			return 101
		}
		screen := kittenScreen
		if s, ok := os.LookupEnv("KITTEN_SCREEN"); ok {
			screen = s
		}
		_, _ = os.Stdout.WriteString(screen + "\x1b]5113;ac=send;id=kitten\x1b\\AFTER\n")
		return helperKeys(false)
	case "run-panicking":
		// This process plays xferterm: Run with an engine that panics on the first
		// payload, on the terminal it was given.
		cmd := ptytest.Command("ask")
		_, _ = proxy.Run(context.Background(), cmd, proxy.Config{Engine: panicEngine{}})
		return 0
	case "hashin":
		// Raw mode, then IN bytes of input, reported as "IN <sha256>".
		if _, err := term.MakeRaw(0); err != nil {
			return 101
		}
		n, _ := strconv.Atoi(os.Getenv("IN"))
		fmt.Print("READY\n")
		h := sha256.New()
		if _, err := io.CopyN(h, os.Stdin, int64(n)); err != nil {
			return 102
		}
		fmt.Printf("IN %x\n", h.Sum(nil))
		return 0
	case "orphan":
		// Leaves a grandchild holding the pty, reading it, and exits at once.
		cmd := ptytest.Command("block")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := cmd.Start(); err != nil {
			return 101
		}
		fmt.Printf("ORPHAN %d\n", cmd.Process.Pid)
		return 0
	case "env":
		fmt.Printf("KEY=%q TERM=%q\n", os.Getenv("KITTY_PUBLIC_KEY"), os.Getenv("TERM"))
		return 0
	case "winch":
		// The alternate screen when ALT is set, then an OSC 5113 request; then a line
		// "WINCH rows cols" at each size change, until it reads a 'q'.
		if _, err := term.MakeRaw(0); err != nil {
			return 101
		}
		winch := make(chan os.Signal, 8)
		signal.Notify(winch, unix.SIGWINCH)
		if os.Getenv("ALT") != "" {
			_, _ = os.Stdout.WriteString("\x1b[?1049h")
		}
		_, _ = os.Stdout.WriteString("SCREEN\x1b]5113;ac=send;id=winch\x1b\\ASKED\n")
		go func() {
			for range winch {
				if ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ); err == nil {
					fmt.Printf("WINCH %d %d\n", ws.Row, ws.Col)
				}
			}
		}()
		buf := make([]byte, 1)
		for {
			if _, err := os.Stdin.Read(buf); err != nil || buf[0] == 'q' {
				return 0
			}
		}
	case "size":
		ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ)
		if err != nil {
			return 101
		}
		fmt.Printf("SIZE %d %d\n", ws.Row, ws.Col)
		return 0
	}
	return ptytest.Helper(mode)
}

// kittenScreen is what the "kitten" helper draws before it asks: a shell line, the
// modes the kitten sets (reference-client.md §2), and text with colour.
const kittenScreen = "user@host:~$ kitten transfer notes.txt /tmp\r\n" +
	"\x1b[?2004l\x1b[?1000l\x1b[?1006l\x1b[?7h\x1b[?25h\x1b[?1004h\x1b[?2048h\x1b[>29u\x1b[?25l" +
	"Scanning files…\r\nFound 1 file\r\n\x1b[32mcolour\x1b[m and a half-typed line"

// helperKeys reports every read of its raw stdin as a line "K<hex>"; on SIGUSR1 it
// writes "TICK" and then a byte to fd 3 (so the test knows TICK is in the pty). It
// exits when it reads a 'q'. With ready, it first writes "READY <pid>".
func helperKeys(ready bool) int {
	if _, err := term.MakeRaw(0); err != nil {
		fmt.Println("raw:", err)
		return 101
	}
	var mu sync.Mutex
	out := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = os.Stdout.WriteString(s)
	}
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, unix.SIGUSR1)
	go func() {
		fd3 := os.NewFile(3, "fd3")
		for range usr1 {
			out("TICK\n")
			if fd3 != nil {
				_, _ = fd3.Write([]byte("t"))
			}
		}
	}()
	if ready {
		out(fmt.Sprintf("READY %d\n", os.Getpid()))
	}
	buf := make([]byte, 4096)
	for {
		n, err := os.Stdin.Read(buf)
		if n > 0 {
			out("K" + hex.EncodeToString(buf[:n]) + "\n")
			if bytes.IndexByte(buf[:n], 'q') >= 0 {
				return 0
			}
		}
		if err != nil {
			return 102
		}
	}
}

// helperFlood writes FLOOD_OUT bytes of floodPattern without reading its input, then
// reads FLOOD_IN bytes of input and reports their SHA-256 as "\nIN <hex>\n".
func helperFlood() int {
	if _, err := term.MakeRaw(0); err != nil {
		return 101
	}
	nOut, _ := strconv.Atoi(os.Getenv("FLOOD_OUT"))
	nIn, _ := strconv.Atoi(os.Getenv("FLOOD_IN"))
	// Announce ourselves, as a client does once its tty is raw: only now may the
	// engine answer (input sent before raw mode would meet the canonical line limit).
	_, _ = os.Stdout.WriteString("\x1b]5113;ac=send;id=flood\x1b\\")
	chunk := bytes.Repeat([]byte(floodPattern), 32<<10/len(floodPattern))
	for left := nOut; left > 0; {
		n := min(left, len(chunk))
		if _, err := os.Stdout.Write(chunk[:n]); err != nil {
			return 102
		}
		left -= n
	}
	h := sha256.New()
	if _, err := io.CopyN(h, os.Stdin, int64(nIn)); err != nil {
		return 103
	}
	fmt.Printf("\nIN %x\n", h.Sum(nil))
	return 0
}

// floodPattern is what helperFlood writes: no ESC, so it passes through untouched.
const floodPattern = "0123456789abcdefghijklmnopqrstuvwxyz\r\n"
