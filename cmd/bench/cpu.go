package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// clockTick is Linux's USER_HZ, the unit of /proc CPU times; it is 100 on
// every architecture Go supports.
const clockTick = 10 * time.Millisecond

// cpuUse splits a measured window's CPU time between the server, its
// PostgreSQL backends, this process (the load generator) and everything else
// on the machine — which shows both what bounds throughput and whether
// something else was competing for the cores.
type cpuUse struct {
	wall                          time.Duration
	server, db, bench, machineAll time.Duration
	// blocksRead counts the database's reads that missed shared buffers.
	blocksRead int64
}

func (u cpuUse) other() time.Duration { return max(0, u.machineAll-u.server-u.db-u.bench) }

// perRequest is d per n requests, in milliseconds.
func perRequest(d time.Duration, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)/float64(n))
}

// busy is the share of all cores d amounts to over the window.
func (u cpuUse) busy(d time.Duration) string {
	if u.wall <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(d)/float64(u.wall)/float64(cores()))
}

func cores() int {
	n := 0
	b, _ := os.ReadFile("/proc/stat")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "cpu") && len(line) > 3 && line[3] >= '0' && line[3] <= '9' {
			n++
		}
	}
	return max(n, 1)
}

type cpuSample struct {
	at                            time.Time
	server, db, bench, machineAll time.Duration
	blocksRead                    int64
}

// sampleCPU reads the CPU time so far of the server, the database's backends
// (by pg_stat_activity), this process and the whole machine, and the
// database's shared-buffer misses.
func sampleCPU(ctx context.Context, serverPID int, dbConn *pgx.Conn, dbName string) (cpuSample, error) {
	s := cpuSample{at: time.Now(), server: processCPU(serverPID), bench: processCPU(os.Getpid())}
	if err := dbConn.QueryRow(ctx, "SELECT blks_read FROM pg_stat_database WHERE datname = $1", dbName).Scan(&s.blocksRead); err != nil {
		return s, err
	}
	rows, err := dbConn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", dbName)
	if err != nil {
		return s, err
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return s, err
	}
	for _, pid := range pids {
		s.db += processCPU(int(pid))
	}
	s.machineAll = machineCPU()
	return s, nil
}

func (s cpuSample) until(end cpuSample) cpuUse {
	return cpuUse{wall: end.at.Sub(s.at), server: end.server - s.server, db: end.db - s.db,
		bench: end.bench - s.bench, machineAll: end.machineAll - s.machineAll,
		blocksRead: end.blocksRead - s.blocksRead}
}

// processCPU is a process's user + system time (all threads) from /proc/<pid>/stat.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; fields count from after its ')'.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * clockTick
}

// machineCPU is the busy time of all cores from /proc/stat (everything but idle and iowait).
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	var busy int64
	for i, f := range fields[1:] {
		v, _ := strconv.ParseInt(f, 10, 64)
		// user nice system idle iowait irq softirq steal (guest time is inside user)
		if i == 3 || i == 4 || i >= 8 {
			continue
		}
		busy += v
	}
	return time.Duration(busy) * clockTick
}
