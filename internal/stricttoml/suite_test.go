package stricttoml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// TestScanTOMLSuite runs the pre-scan over the valid documents of the
// toml-test suite that BurntSushi/toml ships in its module (skipped when
// the module source is not on disk): on every document the decoder
// accepts, the scan must reach the end.
func TestScanTOMLSuite(t *testing.T) {
	dir := tomlTestDir()
	if dir == "" {
		t.Skip("the BurntSushi/toml module source is not in the module cache")
	}
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".toml" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if _, err := toml.Decode(string(b), &v); err != nil {
			return nil
		}
		n++
		s := &scanner{src: string(b)}
		if err := s.document(); err != nil {
			t.Errorf("%s: %v at byte %d", p, err, s.i)
		}
		return nil
	})
	t.Logf("%d documents", n)
}

// tomlTestDir finds the toml-test suite of the BurntSushi/toml version in
// the module's go.mod, in the module cache.
func tomlTestDir() string {
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		return ""
	}
	version := ""
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/BurntSushi/toml" {
			version = f[1]
		}
	}
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, _ := os.UserHomeDir()
			gopath = filepath.Join(home, "go")
		}
		cache = filepath.Join(gopath, "pkg", "mod")
	}
	dir := filepath.Join(cache, "github.com", "!burnt!sushi", "toml@"+version, "internal", "toml-test", "tests", "valid")
	if fi, err := os.Stat(dir); version == "" || err != nil || !fi.IsDir() {
		return ""
	}
	return dir
}
