package daemon

import (
	"fmt"
	"path"

	"github.com/helios-go/helios/model"
	ucli "github.com/urfave/cli/v2"
)

// PolicyFlags set the job policy: what jobs may ask of a host. The master checks it at
// create, and every agent again before it runs anything, so give both the same flags.
func PolicyFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringSliceFlag{Name: "allowed-host-path", Usage: "host `PATH` jobs may bind-mount, with what is under it (repeatable); replaces the default deny-list (/, /etc, /root, /boot, /proc, /sys, /dev, /run, /var/run, /var/lib/docker)"},
		&ucli.BoolFlag{Name: "allow-unconfined", Usage: "let jobs switch protections off (securityOpt seccomp=unconfined, apparmor=unconfined, label=disable, systempaths=unconfined)"},
		&ucli.BoolFlag{Name: "deny-host-network", Usage: "refuse jobs with networkMode host"},
		&ucli.BoolFlag{Name: "deny-container-network", Usage: "refuse jobs with networkMode container:<name|id>"},
		&ucli.StringSliceFlag{Name: "allowed-runtime", Usage: "container `RUNTIME` jobs may name (repeatable; default: any)"},
		&ucli.StringFlag{Name: "max-ramdisk-size", Value: "1g", Usage: "largest `SIZE` a job's ramdisk may ask (size= in bytes, or with k, m or g)"},
	}
}

// ParsePolicy reads the policy flags.
func ParsePolicy(c *ucli.Context) (model.JobPolicy, error) {
	p := model.DefaultJobPolicy()
	for _, a := range c.StringSlice("allowed-host-path") {
		if !path.IsAbs(a) {
			return p, fmt.Errorf("--allowed-host-path %q: must be an absolute path", a)
		}
		p.AllowedHostPaths = append(p.AllowedHostPaths, path.Clean(a))
	}
	p.AllowUnconfined = c.Bool("allow-unconfined")
	p.DenyHostNetwork = c.Bool("deny-host-network")
	p.DenyContainerNetwork = c.Bool("deny-container-network")
	p.AllowedRuntimes = c.StringSlice("allowed-runtime")
	if v := c.String("max-ramdisk-size"); v != "" { // "" where the flag is not defined
		size, err := model.RamdiskSize("size=" + v)
		if err != nil {
			return p, fmt.Errorf("--max-ramdisk-size: %w", err)
		}
		p.MaxRamdiskBytes = size
	}
	return p, nil
}
