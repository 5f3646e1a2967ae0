package plugin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/decnet/decnet-db/core/config"
	pb "github.com/decnet/decnet-db/core/plugin/proto/decnetdb/v1"
	"github.com/decnet/decnet-db/core/repository"
)

// Options say which plugin binary the host starts and how it checks it.
type Options struct {
	// Path is the plugin binary.
	Path string
	// SHA256 is the binary's expected SHA-256 digest; required. go-plugin
	// hashes the file right before it starts it, and refuses to when the
	// digests differ (a *ChecksumError).
	SHA256 []byte
	// SHA256Source says where SHA256 comes from, for messages (a checksum
	// file, a variable).
	SHA256Source string
	// StartTimeout bounds the start and the handshake; 0 means a minute.
	StartTimeout time.Duration
}

// exitWait is how long a call that failed because the connection broke
// waits for go-plugin to notice that the process exited, to say so.
const exitWait = 2 * time.Second

// closeTimeout bounds the Close call of Close.
const closeTimeout = 30 * time.Second

// process is the part of a go-plugin client that a repository needs.
type process interface {
	Exited() bool
	Kill()
}

// conn is a started plugin process and its service.
type conn struct {
	name string // the binary's base name
	pid  int
	rpc  pb.RepositoryClient
	cc   grpc.ClientConnInterface
	proc process
}

// start starts the plugin process of o and connects to it. The context
// bounds the start: when it ends first, start returns its error and the
// process is killed, both at once.
func start(ctx context.Context, o Options) (*conn, error) {
	if len(o.SHA256) != sha256.Size {
		return nil, fmt.Errorf("plugin %s: no SHA-256 checksum to verify it with; refusing to start it: %w", o.Path, ErrChecksum)
	}
	name := filepath.Base(o.Path)
	// procCtx lives as long as the process: os/exec kills the process when
	// it ends, which start makes it do when ctx ends before the handshake
	// (go-plugin's Kill would wait for its start to give up, up to
	// StartTimeout), and Kill after.
	procCtx, end := context.WithCancel(context.WithoutCancel(ctx))
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: pluginSets(Protocols, nil),
		Cmd:              exec.CommandContext(procCtx, o.Path),
		SecureConfig:     &goplugin.SecureConfig{Checksum: o.SHA256, Hash: sha256.New()},
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     o.StartTimeout,
		Logger:           newHostLogger(name),
		GRPCDialOptions:  dialOptions(),
	})
	type result struct {
		c   *conn
		err error
	}
	proc := &pluginProcess{Client: client, end: end}
	done := make(chan result, 1)
	go func() {
		c, err := connect(ctx, proc, o)
		done <- result{c, err}
	}()
	select {
	case res := <-done:
		return res.c, res.err
	case <-ctx.Done():
		end()
		go func() {
			<-done
			proc.Kill()
		}()
		return nil, fmt.Errorf("plugin %s: start: %w", o.Path, ctx.Err())
	}
}

// pluginProcess is a go-plugin client and the end of its process's
// context.
type pluginProcess struct {
	*goplugin.Client
	end context.CancelFunc
}

func (p *pluginProcess) Kill() {
	p.Client.Kill()
	p.end()
}

// dialOptions are the options of the host's gRPC connection: the message
// limits, the flow-control windows (see serverOptions), and hostCodec,
// which encodes AddLogs itself and leaves the rest to gRPC's proto codec.
func dialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize),
			grpc.ForceCodecV2(theHostCodec)),
		grpc.WithInitialWindowSize(windowSize), grpc.WithInitialConnWindowSize(windowSize),
	}
}

// connect starts the process and dispenses the service.
func connect(ctx context.Context, proc *pluginProcess, o Options) (*conn, error) {
	protocol, err := proc.Client.Client()
	if err != nil {
		proc.Kill()
		return nil, startError(ctx, o, err)
	}
	raw, err := protocol.Dispense(pluginName)
	if err != nil {
		proc.Kill()
		return nil, fmt.Errorf("plugin %s: %w", o.Path, err)
	}
	cc := raw.(*grpc.ClientConn)
	c := &conn{name: filepath.Base(o.Path), rpc: pb.NewRepositoryClient(cc), cc: cc, proc: proc}
	if ra := proc.ReattachConfig(); ra != nil {
		c.pid = ra.Pid
	}
	return c, nil
}

