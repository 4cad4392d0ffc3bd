package store

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Received parses ReceivedAt; the error names the item and the attribute. The Store
// returns no transaction whose received_at does not parse: a message rebuilt from it
// would carry no receipt time, and its amount would be counted on the wrong day.
func (t *Transaction) Received() (time.Time, error) {
	ts, err := time.Parse(TimeLayout, t.ReceivedAt)
	if err != nil {
		return time.Time{}, fmt.Errorf("transaction %s: attribute received_at: %w", t.PK, err)
	}
	return ts, nil
}

// decodeTransaction reads a transaction item, refusing one whose received_at does not
// parse.
func decodeTransaction(item map[string]types.AttributeValue) (*Transaction, error) {
	t := new(Transaction)
	if err := attributevalue.UnmarshalMap(item, t); err != nil {
		return nil, fmt.Errorf("transaction item: %w", err)
	}
	if _, err := t.Received(); err != nil {
		return nil, err
	}
	return t, nil
}
