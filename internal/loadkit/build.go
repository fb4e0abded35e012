package loadkit

import (
	"fmt"
	"os/exec"
	"path/filepath"
)

// Build builds the gatehouse binary (`go build`, from the module the
// caller runs in) into folder dir and returns its path, for tests that
// start it as a child. The error carries the compiler's output.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "gatehouse")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/gatehouse-dev/gatehouse/cmd/gatehouse").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}