// ErrChecksum is wrapped by the errors of a plugin binary the host refuses
// to start because of its checksum: missing, malformed, or not matching.
var ErrChecksum = errors.New("plugin checksum")

// ChecksumError is returned when a plugin binary's SHA-256 is not the
// expected one; the host does not start it.
type ChecksumError struct {
	Plugin   string // the binary's path
	Expected string // the expected digest, hex
	Source   string // where Expected comes from
	Actual   string // the binary's digest, hex
}

func (e *ChecksumError) Error() string {
	from := ""
	if e.Source != "" {
		from = " (from " + e.Source + ")"
	}
	return fmt.Sprintf("plugin %s: checksum mismatch: expected SHA-256 %s%s, the file has %s; refusing to start it "+
		"(rebuild it, or update the checksum if this binary is the one you trust)", e.Plugin, e.Expected, from, e.Actual)
}

// Unwrap returns ErrChecksum.
func (e *ChecksumError) Unwrap() error { return ErrChecksum }

// VersionError is returned when a plugin offers none of the protocol
// versions the host speaks.
type VersionError struct {
	Plugin         string // the binary's path
	PluginVersions []int  // the versions it offers
	HostVersions   []int  // the versions the host speaks
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("plugin %s speaks protocol versions %v, this decnet-db speaks %v: "+
		"rebuild the plugin with an sdk that speaks one of %v, or use a decnet-db that speaks one of %v",
		e.Plugin, e.PluginVersions, e.HostVersions, e.HostVersions, e.PluginVersions)
}

// StdoutError is returned when a plugin writes to stdout before the
// handshake.
type StdoutError struct {
	Plugin string // the binary's path
	Line   string // the first line it wrote
}

func (e *StdoutError) Error() string {
	return fmt.Sprintf("plugin %s wrote %q to stdout before the handshake: stdout is go-plugin's handshake channel, "+
		"so a plugin must write nothing there (not before sdk.Serve, nor after): log to stderr instead "+
		"(log/slog's default logger, which sdk.Serve sends to the host's log)", e.Plugin, e.Line)
}

var pluginVersionRE = regexp.MustCompile(`Plugin version: (\d+)`)

// unrecognized precedes, in go-plugin's start error, the first line a
// plugin wrote on stdout that is not a handshake.
const unrecognized = "Unrecognized remote plugin message: "

// startError turns go-plugin's start errors into ones that say what to do.
func startError(ctx context.Context, o Options, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, goplugin.ErrChecksumsDoNotMatch):
		ce := &ChecksumError{Plugin: o.Path, Expected: hex.EncodeToString(o.SHA256), Source: o.SHA256Source, Actual: "unknown"}
		if sum, herr := FileSHA256(o.Path); herr == nil {
			ce.Actual = sum
		}
		return ce
	case strings.Contains(msg, "incompatible API version with plugin"):
		ve := &VersionError{Plugin: o.Path, HostVersions: append([]int(nil), Protocols...)}
		if info, ierr := ReadInfo(ctx, o.Path); ierr == nil && len(info.Protocols) > 0 {
			ve.PluginVersions = info.Protocols
		} else if m := pluginVersionRE.FindStringSubmatch(msg); m != nil {
			v, _ := strconv.Atoi(m[1])
			ve.PluginVersions = []int{v}
		}
		return ve
	case strings.Contains(msg, unrecognized):
		_, line, _ := strings.Cut(msg, unrecognized)
		line, _, _ = strings.Cut(line, "\n")
		if line == "" {
			return fmt.Errorf("plugin %s exited before the handshake without a word on stdout (its stderr is in the log): %w",
				o.Path, repository.ErrUnavailable)
		}
		return &StdoutError{Plugin: o.Path, Line: line}
	case strings.Contains(msg, "plugin exited before we could connect"):
		return fmt.Errorf("plugin %s exited during the handshake (its stderr is in the log): %w", o.Path, repository.ErrUnavailable)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("plugin %s did not complete the handshake in time: %w", o.Path, repository.ErrUnavailable)
	case strings.Contains(msg, "unsupported plugin protocol"):
		return fmt.Errorf("plugin %s: %s: decnet-db plugins speak gRPC (build it with sdk.Serve)", o.Path, msg)
	}
	return fmt.Errorf("plugin %s: start: %w", o.Path, err)
}

