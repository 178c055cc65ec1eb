package models

import "errors"

// Errors returned by this package, wrapped with details; test them with errors.Is.
var (
	// ErrUnknownModel means an id is not in the catalog.
	ErrUnknownModel = errors.New("unknown model")
	// ErrNotDownloaded means a catalog model has no file in the models directory yet.
	ErrNotDownloaded = errors.New("model not downloaded")
	// ErrAccess means the server refused the download (HTTP 401 or 403), usually because the
	// model is gated; the message says how to get access.
	ErrAccess = errors.New("access denied")
	// ErrNotFound means the server has no such repository, file, revision or package (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrChecksum means a finished download does not have the expected size or SHA-256.
	// The bad file has been removed.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrDiskFull means writing the download failed for lack of space. The partial file is
	// kept, so a pull after freeing space resumes.
	ErrDiskFull = errors.New("disk full")
)
