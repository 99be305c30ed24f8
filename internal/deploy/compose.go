package deploy

import (
	"os/exec"
	"sync"
)

// ComposeCommand returns the command that runs Docker Compose here: the
// docker CLI's compose plugin ("docker", "compose") when it answers,
// otherwise the standalone docker-compose (Compose v1), or nil when there
// is neither. Both take the same subcommands and flags for what the
// generated file needs.
func ComposeCommand() []string {
	composeOnce.Do(func() {
		if exec.Command("docker", "compose", "version").Run() == nil {
			composeCmd = []string{"docker", "compose"}
		} else if p, err := exec.LookPath("docker-compose"); err == nil {
			composeCmd = []string{p}
		}
	})
	return composeCmd
}

var (
	composeOnce sync.Once
	composeCmd  []string
)