// FileSHA256 returns the SHA-256 digest of the file at path, in hex.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Open starts the plugin binary of o, opens its backend on cfg (the Open
// call carries cfg, passwords included; the plugin's environment is empty)
// and returns the repository, not initialized yet. Its Close closes the
// backend and ends the process. Every Open starts a new process.
//
// Calls fail with an error wrapping repository.ErrUnavailable that says the
// plugin exited, at once, when the process is gone, including a call in
// progress when it died; they never hang on a dead plugin.
func Open(ctx context.Context, o Options, cfg config.Config) (repository.Repository, error) {
	c, err := start(ctx, o)
	if err != nil {
		return nil, err
	}
	return openOn(ctx, c, cfg)
}

// openOn opens the backend of cfg through c, a started plugin, and ends
// the process when that fails.
func openOn(ctx context.Context, c *conn, cfg config.Config) (*Repo, error) {
	r := &Repo{c: c}
	if _, err := c.rpc.Open(ctx, &pb.OpenRequest{Config: configToPB(cfg), LogLevel: hostLevel()}); err != nil {
		err = r.callError(ctx, "Open", err)
		c.proc.Kill()
		return nil, err
	}
	return r, nil
}

// Scratch starts the plugin binary of o and asks it for scratch storage.
// It returns the configuration that opens the storage (through the same
// plugin: Type and the host's own settings are cfg's) and a function that
// removes the storage and ends the process, which stays up until then.
// A plugin served without scratch storage gives an error that says so.
func Scratch(ctx context.Context, o Options, cfg config.Config) (config.Config, func(context.Context) error, error) {
	c, err := start(ctx, o)
	if err != nil {
		return config.Config{}, nil, err
	}
	r := &Repo{c: c}
	resp, err := c.rpc.Scratch(ctx, &pb.ScratchRequest{Config: configToPB(cfg), LogLevel: hostLevel()})
	if err != nil {
		defer c.proc.Kill()
		if st, ok := status.FromError(err); ok && st.Code() == codes.Unimplemented && len(st.Details()) == 0 {
			return config.Config{}, nil, fmt.Errorf("plugin %s cannot create scratch storage (serve it with sdk.WithScratch)", c.name)
		}
		return config.Config{}, nil, r.callError(ctx, "Scratch", err)
	}
	out := configFromPB(resp.GetConfig())
	// The storage is the plugin's; what selects and checks the plugin is
	// the host's.
	out.Type, out.PluginDirs, out.PluginSHA256, out.Tracing, out.File = cfg.Type, cfg.PluginDirs, cfg.PluginSHA256, cfg.Tracing, cfg.File
	token := resp.GetToken()
	var once sync.Once
	cleanup := func(ctx context.Context) error {
		var err error
		once.Do(func() {
			defer c.proc.Kill()
			if e := r.check("RemoveScratch"); e != nil {
				err = e
				return
			}
			if _, e := c.rpc.RemoveScratch(ctx, &pb.RemoveScratchRequest{Token: token}); e != nil {
				err = r.callError(ctx, "RemoveScratch", e)
			}
		})
		return err
	}
	return out, cleanup, nil
}

// Repo is a repository served by a plugin process: every method is one
// call to it. It is safe for concurrent use.
type Repo struct {
	c      *conn
	closed atomic.Bool
}

var _ repository.Repository = (*Repo)(nil)

// PID returns the plugin's process id.
func (r *Repo) PID() int { return r.c.pid }

// check fails a call before it is made: after Close, or when the process
// has exited.
func (r *Repo) check(method string) error {
	if r.closed.Load() {
		return fmt.Errorf("plugin %s: %s: %w", r.c.name, method, repository.ErrClosed)
	}
	if r.c.proc.Exited() {
		return r.exited(method, false)
	}
	return nil
}

func (r *Repo) exited(method string, during bool) error {
	when := "before"
	if during {
		when = "during"
	}
	return fmt.Errorf("plugin %s (pid %d) exited %s %s: %w; open the repository again to start a new process",
		r.c.name, r.c.pid, when, method, repository.ErrUnavailable)
}

