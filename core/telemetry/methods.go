package telemetry

import (
	"context"
	"encoding/json"
	"time"

	"github.com/decnet/decnet-db/core/repository"
)

// method identifies a method of repository.Repository.
type method int

// The methods of repository.Repository, in the interface's order.
const (
	mInitialize method = iota
	mPing
	mClose
	mAddLog
	mAddLogs
	mLogs
	mCountLogs
	mMaxLogID
	mLogsAfterID
	mLogHistogram
	mStats
	mAddBounty
	mBounties
	mCountBounties
	mBountiesByIP
	mBountiesAfterID
	mState
	mSetState
	mStateKeys
	mUpsertDecky
	mDeckies
	mDeleteDecky
	mCreateUser
	mUserByUsername
	mUserByUUID
	mUsers
	mUpdateUserPassword
	mUpdateUserRole
	mDeleteUser
	mUpsertAttacker
	mAttackerByUUID
	mAttackers
	mCountAttackers
	mAttackerCommands
	mUpsertAttackerBehavior
	mAttackerBehavior
	mBehaviorsByIP
	mPurge
	mImport
	mDescribe
	mTableCounts
	mReset

	numMethods
)

// methodNames are the methods' names: the spans' names and the metrics'
// method attribute.
var methodNames = [numMethods]string{
	mInitialize:             "Initialize",
	mPing:                   "Ping",
	mClose:                  "Close",
	mAddLog:                 "AddLog",
	mAddLogs:                "AddLogs",
	mLogs:                   "Logs",
	mCountLogs:              "CountLogs",
	mMaxLogID:               "MaxLogID",
	mLogsAfterID:            "LogsAfterID",
	mLogHistogram:           "LogHistogram",
	mStats:                  "Stats",
	mAddBounty:              "AddBounty",
	mBounties:               "Bounties",
	mCountBounties:          "CountBounties",
	mBountiesByIP:           "BountiesByIP",
	mBountiesAfterID:        "BountiesAfterID",
	mState:                  "State",
	mSetState:               "SetState",
	mStateKeys:              "StateKeys",
	mUpsertDecky:            "UpsertDecky",
	mDeckies:                "Deckies",
	mDeleteDecky:            "DeleteDecky",
	mCreateUser:             "CreateUser",
	mUserByUsername:         "UserByUsername",
	mUserByUUID:             "UserByUUID",
	mUsers:                  "Users",
	mUpdateUserPassword:     "UpdateUserPassword",
	mUpdateUserRole:         "UpdateUserRole",
	mDeleteUser:             "DeleteUser",
	mUpsertAttacker:         "UpsertAttacker",
	mAttackerByUUID:         "AttackerByUUID",
	mAttackers:              "Attackers",
	mCountAttackers:         "CountAttackers",
	mAttackerCommands:       "AttackerCommands",
	mUpsertAttackerBehavior: "UpsertAttackerBehavior",
	mAttackerBehavior:       "AttackerBehavior",
	mBehaviorsByIP:          "BehaviorsByIP",
	mPurge:                  "Purge",
	mImport:                 "Import",
	mDescribe:               "Describe",
	mTableCounts:            "TableCounts",
	mReset:                  "Reset",
}

// Every method below starts the call's span (start), calls the wrapped
// method with the context that carries it, records the outcome and ends the
// span (end), and returns the wrapped method's results untouched.

// Lifecycle

func (w *repo) Initialize(ctx context.Context) error {
	ctx, span, start := w.start(ctx, mInitialize)
	err := w.inner.Initialize(ctx)
	w.end(ctx, mInitialize, span, start, err)
	return err
}

func (w *repo) Ping(ctx context.Context) error {
	ctx, span, start := w.start(ctx, mPing)
	err := w.inner.Ping(ctx)
	w.end(ctx, mPing, span, start, err)
	return err
}

// Close closes the wrapped repository in a span of its own (a new root:
// Close has no context), then flushes the providers (see Wrap).
func (w *repo) Close() error {
	ctx, span, start := w.start(context.Background(), mClose)
	err := w.inner.Close()
	w.end(ctx, mClose, span, start, err)
	w.flush()
	return err
}

