package rsync

// WeakSum exposes the rolling checksum of a whole window.
func WeakSum(b []byte) uint32 {
	w, _, _ := weakSum(b)
	return w
}

// SetMaxEntries lowers the entry cap of d, so tests need not write
// MaxSignatureEntries entries.
func SetMaxEntries(d *SignatureDecoder, n int) { d.maxEntries = n }
