package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/decnet/decnet-db/core/config"
	pb "github.com/decnet/decnet-db/core/plugin/proto/decnetdb/v1"
	"github.com/decnet/decnet-db/core/repository"
)

// OpenFunc opens a backend's repository on a configuration. The
// repository is not initialized yet: the host calls Initialize.
type OpenFunc func(ctx context.Context, cfg config.Config) (repository.Repository, error)

// ScratchFunc creates throwaway storage (see registry.Scratcher): it
// returns the configuration that opens it and a function that removes it.
type ScratchFunc func(ctx context.Context, cfg config.Config) (config.Config, func(context.Context) error, error)

// ServeConfig configures Serve.
type ServeConfig struct {
	// Open opens the backend; required.
	Open OpenFunc
	// Scratch, when set, creates scratch storage; without it the Scratch
	// RPC answers Unimplemented and the host reports that the backend has
	// none.
	Scratch ScratchFunc
	// Protocols are the protocol versions offered; nil means Protocols.
	// Tests offer others to check the host's refusal.
	Protocols []int
	// LogLevel is the level of the log lines sent to the host before it
	// says its own (the Open call carries the host's level). The zero
	// value is Info.
	LogLevel slog.Level
	// GCPercent is the plugin process's garbage collection target, as
	// GOGC; 0 or less means DefaultGCPercent. A GOGC variable in the plugin's
	// environment (empty unless its author put one there) wins.
	GCPercent int
}

// DefaultGCPercent is the GOGC of a plugin process. A plugin's live heap is
// a few megabytes while every batch it receives is decoded there, so
// Go's default of 100 collects every one or two AddLogs batches; 400
// spends a few megabytes more and takes ~10% less CPU per row (measured
// with the SQLite plugin; 800 gained nothing more).
const DefaultGCPercent = 400

// gcPercent returns the GOGC that Serve sets for sc, and false when the
// environment sets GOGC itself.
func gcPercent(sc ServeConfig, getenv func(string) string) (int, bool) {
	if getenv("GOGC") != "" {
		return 0, false
	}
	if sc.GCPercent > 0 {
		return sc.GCPercent, true
	}
	return DefaultGCPercent, true
}

// parentPoll is how often a plugin checks that its host is still there.
const parentPoll = 250 * time.Millisecond

// shutdownTimeout bounds closing the repository and removing scratch
// storage when the plugin ends.
const shutdownTimeout = 30 * time.Second

// Serve runs a plugin binary: the main function of a plugin is one call
// to it (through sdk.Serve). It never returns; it ends the process.
//
//   - Run with InfoFlag as its only argument, it prints its Info as JSON on
//     stdout and exits 0.
//   - Run without the magic cookie (by a human), it says on stderr how
//     decnet-db runs it and exits 1.
//   - Otherwise it points log/slog's default logger at its stderr as hclog
//     JSON (the host logs each line at its level), serves the repository
//     service over go-plugin (gRPC only), and exits 0 when the host closes
//     the repository, or when the host process is gone: it watches its
//     parent, so that a host killed with SIGKILL leaves no plugin behind. In
//     both cases it first closes the repository and removes what Scratch
//     created and was not removed.
//
// Nothing may be written to stdout before Serve: stdout is go-plugin's
// handshake channel, and the host refuses a plugin whose first line is not
// the handshake.
func Serve(sc ServeConfig) {
	os.Exit(serve(sc, os.Args, os.Getenv, os.Stdout, os.Stderr))
}

func serve(sc ServeConfig, args []string, getenv func(string) string, stdout, stderr *os.File) int {
	versions := sc.Protocols
	if versions == nil {
		versions = Protocols
	}
	if len(args) == 2 && args[1] == InfoFlag {
		b, _ := json.Marshal(selfInfo(versions))
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	if getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		fmt.Fprint(stderr, humanHelp(args, versions))
		return 1
	}
	if sc.Open == nil {
		fmt.Fprintln(stderr, "plugin: ServeConfig.Open is nil: a plugin must say how to open its backend")
		return 1
	}

	// The loggers keep the real stderr: go-plugin replaces os.Stderr with a
	// pipe of its own once it serves.
	logger := newPluginLogger(stderr, hclogLevel(sc.LogLevel))
	slog.SetDefault(slog.New(NewSlogHandler(logger)))

	// When the host dies, the stderr pipe it read breaks: a log line
	// written then must fail, not kill the process with SIGPIPE before it
	// has closed the repository (watchParent).
	signal.Ignore(syscall.SIGPIPE)

	if p, ok := gcPercent(sc, getenv); ok {
		debug.SetGCPercent(p)
	}

	srv := newServer(sc.Open, sc.Scratch)
	srv.logger = logger
	go watchParent(srv, logger)

	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: pluginSets(versions, srv),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, serverOptions()...)...)
		},
		Logger: logger.Named("go-plugin"),
	})
	srv.shutdown()
	return 0
}

