// Package plugin is the transport of out-of-tree backends: a backend
// compiled into its own binary (a plugin, built with sdk.Serve) serves the
// repository contract over gRPC, and the decnet-db host starts it and calls
// it through hashicorp/go-plugin.
//
// Both sides live here: Serve is the plugin's side (sdk.Serve wraps it),
// Open and Scratch are the host's (core/registry calls them for a
// DECNET_DB_TYPE that names no built-in driver). The protocol is the gRPC
// service of proto/decnetdb/v1, one RPC per method of
// repository.Repository; this package converts between the contract's Go
// types and the wire, so that neither backend authors nor callers see
// protobuf.
//
// The handshake: go-plugin's magic cookie (Handshake), then protocol
// negotiation between the versions the host speaks (Protocols) and those
// the plugin offers; a plugin that offers none of the host's is refused
// with a *VersionError. gRPC is the only transport (no net/rpc), over a
// Unix socket with automatic mutual TLS. The host verifies the binary's
// SHA-256 before it starts it, starts it without the host's environment
// (the configuration reaches the backend as the Open message), and forwards
// the plugin's stderr log lines (hclog JSON) to log/slog's default logger
// at their level.
//
// Errors keep their identity across the boundary: every sentinel of
// package repository, context.Canceled and context.DeadlineExceeded map to
// a gRPC status code and a google.rpc.ErrorInfo naming the sentinel, and
// back (see ToStatus and FromStatus).
//
// AddLogs, the hot path of ingestion, is encoded by the host straight from
// []repository.Log into a pooled buffer and decoded by the plugin straight
// into []repository.Log, without an allocation per field (codec.go); the
// bytes on the wire are the protocol's all the same.
package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/decnet/decnet-db/core/plugin/proto/decnetdb/v1"
)

// BinaryPrefix starts the file name of every plugin binary:
// decnet-db-driver-<type>.
const BinaryPrefix = "decnet-db-driver-"

// Protocols are the versions of the plugin protocol this build speaks,
// ascending. Protocol 1 is the service of proto/decnetdb/v1. A later
// protocol is added beside it, so that a host keeps speaking to plugins of
// the versions it still lists.
var Protocols = []int{1}

// Handshake is go-plugin's handshake: the magic cookie tells a plugin it was
// started by decnet-db. It is a UX feature, not a security measure (the
// checksum is).
var Handshake = goplugin.HandshakeConfig{
	MagicCookieKey:   "DECNET_DB_PLUGIN_COOKIE",
	MagicCookieValue: "6c1d0e8f3b2a4d59a7e4c0b2f19d8e37-decnet-db-repository",
}

// pluginName is the name the repository service is dispensed under.
const pluginName = "repository"

// MaxMessageSize bounds every gRPC message, both ways, on both sides: a
// state value is up to 16 MiB and an Import batch holds many rows. A larger
// message fails with ErrTooLarge.
const MaxMessageSize = 256 << 20

// windowSize is the HTTP/2 flow-control window of the connection and of
// each call, both ways: large enough that a batch crosses without waiting
// for window updates (the peer is a process on the same host).
const windowSize = 16 << 20

// InfoFlag is the argument that makes a plugin binary print its Info as
// JSON on stdout and exit 0, without the magic cookie.
const InfoFlag = "--decnet-plugin-info"

// Info describes a plugin binary; it prints it when run with InfoFlag.
type Info struct {
	// Protocols are the protocol versions the plugin offers, ascending.
	Protocols []int `json:"protocols"`
	// GoVersion is the Go release the plugin was built with.
	GoVersion string `json:"go_version,omitempty"`
}

// infoTimeout bounds a run of a binary with InfoFlag.
const infoTimeout = 5 * time.Second

// ReadInfo runs the plugin binary at path with InfoFlag, without the
// host's environment, and returns what it prints. Only run a binary whose
// checksum was verified.
func ReadInfo(ctx context.Context, path string) (Info, error) {
	ctx, cancel := context.WithTimeout(ctx, infoTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, InfoFlag)
	cmd.Env = []string{}
	cmd.WaitDelay = time.Second
	out, err := cmd.Output()
	if err != nil {
		return Info{}, fmt.Errorf("plugin: %s %s: %w", path, InfoFlag, err)
	}
	var info Info
	if err := json.Unmarshal(out, &info); err != nil {
		return Info{}, fmt.Errorf("plugin: %s %s: not a decnet-db plugin's answer: %w", path, InfoFlag, err)
	}
	slices.Sort(info.Protocols)
	return info, nil
}

// grpcPlugin is the go-plugin Plugin of the repository service: srv on the
// plugin's side, nil on the host's.
type grpcPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	srv *server
}

func (p *grpcPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	register(s, p.srv)
	return nil
}

// register registers srv's service on s.
func register(s *grpc.Server, srv *server) { s.RegisterService(serviceDesc, srv) }

// serviceDesc is the generated service, but for the handler of AddLogs,
// which decodes the request into the contract's logs (addLogsHandler).
var serviceDesc = func() *grpc.ServiceDesc {
	d := pb.Repository_ServiceDesc
	d.Methods = slices.Clone(d.Methods)
	i := slices.IndexFunc(d.Methods, func(m grpc.MethodDesc) bool { return m.MethodName == "AddLogs" })
	d.Methods[i].Handler = addLogsHandler // i < 0 panics: the generated service must have AddLogs
	return &d
}()

// addLogsHandler is the generated handler of AddLogs with an addLogsWire
// for a request: the codec decodes it into []repository.Log, with no
// pb.Log between.
func addLogsHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := new(addLogsWire)
	if err := dec(in); err != nil {
		return nil, err
	}
	s := srv.(*server)
	if interceptor == nil {
		return s.addLogs(ctx, in.logs)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: pb.Repository_AddLogs_FullMethodName}
	return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
		return s.addLogs(ctx, req.(*addLogsWire).logs)
	})
}

// GRPCClient returns the connection; the host makes its client of it.
func (p *grpcPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return c, nil
}

// pluginSets returns go-plugin's versioned plugin sets for the versions.
func pluginSets(versions []int, srv *server) map[int]goplugin.PluginSet {
	sets := make(map[int]goplugin.PluginSet, len(versions))
	for _, v := range versions {
		sets[v] = goplugin.PluginSet{pluginName: &grpcPlugin{srv: srv}}
	}
	return sets
}

// selfInfo is the Info of this process, serving versions.
func selfInfo(versions []int) Info {
	return Info{Protocols: slices.Sorted(slices.Values(versions)), GoVersion: runtime.Version()}
}

// exe is the path of this process's binary, for messages.
func exe() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return os.Args[0]
}