// LogStore

func (w *repo) AddLog(ctx context.Context, log repository.Log) (int64, error) {
	ctx, span, start := w.start(ctx, mAddLog)
	v, err := w.inner.AddLog(ctx, log)
	w.end(ctx, mAddLog, span, start, err)
	return v, err
}

func (w *repo) AddLogs(ctx context.Context, logs []repository.Log) error {
	ctx, span, start := w.start(ctx, mAddLogs)
	err := w.inner.AddLogs(ctx, logs)
	w.end(ctx, mAddLogs, span, start, err)
	return err
}

func (w *repo) Logs(ctx context.Context, q repository.LogQuery) ([]repository.Log, error) {
	ctx, span, start := w.start(ctx, mLogs)
	v, err := w.inner.Logs(ctx, q)
	w.end(ctx, mLogs, span, start, err)
	return v, err
}

func (w *repo) CountLogs(ctx context.Context, f repository.LogFilter) (int64, error) {
	ctx, span, start := w.start(ctx, mCountLogs)
	v, err := w.inner.CountLogs(ctx, f)
	w.end(ctx, mCountLogs, span, start, err)
	return v, err
}

func (w *repo) MaxLogID(ctx context.Context) (int64, error) {
	ctx, span, start := w.start(ctx, mMaxLogID)
	v, err := w.inner.MaxLogID(ctx)
	w.end(ctx, mMaxLogID, span, start, err)
	return v, err
}

func (w *repo) LogsAfterID(ctx context.Context, afterID int64, limit int, f repository.LogFilter) ([]repository.Log, error) {
	ctx, span, start := w.start(ctx, mLogsAfterID)
	v, err := w.inner.LogsAfterID(ctx, afterID, limit, f)
	w.end(ctx, mLogsAfterID, span, start, err)
	return v, err
}

func (w *repo) LogHistogram(ctx context.Context, f repository.LogFilter, interval time.Duration) ([]repository.Bucket, error) {
	ctx, span, start := w.start(ctx, mLogHistogram)
	v, err := w.inner.LogHistogram(ctx, f, interval)
	w.end(ctx, mLogHistogram, span, start, err)
	return v, err
}

func (w *repo) Stats(ctx context.Context) (repository.Stats, error) {
	ctx, span, start := w.start(ctx, mStats)
	v, err := w.inner.Stats(ctx)
	w.end(ctx, mStats, span, start, err)
	return v, err
}

// BountyStore

func (w *repo) AddBounty(ctx context.Context, b repository.Bounty) (bool, error) {
	ctx, span, start := w.start(ctx, mAddBounty)
	v, err := w.inner.AddBounty(ctx, b)
	w.end(ctx, mAddBounty, span, start, err)
	return v, err
}

func (w *repo) Bounties(ctx context.Context, q repository.BountyQuery) ([]repository.Bounty, error) {
	ctx, span, start := w.start(ctx, mBounties)
	v, err := w.inner.Bounties(ctx, q)
	w.end(ctx, mBounties, span, start, err)
	return v, err
}

func (w *repo) CountBounties(ctx context.Context, f repository.BountyFilter) (int64, error) {
	ctx, span, start := w.start(ctx, mCountBounties)
	v, err := w.inner.CountBounties(ctx, f)
	w.end(ctx, mCountBounties, span, start, err)
	return v, err
}

func (w *repo) BountiesByIP(ctx context.Context, ips []string) (map[string][]repository.Bounty, error) {
	ctx, span, start := w.start(ctx, mBountiesByIP)
	v, err := w.inner.BountiesByIP(ctx, ips)
	w.end(ctx, mBountiesByIP, span, start, err)
	return v, err
}

func (w *repo) BountiesAfterID(ctx context.Context, afterID int64, limit int) ([]repository.Bounty, error) {
	ctx, span, start := w.start(ctx, mBountiesAfterID)
	v, err := w.inner.BountiesAfterID(ctx, afterID, limit)
	w.end(ctx, mBountiesAfterID, span, start, err)
	return v, err
}