// serverOptions are the options of the plugin's gRPC server: the message
// limits, the flow-control windows, and the codec.
func serverOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.InitialWindowSize(windowSize), grpc.InitialConnWindowSize(windowSize),
		grpc.ForceServerCodecV2(newCodec()),
	}
}

// humanHelp is what a plugin binary says when run by hand.
func humanHelp(args []string, versions []int) string {
	name := filepath.Base(exe())
	if len(args) > 0 {
		name = filepath.Base(args[0])
	}
	typ := strings.TrimPrefix(name, BinaryPrefix)
	return fmt.Sprintf(`%[1]s is a decnet-db backend plugin (protocol versions %[2]v); decnet-db starts it itself.
To use it, put it with its checksum in a plugin directory and select its type:

	sha256sum %[1]s > %[1]s.sha256
	DECNET_DB_PLUGIN_DIR=/path/to/dir DECNET_DB_TYPE=%[3]s decnet-db drivers

Run it with %[4]s to print its protocol versions as JSON.
`, name, versions, typ, InfoFlag)
}

// watchParent ends the process when its parent, the host, is gone.
func watchParent(srv *server, logger hclog.Logger) {
	parent := os.Getppid()
	if parent <= 1 {
		return // started by init: no host to watch
	}
	for range time.Tick(parentPoll) {
		if os.Getppid() != parent {
			logger.Warn("the host process is gone; closing the repository and exiting", "host_pid", parent)
			srv.shutdown()
			os.Exit(0)
		}
	}
}

// server serves the repository service over a repository opened by Open.
type server struct {
	pb.UnimplementedRepositoryServer

	open    OpenFunc
	scratch ScratchFunc
	logger  hclog.Logger

	repo atomic.Pointer[repoBox]

	mu        sync.Mutex
	scratches map[string]func(context.Context) error
	seq       int
	down      bool
}

type repoBox struct{ repository.Repository }

var _ pb.RepositoryServer = (*server)(nil)

// newServer returns the service over open and scratch; tests serve it
// without go-plugin.
func newServer(open OpenFunc, scratch ScratchFunc) *server {
	return &server{open: open, scratch: scratch, logger: hclog.NewNullLogger(), scratches: map[string]func(context.Context) error{}}
}

// shutdown closes the repository and removes the scratch storage left.
// It runs once; later calls do nothing.
func (s *server) shutdown() {
	s.mu.Lock()
	if s.down {
		s.mu.Unlock()
		return
	}
	s.down = true
	cleanups := s.scratches
	s.scratches = map[string]func(context.Context) error{}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if b := s.repo.Load(); b != nil {
		if err := b.Close(); err != nil {
			s.logger.Error("close the repository", "error", err)
		}
	}
	for token, cleanup := range cleanups {
		if err := cleanup(ctx); err != nil {
			s.logger.Error("remove scratch storage", "token", token, "error", err)
		}
	}
}

// errNotOpen answers a call before Open.
var errNotOpen = status.Error(codes.FailedPrecondition, "plugin: the repository is not open: the host calls Open first")

func (s *server) r() (repository.Repository, error) {
	b := s.repo.Load()
	if b == nil {
		return nil, errNotOpen
	}
	return b.Repository, nil
}

// withRepo runs f on the open repository and returns its response, or
// the error that s.r gives before Open, or f's error as a gRPC status (see
// ToStatus). The response f returns with an error is dropped, so f may
// build it from the zero values a failed call returns.
func withRepo[R any](s *server, f func(repository.Repository) (R, error)) (R, error) {
	r, err := s.r()
	if err != nil {
		var zero R
		return zero, err
	}
	resp, err := f(r)
	if err != nil {
		var zero R
		return zero, ToStatus(err)
	}
	return resp, nil
}

