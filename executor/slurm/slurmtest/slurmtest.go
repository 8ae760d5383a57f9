// Package slurmtest starts a single-node Slurm cluster on localhost for
// tests: munged, slurmctld and slurmd from Debian's packages (slurm-wlm,
// munge), with a generated slurm.conf in a temporary directory. Tests
// that need it are skipped, with the reason, where it cannot start.
package slurmtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlrc/mlrc/internal/meminfo"
)

// Cluster is a running single-node Slurm.
type Cluster struct {
	Dir  string // its state, logs and configuration
	Conf string // slurm.conf; SLURM_CONF must point at it
	cmds []*exec.Cmd
	logs []*os.File
}

// SkipError says why a cluster cannot start here (not root, Slurm not
// installed, a daemon that does not come up): a reason to skip, not a
// failure.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return "slurm: " + e.Reason }

// Start starts the cluster for one test and stops it when the test ends,
// skipping the test with the reason when it cannot start. It sets
// SLURM_CONF for the test's process (so the test cannot be parallel).
func Start(t testing.TB) *Cluster {
	t.Helper()
	c, err := Launch()
	if c != nil {
		t.Cleanup(c.Close)
	}
	var skip *SkipError
	switch {
	case errors.As(err, &skip):
		t.Skip(skip.Error())
	case err != nil:
		t.Fatal(err)
	}
	t.Setenv("SLURM_CONF", c.Conf)
	return c
}

// Launch starts a cluster; Close stops it. A *SkipError says why it
// cannot start here. Sbatch and the other clients need SLURM_CONF=Conf.
func Launch() (*Cluster, error) {
	if os.Geteuid() != 0 {
		return nil, &SkipError{"the test cluster needs root (slurmd runs jobs as their user)"}
	}
	for _, bin := range []string{"munged", "slurmctld", "slurmd", "sbatch", "scontrol", "sinfo"} {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err := os.Stat(filepath.Join("/usr/sbin", bin)); err != nil {
				return nil, &SkipError{bin + " is not installed (apt-get install slurm-wlm munge)"}
			}
		}
	}
	// The socket path must be short (108 bytes): not under t.TempDir.
	dir, err := os.MkdirTemp("", "mlrc-slurm-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, Conf: filepath.Join(dir, "slurm.conf")}
	// munged wants everyone to reach its socket's directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		return c, err
	}
	for _, d := range []string{"munge", "state", "spool"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			return c, err
		}
	}
	key := make([]byte, 1024)
	if _, err := rand.Read(key); err != nil {
		return c, err
	}
	if err := os.WriteFile(filepath.Join(dir, "munge", "key"), key, 0o600); err != nil {
		return c, err
	}
	conf, err := config(dir)
	if err != nil {
		return c, &SkipError{err.Error()}
	}
	if err := os.WriteFile(c.Conf, []byte(conf), 0o644); err != nil {
		return c, err
	}
	m := filepath.Join(dir, "munge")
	if err := c.daemon("munged", "-F", "--key-file="+filepath.Join(m, "key"), "--socket="+filepath.Join(m, "sock"),
		"--pid-file="+filepath.Join(m, "pid"), "--log-file="+filepath.Join(m, "log"), "--seed-file="+filepath.Join(m, "seed")); err != nil {
		return c, err
	}
	if !waitFor(10*time.Second, func() bool { _, err := os.Stat(filepath.Join(m, "sock")); return err == nil }) {
		return c, &SkipError{"munged did not start: " + c.log("munged.stderr")}
	}
	if err := c.daemon("slurmctld", "-D", "-c", "-i"); err != nil {
		return c, err
	}
	if err := c.daemon("slurmd", "-D", "-N", "localhost"); err != nil {
		return c, err
	}
	if !waitFor(30*time.Second, func() bool {
		cmd := exec.Command("sinfo", "-h", "-o", "%T")
		cmd.Env = append(os.Environ(), "SLURM_CONF="+c.Conf)
		out, err := cmd.Output()
		return err == nil && strings.TrimSpace(string(out)) == "idle"
	}) {
		return c, &SkipError{"the node did not become idle within 30 s:\n" + c.log("slurmctld.log") + "\n" + c.log("slurmd.log")}
	}
	return c, nil
}

// Close stops the daemons and removes the cluster's directory.
func (c *Cluster) Close() {
	for i := len(c.cmds) - 1; i >= 0; i-- {
		c.cmds[i].Process.Kill()
		c.cmds[i].Wait()
	}
	for _, f := range c.logs {
		f.Close()
	}
	os.RemoveAll(c.Dir)
}

// daemon starts a daemon in the foreground; Close kills it.
func (c *Cluster) daemon(name string, args ...string) error {
	path, err := exec.LookPath(name)
	if err != nil {
		path = filepath.Join("/usr/sbin", name)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), "SLURM_CONF="+c.Conf)
	// A test binary killed at its timeout runs no cleanup: the daemons
	// die with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	log, err := os.Create(filepath.Join(c.Dir, name+".stderr"))
	if err != nil {
		return err
	}
	c.logs = append(c.logs, log)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return &SkipError{fmt.Sprintf("start %s: %v", name, err)}
	}
	c.cmds = append(c.cmds, cmd)
	return nil
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
