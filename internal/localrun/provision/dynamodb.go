package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/payhook/payhook/internal/cfn"
)

// DynamoDB resource types, created on DynamoDB Local.
const (
	TypeTable       = "AWS::DynamoDB::Table"
	TypeGlobalTable = "AWS::DynamoDB::GlobalTable"
)

func init() {
	register(TypeTable, (*provisioner).createTable)
	register(TypeGlobalTable, (*provisioner).createTable)
}

func (p *provisioner) createTable(ctx context.Context, r *cfn.Resource) error {
	name, err := p.physicalName(r, "TableName", 255, "")
	if err != nil {
		return err
	}
	in, ttlAttr, err := p.tableInput(r, name)
	if err != nil {
		return err
	}
	create := func(ctx context.Context, c Clients) error {
		return ensureTable(ctx, c, r.LogicalID, in, ttlAttr)
	}
	if err := create(ctx, p.clients); err != nil {
		return err
	}
	p.stack.recreate = append(p.stack.recreate, recreateStep{EmulatorDynamoDB, create})
	desc, err := p.clients.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe table %s (%s): %w", name, r.LogicalID, err)
	}
	t := Table{LogicalID: r.LogicalID, Name: name, ARN: p.arn("dynamodb", "table/"+name)}
	if desc.Table.LatestStreamArn != nil {
		t.StreamARN = *desc.Table.LatestStreamArn
	}
	p.stack.Tables = append(p.stack.Tables, t)
	for _, k := range in.KeySchema {
		if k.KeyType == ddbtypes.KeyTypeHash {
			p.stack.Access.TableKeys[name] = aws.ToString(k.AttributeName)
		}
	}
	p.res.SetRef(r.LogicalID, name)
	p.res.SetAttr(r.LogicalID, "Arn", t.ARN)
	if t.StreamARN != "" {
		p.res.SetAttr(r.LogicalID, "StreamArn", t.StreamARN)
	}
	p.noteIgnored(r, map[string]string{
		"SSESpecification":                 "no encryption at rest locally",
		"PointInTimeRecoverySpecification": "no point-in-time recovery locally",
		"ContributorInsightsSpecification": "no contributor insights locally",
		"Replicas":                         "one local replica only",
		"KinesisStreamSpecification":       "no Kinesis locally",
	})
	return nil
}

// tableInput resolves the table's properties into the CreateTable request and the name of
// its TTL attribute ("" without TTL).
func (p *provisioner) tableInput(r *cfn.Resource, name string) (*dynamodb.CreateTableInput, string, error) {
	in := &dynamodb.CreateTableInput{TableName: aws.String(name)}
	attrs, _, err := p.res.Property(r, "AttributeDefinitions")
	if err != nil {
		return nil, "", err
	}
	for _, a := range cfn.AsList(attrs) {
		m := cfn.AsMap(a)
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(cfn.AsString(m["AttributeName"])),
			AttributeType: ddbtypes.ScalarAttributeType(cfn.AsString(m["AttributeType"])),
		})
	}
	keys, ok, err := p.res.Property(r, "KeySchema")
	if err != nil {
		return nil, "", err
	}
	if !ok {
		return nil, "", propertyError(r, "KeySchema", errors.New("required"))
	}
	in.KeySchema = keySchema(keys)
	billing, err := p.res.StringProperty(r, "BillingMode")
	if err != nil {
		return nil, "", err
	}
	if billing == "" { // CloudFormation's default for Table and GlobalTable
		billing = "PROVISIONED"
	}
	in.BillingMode = ddbtypes.BillingMode(billing)
	pt, _, err := p.res.Property(r, "ProvisionedThroughput")
	if err != nil {
		return nil, "", err
	}
	in.ProvisionedThroughput = throughput(in.BillingMode, pt)
	if err := p.tableIndexes(r, in); err != nil {
		return nil, "", err
	}
	stream, _, err := p.res.Property(r, "StreamSpecification")
	if err != nil {
		return nil, "", err
	}
	if v := cfn.AsString(cfn.AsMap(stream)["StreamViewType"]); v != "" {
		in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewType(v)}
	}
	ttl, _, err := p.res.Property(r, "TimeToLiveSpecification")
	if err != nil {
		return nil, "", err
	}
	ttlAttr := ""
	if m := cfn.AsMap(ttl); cfn.AsString(m["AttributeName"]) != "" && cfn.AsBool(m["Enabled"], r.Type == TypeGlobalTable) {
		ttlAttr = cfn.AsString(m["AttributeName"])
	}
	return in, ttlAttr, nil
}

