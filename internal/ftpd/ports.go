package ftpd

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Port slots. Slot k owns ports slotBase+k*slotSize .. +slotSize-1: the
// first is the control port, the rest the passive range. They sit below the
// kernel's ephemeral range (client ports never land there) and below
// 10000..32499, which bench/ftp-servers/start.sh uses, so both can run
// side by side. 199 passive ports: with ~100, busy parallel pure-ftpd
// sessions sometimes pick the same port (425 "Address already in use"), and
// pure-ftpd admits at most half as many clients as it has passive ports.
const (
	slotBase  = 2000
	slotSize  = 200
	slotCount = 40 // up to port 9999
)

// slot is a claimed port range, held by an flock on its lock file until
// release. The lock is per open file, so it excludes other test processes
// and other Start calls of this process alike; a process that dies releases
// it.
type slot struct {
	ctrl, pasvLo, pasvHi int
	lock                 *os.File
}

func (s *slot) release() error { return s.lock.Close() }

// claimSlot takes a free slot: its lock is free, no socket other than
// TIME_WAIT uses its ports, and its control port can be bound.
func claimSlot() (*slot, error) {
	dir := filepath.Join(os.TempDir(), "ferry-ftpd-slots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ftpd: port slots: %w", err)
	}
	ephemeralLo := ephemeralLow()
	start := rand.IntN(slotCount)
	for i := range slotCount {
		k := (start + i) % slotCount
		lo := slotBase + k*slotSize
		hi := lo + slotSize - 1
		if hi >= ephemeralLo {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("slot-%02d.lock", k)), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, fmt.Errorf("ftpd: port slots: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				continue
			}
			return nil, fmt.Errorf("ftpd: lock port slot %d: %w", k, err)
		}
		if rangeInUse(lo, hi) || !bindable(lo) {
			f.Close()
			continue
		}
		return &slot{ctrl: lo, pasvLo: lo + 1, pasvHi: hi, lock: f}, nil
	}
	return nil, fmt.Errorf("ftpd: no free port slot in %d..%d", slotBase, slotBase+slotCount*slotSize-1)
}

// ephemeralLow is the lowest port the kernel hands to outgoing connections.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}

// bindable reports whether a listener can be opened on 127.0.0.1:port.
func bindable(port int) bool {
	l, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// rangeInUse reports whether any TCP socket in a state other than TIME_WAIT
// has a local port in lo..hi. TIME_WAIT leftovers of a stopped instance do
// not stop the servers from binding (they all set SO_REUSEADDR). Without
// /proc it reports false and leaves the decision to bindable.
func rangeInUse(lo, hi int) bool {
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[3] == "06" { // 06: TIME_WAIT
				continue
			}
			i := strings.LastIndexByte(fields[1], ':')
			port, err := strconv.ParseUint(fields[1][i+1:], 16, 16)
			if err == nil && int(port) >= lo && int(port) <= hi {
				f.Close()
				return true
			}
		}
		f.Close()
	}
	return false
}
