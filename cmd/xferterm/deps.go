package main
import (
 _ "github.com/creack/pty"
 _ "golang.org/x/term"
 _ "golang.org/x/sys/unix"
 _ "charm.land/bubbletea/v2"
 _ "charm.land/lipgloss/v2"
 _ "github.com/klauspost/compress/zlib"
 _ "github.com/zeebo/xxh3"
 _ "github.com/BurntSushi/toml"
 _ "github.com/hinshun/vt10x"
)
func main(){}
