package testsuite

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const (
	modulePath   = "github.com/decnet/decnet-db"
	driversPath  = modulePath + "/drivers/"
	exemptPrefix = "drivers/"
)

// driverImportViolations returns, for every Go file under root outside
// drivers/ and testsuite/, each import of a driver package that is not a
// blank import. Feature code must get repositories from registry.Open.
func driverImportViolations(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "drivers" || rel == "testsuite" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, driversPath) && (imp.Name == nil || imp.Name.Name != "_") {
				out = append(out, fmt.Sprintf("%s imports %s", rel, p))
			}
		}
		return nil
	})
	return out, err
}

// TestNoDirectDriverImports enforces the layout rule: outside drivers/ and
// testsuite/, driver packages are imported only blank.
func TestNoDirectDriverImports(t *testing.T) {
	bad, err := driverImportViolations("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("%s: import it blank (_) and get repositories from registry.Open", b)
	}
}

// TestDriverImportCheckerCatches proves the rule's checker can fail.
func TestDriverImportCheckerCatches(t *testing.T) {
	root := t.TempDir()
	write := func(rel, src string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("feature/bad.go", "package feature\nimport \""+driversPath+"sqlite\"\nvar _ = sqlite.Name\n")
	write("feature/good.go", "package feature\nimport _ \""+driversPath+"mysql\"\n")
	write(exemptPrefix+"x/ok.go", "package x\nimport \""+driversPath+"sqlite\"\n")
	bad, err := driverImportViolations(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 1 || !strings.Contains(bad[0], "feature/bad.go") {
		t.Errorf("violations = %q, want only feature/bad.go", bad)
	}
}
