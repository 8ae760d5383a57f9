package mcpserver

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The built binary serves MCP over stdio, as MCP clients start it.
func TestStdioBinary(t *testing.T) {
	bin := binary(t)
	runs := t.TempDir()
	cmd := exec.Command(bin, "mcp", "--runs-dir", runs, "--root", repoRoot(t))
	cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1")
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if v := cs.InitializeResult().ServerInfo; v.Name != "mlrc" {
		t.Errorf("server info %+v", v)
	}
	var names []string
	for tool, err := range cs.Tools(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tool.Name)
	}
	if len(names) != 10 {
		t.Errorf("tools over stdio: %v", names)
	}
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "paper_read",
		Arguments: map[string]any{"ref": "examples/papers/fashion-mnist.md", "offline": true}})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError || !strings.Contains(textOf(res), "Fashion-MNIST") {
		t.Errorf("paper_read over stdio: %s", textOf(res))
	}
}

func textOf(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// Over HTTP, an address other than localhost needs a token, and with a
// token set every request must carry it.
func TestHTTPToken(t *testing.T) {
	bin := binary(t)
	runs := t.TempDir()
	out, err := exec.Command(bin, "mcp", "--runs-dir", runs, "--http", "0.0.0.0:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "MLRC_MCP_TOKEN") {
		t.Fatalf("--http 0.0.0.0 without a token: err %v, output %s", err, out)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "mcp", "--runs-dir", runs, "--root", repoRoot(t), "--http", addr)
	cmd.Env = append(os.Environ(), "MLRC_MCP_TOKEN=s3cret-token")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "serving") {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("mlrc mcp --http did not start")
	}
	url := "http://" + addr + "/mcp"
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a request without the token: %s", resp.Status)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint: url, HTTPClient: &http.Client{Transport: bearer{"s3cret-token"}}, MaxRetries: -1,
	}, nil)
	if err != nil {
		t.Fatalf("with the token: %v", err)
	}
	defer cs.Close()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "run_status", Arguments: map[string]any{"run_id": "none"}})
	if err != nil || !res.IsError || !strings.Contains(textOf(res), "none") {
		t.Errorf("run_status over HTTP: %v %s", err, textOf(res))
	}
}

type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}
