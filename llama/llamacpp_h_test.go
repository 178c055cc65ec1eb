package llama

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The tests in this file hold llamacpp.h, the binding's own declarations of llama.cpp's and
// ggml's C API, to the headers of the pinned github.com/ollama/ollama module, compiling both
// with the C compiler cgo uses.

const pinnedModule = "github.com/ollama/ollama"

// pinnedHeaders are the pinned module's header folders: llama.h, ggml.h and ggml-backend.h,
// and ggml's internal headers (ggml-backend-impl.h).
type pinnedHeaders struct {
	llama, ggml, ggmlSrc string
}

func (h pinnedHeaders) flags() []string {
	return []string{"-I" + h.llama, "-I" + h.ggml, "-I" + h.ggmlSrc}
}

// skipWithoutGo skips a test that needs the go command where the test binary runs without
// one (built here and carried to a machine without Go, as for the GPU runs). CI always has it.
func skipWithoutGo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command here: the pinned module's sources are found through it")
	}
}

// findPinnedHeaders asks the go command where the pinned module is, as the build does.
func findPinnedHeaders(t *testing.T) pinnedHeaders {
	t.Helper()
	skipWithoutGo(t)
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", pinnedModule).Output()
	require.NoError(t, err, "go list -m %s", pinnedModule)
	dir := strings.TrimSpace(string(out))
	require.NotEmpty(t, dir, "go list -m %s: no folder", pinnedModule)
	h := pinnedHeaders{
		llama:   filepath.Join(dir, "llama", "llama.cpp", "include"),
		ggml:    filepath.Join(dir, "ml", "backend", "ggml", "ggml", "include"),
		ggmlSrc: filepath.Join(dir, "ml", "backend", "ggml", "ggml", "src"),
	}
	for _, f := range []string{filepath.Join(h.llama, "llama.h"), filepath.Join(h.ggml, "ggml-backend.h"), filepath.Join(h.ggmlSrc, "ggml-backend-impl.h")} {
		_, err := os.Stat(f)
		require.NoError(t, err)
	}
	return h
}

// cCompiler returns the C compiler cgo uses. The checks use GCC's -aux-info, so another
// compiler skips them.
func cCompiler(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "CC").Output()
	require.NoError(t, err, "go env CC")
	cc := strings.Fields(string(out))
	require.NotEmpty(t, cc, "go env CC is empty")
	v, err := exec.Command(cc[0], append(cc[1:], "-v")...).CombinedOutput()
	require.NoError(t, err, "%s -v: %s", cc[0], v)
	if !bytes.Contains(v, []byte("gcc version")) {
		t.Skipf("the C compiler %s is not GCC, whose -aux-info lists the declared functions", cc[0])
	}
	return cc
}

func ourHeader(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("llamacpp.h")
	require.NoError(t, err)
	return p
}

// compileC writes src to a file in dir and runs the compiler on it with args; it fails the
// test with the compiler's output when the compiler does.
func compileC(t *testing.T, cc []string, dir, name, src string, args ...string) {
	t.Helper()
	file := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(file, []byte(src), 0o644))
	cmd := exec.Command(cc[0], slices.Concat(cc[1:], []string{"-std=gnu17"}, args, []string{file})...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s:\n%s", strings.Join(cmd.Args, " "), out)
}

// TestFunctionsMatchThePinnedHeaders includes the pinned headers and then llamacpp.h's
// prototypes and typedefs: a conflicting redeclaration stops the compiler. GCC's -aux-info
// then lists where every function was declared, so that one that the pinned headers lack is
// found too.
func TestFunctionsMatchThePinnedHeaders(t *testing.T) {
	h := findPinnedHeaders(t)
	cc := cCompiler(t)
	dir := t.TempDir()
	ours := ourHeader(t)
	src := fmt.Sprintf("#include \"llama.h\"\n#include \"ggml-backend.h\"\n#define LLMB_CHECK_AGAINST_PINNED_HEADERS\n#include %q\n", ours)
	compileC(t, cc, dir, "prototypes.c", src, slices.Concat(h.flags(), []string{"-fsyntax-only", "-Werror", "-Wstrict-prototypes", "-aux-info", "prototypes.aux"})...)

	aux, err := os.ReadFile(filepath.Join(dir, "prototypes.aux"))
	require.NoError(t, err)
	declared := map[string][]string{} // function -> files that declare it
	// A line reads: /* FILE:LINE:XX */ extern RESULT NAME (PARAMS);
	line := regexp.MustCompile(`^/\* (.+):\d+:[A-Z]+ \*/ .*?(\w+) \(.*\);$`)
	for _, l := range strings.Split(string(aux), "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			declared[m[2]] = append(declared[m[2]], m[1])
		}
	}
	var ourFuncs []string
	for name, files := range declared {
		if !slices.Contains(files, ours) {
			continue
		}
		ourFuncs = append(ourFuncs, name)
		if len(files) < 2 {
			t.Errorf("%s is declared in llamacpp.h but not in the pinned headers", name)
		}
	}
	// Guards against a listing that matched nothing of ours.
	require.Contains(t, ourFuncs, "llama_decode")
	require.Contains(t, ourFuncs, "ggml_backend_dev_count")
	t.Logf("%d functions agree with the pinned headers", len(ourFuncs))
}

