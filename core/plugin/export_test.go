package plugin

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/decnet/decnet-db/core/config"
	pb "github.com/decnet/decnet-db/core/plugin/proto/decnetdb/v1"
)

// memProcess stands for a plugin process served in this process: Kill
// stops the server as the end of the process would.
type memProcess struct {
	exited atomic.Bool
	stop   func()
}

func (p *memProcess) Exited() bool { return p.exited.Load() }

func (p *memProcess) Kill() {
	if p.exited.CompareAndSwap(false, true) {
		p.stop()
	}
}

// Crash ends the served "process" as a crash would: the connection breaks
// and the process is gone.
func (p *memProcess) Crash() { p.Kill() }

// serveInMemory serves srv over an in-memory connection, with the options
// of the real transport (limits, windows, the server's codec) but TLS, and
// returns a conn to it.
func serveInMemory(t testing.TB, srv *server) *conn {
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer(serverOptions()...)
	register(s, srv)
	go func() { _ = s.Serve(lis) }()
	cc, err := grpc.NewClient("passthrough:///in-memory", append(dialOptions(),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	proc := &memProcess{stop: func() {
		s.Stop()
		_ = cc.Close()
		srv.shutdown()
	}}
	t.Cleanup(proc.Kill)
	return &conn{name: BinaryPrefix + "memory", pid: 1, rpc: pb.NewRepositoryClient(cc), cc: cc, proc: proc}
}

// OpenInMemory opens a repository the way Open does, but served by a
// server in this process over an in-memory connection: the whole protocol
// without a process. The second result ends the "process" as a crash
// would.
func OpenInMemory(t testing.TB, open OpenFunc, scratch ScratchFunc, cfg config.Config) (*Repo, func(), error) {
	c := serveInMemory(t, newServer(open, scratch))
	r, err := openOn(context.Background(), c, cfg)
	if err != nil {
		return nil, nil, err
	}
	return r, c.proc.(*memProcess).Crash, nil
}

// NewServerForTest returns the service over open and scratch, not served.
func NewServerForTest(open OpenFunc, scratch ScratchFunc) pb.RepositoryServer {
	return newServer(open, scratch)
}

// ServiceDesc is the service as served.
var ServiceDesc = serviceDesc