func (s *server) setLevel(level string) {
	if l := hclog.LevelFromString(level); l != hclog.NoLevel {
		s.logger.SetLevel(l)
	}
}

func (s *server) Open(ctx context.Context, req *pb.OpenRequest) (*pb.OpenResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.repo.Load() != nil {
		return nil, status.Error(codes.FailedPrecondition, "plugin: Open called twice: a plugin process serves one repository")
	}
	if s.down {
		return nil, ToStatus(fmt.Errorf("plugin: shutting down: %w", repository.ErrClosed))
	}
	s.setLevel(req.GetLogLevel())
	r, err := s.open(ctx, configFromPB(req.GetConfig()))
	if err != nil {
		return nil, ToStatus(err)
	}
	if r == nil {
		return nil, status.Error(codes.Internal, "plugin: the backend's open function returned no repository and no error")
	}
	s.repo.Store(&repoBox{r})
	return &pb.OpenResponse{}, nil
}

func (s *server) Scratch(ctx context.Context, req *pb.ScratchRequest) (*pb.ScratchResponse, error) {
	if s.scratch == nil {
		return nil, status.Error(codes.Unimplemented, "plugin: this backend has no scratch storage")
	}
	s.setLevel(req.GetLogLevel())
	cfg, cleanup, err := s.scratch(ctx, configFromPB(req.GetConfig()))
	if err != nil {
		return nil, ToStatus(err)
	}
	if cleanup == nil {
		cleanup = func(context.Context) error { return nil }
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		_ = cleanup(ctx)
		return nil, ToStatus(fmt.Errorf("plugin: shutting down: %w", repository.ErrClosed))
	}
	s.seq++
	token := strconv.Itoa(s.seq)
	s.scratches[token] = cleanup
	return &pb.ScratchResponse{Config: configToPB(cfg), Token: token}, nil
}

func (s *server) RemoveScratch(ctx context.Context, req *pb.RemoveScratchRequest) (*pb.RemoveScratchResponse, error) {
	s.mu.Lock()
	cleanup, ok := s.scratches[req.GetToken()]
	delete(s.scratches, req.GetToken())
	s.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "plugin: no scratch storage %q", req.GetToken())
	}
	if err := cleanup(ctx); err != nil {
		return nil, ToStatus(err)
	}
	return &pb.RemoveScratchResponse{}, nil
}

func (s *server) Initialize(ctx context.Context, _ *pb.InitializeRequest) (*pb.InitializeResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.InitializeResponse, error) {
		return &pb.InitializeResponse{}, r.Initialize(ctx)
	})
}

func (s *server) Ping(ctx context.Context, _ *pb.PingRequest) (*pb.PingResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.PingResponse, error) {
		return &pb.PingResponse{}, r.Ping(ctx)
	})
}

func (s *server) Close(context.Context, *pb.CloseRequest) (*pb.CloseResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.CloseResponse, error) {
		return &pb.CloseResponse{}, r.Close()
	})
}

func (s *server) AddLog(ctx context.Context, req *pb.AddLogRequest) (*pb.AddLogResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.AddLogResponse, error) {
		id, err := r.AddLog(ctx, logFromPB(req.GetLog()))
		return &pb.AddLogResponse{Id: id}, err
	})
}

// AddLogs serves a request decoded by proto.Unmarshal; gRPC calls
// addLogs instead, with the logs that codec decodes straight from the wire
// (serviceDesc).
func (s *server) AddLogs(ctx context.Context, req *pb.AddLogsRequest) (*pb.AddLogsResponse, error) {
	return s.addLogs(ctx, logsFromPB(req.GetLogs()))
}

func (s *server) addLogs(ctx context.Context, logs []repository.Log) (*pb.AddLogsResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.AddLogsResponse, error) {
		return &pb.AddLogsResponse{}, r.AddLogs(ctx, logs)
	})
}

func (s *server) Logs(ctx context.Context, req *pb.LogsRequest) (*pb.LogsResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.LogsResponse, error) {
		q := req.GetQuery()
		ls, err := r.Logs(ctx, repository.LogQuery{LogFilter: logFilterFromPB(q.GetFilter()), Limit: int(q.GetLimit()), Offset: int(q.GetOffset())})
		return &pb.LogsResponse{Logs: logsToPB(ls)}, err
	})
}

