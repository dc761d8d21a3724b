package main

import (
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
)

// Resource faults act on the whole process (services/lib/resource-faults.ts is the Node side): "memory" holds mb
// MiB on the Go heap, "cpu" burns a fraction of one core on a goroutine of its own. "stall" is refused: Go has no
// event loop to block (parseFault answers 400).

// resourceEffect is a running resource fault; stop undoes it before it returns and is safe to call twice.
type resourceEffect interface {
	stop()
}

// isResourceKind reports whether a fault kind is a resource fault (an effect, not a per-call decision).
func isResourceKind(kind string) bool {
	return kind == "memory" || kind == "cpu"
}

// startResourceEffect starts the effect of a validated resource fault and returns once it is in place.
func startResourceEffect(f *fault) resourceEffect {
	switch f.Kind {
	case "memory":
		return holdMemory(*f.MB)
	case "cpu":
		return burnCPU(*f.Fraction)
	}
	return nil
}

const (
	mib = 1 << 20
	// pageBytes is the stride of the writes that make the held memory resident (Linux pages are 4 KiB).
	pageBytes = 4096
)

// memoryHold is mb MiB of []byte chunks, every page written so RSS rises with go_memstats_heap_alloc_bytes (a
// large allocation comes zeroed from the OS and would otherwise count on the heap but not in RSS).
type memoryHold struct {
	mu     sync.Mutex
	chunks [][]byte
}

func holdMemory(mb int) *memoryHold {
	chunks := make([][]byte, mb)
	for i := range chunks {
		chunk := make([]byte, mib)
		for j := 0; j < len(chunk); j += pageBytes {
			chunk[j] = 1
		}
		chunks[i] = chunk
	}
	return &memoryHold{chunks: chunks}
}

// stop drops the chunks and runs debug.FreeOSMemory: a GC (so the heap gauges fall now) that also returns the
// freed pages to the OS (so RSS falls too).
func (h *memoryHold) stop() {
	h.mu.Lock()
	released := h.chunks != nil
	h.chunks = nil
	h.mu.Unlock()
	if released {
		debug.FreeOSMemory()
	}
}

// burnPeriod is one duty cycle of the cpu fault: busy for fraction of it, asleep for the rest.
const burnPeriod = 100 * time.Millisecond

// cpuBurn is a goroutine locked to its own OS thread that spends fraction x burnPeriod of that thread's CPU time
// (getrusage RUSAGE_THREAD, so a machine busy with other work does not quietly make it burn less) in each period,
// or the whole period when the machine cannot give it that much, then sleeps until the next period. Calls are
// served by the other goroutines as before; process_cpu_seconds_total (all threads) rises by fraction.
type cpuBurn struct {
	once     sync.Once
	stopping chan struct{}
	done     chan struct{}
}

func burnCPU(fraction float64) *cpuBurn {
	b := &cpuBurn{stopping: make(chan struct{}), done: make(chan struct{})}
	running := make(chan struct{})
	busy := time.Duration(fraction * float64(burnPeriod))
	go func() {
		// Never unlocked: when the goroutine returns, its thread ends with it.
		runtime.LockOSThread()
		defer close(b.done)
		close(running)
		periodStart := time.Now()
		for {
			cpuStart := threadCPU()
			for spins := 0; time.Since(periodStart) < burnPeriod && threadCPU()-cpuStart < busy; spins++ {
				if spins&255 == 0 && b.stopped() {
					return
				}
			}
			periodStart = periodStart.Add(burnPeriod)
			idle := time.Until(periodStart)
			if idle <= 0 {
				periodStart = time.Now()
				if b.stopped() {
					return
				}
				continue
			}
			timer := time.NewTimer(idle)
			select {
			case <-b.stopping:
				timer.Stop()
				return
			case <-timer.C:
			}
		}
	}()
	<-running
	return b
}

func (b *cpuBurn) stopped() bool {
	select {
	case <-b.stopping:
		return true
	default:
		return false
	}
}

// stop ends the burn and waits for the goroutine to return (at most one spin check, microseconds).
func (b *cpuBurn) stop() {
	b.once.Do(func() { close(b.stopping) })
	<-b.done
}

// threadCPU is the CPU time (user + system) of the calling OS thread.
func threadCPU() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