// StateStore

func (w *repo) State(ctx context.Context, key string) (json.RawMessage, error) {
	ctx, span, start := w.start(ctx, mState)
	v, err := w.inner.State(ctx, key)
	w.end(ctx, mState, span, start, err)
	return v, err
}

func (w *repo) SetState(ctx context.Context, key string, value json.RawMessage) error {
	ctx, span, start := w.start(ctx, mSetState)
	err := w.inner.SetState(ctx, key, value)
	w.end(ctx, mSetState, span, start, err)
	return err
}

func (w *repo) StateKeys(ctx context.Context) ([]string, error) {
	ctx, span, start := w.start(ctx, mStateKeys)
	v, err := w.inner.StateKeys(ctx)
	w.end(ctx, mStateKeys, span, start, err)
	return v, err
}

// DeckyStore

func (w *repo) UpsertDecky(ctx context.Context, d repository.Decky) error {
	ctx, span, start := w.start(ctx, mUpsertDecky)
	err := w.inner.UpsertDecky(ctx, d)
	w.end(ctx, mUpsertDecky, span, start, err)
	return err
}

func (w *repo) Deckies(ctx context.Context) ([]repository.Decky, error) {
	ctx, span, start := w.start(ctx, mDeckies)
	v, err := w.inner.Deckies(ctx)
	w.end(ctx, mDeckies, span, start, err)
	return v, err
}

func (w *repo) DeleteDecky(ctx context.Context, name string) (bool, error) {
	ctx, span, start := w.start(ctx, mDeleteDecky)
	v, err := w.inner.DeleteDecky(ctx, name)
	w.end(ctx, mDeleteDecky, span, start, err)
	return v, err
}

// UserStore

func (w *repo) CreateUser(ctx context.Context, u repository.User) (repository.User, error) {
	ctx, span, start := w.start(ctx, mCreateUser)
	v, err := w.inner.CreateUser(ctx, u)
	w.end(ctx, mCreateUser, span, start, err)
	return v, err
}

func (w *repo) UserByUsername(ctx context.Context, username string) (repository.User, error) {
	ctx, span, start := w.start(ctx, mUserByUsername)
	v, err := w.inner.UserByUsername(ctx, username)
	w.end(ctx, mUserByUsername, span, start, err)
	return v, err
}

func (w *repo) UserByUUID(ctx context.Context, uuid string) (repository.User, error) {
	ctx, span, start := w.start(ctx, mUserByUUID)
	v, err := w.inner.UserByUUID(ctx, uuid)
	w.end(ctx, mUserByUUID, span, start, err)
	return v, err
}

func (w *repo) Users(ctx context.Context) ([]repository.User, error) {
	ctx, span, start := w.start(ctx, mUsers)
	v, err := w.inner.Users(ctx)
	w.end(ctx, mUsers, span, start, err)
	return v, err
}

func (w *repo) UpdateUserPassword(ctx context.Context, uuid string, passwordHash string, mustChange bool) error {
	ctx, span, start := w.start(ctx, mUpdateUserPassword)
	err := w.inner.UpdateUserPassword(ctx, uuid, passwordHash, mustChange)
	w.end(ctx, mUpdateUserPassword, span, start, err)
	return err
}

func (w *repo) UpdateUserRole(ctx context.Context, uuid string, role repository.Role) error {
	ctx, span, start := w.start(ctx, mUpdateUserRole)
	err := w.inner.UpdateUserRole(ctx, uuid, role)
	w.end(ctx, mUpdateUserRole, span, start, err)
	return err
}

func (w *repo) DeleteUser(ctx context.Context, uuid string) (bool, error) {
	ctx, span, start := w.start(ctx, mDeleteUser)
	v, err := w.inner.DeleteUser(ctx, uuid)
	w.end(ctx, mDeleteUser, span, start, err)
	return v, err
}

// AttackerStore

