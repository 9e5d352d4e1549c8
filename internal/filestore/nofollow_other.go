//go:build !unix

package filestore

import "io/fs"

// noFollow is 0 where O_NOFOLLOW does not exist; Lstat checks still apply.
const noFollow = 0

// linkCount is 1 where the platform does not report link counts.
func linkCount(fs.FileInfo) uint64 { return 1 }