func (s *server) CountLogs(ctx context.Context, req *pb.CountLogsRequest) (*pb.CountResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.CountResponse, error) {
		n, err := r.CountLogs(ctx, logFilterFromPB(req.GetFilter()))
		return &pb.CountResponse{Count: n}, err
	})
}

func (s *server) MaxLogID(ctx context.Context, _ *pb.MaxLogIDRequest) (*pb.MaxLogIDResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.MaxLogIDResponse, error) {
		id, err := r.MaxLogID(ctx)
		return &pb.MaxLogIDResponse{Id: id}, err
	})
}

func (s *server) LogsAfterID(ctx context.Context, req *pb.LogsAfterIDRequest) (*pb.LogsResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.LogsResponse, error) {
		ls, err := r.LogsAfterID(ctx, req.GetAfterId(), int(req.GetLimit()), logFilterFromPB(req.GetFilter()))
		return &pb.LogsResponse{Logs: logsToPB(ls)}, err
	})
}

func (s *server) LogHistogram(ctx context.Context, req *pb.LogHistogramRequest) (*pb.LogHistogramResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.LogHistogramResponse, error) {
		buckets, err := r.LogHistogram(ctx, logFilterFromPB(req.GetFilter()), time.Duration(req.GetIntervalNanos()))
		return &pb.LogHistogramResponse{Buckets: toPB(buckets, bucketToPB)}, err
	})
}

func (s *server) Stats(ctx context.Context, _ *pb.StatsRequest) (*pb.StatsResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.StatsResponse, error) {
		st, err := r.Stats(ctx)
		return &pb.StatsResponse{Stats: statsToPB(st)}, err
	})
}

func (s *server) AddBounty(ctx context.Context, req *pb.AddBountyRequest) (*pb.AddBountyResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.AddBountyResponse, error) {
		added, err := r.AddBounty(ctx, bountyFromPB(req.GetBounty()))
		return &pb.AddBountyResponse{Added: added}, err
	})
}

func (s *server) Bounties(ctx context.Context, req *pb.BountiesRequest) (*pb.BountiesResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.BountiesResponse, error) {
		q := req.GetQuery()
		list, err := r.Bounties(ctx, repository.BountyQuery{BountyFilter: bountyFilterFromPB(q.GetFilter()), Limit: int(q.GetLimit()), Offset: int(q.GetOffset())})
		return &pb.BountiesResponse{Bounties: toPB(list, bountyToPB)}, err
	})
}

func (s *server) CountBounties(ctx context.Context, req *pb.CountBountiesRequest) (*pb.CountResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.CountResponse, error) {
		n, err := r.CountBounties(ctx, bountyFilterFromPB(req.GetFilter()))
		return &pb.CountResponse{Count: n}, err
	})
}

func (s *server) BountiesByIP(ctx context.Context, req *pb.BountiesByIPRequest) (*pb.BountiesByIPResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.BountiesByIPResponse, error) {
		m, err := r.BountiesByIP(ctx, ipsFromPB(req.GetAll(), req.GetIps()))
		if err != nil {
			return nil, err
		}
		out := make([]*pb.IPBounties, 0, len(m))
		for ip, list := range m {
			out = append(out, &pb.IPBounties{Ip: bs(ip), Bounties: toPB(list, bountyToPB)})
		}
		return &pb.BountiesByIPResponse{Entries: out}, nil
	})
}

func (s *server) BountiesAfterID(ctx context.Context, req *pb.BountiesAfterIDRequest) (*pb.BountiesResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.BountiesResponse, error) {
		list, err := r.BountiesAfterID(ctx, req.GetAfterId(), int(req.GetLimit()))
		return &pb.BountiesResponse{Bounties: toPB(list, bountyToPB)}, err
	})
}

func (s *server) State(ctx context.Context, req *pb.StateRequest) (*pb.StateResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.StateResponse, error) {
		v, err := r.State(ctx, str(req.GetKey()))
		return &pb.StateResponse{Value: raw(v)}, err
	})
}

func (s *server) SetState(ctx context.Context, req *pb.SetStateRequest) (*pb.SetStateResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.SetStateResponse, error) {
		return &pb.SetStateResponse{}, r.SetState(ctx, str(req.GetKey()), rawOf(req.GetValue()))
	})
}

