package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/cost"
	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/payload"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/testenv"
)

// capacity sums the write capacity DynamoDB reports consumed by every write call
// (ReturnConsumedCapacity: INDEXES, asked by a middleware of the SDK client, so the store's
// own calls are measured unchanged), table and indexes together.
type capacity struct {
	mu    sync.Mutex
	units float64
	// transactions lists the item count of each transaction written.
	transactions []int
}

func (c *capacity) add(list ...types.ConsumedCapacity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cc := range list {
		c.units += aws.ToFloat64(cc.CapacityUnits)
	}
}

// take returns the units summed since the last take.
func (c *capacity) take() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.units
	c.units = 0
	return u
}

func (c *capacity) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("payhookConsumedCapacity",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			indexes := types.ReturnConsumedCapacityIndexes
			switch p := in.Parameters.(type) {
			case *dynamodb.PutItemInput:
				p.ReturnConsumedCapacity = indexes
			case *dynamodb.UpdateItemInput:
				p.ReturnConsumedCapacity = indexes
			case *dynamodb.DeleteItemInput:
				p.ReturnConsumedCapacity = indexes
			case *dynamodb.TransactWriteItemsInput:
				p.ReturnConsumedCapacity = indexes
				c.mu.Lock()
				c.transactions = append(c.transactions, len(p.TransactItems))
				c.mu.Unlock()
			}
			out, md, err := next.HandleInitialize(ctx, in)
			if err == nil {
				switch o := out.Result.(type) {
				case *dynamodb.PutItemOutput:
					c.add(deref(o.ConsumedCapacity)...)
				case *dynamodb.UpdateItemOutput:
					c.add(deref(o.ConsumedCapacity)...)
				case *dynamodb.DeleteItemOutput:
					c.add(deref(o.ConsumedCapacity)...)
				case *dynamodb.TransactWriteItemsOutput:
					c.add(o.ConsumedCapacity...)
				}
			}
			return out, md, err
		}), middleware.After)
}

func deref(cc *types.ConsumedCapacity) []types.ConsumedCapacity {
	if cc == nil {
		return nil
	}
	return []types.ConsumedCapacity{*cc}
}

// measuredStore is a store on a fresh table whose client reports every write's capacity.
func measuredStore(t *testing.T) (*store.Store, *capacity) {
	st := env.NewStore(t)
	c := &capacity{}
	st.DB = dynamodb.New(env.DDB.Options(), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, c.middleware) })
	return st, c
}

// webhookPath makes the happy path's writes for rec as the services make them: ingest's
// conditional put (its other call is the send) and accounting's transaction. It returns the
// write units DynamoDB reported for each.
func webhookPath(t *testing.T, st *store.Store, c *capacity, rec store.Transaction) (insert, account float64) {
	t.Helper()
	ctx := context.Background()
	out, _, err := st.Insert(ctx, rec)
	require.NoError(t, err)
	require.Equal(t, store.Inserted, out)
	insert = c.take()
	acc, err := st.Account(ctx, rec.Message())
	require.NoError(t, err)
	require.Equal(t, store.Accounted, acc)
	return insert, c.take()
}

