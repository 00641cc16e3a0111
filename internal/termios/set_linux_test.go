package termios_test

import "golang.org/x/sys/unix"

const setRequest = unix.TCSETS
