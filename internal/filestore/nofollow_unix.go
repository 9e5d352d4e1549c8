//go:build unix

package filestore

import (
	"io/fs"
	"syscall"
)

// noFollow makes an open fail on a symbolic link in the last component.
const noFollow = syscall.O_NOFOLLOW

// linkCount is the number of hard links of the file fi describes (1 when
// the platform does not say).
func linkCount(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}
