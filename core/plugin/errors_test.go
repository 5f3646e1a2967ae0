package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/decnet/decnet-db/core/repository"
)

// identities are every error identity that crosses the boundary.
func identities() []error {
	return append(repository.Sentinels(), context.Canceled, context.DeadlineExceeded)
}

// TestErrorRoundTrip converts an error wrapping each identity to a status
// and back: the identity (errors.Is), and only it, and the message survive.
func TestErrorRoundTrip(t *testing.T) {
	for _, target := range identities() {
		t.Run(Reason(target), func(t *testing.T) {
			if Reason(target) == "" {
				t.Fatalf("%v has no mapping", target)
			}
			in := fmt.Errorf("backend: key %q: %w", "k\xff", target)
			st := ToStatus(in)
			if s, ok := status.FromError(st); !ok || s.Code() == codes.Unknown || s.Code() == codes.OK {
				t.Fatalf("ToStatus(%v) = %v, want a status with the identity's code", in, st)
			}
			out := FromStatus(st)
			if !errors.Is(out, target) {
				t.Errorf("FromStatus(ToStatus(%v)) = %v, which is not %v", in, out, target)
			}
			for _, other := range identities() {
				if other != target && errors.Is(out, other) {
					t.Errorf("FromStatus(ToStatus(%v)) is also %v", in, other)
				}
			}
			if want := strings.ToValidUTF8(in.Error(), "\uFFFD"); out.Error() != want {
				t.Errorf("message %q, want %q", out, want)
			}
		})
	}
}

// TestErrorCodes pins the code of each identity: it is the protocol.
func TestErrorCodes(t *testing.T) {
	want := map[error]codes.Code{
		repository.ErrNotFound:      codes.NotFound,
		repository.ErrConflict:      codes.AlreadyExists,
		repository.ErrInvalid:       codes.InvalidArgument,
		repository.ErrTooLarge:      codes.ResourceExhausted,
		repository.ErrClosed:        codes.FailedPrecondition,
		repository.ErrUnknownDriver: codes.Unimplemented,
		repository.ErrUnavailable:   codes.Unavailable,
		context.Canceled:            codes.Canceled,
		context.DeadlineExceeded:    codes.DeadlineExceeded,
	}
	for _, target := range identities() {
		if got := status.Code(ToStatus(target)); got != want[target] {
			t.Errorf("%v: code %v, want %v", target, got, want[target])
		}
	}
}

// TestErrorSeveralIdentities checks that an error wrapping two sentinels
// keeps both.
func TestErrorSeveralIdentities(t *testing.T) {
	in := fmt.Errorf("sqlite: create x.db: %w: %w", repository.ErrUnavailable, repository.ErrInvalid)
	out := FromStatus(ToStatus(in))
	if !errors.Is(out, repository.ErrUnavailable) || !errors.Is(out, repository.ErrInvalid) || errors.Is(out, repository.ErrNotFound) {
		t.Errorf("%v: want exactly ErrUnavailable and ErrInvalid", out)
	}
}

// TestErrorWithoutIdentity checks that another error keeps its message
// and gains no identity.
func TestErrorWithoutIdentity(t *testing.T) {
	out := FromStatus(ToStatus(errors.New("disk on fire")))
	if out.Error() != "disk on fire" {
		t.Errorf("message %q", out)
	}
	for _, target := range identities() {
		if errors.Is(out, target) {
			t.Errorf("%v is %v", out, target)
		}
	}
	if FromStatus(nil) != nil || ToStatus(nil) != nil {
		t.Error("nil does not stay nil")
	}
	plain := errors.New("not a status")
	if FromStatus(plain) != plain {
		t.Error("FromStatus changed an error that is not a status")
	}
}

// TestErrorByCode checks statuses without an ErrorInfo (gRPC's own, or a
// plugin not written with this package): unambiguous codes give their
// identity; Unimplemented and FailedPrecondition give none.
func TestErrorByCode(t *testing.T) {
	for _, c := range []struct {
		code codes.Code
		want error
	}{
		{codes.NotFound, repository.ErrNotFound},
		{codes.AlreadyExists, repository.ErrConflict},
		{codes.InvalidArgument, repository.ErrInvalid},
		{codes.ResourceExhausted, repository.ErrTooLarge},
		{codes.Unavailable, repository.ErrUnavailable},
		{codes.Canceled, context.Canceled},
		{codes.DeadlineExceeded, context.DeadlineExceeded},
		{codes.Unimplemented, nil},
		{codes.FailedPrecondition, nil},
		{codes.Internal, nil},
	} {
		out := FromStatus(status.Error(c.code, "m"))
		for _, target := range identities() {
			if errors.Is(out, target) != (target == c.want) {
				t.Errorf("%v without details: errors.Is(%v) = %v", c.code, target, !(target == c.want))
			}
		}
	}
}
