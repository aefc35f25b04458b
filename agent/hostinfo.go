package agent

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/helios-go/helios/model"
)

// collectHostInfo reads the machine's description from /proc and uname. Missing files
// leave fields zero: the agent must run in any container.
func collectHostInfo(engine EngineInfo) model.HostInfo {
	h := model.HostInfo{CPUs: runtime.NumCPU(), Architecture: runtime.GOARCH, OSName: runtime.GOOS}
	h.Hostname, _ = os.Hostname()
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		h.OSName = cstr(u.Sysname[:])
		h.OSVersion = cstr(u.Release[:])
		h.Uname = strings.Join([]string{cstr(u.Sysname[:]), cstr(u.Nodename[:]), cstr(u.Release[:]), cstr(u.Version[:]), cstr(u.Machine[:])}, " ")
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			h.LoadAvg, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m := parseMeminfo(b)
		h.MemoryTotalBytes, h.MemoryFreeBytes = m["MemTotal"], m["MemAvailable"]
		h.SwapTotalBytes, h.SwapFreeBytes = m["SwapTotal"], m["SwapFree"]
	}
	if engine.Version != "" {
		h.DockerVersion = &model.DockerVersion{Version: engine.Version, APIVersion: engine.APIVersion, Arch: engine.Arch,
			GitCommit: engine.GitCommit, GoVersion: engine.GoVersion, KernelVersion: engine.KernelVersion, OS: engine.OS}
		h.DockerHost = engine.Host
	}
	return h
}

func cstr[T int8 | uint8](b []T) string {
	var out []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, byte(c))
	}
	return string(out)
}

// parseMeminfo reads /proc/meminfo into bytes per field.
func parseMeminfo(b []byte) map[string]int64 {
	out := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		out[k] = n
	}
	return out
}

// hostInfoChanged tells whether b differs from a enough to be worth a write: load average
// to one decimal, free memory and swap to 64 MiB, so a busy host does not write every tick.
func hostInfoChanged(a, b model.HostInfo) bool {
	const gran = 64 << 20
	norm := func(h model.HostInfo) model.HostInfo {
		h.LoadAvg = math.Round(h.LoadAvg*10) / 10
		h.MemoryFreeBytes /= gran
		h.SwapFreeBytes /= gran
		h.DockerVersion = nil
		return h
	}
	na, nb := norm(a), norm(b)
	if na != nb {
		return true
	}
	if (a.DockerVersion == nil) != (b.DockerVersion == nil) {
		return true
	}
	return a.DockerVersion != nil && *a.DockerVersion != *b.DockerVersion
}
