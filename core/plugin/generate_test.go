package plugin

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// generatedDir is the directory of the committed generated code.
const generatedDir = "proto/decnetdb/v1"

// TestGeneratedCodeIsCurrent regenerates the protocol's Go code into a
// temporary directory (go run ./internal/protogen: pinned generators,
// the system's protoc) and fails when it differs from the committed code.
// Without protoc it skips, unless DECNET_TEST_REQUIRE_SERVERS is set (CI).
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if _, err := exec.LookPath("protoc"); err != nil {
		if os.Getenv("DECNET_TEST_REQUIRE_SERVERS") != "" {
			t.Fatal("DECNET_TEST_REQUIRE_SERVERS is set but protoc is missing: install protobuf-compiler")
		}
		t.Skip("no protoc: install protobuf-compiler (Debian) to check the generated code")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := t.TempDir()
	cmd := exec.Command(goBin, "run", "./internal/protogen", "-out", out)
	// protogen runs go install; the go command must be the one found here.
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(goBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./internal/protogen: %v\n%s", err, b)
	}
	for _, d := range diffGenerated(t, generatedDir, filepath.Join(out, "decnetdb/v1")) {
		t.Errorf("%s; run go generate ./core/plugin/ and commit the result", d)
	}
}

// diffGenerated compares the generated Go files of two directories byte
// for byte and describes each difference.
func diffGenerated(t *testing.T, committed, fresh string) []string {
	t.Helper()
	read := func(dir string) map[string][]byte {
		files := map[string][]byte{}
		matches, err := filepath.Glob(filepath.Join(dir, "*.pb.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			files[filepath.Base(m)] = b
		}
		return files
	}
	have, want := read(committed), read(fresh)
	var diffs []string
	for name, w := range want {
		h, ok := have[name]
		switch {
		case !ok:
			diffs = append(diffs, name+" is not committed")
		case !bytes.Equal(h, w):
			diffs = append(diffs, name+" is stale: "+firstDiff(h, w))
		}
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, name+" is committed but no longer generated")
		}
	}
	sort.Strings(diffs)
	return diffs
}

// firstDiff describes the first line where a and b differ.
func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ": committed " + strconv.Quote(x) + ", generated " + strconv.Quote(y)
		}
	}
	return "they differ"
}

// TestDiffGeneratedCatches proves the comparison fails on stale code.
func TestDiffGeneratedCatches(t *testing.T) {
	fresh := t.TempDir()
	files, err := filepath.Glob(filepath.Join(generatedDir, "*.pb.go"))
	if err != nil || len(files) != 2 {
		t.Fatalf("committed generated files: %v, %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, "_grpc.pb.go") {
			b = bytes.Replace(b, []byte("AddLogs"), []byte("AddLogz"), 1)
		}
		if err := os.WriteFile(filepath.Join(fresh, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(fresh, "extra.pb.go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	diffs := diffGenerated(t, generatedDir, fresh)
	if len(diffs) != 2 || !strings.Contains(diffs[0], "extra.pb.go is not committed") || !strings.Contains(diffs[1], "repository_grpc.pb.go is stale") {
		t.Errorf("diffs = %q, want extra.pb.go not committed and repository_grpc.pb.go stale", diffs)
	}
	if d := diffGenerated(t, generatedDir, generatedDir); len(d) != 0 {
		t.Errorf("the committed code differs from itself: %q", d)
	}
}