// callError converts the error of a call: the plugin's own errors keep
// their message and identity (FromStatus); a broken connection becomes
// ErrUnavailable, saying that the plugin exited when it did.
func (r *Repo) callError(ctx context.Context, method string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	if !brokenConn(ctx, st) {
		return FromStatus(err)
	}
	if r.closed.Load() {
		return fmt.Errorf("plugin %s: %s: %w", r.c.name, method, repository.ErrClosed)
	}
	// Wait for go-plugin to see the process exit, to say so, but not past
	// the caller's context.
	deadline := time.Now().Add(exitWait)
	for !r.c.proc.Exited() && time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	if r.c.proc.Exited() {
		return r.exited(method, true)
	}
	return fmt.Errorf("plugin %s (pid %d): %s: %w: %s", r.c.name, r.c.pid, method, repository.ErrUnavailable, st.Message())
}

// brokenConn reports whether st, the status of a call made with ctx, is
// the transport's (the connection broke or is closing) rather than the
// plugin's: the plugin's own errors always carry details.
func brokenConn(ctx context.Context, st *status.Status) bool {
	switch st.Code() {
	case codes.Unavailable:
		return len(st.Details()) == 0
	case codes.Canceled:
		// "the client connection is closing": not the caller's context.
		return ctx.Err() == nil && len(st.Details()) == 0
	}
	return false
}

