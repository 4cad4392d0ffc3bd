package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DailyTotal is one provider's total for one currency on one UTC day (of receipt):
// credits (payments) and debits (refunds) kept apart, and the net.
type DailyTotal struct {
	Provider string `dynamodbav:"provider"`
	Currency string `dynamodbav:"currency"`
	Day      string `dynamodbav:"day"`
	// TotalMinor and Count are the credits: payments, in minor units, and how many.
	TotalMinor int64 `dynamodbav:"total_minor"`
	Count      int64 `dynamodbav:"txn_count"`
	// DebitMinor and DebitCount are the refunds counted that day.
	DebitMinor int64 `dynamodbav:"debit_minor"`
	DebitCount int64 `dynamodbav:"debit_count"`
	// NetMinor is the credits less the debits accounted since net_minor was introduced, kept
	// by the same writes (negative on a day with more refunds than payments); on a day
	// accounted before that, TotalMinor - DebitMinor is the net.
	NetMinor int64 `dynamodbav:"net_minor"`
}

// DailyTotals returns a provider's totals for day (YYYY-MM-DD), by currency code.
func (s *Store) DailyTotals(ctx context.Context, provider, day string) (map[string]DailyTotal, error) {
	out, err := s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(TotalPK(provider, day))},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("query totals %s: %w", TotalPK(provider, day), err)
	}
	totals := make(map[string]DailyTotal, len(out.Items))
	for _, it := range out.Items {
		var t DailyTotal
		if err := attributevalue.UnmarshalMap(it, &t); err != nil {
			return nil, fmt.Errorf("decode total: %w", err)
		}
		totals[t.Currency] = t
	}
	return totals, nil
}