// TestBufferFreeIsTheFirstFieldOfABuffer checks what helpers.c's __wrap_ggml_backend_buffer_free
// reads: a buffer's free_buffer function pointer at its very start, in struct ggml_backend_buffer's
// iface (ggml-backend-impl.h, which the binding cannot see when it builds).
func TestBufferFreeIsTheFirstFieldOfABuffer(t *testing.T) {
	h := findPinnedHeaders(t)
	cc := cCompiler(t)
	src := `#include <stddef.h>
#include "ggml-backend-impl.h"
_Static_assert(offsetof(struct ggml_backend_buffer, iface) == 0, "iface is not the first field of struct ggml_backend_buffer");
_Static_assert(offsetof(struct ggml_backend_buffer_i, free_buffer) == 0, "free_buffer is not the first field of struct ggml_backend_buffer_i");
_Static_assert(__builtin_types_compatible_p(__typeof__(((struct ggml_backend_buffer *) 0)->iface.free_buffer), void (*)(ggml_backend_buffer_t)),
    "free_buffer is not a void (*)(ggml_backend_buffer_t)");
`
	compileC(t, cc, t.TempDir(), "buffer.c", src, append(h.flags(), "-fsyntax-only")...)
}

// TestTypesMatchThePinnedHeaders compiles llamacpp.h alone and the pinned headers alone with
// debugging information, and compares what the compiler recorded of every type llamacpp.h
// declares: a struct's size and, field by field, name, offset and type; an enum's size,
// underlying type and the value of each constant it declares; a typedef's type.
func TestTypesMatchThePinnedHeaders(t *testing.T) {
	h := findPinnedHeaders(t)
	cc := cCompiler(t)
	dir := t.TempDir()
	ours := ourHeader(t)
	debugFlags := []string{"-c", "-g", "-fno-eliminate-unused-debug-types"}
	compileC(t, cc, dir, "ours.c", fmt.Sprintf("#include %q\n", ours), append(debugFlags, "-o", "ours.o")...)
	compileC(t, cc, dir, "pinned.c", "#include \"llama.h\"\n#include \"ggml-backend.h\"\n", slices.Concat(h.flags(), debugFlags, []string{"-o", "pinned.o"})...)
	got := readCTypes(t, filepath.Join(dir, "ours.o"))
	want := readCTypes(t, filepath.Join(dir, "pinned.o"))

	var structs, enums, typedefs int
	for key, o := range got {
		if o.file != ours {
			continue
		}
		p, ok := want[key]
		if !ok {
			t.Errorf("%s is declared in llamacpp.h but not in the pinned headers", key)
			continue
		}
		var diffs []string
		switch ot := o.typ.(type) {
		case *dwarf.StructType:
			if ot.Incomplete {
				continue // opaque: only pointers to it are used
			}
			structs++
			diffs = structDiffs(ot, p.typ.(*dwarf.StructType))
		case *dwarf.EnumType:
			enums++
			diffs = enumDiffs(ot, p.typ.(*dwarf.EnumType))
			if o.underlying != p.underlying {
				diffs = append(diffs, fmt.Sprintf("underlying type %s, pinned %s", o.underlying, p.underlying))
			}
		case *dwarf.TypedefType:
			typedefs++
			if a, b := canon(ot.Type), canon(p.typ.(*dwarf.TypedefType).Type); a != b {
				diffs = append(diffs, fmt.Sprintf("%s, pinned %s", a, b))
			}
		}
		for _, d := range diffs {
			t.Errorf("%s (pinned in %s): %s", key, p.file, d)
		}
	}
	require.Positive(t, structs, "no struct of llamacpp.h found in its debugging information")
	require.Positive(t, enums, "no enum of llamacpp.h found in its debugging information")
	require.Positive(t, typedefs, "no typedef of llamacpp.h found in its debugging information")
	t.Logf("%d structs, %d enums and %d typedefs agree with the pinned headers", structs, enums, typedefs)
}