// call runs one RPC: the checks before, the error conversion after.
func call[Req, Resp any](ctx context.Context, r *Repo, method string, rpc func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (Resp, error) {
	if err := r.check(method); err != nil {
		var zero Resp
		return zero, err
	}
	resp, err := rpc(ctx, req)
	if err != nil {
		return resp, r.callError(ctx, method, err)
	}
	return resp, nil
}

// Close closes the backend and ends the plugin process. It is safe to call
// twice; every other method returns ErrClosed afterwards.
func (r *Repo) Close() error {
	if !r.closed.CompareAndSwap(false, true) {
		return nil
	}
	defer r.c.proc.Kill()
	if r.c.proc.Exited() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if _, err := r.c.rpc.Close(ctx, &pb.CloseRequest{}); err != nil {
		if st, ok := status.FromError(err); ok && brokenConn(ctx, st) {
			return nil // the process is gone: nothing left to close
		}
		return FromStatus(err)
	}
	return nil
}

func (r *Repo) Initialize(ctx context.Context) error {
	_, err := call(ctx, r, "Initialize", r.c.rpc.Initialize, &pb.InitializeRequest{})
	return err
}

func (r *Repo) Ping(ctx context.Context) error {
	_, err := call(ctx, r, "Ping", r.c.rpc.Ping, &pb.PingRequest{})
	return err
}

func (r *Repo) AddLog(ctx context.Context, l repository.Log) (int64, error) {
	resp, err := call(ctx, r, "AddLog", r.c.rpc.AddLog, &pb.AddLogRequest{Log: logToPB(&l)})
	return resp.GetId(), err
}

// AddLogs sends the batch encoded straight from the logs (hostCodec).
func (r *Repo) AddLogs(ctx context.Context, logs []repository.Log) error {
	_, err := call(ctx, r, "AddLogs", r.addLogs, logs)
	return err
}

// theHostCodec encodes AddLogs requests; it is stateless.
var theHostCodec = newHostCodec()

func (r *Repo) addLogs(ctx context.Context, logs []repository.Log, opts ...grpc.CallOption) (*pb.AddLogsResponse, error) {
	resp := new(pb.AddLogsResponse)
	if err := r.c.cc.Invoke(ctx, pb.Repository_AddLogs_FullMethodName, &addLogsWire{logs: logs}, resp, opts...); err != nil {
		return nil, err
	}
	return resp, nil
}

func (r *Repo) Logs(ctx context.Context, q repository.LogQuery) ([]repository.Log, error) {
	resp, err := call(ctx, r, "Logs", r.c.rpc.Logs, &pb.LogsRequest{Query: &pb.LogQuery{
		Filter: logFilterToPB(q.LogFilter), Limit: int64(q.Limit), Offset: int64(q.Offset)}})
	if err != nil {
		return nil, err
	}
	return logsFromPB(resp.GetLogs()), nil
}

func (r *Repo) CountLogs(ctx context.Context, f repository.LogFilter) (int64, error) {
	resp, err := call(ctx, r, "CountLogs", r.c.rpc.CountLogs, &pb.CountLogsRequest{Filter: logFilterToPB(f)})
	return resp.GetCount(), err
}

func (r *Repo) MaxLogID(ctx context.Context) (int64, error) {
	resp, err := call(ctx, r, "MaxLogID", r.c.rpc.MaxLogID, &pb.MaxLogIDRequest{})
	return resp.GetId(), err
}

func (r *Repo) LogsAfterID(ctx context.Context, afterID int64, limit int, f repository.LogFilter) ([]repository.Log, error) {
	resp, err := call(ctx, r, "LogsAfterID", r.c.rpc.LogsAfterID, &pb.LogsAfterIDRequest{AfterId: afterID, Limit: int64(limit), Filter: logFilterToPB(f)})
	if err != nil {
		return nil, err
	}
	return logsFromPB(resp.GetLogs()), nil
}

func (r *Repo) LogHistogram(ctx context.Context, f repository.LogFilter, interval time.Duration) ([]repository.Bucket, error) {
	resp, err := call(ctx, r, "LogHistogram", r.c.rpc.LogHistogram, &pb.LogHistogramRequest{Filter: logFilterToPB(f), IntervalNanos: int64(interval)})
	if err != nil {
		return nil, err
	}
	return fromPB(resp.GetBuckets(), bucketFromPB), nil
}

func (r *Repo) Stats(ctx context.Context) (repository.Stats, error) {
	resp, err := call(ctx, r, "Stats", r.c.rpc.Stats, &pb.StatsRequest{})
	if err != nil {
		return repository.Stats{}, err
	}
	return statsFromPB(resp.GetStats()), nil
}

func (r *Repo) AddBounty(ctx context.Context, b repository.Bounty) (bool, error) {
	resp, err := call(ctx, r, "AddBounty", r.c.rpc.AddBounty, &pb.AddBountyRequest{Bounty: bountyToPB(&b)})
	return resp.GetAdded(), err
}

func (r *Repo) Bounties(ctx context.Context, q repository.BountyQuery) ([]repository.Bounty, error) {
	resp, err := call(ctx, r, "Bounties", r.c.rpc.Bounties, &pb.BountiesRequest{Query: &pb.BountyQuery{
		Filter: bountyFilterToPB(q.BountyFilter), Limit: int64(q.Limit), Offset: int64(q.Offset)}})
	if err != nil {
		return nil, err
	}
	return bountiesFromPB(resp.GetBounties()), nil
}

func (r *Repo) CountBounties(ctx context.Context, f repository.BountyFilter) (int64, error) {
	resp, err := call(ctx, r, "CountBounties", r.c.rpc.CountBounties, &pb.CountBountiesRequest{Filter: bountyFilterToPB(f)})
	return resp.GetCount(), err
}

func (r *Repo) BountiesByIP(ctx context.Context, ips []string) (map[string][]repository.Bounty, error) {
	all, list := ipsToPB(ips)
	resp, err := call(ctx, r, "BountiesByIP", r.c.rpc.BountiesByIP, &pb.BountiesByIPRequest{All: all, Ips: list})
	if err != nil {
		return nil, err
	}
	out := make(map[string][]repository.Bounty, len(resp.GetEntries()))
	for _, e := range resp.GetEntries() {
		out[str(e.GetIp())] = bountiesFromPB(e.GetBounties())
	}
	return out, nil
}

func (r *Repo) BountiesAfterID(ctx context.Context, afterID int64, limit int) ([]repository.Bounty, error) {
	resp, err := call(ctx, r, "BountiesAfterID", r.c.rpc.BountiesAfterID, &pb.BountiesAfterIDRequest{AfterId: afterID, Limit: int64(limit)})
	if err != nil {
		return nil, err
	}
	return bountiesFromPB(resp.GetBounties()), nil
}

func (r *Repo) State(ctx context.Context, key string) (json.RawMessage, error) {
	resp, err := call(ctx, r, "State", r.c.rpc.State, &pb.StateRequest{Key: bs(key)})
	if err != nil {
		return nil, err
	}
	return rawOf(resp.GetValue()), nil
}

func (r *Repo) SetState(ctx context.Context, key string, value json.RawMessage) error {
	_, err := call(ctx, r, "SetState", r.c.rpc.SetState, &pb.SetStateRequest{Key: bs(key), Value: raw(value)})
	return err
}

func (r *Repo) StateKeys(ctx context.Context) ([]string, error) {
	resp, err := call(ctx, r, "StateKeys", r.c.rpc.StateKeys, &pb.StateKeysRequest{})
	if err != nil {
		return nil, err
	}
	return strs(resp.GetKeys()), nil
}

func (r *Repo) UpsertDecky(ctx context.Context, d repository.Decky) error {
	_, err := call(ctx, r, "UpsertDecky", r.c.rpc.UpsertDecky, &pb.UpsertDeckyRequest{Decky: deckyToPB(&d)})
	return err
}

func (r *Repo) Deckies(ctx context.Context) ([]repository.Decky, error) {
	resp, err := call(ctx, r, "Deckies", r.c.rpc.Deckies, &pb.DeckiesRequest{})
	if err != nil {
		return nil, err
	}
	return deckiesFromPB(resp.GetDeckies()), nil
}

func (r *Repo) DeleteDecky(ctx context.Context, name string) (bool, error) {
	resp, err := call(ctx, r, "DeleteDecky", r.c.rpc.DeleteDecky, &pb.DeleteDeckyRequest{Name: bs(name)})
	return resp.GetDeleted(), err
}

func (r *Repo) CreateUser(ctx context.Context, u repository.User) (repository.User, error) {
	resp, err := call(ctx, r, "CreateUser", r.c.rpc.CreateUser, &pb.CreateUserRequest{User: userToPB(&u)})
	if err != nil {
		return repository.User{}, err
	}
	return userFromPB(resp.GetUser()), nil
}

func (r *Repo) UserByUsername(ctx context.Context, username string) (repository.User, error) {
	resp, err := call(ctx, r, "UserByUsername", r.c.rpc.UserByUsername, &pb.UserByUsernameRequest{Username: bs(username)})
	if err != nil {
		return repository.User{}, err
	}
	return userFromPB(resp.GetUser()), nil
}

func (r *Repo) UserByUUID(ctx context.Context, uuid string) (repository.User, error) {
	resp, err := call(ctx, r, "UserByUUID", r.c.rpc.UserByUUID, &pb.UserByUUIDRequest{Uuid: bs(uuid)})
	if err != nil {
		return repository.User{}, err
	}
	return userFromPB(resp.GetUser()), nil
}

func (r *Repo) Users(ctx context.Context) ([]repository.User, error) {
	resp, err := call(ctx, r, "Users", r.c.rpc.Users, &pb.UsersRequest{})
	if err != nil {
		return nil, err
	}
	return usersFromPB(resp.GetUsers()), nil
}

func (r *Repo) UpdateUserPassword(ctx context.Context, uuid, passwordHash string, mustChange bool) error {
	_, err := call(ctx, r, "UpdateUserPassword", r.c.rpc.UpdateUserPassword,
		&pb.UpdateUserPasswordRequest{Uuid: bs(uuid), PasswordHash: bs(passwordHash), MustChange: mustChange})
	return err
}

func (r *Repo) UpdateUserRole(ctx context.Context, uuid string, role repository.Role) error {
	_, err := call(ctx, r, "UpdateUserRole", r.c.rpc.UpdateUserRole, &pb.UpdateUserRoleRequest{Uuid: bs(uuid), Role: bs(string(role))})
	return err
}

func (r *Repo) DeleteUser(ctx context.Context, uuid string) (bool, error) {
	resp, err := call(ctx, r, "DeleteUser", r.c.rpc.DeleteUser, &pb.DeleteUserRequest{Uuid: bs(uuid)})
	return resp.GetDeleted(), err
}

func (r *Repo) UpsertAttacker(ctx context.Context, a repository.Attacker) (string, error) {
	resp, err := call(ctx, r, "UpsertAttacker", r.c.rpc.UpsertAttacker, &pb.UpsertAttackerRequest{Attacker: attackerToPB(&a)})
	if err != nil {
		return "", err
	}
	return str(resp.GetUuid()), nil
}

func (r *Repo) AttackerByUUID(ctx context.Context, uuid string) (repository.Attacker, error) {
	resp, err := call(ctx, r, "AttackerByUUID", r.c.rpc.AttackerByUUID, &pb.AttackerByUUIDRequest{Uuid: bs(uuid)})
	if err != nil {
		return repository.Attacker{}, err
	}
	return attackerFromPB(resp.GetAttacker()), nil
}

func (r *Repo) Attackers(ctx context.Context, q repository.AttackerQuery) ([]repository.Attacker, error) {
	resp, err := call(ctx, r, "Attackers", r.c.rpc.Attackers, &pb.AttackersRequest{Query: &pb.AttackerQuery{
		Filter: attackerFilterToPB(q.AttackerFilter), Sort: bs(string(q.Sort)), Limit: int64(q.Limit), Offset: int64(q.Offset)}})
	if err != nil {
		return nil, err
	}
	return attackersFromPB(resp.GetAttackers()), nil
}

func (r *Repo) CountAttackers(ctx context.Context, f repository.AttackerFilter) (int64, error) {
	resp, err := call(ctx, r, "CountAttackers", r.c.rpc.CountAttackers, &pb.CountAttackersRequest{Filter: attackerFilterToPB(f)})
	return resp.GetCount(), err
}

func (r *Repo) AttackerCommands(ctx context.Context, uuid, service string, limit, offset int) (repository.CommandPage, error) {
	resp, err := call(ctx, r, "AttackerCommands", r.c.rpc.AttackerCommands, &pb.AttackerCommandsRequest{
		Uuid: bs(uuid), Service: bs(service), Limit: int64(limit), Offset: int64(offset)})
	if err != nil {
		return repository.CommandPage{}, err
	}
	p := resp.GetPage()
	return repository.CommandPage{Total: int(p.GetTotal()), Commands: commandsFromPB(p.GetCommands())}, nil
}

func (r *Repo) UpsertAttackerBehavior(ctx context.Context, uuid string, b repository.Behavior) error {
	_, err := call(ctx, r, "UpsertAttackerBehavior", r.c.rpc.UpsertAttackerBehavior,
		&pb.UpsertAttackerBehaviorRequest{Uuid: bs(uuid), Behavior: behaviorToPB(&b)})
	return err
}

func (r *Repo) AttackerBehavior(ctx context.Context, uuid string) (repository.Behavior, error) {
	resp, err := call(ctx, r, "AttackerBehavior", r.c.rpc.AttackerBehavior, &pb.AttackerBehaviorRequest{Uuid: bs(uuid)})
	if err != nil {
		return repository.Behavior{}, err
	}
	return behaviorFromPB(resp.GetBehavior()), nil
}

func (r *Repo) BehaviorsByIP(ctx context.Context, ips []string) (map[string]repository.Behavior, error) {
	all, list := ipsToPB(ips)
	resp, err := call(ctx, r, "BehaviorsByIP", r.c.rpc.BehaviorsByIP, &pb.BehaviorsByIPRequest{All: all, Ips: list})
	if err != nil {
		return nil, err
	}
	out := make(map[string]repository.Behavior, len(resp.GetEntries()))
	for _, e := range resp.GetEntries() {
		out[str(e.GetIp())] = behaviorFromPB(e.GetBehavior())
	}
	return out, nil
}

func (r *Repo) Purge(ctx context.Context) (repository.PurgeResult, error) {
	resp, err := call(ctx, r, "Purge", r.c.rpc.Purge, &pb.PurgeRequest{})
	if err != nil {
		return repository.PurgeResult{}, err
	}
	return purgeFromPB(resp.GetResult()), nil
}

func (r *Repo) Import(ctx context.Context, b repository.Batch) error {
	_, err := call(ctx, r, "Import", r.c.rpc.Import, &pb.ImportRequest{Batch: batchToPB(b)})
	return err
}

func (r *Repo) Describe(ctx context.Context) (repository.BackendInfo, error) {
	resp, err := call(ctx, r, "Describe", r.c.rpc.Describe, &pb.DescribeRequest{})
	if err != nil {
		return repository.BackendInfo{}, err
	}
	return infoFromPB(resp.GetInfo()), nil
}

func (r *Repo) TableCounts(ctx context.Context) ([]repository.TableCount, error) {
	resp, err := call(ctx, r, "TableCounts", r.c.rpc.TableCounts, &pb.TableCountsRequest{})
	if err != nil {
		return nil, err
	}
	return fromPB(resp.GetCounts(), tableCountFromPB), nil
}

func (r *Repo) Reset(ctx context.Context, mode repository.ResetMode) error {
	_, err := call(ctx, r, "Reset", r.c.rpc.Reset, &pb.ResetRequest{Mode: bs(string(mode))})
	return err
}
