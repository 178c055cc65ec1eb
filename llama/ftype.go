package llama

import (
	"fmt"
	"slices"
	"strings"
)

// FileType is a model file's quantization, llama.cpp's llama_ftype.
type FileType int

// The file types a user is likely to meet; llama.cpp defines a few more, which keep their
// number as a name.
const (
	FileTypeF32    FileType = 0
	FileTypeF16    FileType = 1
	FileTypeQ4_0   FileType = 2
	FileTypeQ4_1   FileType = 3
	FileTypeQ8_0   FileType = 7
	FileTypeQ5_0   FileType = 8
	FileTypeQ5_1   FileType = 9
	FileTypeQ2_K   FileType = 10
	FileTypeQ3_K_S FileType = 11
	FileTypeQ3_K_M FileType = 12
	FileTypeQ3_K_L FileType = 13
	FileTypeQ4_K_S FileType = 14
	FileTypeQ4_K_M FileType = 15
	FileTypeQ5_K_S FileType = 16
	FileTypeQ5_K_M FileType = 17
	FileTypeQ6_K   FileType = 18
	FileTypeIQ4_NL FileType = 25
	FileTypeIQ4_XS FileType = 30
	FileTypeBF16   FileType = 32
)

var fileTypeNames = map[FileType]string{
	FileTypeF32: "F32", FileTypeF16: "F16", FileTypeQ4_0: "Q4_0", FileTypeQ4_1: "Q4_1",
	FileTypeQ8_0: "Q8_0", FileTypeQ5_0: "Q5_0", FileTypeQ5_1: "Q5_1", FileTypeQ2_K: "Q2_K",
	FileTypeQ3_K_S: "Q3_K_S", FileTypeQ3_K_M: "Q3_K_M", FileTypeQ3_K_L: "Q3_K_L",
	FileTypeQ4_K_S: "Q4_K_S", FileTypeQ4_K_M: "Q4_K_M", FileTypeQ5_K_S: "Q5_K_S",
	FileTypeQ5_K_M: "Q5_K_M", FileTypeQ6_K: "Q6_K", FileTypeIQ4_NL: "IQ4_NL",
	FileTypeIQ4_XS: "IQ4_XS", FileTypeBF16: "BF16",
}

// String returns the conventional name, such as "Q4_K_M".
func (t FileType) String() string {
	if s, ok := fileTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("ftype(%d)", int(t))
}

// ParseFileType turns a name such as "Q4_K_M" or "q8_0" into a FileType.
func ParseFileType(name string) (FileType, error) {
	for t, s := range fileTypeNames {
		if strings.EqualFold(s, name) {
			return t, nil
		}
	}
	names := make([]string, 0, len(fileTypeNames))
	for _, s := range fileTypeNames {
		names = append(names, s)
	}
	slices.Sort(names)
	return 0, fmt.Errorf("unknown file type %q (known: %s)", name, strings.Join(names, ", "))
}
