package plugin

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/decnet/decnet-db/core/repository"
)

// ErrorDomain is the domain of the google.rpc.ErrorInfo that names the
// sentinel of an error across the plugin boundary.
const ErrorDomain = "decnet-db"

// errorKind maps one error identity to the wire: the gRPC code of a status
// whose primary identity it is, and the reason of its ErrorInfo.
type errorKind struct {
	target error
	reason string
	code   codes.Code
	// byCode: a status of this code without an ErrorInfo (from gRPC itself,
	// or from a plugin not written with this package) is this error.
	byCode bool
}

// errorKinds is the mapping, in priority order: an error that matches
// several is sent with the first one's code, and keeps every identity.
var errorKinds = []errorKind{
	{context.Canceled, "CANCELED", codes.Canceled, true},
	{context.DeadlineExceeded, "DEADLINE_EXCEEDED", codes.DeadlineExceeded, true},
	{repository.ErrNotFound, "NOT_FOUND", codes.NotFound, true},
	{repository.ErrConflict, "CONFLICT", codes.AlreadyExists, true},
	{repository.ErrInvalid, "INVALID", codes.InvalidArgument, true},
	// gRPC's own "message larger than max" is ResourceExhausted too: a
	// value too large for the transport.
	{repository.ErrTooLarge, "TOO_LARGE", codes.ResourceExhausted, true},
	{repository.ErrClosed, "CLOSED", codes.FailedPrecondition, false},
	// Unimplemented without an ErrorInfo is an RPC the plugin does not
	// have (an optional capability, or an older protocol), not this.
	{repository.ErrUnknownDriver, "UNKNOWN_DRIVER", codes.Unimplemented, false},
	{repository.ErrUnavailable, "UNAVAILABLE", codes.Unavailable, true},
}

// metaAlso is the ErrorInfo metadata key listing the reasons of the
// identities after the first, comma-separated.
const metaAlso = "also"

// ToStatus converts an error of a repository into the gRPC status error a
// plugin returns: the code of the first identity it has (see the table in
// this file), its message (invalid UTF-8 replaced), and an ErrorInfo whose
// Reason names that identity and whose metadata lists the others.
// FromStatus reverses it. An error with no known identity is Unknown.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	var kinds []errorKind
	for _, k := range errorKinds {
		if errors.Is(err, k.target) {
			kinds = append(kinds, k)
		}
	}
	msg := strings.ToValidUTF8(err.Error(), "\uFFFD")
	if len(kinds) == 0 {
		return status.Error(codes.Unknown, msg)
	}
	info := &errdetails.ErrorInfo{Reason: kinds[0].reason, Domain: ErrorDomain}
	if len(kinds) > 1 {
		also := make([]string, 0, len(kinds)-1)
		for _, k := range kinds[1:] {
			also = append(also, k.reason)
		}
		info.Metadata = map[string]string{metaAlso: strings.Join(also, ",")}
	}
	st := status.New(kinds[0].code, msg)
	if withInfo, derr := st.WithDetails(info); derr == nil {
		st = withInfo
	}
	return st.Err()
}

// FromStatus converts a status error from a plugin back into an error
// with the plugin's message that matches, with errors.Is, every identity
// the plugin's error had. A status without an ErrorInfo of ErrorDomain
// gets the identity of its code where that is unambiguous (see the table).
// An error that is not a status is returned as it is; nil stays nil.
func FromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	if st.Code() == codes.OK {
		return nil
	}
	re := &RemoteError{Code: st.Code(), msg: st.Message()}
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok || info.GetDomain() != ErrorDomain {
			continue
		}
		reasons := []string{info.GetReason()}
		if also := info.GetMetadata()[metaAlso]; also != "" {
			reasons = append(reasons, strings.Split(also, ",")...)
		}
		for _, r := range reasons {
			for _, k := range errorKinds {
				if k.reason == r {
					re.targets = append(re.targets, k.target)
				}
			}
		}
		return re
	}
	for _, k := range errorKinds {
		if k.byCode && k.code == st.Code() {
			re.targets = append(re.targets, k.target)
			break
		}
	}
	return re
}

// RemoteError is an error a plugin returned: its message, as the plugin
// wrote it, and its identities (errors.Is matches the sentinels of package
// repository and the context errors it had in the plugin).
type RemoteError struct {
	// Code is the gRPC code it travelled with.
	Code    codes.Code
	msg     string
	targets []error
}

func (e *RemoteError) Error() string   { return e.msg }
func (e *RemoteError) Unwrap() []error { return e.targets }

// Reason returns the ErrorInfo reason of an error identity (a sentinel of
// package repository, context.Canceled or context.DeadlineExceeded), ""
// for any other error.
func Reason(target error) string {
	for _, k := range errorKinds {
		if k.target == target {
			return k.reason
		}
	}
	return ""
}
