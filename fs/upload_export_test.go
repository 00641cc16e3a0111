package fs

// SetUploadFaults injects file-system faults into the send direction: statfs replaces
// the free-space query, write is called before each write to a destination with the
// bytes written so far and fails it by returning an error. nil means the real thing.
func SetUploadFaults(e *Engine, statfs func(fd int) (int64, error), write func(path string, written int64) error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.uploadHooks.statfs, e.uploadHooks.write = statfs, write
}

// SetSyncHook replaces the fsync of a file that is about to replace another: fsync gets
// the destination's path, and an error it returns fails the file. nil means the real
// fsync.
func SetSyncHook(e *Engine, fsync func(path string) error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.uploadHooks.fsync = fsync
}

// FailGrace is how long a send session whose files all failed waits before CANCELED.
const FailGrace = failGrace

// MaxOpenUploadFiles is how many entries of a send session may be open at once.
const MaxOpenUploadFiles = maxOpenFiles
