package store_test

import (
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/payhook/payhook/services/internal/store"
)

func scanInput(table string) *dynamodb.ScanInput {
	return &dynamodb.ScanInput{TableName: aws.String(table), Select: types.SelectCount}
}

func totalItem(table, provider, day, cur string, total int64) *dynamodb.PutItemInput {
	return &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"pk":          &types.AttributeValueMemberS{Value: store.TotalPK(provider, day)},
		"sk":          &types.AttributeValueMemberS{Value: "CUR#" + cur},
		"total_minor": &types.AttributeValueMemberN{Value: strconv.FormatInt(total, 10)},
	}}
}
