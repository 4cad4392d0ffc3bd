package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/payhook/payhook/services/internal/notification"
)

// Moved is what accounting one message moved in its provider's daily totals: nothing
// (zero) for a redelivery, a payment already credited or a cumulative refund already
// counted.
type Moved struct {
	// Kind is notification.KindCredit or notification.KindDebit ("" when nothing moved).
	Kind string
	// AmountMinor is what was added to the credited or debited total, in minor units.
	AmountMinor int64
}

// AccountMoved is Account, and says what the message moved (for the services' metrics).
func (s *Store) AccountMoved(ctx context.Context, m notification.Message) (AccountOutcome, Moved, error) {
	// Concurrent batches update the same daily-total item; DynamoDB cancels one of two
	// overlapping transactions (TransactionConflict) without applying it. Retry those
	// with jittered backoff rather than burn one of the message's receives.
	do := func(ctx context.Context) (AccountOutcome, Moved, error) {
		out, err := s.account(ctx, m)
		if out != Accounted {
			return out, Moved{}, err
		}
		return out, Moved{notification.KindCredit, m.AmountMinor}, err
	}
	if m.Kind != "" {
		do = func(ctx context.Context) (AccountOutcome, Moved, error) {
			out, amount, err := s.accountEvent(ctx, m)
			if out != Accounted || amount == 0 {
				return out, Moved{}, err
			}
			return out, Moved{m.Kind, amount}, err
		}
	}
	for attempt := 1; ; attempt++ {
		out, moved, err := do(ctx)
		if !(isTransactionConflict(err) || errors.Is(err, errLedgerMoved)) || attempt == maxConflictAttempts {
			return out, moved, err
		}
		if err := conflictBackoff(ctx, attempt); err != nil {
			return 0, Moved{}, fmt.Errorf("account %s: %w", TxnPK(m.Provider, m.TransactionID), err)
		}
	}
}