// tableIndexes adds the table's global and local secondary indexes to in.
func (p *provisioner) tableIndexes(r *cfn.Resource, in *dynamodb.CreateTableInput) error {
	gsis, _, err := p.res.Property(r, "GlobalSecondaryIndexes")
	if err != nil {
		return err
	}
	for _, g := range cfn.AsList(gsis) {
		m := cfn.AsMap(g)
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName:             aws.String(cfn.AsString(m["IndexName"])),
			KeySchema:             keySchema(m["KeySchema"]),
			Projection:            projection(m["Projection"]),
			ProvisionedThroughput: throughput(in.BillingMode, m["ProvisionedThroughput"]),
		})
	}
	lsis, _, err := p.res.Property(r, "LocalSecondaryIndexes")
	if err != nil {
		return err
	}
	for _, l := range cfn.AsList(lsis) {
		m := cfn.AsMap(l)
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, ddbtypes.LocalSecondaryIndex{
			IndexName:  aws.String(cfn.AsString(m["IndexName"])),
			KeySchema:  keySchema(m["KeySchema"]),
			Projection: projection(m["Projection"]),
		})
	}
	return nil
}

// throughput is a table's or index's provisioned throughput in provisioned billing mode
// (5 read and write capacity units when unset), nil in on-demand mode.
func throughput(mode ddbtypes.BillingMode, v any) *ddbtypes.ProvisionedThroughput {
	if mode != ddbtypes.BillingModeProvisioned {
		return nil
	}
	m := cfn.AsMap(v)
	rcu, _ := cfn.ToInt(m["ReadCapacityUnits"])
	wcu, _ := cfn.ToInt(m["WriteCapacityUnits"])
	if rcu == 0 {
		rcu = 5
	}
	if wcu == 0 {
		wcu = 5
	}
	return &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(int64(rcu)), WriteCapacityUnits: aws.Int64(int64(wcu))}
}

// ensureTable creates a table unless it exists, and enables its TTL.
func ensureTable(ctx context.Context, c Clients, logicalID string, in *dynamodb.CreateTableInput, ttlAttr string) error {
	name := aws.ToString(in.TableName)
	if _, err := c.DynamoDB.CreateTable(ctx, in); err != nil {
		var inUse *ddbtypes.ResourceInUseException
		if !errors.As(err, &inUse) {
			return fmt.Errorf("create table %s (%s): %w", name, logicalID, err)
		}
	}
	if ttlAttr == "" {
		return nil
	}
	if _, err := c.DynamoDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(ttlAttr), Enabled: aws.Bool(true)},
	}); err != nil && !strings.Contains(err.Error(), "already enabled") {
		return fmt.Errorf("enable TTL on table %s (%s): %w", name, logicalID, err)
	}
	return nil
}

func keySchema(v any) []ddbtypes.KeySchemaElement {
	var out []ddbtypes.KeySchemaElement
	for _, k := range cfn.AsList(v) {
		m := cfn.AsMap(k)
		out = append(out, ddbtypes.KeySchemaElement{
			AttributeName: aws.String(cfn.AsString(m["AttributeName"])),
			KeyType:       ddbtypes.KeyType(cfn.AsString(m["KeyType"])),
		})
	}
	return out
}

func projection(v any) *ddbtypes.Projection {
	m := cfn.AsMap(v)
	pt := cfn.AsString(m["ProjectionType"])
	if pt == "" {
		pt = "ALL"
	}
	out := &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(pt)}
	for _, a := range cfn.AsList(m["NonKeyAttributes"]) {
		out.NonKeyAttributes = append(out.NonKeyAttributes, cfn.AsString(a))
	}
	return out
}
