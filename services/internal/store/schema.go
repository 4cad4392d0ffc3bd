// Package store is payhook's DynamoDB single-table store: transaction records, the outbox
// index that guarantees delivery to accounting, per-provider daily totals, and recorded
// failures.
//
// Key design (docs/decisions/0002-table-keys.md):
//
//	item               pk                                  sk
//	transaction        TXN#<provider>#<transaction_id>     TXN
//	event              TXN#<provider>#<event id>           TXN
//	payment ledger     TXN#<provider>#<transaction id>     LEDGER
//	daily total        TOTAL#<provider>#<YYYY-MM-DD>       CUR#<currency>
//	unparseable DLQ    FAILURE#<sqs message id>            FAILURE
//
// A provider posting payhook's flat notification has one record per transaction id. A
// provider posting events (Stripe, Standard Webhooks) has one record per event id, the
// same item shape, so the outbox, the reconciler, the DLQ and replay treat both alike;
// its money-moving events also update the ledger of the payment they name, which lists
// them and holds what was credited and refunded (decision 0013).
//
// One sparse global secondary index, gsi1 (gsi1pk, gsi1sk), holds the work lists:
// transactions not yet accounted, as stored (gsi1pk OUTBOX#0..OUTBOX#7, sharded so a burst
// of writes spreads over partitions) or, once the reconciler sent them again, in flight
// (INFLIGHT#0..7); and transactions that died in the DLQ (gsi1pk FAILED) waiting for
// replay. A transaction is on at most one list at a time; accounting takes it off.
package store

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute and index names of the table schema. The CDK stack (package stacks/payments) declares
// the same names; a test in tests/ checks the synthesized table against CreateTableInput.
const (
	AttrPK       = "pk"
	AttrSK       = "sk"
	AttrGSI1PK   = "gsi1pk"
	AttrGSI1SK   = "gsi1sk"
	IndexGSI1    = "gsi1"
	OutboxShards = 8
)

// The lists on gsi1, each sorted by gsi1sk (<time>#<pk>): outboxPrefix + shard
// (0..OutboxShards-1), received and not yet accounted (time of receipt);
// inflightPrefix + shard, on the queue but not yet accounted (time of the last send: ingest's,
// the reconciler's or a replay's); failedList (time of failure).
// Accounting takes a transaction off every list.
const (
	outboxPrefix   = "OUTBOX#"
	inflightPrefix = "INFLIGHT#"
	failedList     = "FAILED"
)

// Transaction statuses.
const (
	StatusReceived  = "received"
	StatusAccounted = "accounted"
	StatusFailed    = "failed"
	StatusReplayed  = "replayed"
	// StatusIgnored is an event that moves no money: recorded with its type, never queued.
	StatusIgnored = "ignored"
)

// CreateTableInput is the table schema: what tests create on DynamoDB Local and what the
// CDK stack must declare.
func CreateTableInput(table string) *dynamodb.CreateTableInput {
	s := types.ScalarAttributeTypeS
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: s},
			{AttributeName: aws.String(AttrSK), AttributeType: s},
			{AttributeName: aws.String(AttrGSI1PK), AttributeType: s},
			{AttributeName: aws.String(AttrGSI1SK), AttributeType: s},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(IndexGSI1),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrGSI1PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrGSI1SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	}
}