// TestGoMirrorsOfEnumsMatchThePinnedHeaders checks the Go constants that stand for values of
// the pinned headers' enums.
func TestGoMirrorsOfEnumsMatchThePinnedHeaders(t *testing.T) {
	h := findPinnedHeaders(t)
	cc := cCompiler(t)
	dir := t.TempDir()
	compileC(t, cc, dir, "pinned.c", "#include \"llama.h\"\n#include \"ggml-backend.h\"\n", slices.Concat(h.flags(), []string{"-c", "-g", "-fno-eliminate-unused-debug-types", "-o", "pinned.o"})...)
	values := map[string]int64{}
	for _, o := range readCTypes(t, filepath.Join(dir, "pinned.o")) {
		if e, ok := o.typ.(*dwarf.EnumType); ok {
			for _, v := range e.Val {
				values[v.Name] = v.Val
			}
		}
	}
	mirrors := map[string]int64{
		"LLAMA_SPLIT_MODE_NONE":          int64(SplitNone),
		"LLAMA_SPLIT_MODE_LAYER":         int64(SplitLayer),
		"LLAMA_SPLIT_MODE_ROW":           int64(SplitRow),
		"LLAMA_FLASH_ATTN_TYPE_AUTO":     int64(FlashAuto),
		"LLAMA_FLASH_ATTN_TYPE_DISABLED": int64(FlashOff),
		"LLAMA_FLASH_ATTN_TYPE_ENABLED":  int64(FlashOn),
		"GGML_LOG_LEVEL_NONE":            logNone,
		"GGML_LOG_LEVEL_DEBUG":           logDebug,
		"GGML_LOG_LEVEL_INFO":            logInfo,
		"GGML_LOG_LEVEL_WARN":            logWarn,
		"GGML_LOG_LEVEL_ERROR":           logError,
		"GGML_LOG_LEVEL_CONT":            logCont,
	}
	for ft, name := range fileTypeNames {
		prefix := "LLAMA_FTYPE_MOSTLY_"
		if ft == FileTypeF32 {
			prefix = "LLAMA_FTYPE_ALL_"
		}
		mirrors[prefix+name] = int64(ft)
	}
	for name, v := range mirrors {
		pinned, ok := values[name]
		if !ok {
			t.Errorf("%s is not in the pinned headers", name)
			continue
		}
		if pinned != v {
			t.Errorf("%s is %d in Go, %d in the pinned headers", name, v, pinned)
		}
	}
}

// cType is a named type at the top level of a compiled file's debugging information.
type cType struct {
	typ        dwarf.Type
	file       string // where it is declared
	underlying string // an enum's underlying type, "" for other types
}

