//go:build asan

package llama_test

// asanBuild is true in a build with AddressSanitizer (go test -asan), whose quarantine of freed
// memory makes the resident set grow on purpose.
const asanBuild = true