// TestWriteUnitsPerWebhook measures, from DynamoDB's own ConsumedCapacity (DynamoDB Local),
// the write units of a webhook's happy path, and ties the cost model's figures to them.
func TestWriteUnitsPerWebhook(t *testing.T) {
	st, c := measuredStore(t)
	// A transaction id as long as Stripe's (27 characters).
	const flatID = "pi_3Pwru0flat0000000000000A"
	flat := testenv.Notification(t, "acme", flatID, "12.34", "USD")
	i, a := webhookPath(t, st, c, store.NewTransaction(flat, flat.Hash(), "r", t0))
	t.Logf("flat: put %v + accounting %v WRU", i, a)
	assert.Equal(t, [2]float64{2, 6}, [2]float64{i, a}, "put: record + gsi1 outbox entry; transaction: 2 × (record, total, gsi1)")
	assert.Equal(t, float64(cost.WriteUnitsFlat), i+a, "the cost model's flat webhook")
	stored := storedBytes(t, st, store.TxnPK("acme", flatID))
	t.Logf("flat record: %d bytes stored once accounted (with DynamoDB's 100-byte overhead)", stored)
	assert.InDelta(t, cost.RecordBytes, stored, 20, "the cost model's stored record")

	big := testenv.Notification(t, "acme", "wru-metadata", "12.34", "USD")
	big.Metadata = json.RawMessage(`{"note":"` + strings.Repeat("x", 4000) + `"}`)
	i, a = webhookPath(t, st, c, store.NewTransaction(big, big.Hash(), "r", t0))
	t.Logf("4 KB metadata: put %v + accounting %v WRU", i, a)
	assert.Equal(t, float64(cost.WriteUnitsMetadata4KB), i+a, "every record and gsi1 write of a 5 KB item costs 5")

	for _, e := range []payload.Event{
		event(t, "evt_wru_pay", payload.Credit, "pi_wru", "20.00", "USD", false),
		event(t, "evt_wru_ref", payload.Debit, "pi_wru", "5.00", "USD", true),
	} {
		i, a = webhookPath(t, st, c, store.NewEventRecord("stripe", e, e.Hash("stripe"), "r", t0))
		t.Logf("stripe %s: put %v + accounting %v WRU (DynamoDB Local)", e.Kind, i, a)
		assert.Equal(t, 2.0, i, "an event's record is written as a notification's")
		// DynamoDB Local reports a three-item transaction (record, ledger, total) as 4 table
		// units; AWS bills 2 per item per KB (6). The model takes AWS's rule for events.
		assert.GreaterOrEqual(t, float64(cost.WriteUnitsEvent), i+a)
	}
}

// storedBytes is a record's size as DynamoDB bills storage: attribute names and values
// (strings as UTF-8, numbers about one byte per two digits plus one) and 100 bytes of
// per-item overhead.
func storedBytes(t *testing.T, st *store.Store, pk string) int {
	t.Helper()
	out, err := env.DDB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(st.Table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "TXN"}}})
	require.NoError(t, err)
	require.NotEmpty(t, out.Item)
	size := 100
	for name, v := range out.Item {
		size += len(name)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			size += len(v.Value)
		case *types.AttributeValueMemberN:
			size += (len(strings.TrimLeft(v.Value, "-"))+1)/2 + 1
		default:
			size += 1
		}
	}
	return size
}

// TestWriteUnitsOfABatch measures accounting's batch transaction: ten flat webhooks of one
// provider, day and currency write each record once and their daily total once.
func TestWriteUnitsOfABatch(t *testing.T) {
	st, c := measuredStore(t)
	ctx := context.Background()
	var msgs []notification.Message
	for i := range 10 {
		n := testenv.Notification(t, "acme", fmt.Sprintf("pi_3Pwru0batch00000000000%02d", i), "1.00", "USD")
		rec := store.NewTransaction(n, n.Hash(), "r", t0)
		_, _, err := st.Insert(ctx, rec)
		require.NoError(t, err)
		msgs = append(msgs, rec.Message())
	}
	c.take()
	for _, r := range st.AccountBatch(ctx, msgs) {
		require.NoError(t, r.Err)
		require.Equal(t, store.Accounted, r.Outcome)
	}
	units := c.take()
	// DynamoDB Local reports any transaction as 2 WRU (whatever its item count; AWS bills 2
	// per item per KB), so the batch's units are AWS's rule applied to what was sent: one
	// transaction of the ten records and the one total.
	t.Logf("a batch of 10: DynamoDB Local reports %v WRU; transactions sent: %v", units, c.transactions)
	require.Equal(t, []int{11}, c.transactions, "one transaction: 10 records and 1 daily total")
	assert.InDelta(t, cost.WriteUnitsPerWebhook(10), float64(cost.WriteUnitsIngest)+(10*cost.WriteUnitsAccountRecord+cost.WriteUnitsTotal)/10.0, 1e-9,
		"the model: each record's transactional update and gsi1 removal (as measured for one), the total once")
	totals, err := st.DailyTotals(ctx, "acme", t0.Format(store.DayLayout))
	require.NoError(t, err)
	assert.Equal(t, int64(1000), totals["USD"].TotalMinor)
	assert.Equal(t, int64(10), totals["USD"].Count)
}
