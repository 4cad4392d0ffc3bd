package store

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/payhook/payhook/services/internal/notification"
)

// MaxBatchRecords is the most records one batch transaction accounts: with one total per
// record at worst, within DynamoDB's 100 items per transaction.
const MaxBatchRecords = 50

// Accounting is what accounting one message did (AccountBatch's result per message).
type Accounting struct {
	// Outcome is Accounted or AlreadyAccounted when Err is nil.
	Outcome AccountOutcome
	// Moved is what the message moved in its daily total.
	Moved Moved
	// Err is why the message was not accounted.
	Err error
}

// AccountBatch accounts a batch of messages. Flat notifications (no event kind), each
// naming a different record, are accounted together: one DynamoDB transaction moves every
// record to accounted and adds each provider's day and currency to its total once, so a
// batch of n messages for one total writes the total once instead of n times. When that
// transaction is refused (a redelivery of an accounted record, a mismatch, an overflow) or
// fails, each of its messages is accounted alone (AccountMoved), which says which one and
// why; event messages (ledgers) and repeated records are always accounted alone. Results
// are in the order of ms.
func (s *Store) AccountBatch(ctx context.Context, ms []notification.Message) []Accounting {
	out := make([]Accounting, len(ms))
	done := make([]bool, len(ms))
	var together []int
	seen := map[string]bool{}
	for i, m := range ms {
		pk := TxnPK(m.Provider, m.TransactionID)
		if m.Kind == "" && !seen[pk] {
			seen[pk] = true
			together = append(together, i)
		}
	}
	for chunk := range slices.Chunk(together, MaxBatchRecords) {
		if len(chunk) < 2 {
			continue // one message: the single path is the same transaction
		}
		group := make([]notification.Message, len(chunk))
		for j, i := range chunk {
			group[j] = ms[i]
		}
		if s.accountTogether(ctx, group) != nil {
			continue // each is accounted alone below
		}
		for _, i := range chunk {
			out[i] = Accounting{Outcome: Accounted, Moved: Moved{notification.KindCredit, ms[i].AmountMinor}}
			done[i] = true
		}
	}
	for i := range ms {
		if !done[i] {
			out[i].Outcome, out[i].Moved, out[i].Err = s.AccountMoved(ctx, ms[i])
		}
	}
	return out
}

// accountTogether accounts flat messages of distinct records in one transaction, retrying
// a transaction cancelled only by a concurrent one. An error leaves every record as it was.
func (s *Store) accountTogether(ctx context.Context, ms []notification.Message) error {
	now := s.now().Format(TimeLayout)
	totals := map[totalKey][2]int64{}
	items := make([]types.TransactWriteItem, 0, len(ms)+1)
	for _, m := range ms {
		items = append(items, s.accountRecord(m, now))
		k := totalKey{m.Provider, m.ReceivedAt.UTC().Format(DayLayout), m.Currency}
		t := totals[k]
		if m.AmountMinor > 0 && t[0] > math.MaxInt64-m.AmountMinor {
			return fmt.Errorf("account batch: %s %s on %s: %w", k.currency, k.day, k.provider, ErrOverflow)
		}
		totals[k] = [2]int64{t[0] + m.AmountMinor, t[1] + 1}
	}
	for _, k := range slices.SortedFunc(maps.Keys(totals), func(a, b totalKey) int {
		return cmp.Compare(a.provider+a.day+a.currency, b.provider+b.day+b.currency)
	}) {
		items = append(items, s.addToTotal(k, totals[k][0], totals[k][1]))
	}
	for attempt := 1; ; attempt++ {
		_, err := s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		if !isTransactionConflict(err) || attempt == maxConflictAttempts {
			return fmt.Errorf("account batch of %d: %w", len(ms), err)
		}
		if err := conflictBackoff(ctx, attempt); err != nil {
			return fmt.Errorf("account batch of %d: %w", len(ms), err)
		}
	}
}

// conflictBackoff waits before the next attempt of a transaction that a concurrent one
// cancelled (concurrent batches update the same daily total): jittered, growing with the
// attempt; the context's error if it ends first.
func conflictBackoff(ctx context.Context, attempt int) error {
	d := time.Duration(attempt*attempt)*10*time.Millisecond + time.Duration(rand.Int64N(int64(20*time.Millisecond)))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