func (s *server) StateKeys(ctx context.Context, _ *pb.StateKeysRequest) (*pb.StateKeysResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.StateKeysResponse, error) {
		keys, err := r.StateKeys(ctx)
		return &pb.StateKeysResponse{Keys: bss(keys)}, err
	})
}

func (s *server) UpsertDecky(ctx context.Context, req *pb.UpsertDeckyRequest) (*pb.UpsertDeckyResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.UpsertDeckyResponse, error) {
		return &pb.UpsertDeckyResponse{}, r.UpsertDecky(ctx, deckyFromPB(req.GetDecky()))
	})
}

func (s *server) Deckies(ctx context.Context, _ *pb.DeckiesRequest) (*pb.DeckiesResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.DeckiesResponse, error) {
		ds, err := r.Deckies(ctx)
		return &pb.DeckiesResponse{Deckies: toPB(ds, deckyToPB)}, err
	})
}

func (s *server) DeleteDecky(ctx context.Context, req *pb.DeleteDeckyRequest) (*pb.DeletedResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.DeletedResponse, error) {
		ok, err := r.DeleteDecky(ctx, str(req.GetName()))
		return &pb.DeletedResponse{Deleted: ok}, err
	})
}

func (s *server) CreateUser(ctx context.Context, req *pb.CreateUserRequest) (*pb.UserResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.UserResponse, error) {
		u, err := r.CreateUser(ctx, userFromPB(req.GetUser()))
		return &pb.UserResponse{User: userToPB(&u)}, err
	})
}

func (s *server) UserByUsername(ctx context.Context, req *pb.UserByUsernameRequest) (*pb.UserResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.UserResponse, error) {
		u, err := r.UserByUsername(ctx, str(req.GetUsername()))
		return &pb.UserResponse{User: userToPB(&u)}, err
	})
}

func (s *server) UserByUUID(ctx context.Context, req *pb.UserByUUIDRequest) (*pb.UserResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.UserResponse, error) {
		u, err := r.UserByUUID(ctx, str(req.GetUuid()))
		return &pb.UserResponse{User: userToPB(&u)}, err
	})
}

func (s *server) Users(ctx context.Context, _ *pb.UsersRequest) (*pb.UsersResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.UsersResponse, error) {
		us, err := r.Users(ctx)
		return &pb.UsersResponse{Users: toPB(us, userToPB)}, err
	})
}

func (s *server) UpdateUserPassword(ctx context.Context, req *pb.UpdateUserPasswordRequest) (*pb.UpdateUserPasswordResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.UpdateUserPasswordResponse, error) {
		return &pb.UpdateUserPasswordResponse{}, r.UpdateUserPassword(ctx, str(req.GetUuid()), str(req.GetPasswordHash()), req.GetMustChange())
	})
}

func (s *server) UpdateUserRole(ctx context.Context, req *pb.UpdateUserRoleRequest) (*pb.UpdateUserRoleResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.UpdateUserRoleResponse, error) {
		return &pb.UpdateUserRoleResponse{}, r.UpdateUserRole(ctx, str(req.GetUuid()), repository.Role(str(req.GetRole())))
	})
}

func (s *server) DeleteUser(ctx context.Context, req *pb.DeleteUserRequest) (*pb.DeletedResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.DeletedResponse, error) {
		ok, err := r.DeleteUser(ctx, str(req.GetUuid()))
		return &pb.DeletedResponse{Deleted: ok}, err
	})
}

func (s *server) UpsertAttacker(ctx context.Context, req *pb.UpsertAttackerRequest) (*pb.UpsertAttackerResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.UpsertAttackerResponse, error) {
		id, err := r.UpsertAttacker(ctx, attackerFromPB(req.GetAttacker()))
		return &pb.UpsertAttackerResponse{Uuid: bs(id)}, err
	})
}

func (s *server) AttackerByUUID(ctx context.Context, req *pb.AttackerByUUIDRequest) (*pb.AttackerResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.AttackerResponse, error) {
		a, err := r.AttackerByUUID(ctx, str(req.GetUuid()))
		return &pb.AttackerResponse{Attacker: attackerToPB(&a)}, err
	})
}

