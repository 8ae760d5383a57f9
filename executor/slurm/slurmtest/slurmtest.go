// Package slurmtest starts a single-node Slurm cluster on localhost for
// tests: munged, slurmctld and slurmd from Debian's packages (slurm-wlm,
// munge), with a generated slurm.conf in a temporary directory. Tests
// that need it are skipped, with the reason, where it cannot start.
package slurmtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mlrc/mlrc/internal/meminfo"
)

// Cluster is a running single-node Slurm.
type Cluster struct {
	Dir  string // its state, logs and configuration
	Conf string // slurm.conf; SLURM_CONF points at it for the test
}

// Start starts the cluster and stops it when the test ends. It sets
// SLURM_CONF for the test's process (so the test cannot be parallel).
func Start(t testing.TB) *Cluster {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("slurm: the test cluster needs root (slurmd runs jobs as their user)")
	}
	for _, bin := range []string{"munged", "slurmctld", "slurmd", "sbatch", "scontrol", "sinfo"} {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err := os.Stat(filepath.Join("/usr/sbin", bin)); err != nil {
				t.Skipf("slurm: %s is not installed (apt-get install slurm-wlm munge)", bin)
			}
		}
	}
	// The socket path must be short (108 bytes): not under t.TempDir.
	dir, err := os.MkdirTemp("", "mlrc-slurm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := &Cluster{Dir: dir, Conf: filepath.Join(dir, "slurm.conf")}
	// munged wants everyone to reach its socket's directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"munge", "state", "spool"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	key := make([]byte, 1024)
	if f, err := os.Open("/dev/urandom"); err == nil {
		f.Read(key)
		f.Close()
	}
	if err := os.WriteFile(filepath.Join(dir, "munge", "key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	conf, err := config(dir)
	if err != nil {
		t.Skipf("slurm: %v", err)
	}
	if err := os.WriteFile(c.Conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLURM_CONF", c.Conf)

	m := filepath.Join(dir, "munge")
	c.daemon(t, "munged", "-F", "--key-file="+filepath.Join(m, "key"), "--socket="+filepath.Join(m, "sock"),
		"--pid-file="+filepath.Join(m, "pid"), "--log-file="+filepath.Join(m, "log"), "--seed-file="+filepath.Join(m, "seed"))
	if !waitFor(10*time.Second, func() bool { _, err := os.Stat(filepath.Join(m, "sock")); return err == nil }) {
		t.Skipf("slurm: munged did not start: %s", c.log("munged.stderr"))
	}
	c.daemon(t, "slurmctld", "-D", "-c", "-i")
	c.daemon(t, "slurmd", "-D", "-N", "localhost")
	if !waitFor(30*time.Second, func() bool {
		out, err := exec.Command("sinfo", "-h", "-o", "%T").Output()
		return err == nil && strings.TrimSpace(string(out)) == "idle"
	}) {
		t.Skipf("slurm: the node did not become idle within 30 s:\n%s\n%s", c.log("slurmctld.log"), c.log("slurmd.log"))
	}
	return c
}

// daemon starts a daemon in the foreground and kills it at the end.
func (c *Cluster) daemon(t testing.TB, name string, args ...string) {
	path, err := exec.LookPath(name)
	if err != nil {
		path = filepath.Join("/usr/sbin", name)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), "SLURM_CONF="+c.Conf)
	log, err := os.Create(filepath.Join(c.Dir, name+".stderr"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		t.Skipf("slurm: start %s: %v", name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		log.Close()
	})
}

// log is the tail of one of the cluster's log files.
func (c *Cluster) log(name string) string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, name))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return name + ":\n" + string(b)
}

func config(dir string) (string, error) {
	ports, err := freePorts(2)
	if err != nil {
		return "", err
	}
	mem, err := memoryMiB()
	if err != nil {
		return "", err
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	return fmt.Sprintf(`ClusterName=mlrctest
SlurmctldHost=localhost
SlurmctldPort=%d
SlurmdPort=%d
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=%s
CredType=cred/munge
StateSaveLocation=%s
SlurmdSpoolDir=%s
SlurmctldPidFile=%s
SlurmdPidFile=%s
SlurmctldLogFile=%s
SlurmdLogFile=%s
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
MinJobAge=600
InactiveLimit=0
KillWait=5
NodeName=localhost NodeAddr=127.0.0.1 CPUs=%d RealMemory=%d State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
`, ports[0], ports[1], p("munge/sock"), p("state"), p("spool"), p("slurmctld.pid"), p("slurmd.pid"),
		p("slurmctld.log"), p("slurmd.log"), runtime.NumCPU(), mem), nil
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// memoryMiB is nine tenths of the machine's memory: slurmd drains a node
// that reports less than its RealMemory.
func memoryMiB() (int, error) {
	total := meminfo.Total()
	if total <= 0 {
		return 0, fmt.Errorf("cannot read the machine's memory from /proc/meminfo")
	}
	return int(total>>20) * 9 / 10, nil
}

func waitFor(d time.Duration, ok func() bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		if ok() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(200 * time.Millisecond):
		}
	}
}