// readCTypes reads the named structs, enums and typedefs of an object file's debugging
// information, keyed "struct NAME", "enum NAME" or "typedef NAME". A complete struct
// replaces an incomplete declaration of the same name.
func readCTypes(t *testing.T, object string) map[string]cType {
	t.Helper()
	f, err := elf.Open(object)
	require.NoError(t, err)
	defer f.Close()
	d, err := f.DWARF()
	require.NoError(t, err)
	types := map[string]cType{}
	r := d.Reader()
	var files []*dwarf.LineFile
	for {
		e, err := r.Next()
		require.NoError(t, err)
		if e == nil {
			break
		}
		if e.Tag == dwarf.TagCompileUnit {
			lr, err := d.LineReader(e)
			require.NoError(t, err)
			files = lr.Files()
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		var kind string
		switch e.Tag {
		case dwarf.TagStructType:
			kind = "struct"
		case dwarf.TagEnumerationType:
			kind = "enum"
		case dwarf.TagTypedef:
			kind = "typedef"
		}
		if kind != "" && name != "" {
			typ, err := d.Type(e.Offset)
			require.NoError(t, err)
			ct := cType{typ: typ}
			if i, ok := e.Val(dwarf.AttrDeclFile).(int64); ok && int(i) < len(files) && files[i] != nil {
				ct.file = files[i].Name
			}
			if u, ok := e.Val(dwarf.AttrType).(dwarf.Offset); ok && kind == "enum" {
				ut, err := d.Type(u)
				require.NoError(t, err)
				ct.underlying = canon(ut)
			}
			key := kind + " " + name
			if old, ok := types[key]; !ok || isIncomplete(old.typ) {
				types[key] = ct
			}
		}
		if e.Children {
			r.SkipChildren()
		}
	}
	return types
}

func isIncomplete(t dwarf.Type) bool {
	s, ok := t.(*dwarf.StructType)
	return ok && s.Incomplete
}

func structDiffs(ours, pinned *dwarf.StructType) []string {
	if pinned.Incomplete {
		return []string{"the pinned headers only declare it"}
	}
	var diffs []string
	if ours.ByteSize != pinned.ByteSize {
		diffs = append(diffs, fmt.Sprintf("size %d, pinned %d", ours.ByteSize, pinned.ByteSize))
	}
	for i := range max(len(ours.Field), len(pinned.Field)) {
		switch {
		case i >= len(ours.Field):
			diffs = append(diffs, fmt.Sprintf("field %s is missing", pinned.Field[i].Name))
		case i >= len(pinned.Field):
			diffs = append(diffs, fmt.Sprintf("field %s is not in the pinned struct", ours.Field[i].Name))
		default:
			if a, b := fieldString(ours.Field[i]), fieldString(pinned.Field[i]); a != b {
				diffs = append(diffs, fmt.Sprintf("field %d is %s, pinned %s", i, a, b))
			}
		}
	}
	return diffs
}

func fieldString(f *dwarf.StructField) string {
	s := fmt.Sprintf("%s %s at %d", f.Name, canon(f.Type), f.ByteOffset)
	if f.BitSize != 0 {
		s += fmt.Sprintf(" bits %d+%d", f.DataBitOffset, f.BitSize)
	}
	return s
}

func enumDiffs(ours, pinned *dwarf.EnumType) []string {
	var diffs []string
	if ours.ByteSize != pinned.ByteSize {
		diffs = append(diffs, fmt.Sprintf("size %d, pinned %d", ours.ByteSize, pinned.ByteSize))
	}
	values := map[string]int64{}
	for _, v := range pinned.Val {
		values[v.Name] = v.Val
	}
	for _, v := range ours.Val {
		p, ok := values[v.Name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s is not in the pinned enum", v.Name))
		case p != v.Val:
			diffs = append(diffs, fmt.Sprintf("%s is %d, pinned %d", v.Name, v.Val, p))
		}
	}
	return diffs
}

// canon spells a type with every typedef resolved, so that two headers that name one type
// differently compare equal; a named struct or enum is spelled by its name, compared on its
// own.
func canon(t dwarf.Type) string {
	switch t := t.(type) {
	case nil:
		return "void"
	case *dwarf.TypedefType:
		return canon(t.Type)
	case *dwarf.QualType:
		return t.Qual + " " + canon(t.Type)
	case *dwarf.PtrType:
		return "*" + canon(t.Type)
	case *dwarf.ArrayType:
		return fmt.Sprintf("[%d]%s", t.Count, canon(t.Type))
	case *dwarf.StructType:
		if t.StructName != "" {
			return t.Kind + " " + t.StructName
		}
		fields := make([]string, len(t.Field))
		for i, f := range t.Field {
			fields[i] = fieldString(f)
		}
		return t.Kind + " {" + strings.Join(fields, "; ") + "}"
	case *dwarf.EnumType:
		return "enum " + t.EnumName
	case *dwarf.FuncType:
		params := make([]string, len(t.ParamType))
		for i, p := range t.ParamType {
			params[i] = canon(p)
		}
		return "func(" + strings.Join(params, ", ") + ") " + canon(t.ReturnType)
	case *dwarf.VoidType:
		return "void"
	default:
		return fmt.Sprintf("%s(%d)", t.String(), t.Size())
	}
}