func (w *repo) UpsertAttacker(ctx context.Context, a repository.Attacker) (string, error) {
	ctx, span, start := w.start(ctx, mUpsertAttacker)
	v, err := w.inner.UpsertAttacker(ctx, a)
	w.end(ctx, mUpsertAttacker, span, start, err)
	return v, err
}

func (w *repo) AttackerByUUID(ctx context.Context, uuid string) (repository.Attacker, error) {
	ctx, span, start := w.start(ctx, mAttackerByUUID)
	v, err := w.inner.AttackerByUUID(ctx, uuid)
	w.end(ctx, mAttackerByUUID, span, start, err)
	return v, err
}

func (w *repo) Attackers(ctx context.Context, q repository.AttackerQuery) ([]repository.Attacker, error) {
	ctx, span, start := w.start(ctx, mAttackers)
	v, err := w.inner.Attackers(ctx, q)
	w.end(ctx, mAttackers, span, start, err)
	return v, err
}

func (w *repo) CountAttackers(ctx context.Context, f repository.AttackerFilter) (int64, error) {
	ctx, span, start := w.start(ctx, mCountAttackers)
	v, err := w.inner.CountAttackers(ctx, f)
	w.end(ctx, mCountAttackers, span, start, err)
	return v, err
}

func (w *repo) AttackerCommands(ctx context.Context, uuid string, service string, limit int, offset int) (repository.CommandPage, error) {
	ctx, span, start := w.start(ctx, mAttackerCommands)
	v, err := w.inner.AttackerCommands(ctx, uuid, service, limit, offset)
	w.end(ctx, mAttackerCommands, span, start, err)
	return v, err
}

func (w *repo) UpsertAttackerBehavior(ctx context.Context, uuid string, b repository.Behavior) error {
	ctx, span, start := w.start(ctx, mUpsertAttackerBehavior)
	err := w.inner.UpsertAttackerBehavior(ctx, uuid, b)
	w.end(ctx, mUpsertAttackerBehavior, span, start, err)
	return err
}

func (w *repo) AttackerBehavior(ctx context.Context, uuid string) (repository.Behavior, error) {
	ctx, span, start := w.start(ctx, mAttackerBehavior)
	v, err := w.inner.AttackerBehavior(ctx, uuid)
	w.end(ctx, mAttackerBehavior, span, start, err)
	return v, err
}

func (w *repo) BehaviorsByIP(ctx context.Context, ips []string) (map[string]repository.Behavior, error) {
	ctx, span, start := w.start(ctx, mBehaviorsByIP)
	v, err := w.inner.BehaviorsByIP(ctx, ips)
	w.end(ctx, mBehaviorsByIP, span, start, err)
	return v, err
}

// Purger

func (w *repo) Purge(ctx context.Context) (repository.PurgeResult, error) {
	ctx, span, start := w.start(ctx, mPurge)
	v, err := w.inner.Purge(ctx)
	w.end(ctx, mPurge, span, start, err)
	return v, err
}

// Archiver

func (w *repo) Import(ctx context.Context, b repository.Batch) error {
	ctx, span, start := w.start(ctx, mImport)
	err := w.inner.Import(ctx, b)
	w.end(ctx, mImport, span, start, err)
	return err
}

// Maintainer

func (w *repo) Describe(ctx context.Context) (repository.BackendInfo, error) {
	ctx, span, start := w.start(ctx, mDescribe)
	v, err := w.inner.Describe(ctx)
	w.end(ctx, mDescribe, span, start, err)
	return v, err
}

func (w *repo) TableCounts(ctx context.Context) ([]repository.TableCount, error) {
	ctx, span, start := w.start(ctx, mTableCounts)
	v, err := w.inner.TableCounts(ctx)
	w.end(ctx, mTableCounts, span, start, err)
	return v, err
}

func (w *repo) Reset(ctx context.Context, mode repository.ResetMode) error {
	ctx, span, start := w.start(ctx, mReset)
	err := w.inner.Reset(ctx, mode)
	w.end(ctx, mReset, span, start, err)
	return err
}
