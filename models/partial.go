package models

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// partialSuffix marks a file being written; it becomes the final name only when complete.
const partialSuffix = ".partial"

// partial is a download in progress, <dir>/<name>.partial, with the SHA-256 of every byte in it.
// Callers hold the file's lock.
type partial struct {
	f     *os.File
	path  string
	final string
	hash  hash.Hash
	n     int64
}

// openPartial opens the partial file of final, if an earlier attempt left one, and hashes its
// bytes so that the digest of a resumed download covers the whole file. The file is created
// only when the first byte is written: a download refused at once leaves nothing behind.
func openPartial(final string) (*partial, error) {
	p := &partial{path: final + partialSuffix, final: final, hash: sha256.New()}
	f, err := os.OpenFile(p.path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	p.f = f
	st, err := f.Stat()
	if err == nil {
		// CopyN with the size read up front: reading past it would hash bytes that are not there.
		p.n, err = io.CopyN(p.hash, f, st.Size())
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", p.path, err)
	}
	return p, nil
}

// create creates the partial file if it is not open yet.
func (p *partial) create() error {
	if p.f != nil {
		return nil
	}
	f, err := os.OpenFile(p.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	p.f = f
	return err
}

// Write appends b to the file and the digest. A full disk gives an error wrapping both
// [ErrDiskFull] and the system's error; what was written stays for a later resume.
func (p *partial) Write(b []byte) (int, error) {
	if err := p.create(); err != nil {
		return 0, err
	}
	n, err := p.f.Write(b)
	p.hash.Write(b[:n])
	p.n += int64(n)
	if errors.Is(err, syscall.ENOSPC) {
		return n, fmt.Errorf("%w: %d bytes of %s kept for resume; free some space and pull again: %w",
			ErrDiskFull, p.n, filepath.Base(p.path), err)
	}
	return n, err
}

// reset empties the file, for a server that sends the whole file again.
func (p *partial) reset() error {
	p.hash.Reset()
	p.n = 0
	if p.f == nil {
		return nil
	}
	if err := p.f.Truncate(0); err != nil {
		return err
	}
	_, err := p.f.Seek(0, io.SeekStart)
	return err
}

// close closes the file and keeps it for a later resume. It is safe to call more than once.
func (p *partial) close() {
	if p.f != nil {
		p.f.Close()
		p.f = nil
	}
}

// remove closes and deletes the file.
func (p *partial) remove() {
	p.close()
	os.Remove(p.path)
}

// commit flushes the file to disk, checks it against sha and size (when not 0) if sha is known
// (a mismatch removes it and returns [ErrChecksum]) and renames it to its final name.
func (p *partial) commit(size int64, sha string) (Pulled, error) {
	// An empty file is a file too.
	if err := p.create(); err != nil {
		return Pulled{}, err
	}
	err := p.f.Sync()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	p.f = nil
	if err != nil {
		return Pulled{}, fmt.Errorf("write %s: %w", p.path, err)
	}
	got := Pulled{Path: p.final, Size: p.n, SHA256: hex.EncodeToString(p.hash.Sum(nil))}
	if sha != "" {
		if (size > 0 && got.Size != size) || got.SHA256 != sha {
			os.Remove(p.path)
			return Pulled{}, fmt.Errorf("%w: %s has %d bytes with sha256 %s, want %d bytes with sha256 %s; removed it",
				ErrChecksum, filepath.Base(p.final), got.Size, got.SHA256, size, sha)
		}
		got.Verified = true
	}
	if err := os.Rename(p.path, p.final); err != nil {
		return Pulled{}, err
	}
	return got, nil
}

// existing reports whether final is already there and right: with the given sha256 and size
// (when not 0) if sha is known, merely present otherwise. It hashes the file to record its digest.
func existing(final string, size int64, sha string) (Pulled, bool, error) {
	f, err := os.Open(final)
	if errors.Is(err, fs.ErrNotExist) {
		return Pulled{}, false, nil
	}
	if err != nil {
		return Pulled{}, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Pulled{}, false, err
	}
	if sha != "" && size > 0 && st.Size() != size {
		return Pulled{}, false, nil
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Pulled{}, false, fmt.Errorf("read %s: %w", final, err)
	}
	got := Pulled{Path: final, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), Verified: sha != ""}
	if sha != "" && got.SHA256 != sha {
		return Pulled{}, false, nil
	}
	return got, true, nil
}

// obtain makes final hold its file, with size and sha256 checked when sha is known: it returns
// at once when the file is already right; otherwise fill writes <final>.partial (resuming what
// is there) and the result is checked and renamed into place. fill reports whether it kept
// bytes from an earlier attempt. A failed fill keeps the partial file for a later resume,
// except when its content is known to be wrong ([ErrChecksum]). Callers hold final's lock.
func obtain(final string, size int64, sha string, fill func(*partial) (bool, error)) (Pulled, error) {
	if got, ok, err := existing(final, size, sha); err != nil || ok {
		return got, err
	}
	p, err := openPartial(final)
	if err != nil {
		return Pulled{}, err
	}
	defer p.close()
	resumed, err := fill(p)
	if err != nil {
		if errors.Is(err, ErrChecksum) {
			p.remove()
		}
		return Pulled{}, err
	}
	got, err := p.commit(size, sha)
	got.Resumed = resumed
	return got, err
}
