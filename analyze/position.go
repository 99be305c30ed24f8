package analyze

import (
	"go/token"
	"strings"
)

// posLess orders two positions by file name, line and column. The order of
// token.Pos values themselves depends on the order in which files were
// parsed, which go/packages does in parallel, so it must not leak into any
// output.
func posLess(fset *token.FileSet, a, b token.Pos) bool {
	if a == b {
		return false
	}
	pa, pb := fset.Position(a), fset.Position(b)
	if pa.Filename != pb.Filename {
		return pa.Filename < pb.Filename
	}
	if pa.Line != pb.Line {
		return pa.Line < pb.Line
	}
	return pa.Column < pb.Column
}

// posStringLess orders "file:line:col" strings the same way.
func posStringLess(a, b string) bool {
	fa, la, ca := splitPosString(a)
	fb, lb, cb := splitPosString(b)
	if fa != fb {
		return fa < fb
	}
	if la != lb {
		return la < lb
	}
	return ca < cb
}

// splitPosString splits "file:line:col" (line and column optional).
func splitPosString(s string) (file string, line, col int) {
	file = s
	var nums []int
	for range 2 {
		i := strings.LastIndexByte(file, ':')
		if i < 0 {
			break
		}
		n, ok := atoi(file[i+1:])
		if !ok {
			break
		}
		nums = append([]int{n}, nums...)
		file = file[:i]
	}
	switch len(nums) {
	case 2:
		line, col = nums[0], nums[1]
	case 1:
		line = nums[0]
	}
	return file, line, col
}
