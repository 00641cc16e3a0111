package main

// Keeps the module's chosen dependencies in go.mod until the packages that use them
// import them (see DESIGN.md, Dependencies). Remove once `go mod tidy` keeps them all.
import (
	_ "charm.land/bubbletea/v2"
	_ "charm.land/lipgloss/v2"
	_ "github.com/BurntSushi/toml"
	_ "github.com/creack/pty"
	_ "github.com/hinshun/vt10x"
	_ "github.com/klauspost/compress/zlib"
	_ "github.com/zeebo/xxh3"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/term"
)
