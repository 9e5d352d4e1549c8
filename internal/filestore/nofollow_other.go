//go:build !unix

package filestore

// noFollow is 0 where O_NOFOLLOW does not exist; Lstat checks still apply.
const noFollow = 0
