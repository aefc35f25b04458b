package agent

import (
	"fmt"
	"net"
	"strconv"
	"sync"
)

// PortRange is the dynamic port range [Start, End).
type PortRange struct{ Start, End int }

// portKey names a host port with its protocol.
type portKey struct {
	Proto string
	Port  int
}

// portAllocator hands out dynamic ports from the agent's range. Ports held by this agent's
// containers (passed in at each call) and ports handed out but not yet seen on a container
// are never given twice; a port some other process holds is skipped when free says so.
type portAllocator struct {
	mu       sync.Mutex
	rng      PortRange
	next     int
	reserved map[portKey]bool
	free     func(proto string, port int) bool
}

func newPortAllocator(rng PortRange, free func(proto string, port int) bool) *portAllocator {
	if free == nil {
		free = portFree
	}
	return &portAllocator{rng: rng, next: rng.Start, reserved: map[portKey]bool{}, free: free}
}

// allocate picks one port per name (all with proto given in protos) avoiding used. The
// ports stay reserved until release.
func (a *portAllocator) allocate(protos map[string]string, used map[portKey]bool) (map[string]int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]int, len(protos))
	var taken []portKey
	for name, proto := range protos {
		port, err := a.pick(proto, used)
		if err != nil {
			for _, k := range taken {
				delete(a.reserved, k)
			}
			return nil, fmt.Errorf("port %s: %w", name, err)
		}
		k := portKey{proto, port}
		a.reserved[k] = true
		taken = append(taken, k)
		out[name] = port
	}
	return out, nil
}

// pick scans the range once from where the last pick stopped, so a port just released is
// not reused at once.
func (a *portAllocator) pick(proto string, used map[portKey]bool) (int, error) {
	n := a.rng.End - a.rng.Start
	for i := 0; i < n; i++ {
		p := a.next
		a.next++
		if a.next >= a.rng.End {
			a.next = a.rng.Start
		}
		k := portKey{proto, p}
		if used[k] || a.reserved[k] || !a.free(proto, p) {
			continue
		}
		return p, nil
	}
	return 0, fmt.Errorf("no free %s port in %d:%d", proto, a.rng.Start, a.rng.End)
}

// release forgets reservations once the ports are visible on a container (or unused).
func (a *portAllocator) release(protos map[string]string, ports map[string]int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for name, p := range ports {
		delete(a.reserved, portKey{protos[name], p})
	}
}

// portFree tells whether nothing on this machine holds the port now.
func portFree(proto string, port int) bool {
	addr := net.JoinHostPort("", strconv.Itoa(port))
	if proto == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	return true
}