func (s *server) Attackers(ctx context.Context, req *pb.AttackersRequest) (*pb.AttackersResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.AttackersResponse, error) {
		q := req.GetQuery()
		as, err := r.Attackers(ctx, repository.AttackerQuery{
			AttackerFilter: attackerFilterFromPB(q.GetFilter()),
			Sort:           repository.AttackerSort(str(q.GetSort())),
			Limit:          int(q.GetLimit()),
			Offset:         int(q.GetOffset()),
		})
		return &pb.AttackersResponse{Attackers: toPB(as, attackerToPB)}, err
	})
}

func (s *server) CountAttackers(ctx context.Context, req *pb.CountAttackersRequest) (*pb.CountResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.CountResponse, error) {
		n, err := r.CountAttackers(ctx, attackerFilterFromPB(req.GetFilter()))
		return &pb.CountResponse{Count: n}, err
	})
}

func (s *server) AttackerCommands(ctx context.Context, req *pb.AttackerCommandsRequest) (*pb.AttackerCommandsResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.AttackerCommandsResponse, error) {
		page, err := r.AttackerCommands(ctx, str(req.GetUuid()), str(req.GetService()), int(req.GetLimit()), int(req.GetOffset()))
		return &pb.AttackerCommandsResponse{Page: &pb.CommandPage{Total: int64(page.Total), Commands: commandsToPB(page.Commands)}}, err
	})
}

func (s *server) UpsertAttackerBehavior(ctx context.Context, req *pb.UpsertAttackerBehaviorRequest) (*pb.UpsertAttackerBehaviorResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.UpsertAttackerBehaviorResponse, error) {
		return &pb.UpsertAttackerBehaviorResponse{}, r.UpsertAttackerBehavior(ctx, str(req.GetUuid()), behaviorFromPB(req.GetBehavior()))
	})
}

func (s *server) AttackerBehavior(ctx context.Context, req *pb.AttackerBehaviorRequest) (*pb.AttackerBehaviorResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.AttackerBehaviorResponse, error) {
		b, err := r.AttackerBehavior(ctx, str(req.GetUuid()))
		return &pb.AttackerBehaviorResponse{Behavior: behaviorToPB(&b)}, err
	})
}

func (s *server) BehaviorsByIP(ctx context.Context, req *pb.BehaviorsByIPRequest) (*pb.BehaviorsByIPResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.BehaviorsByIPResponse, error) {
		m, err := r.BehaviorsByIP(ctx, ipsFromPB(req.GetAll(), req.GetIps()))
		if err != nil {
			return nil, err
		}
		out := make([]*pb.IPBehavior, 0, len(m))
		for ip, b := range m {
			out = append(out, &pb.IPBehavior{Ip: bs(ip), Behavior: behaviorToPB(&b)})
		}
		return &pb.BehaviorsByIPResponse{Entries: out}, nil
	})
}

func (s *server) Purge(ctx context.Context, _ *pb.PurgeRequest) (*pb.PurgeResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.PurgeResponse, error) {
		res, err := r.Purge(ctx)
		return &pb.PurgeResponse{Result: purgeToPB(res)}, err
	})
}

func (s *server) Import(ctx context.Context, req *pb.ImportRequest) (*pb.ImportResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.ImportResponse, error) {
		return &pb.ImportResponse{}, r.Import(ctx, batchFromPB(req.GetBatch()))
	})
}

func (s *server) Describe(ctx context.Context, _ *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.DescribeResponse, error) {
		info, err := r.Describe(ctx)
		return &pb.DescribeResponse{Info: infoToPB(info)}, err
	})
}

func (s *server) TableCounts(ctx context.Context, _ *pb.TableCountsRequest) (*pb.TableCountsResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.TableCountsResponse, error) {
		tcs, err := r.TableCounts(ctx)
		return &pb.TableCountsResponse{Counts: toPB(tcs, tableCountToPB)}, err
	})
}

func (s *server) Reset(ctx context.Context, req *pb.ResetRequest) (*pb.ResetResponse, error) {
	return withRepo(s, func(r repository.Repository) (*pb.ResetResponse, error) {
		return &pb.ResetResponse{}, r.Reset(ctx, repository.ResetMode(str(req.GetMode())))
	})
}
