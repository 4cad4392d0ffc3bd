package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Resource types that are created or modelled locally. Every other type is listed in
// Stack.Unsupported.
const (
	TypeTable        = "AWS::DynamoDB::Table"
	TypeGlobalTable  = "AWS::DynamoDB::GlobalTable"
	TypeQueue        = "AWS::SQS::Queue"
	TypeTopic        = "AWS::SNS::Topic"
	TypeSubscription = "AWS::SNS::Subscription"
	TypeSecret       = "AWS::SecretsManager::Secret"
	TypeFunction     = "AWS::Lambda::Function"
	TypeAlias        = "AWS::Lambda::Alias"
	TypeVersion      = "AWS::Lambda::Version"
	TypeEventSource  = "AWS::Lambda::EventSourceMapping"
	TypeRule         = "AWS::Events::Rule"
	TypeRestAPI      = "AWS::ApiGateway::RestApi"
	TypeAPIResource  = "AWS::ApiGateway::Resource"
	TypeMethod       = "AWS::ApiGateway::Method"
	TypeDeployment   = "AWS::ApiGateway::Deployment"
	TypeStage        = "AWS::ApiGateway::Stage"
	TypeAPIKey       = "AWS::ApiGateway::ApiKey"
	TypeUsagePlan    = "AWS::ApiGateway::UsagePlan"
	TypeUsagePlanKey = "AWS::ApiGateway::UsagePlanKey"
	typeOutput       = "(Output)"
)

var emulatedTypes = map[string]bool{
	TypeTable: true, TypeGlobalTable: true, TypeQueue: true, TypeTopic: true, TypeSubscription: true,
	TypeSecret: true, TypeFunction: true, TypeAlias: true, TypeVersion: true, TypeEventSource: true,
	TypeRule: true, TypeRestAPI: true, TypeAPIResource: true, TypeMethod: true, TypeDeployment: true,
	TypeStage: true, TypeAPIKey: true, TypeUsagePlan: true, TypeUsagePlanKey: true,
}

// unsupportedReasons explains, per type, why a resource has no local counterpart.
var unsupportedReasons = map[string]string{
	"AWS::IAM::Role":                        "IAM is not enforced locally: every function may call every emulator",
	"AWS::IAM::Policy":                      "IAM is not enforced locally",
	"AWS::IAM::ManagedPolicy":               "IAM is not enforced locally",
	"AWS::Logs::LogGroup":                   "no CloudWatch Logs: function output goes to the local log files",
	"AWS::CloudWatch::Alarm":                "no CloudWatch metrics or alarms locally",
	"AWS::CloudWatch::CompositeAlarm":       "no CloudWatch metrics or alarms locally",
	"AWS::CloudWatch::Dashboard":            "no CloudWatch locally",
	"AWS::KMS::Key":                         "no KMS locally: data at rest is not encrypted",
	"AWS::KMS::Alias":                       "no KMS locally",
	"AWS::WAFv2::WebACL":                    "no WAF locally: requests are not filtered or rate-limited per IP",
	"AWS::WAFv2::WebACLAssociation":         "no WAF locally",
	"AWS::CodeDeploy::Application":          "no CodeDeploy locally: the alias always runs the current build",
	"AWS::CodeDeploy::DeploymentGroup":      "no CodeDeploy locally: no canary, no rollback",
	"AWS::Lambda::Permission":               "invoke permissions are not enforced locally",
	"AWS::Lambda::EventInvokeConfig":        "asynchronous invoke settings are not emulated",
	"AWS::SQS::QueuePolicy":                 "queue policies are not enforced locally",
	"AWS::SNS::TopicPolicy":                 "topic policies are not enforced locally",
	"AWS::ApiGateway::Account":              "API Gateway's account settings (CloudWatch role) have no local effect",
	"AWS::ApiGateway::GatewayResponse":      "custom gateway responses are not emulated: API Gateway's defaults are served",
	"AWS::ApiGateway::Authorizer":           "authorizers are not emulated",
	"AWS::ApiGateway::RequestValidator":     "request validation is not emulated",
	"AWS::ApiGateway::Model":                "request models are not emulated",
	"AWS::CDK::Metadata":                    "CDK metadata only",
	"AWS::CloudFormation::CustomResource":   "custom resources are not run locally",
	"AWS::SecretsManager::RotationSchedule": "secret rotation is not emulated",
}

// Options adjust provisioning.
type Options struct {
	// Region is AWS::Region (default: the template's region from its cloud assembly,
	// else us-east-1).
	Region string
	// StackName overrides AWS::StackName (default: the template's).
	StackName string
	// APIKeys reuses API key values by the key's logical id (e.g. from the previous
	// run's state file, so a pasted curl keeps working); missing keys are generated.
	APIKeys map[string]string
	// ProviderSecrets reuses signing secrets by provider name; missing or malformed
	// ones are generated.
	ProviderSecrets map[string]string
}

// Provision creates the template's tables, queues, topics, subscriptions and secrets on
// the emulators behind clients and resolves everything else that runs (functions, event
// source mappings, schedules, APIs). It is ProvisionWith with default Options.
func Provision(ctx context.Context, tmpl *Template, clients Clients) (*Stack, error) {
	return ProvisionWith(ctx, tmpl, clients, Options{})
}

// ProvisionWith is Provision with options.
func ProvisionWith(ctx context.Context, tmpl *Template, clients Clients, opts Options) (*Stack, error) {
	if opts.Region == "" {
		opts.Region = tmpl.Region
	}
	p := &provisioner{
		tmpl:    tmpl,
		clients: clients,
		opts:    opts,
		res:     NewResolver(tmpl, opts.Region),
		api:     map[string]*apiParts{},
	}
	if opts.StackName != "" {
		p.res.StackName = opts.StackName
	}
	p.stack = &Stack{Name: p.res.StackName, Region: p.res.Region, Account: p.res.Account}
	if err := p.run(ctx); err != nil {
		return nil, err
	}
	return p.stack, nil
}

type provisioner struct {
	tmpl    *Template
	clients Clients
	opts    Options
	res     *Resolver
	stack   *Stack

	// signing maps a secret's logical id to the providers whose signing secrets it holds.
	signing map[string][]Provider
	// versions counts published versions per function logical id.
	versions map[string]int
	// api collects the API Gateway resources per RestApi logical id.
	api map[string]*apiParts
	// apiByID maps a RestApi id to its logical id.
	apiByID map[string]string
	// apiAcct holds API keys and usage plans.
	apiAcct *apiState
}

func (p *provisioner) unsupported(id, typ, reason string) {
	p.stack.Unsupported = append(p.stack.Unsupported, Unsupported{LogicalID: id, Type: typ, Reason: reason})
}

func (p *provisioner) run(ctx context.Context) error {
	if err := p.clients.ping(ctx); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	var emulated []string
	for _, id := range p.tmpl.LogicalIDs() {
		r := p.tmpl.Resources[id]
		if r.Condition != "" {
			ok, err := p.res.Condition(r.Condition)
			if err != nil {
				return fmt.Errorf("resource %s: %w", id, err)
			}
			if !ok {
				p.unsupported(id, r.Type, fmt.Sprintf("not created: condition %s is false", r.Condition))
				continue
			}
		}
		if emulatedTypes[r.Type] {
			emulated = append(emulated, id)
			continue
		}
		reason, ok := unsupportedReasons[r.Type]
		switch {
		case ok:
		case strings.HasPrefix(r.Type, "Custom::"):
			reason = unsupportedReasons["AWS::CloudFormation::CustomResource"]
		default:
			reason = "no local emulation for this resource type"
		}
		p.unsupported(id, r.Type, reason)
	}
	order, err := p.order(emulated)
	if err != nil {
		return err
	}
	if err := p.findSigningSecrets(); err != nil {
		return err
	}
	p.versions = map[string]int{}
	p.apiByID = map[string]string{}
	for _, id := range order {
		r := p.tmpl.Resources[id]
		if err := p.create(ctx, r); err != nil {
			return err
		}
	}
	if err := p.assembleAPIs(); err != nil {
		return err
	}
	p.outputs()
	return p.collectProviders(ctx)
}

// outputs resolves the stack outputs against the local resources; an output that cannot
// be resolved is listed, not an error.
func (p *provisioner) outputs() {
	names := make([]string, 0, len(p.tmpl.Outputs))
	for k := range p.tmpl.Outputs {
		names = append(names, k)
	}
	sort.Strings(names)
	p.stack.Outputs = map[string]string{}
	for _, name := range names {
		o := asMap(p.tmpl.Outputs[name])
		if c, ok := o["Condition"].(string); ok {
			if v, err := p.res.Condition(c); err == nil && !v {
				continue
			}
		}
		v, err := p.res.ResolveString(o["Value"])
		if err != nil {
			p.unsupported(name, typeOutput, "not resolvable locally: "+err.Error())
			continue
		}
		p.stack.Outputs[name] = v
	}
}

// order sorts the emulated resources so that every resource comes after the emulated
// resources it refers to or depends on (dead-letter queues before their queues, secrets
// before the functions whose environment names them...).
func (p *provisioner) order(ids []string) ([]string, error) {
	in := map[string]bool{}
	for _, id := range ids {
		in[id] = true
	}
	deps := map[string][]string{}
	for _, id := range ids {
		r := p.tmpl.Resources[id]
		set := map[string]bool{}
		for _, d := range References(r.Properties) {
			if in[d] && d != id {
				set[d] = true
			}
		}
		for _, d := range r.DependsOn {
			if in[d] && d != id {
				set[d] = true
			}
		}
		for d := range set {
			deps[id] = append(deps[id], d)
		}
	}
	var out []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(id string, path []string) error
	visit = func(id string, path []string) error {
		switch state[id] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("provision: circular references between %s", strings.Join(append(path, id), " → "))
		}
		state[id] = 1
		ds := deps[id]
		sort.Strings(ds)
		for _, d := range ds {
			if err := visit(d, append(path, id)); err != nil {
				return err
			}
		}
		state[id] = 2
		out = append(out, id)
		return nil
	}
	for _, id := range ids {
		if err := visit(id, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p *provisioner) create(ctx context.Context, r *Resource) error {
	switch r.Type {
	case TypeTable, TypeGlobalTable:
		return p.createTable(ctx, r)
	case TypeQueue:
		return p.createQueue(ctx, r)
	case TypeTopic:
		return p.createTopic(ctx, r)
	case TypeSubscription:
		return p.createSubscription(ctx, r)
	case TypeSecret:
		return p.createSecret(ctx, r)
	case TypeFunction:
		return p.function(r)
	case TypeVersion:
		return p.version(r)
	case TypeAlias:
		return p.alias(r)
	case TypeEventSource:
		return p.eventSource(r)
	case TypeRule:
		return p.rule(r)
	default:
		return p.apiResource(r)
	}
}

// physicalName returns the resource's name property, or a deterministic name made of the
// stack name and the logical id (CloudFormation appends a random suffix; a stable local
// name keeps URLs the same from run to run), cut to max characters.
func (p *provisioner) physicalName(r *Resource, prop string, max int, suffix string) (string, error) {
	name, err := p.res.StringProperty(r, prop)
	if err != nil || name != "" {
		return name, err
	}
	name = p.res.StackName + "-" + r.LogicalID
	if len(name)+len(suffix) > max {
		name = name[:max-len(suffix)]
	}
	return name + suffix, nil
}

func (p *provisioner) arn(service, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", p.res.Partition, service, p.res.Region, p.res.Account, resource)
}

// --- DynamoDB ---

func (p *provisioner) createTable(ctx context.Context, r *Resource) error {
	name, err := p.physicalName(r, "TableName", 255, "")
	if err != nil {
		return err
	}
	perr := func(prop string, err error) error {
		return &PropertyError{LogicalID: r.LogicalID, Type: r.Type, Property: prop, Err: err}
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name)}
	attrs, _, err := p.res.Property(r, "AttributeDefinitions")
	if err != nil {
		return err
	}
	for _, a := range asList(attrs) {
		m := asMap(a)
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(str(m["AttributeName"])),
			AttributeType: ddbtypes.ScalarAttributeType(str(m["AttributeType"])),
		})
	}
	keys, ok, err := p.res.Property(r, "KeySchema")
	if err != nil {
		return err
	}
	if !ok {
		return perr("KeySchema", errors.New("required"))
	}
	in.KeySchema = keySchema(keys)
	billing, err := p.res.StringProperty(r, "BillingMode")
	if err != nil {
		return err
	}
	if billing == "" { // CloudFormation's default for Table and GlobalTable
		billing = "PROVISIONED"
	}
	in.BillingMode = ddbtypes.BillingMode(billing)
	throughput := func(v any) *ddbtypes.ProvisionedThroughput {
		if in.BillingMode != ddbtypes.BillingModeProvisioned {
			return nil
		}
		m := asMap(v)
		rcu, _ := toInt(m["ReadCapacityUnits"])
		wcu, _ := toInt(m["WriteCapacityUnits"])
		if rcu == 0 {
			rcu = 5
		}
		if wcu == 0 {
			wcu = 5
		}
		return &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(int64(rcu)), WriteCapacityUnits: aws.Int64(int64(wcu))}
	}
	pt, _, err := p.res.Property(r, "ProvisionedThroughput")
	if err != nil {
		return err
	}
	in.ProvisionedThroughput = throughput(pt)
	gsis, _, err := p.res.Property(r, "GlobalSecondaryIndexes")
	if err != nil {
		return err
	}
	for _, g := range asList(gsis) {
		m := asMap(g)
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName:             aws.String(str(m["IndexName"])),
			KeySchema:             keySchema(m["KeySchema"]),
			Projection:            projection(m["Projection"]),
			ProvisionedThroughput: throughput(m["ProvisionedThroughput"]),
		})
	}
	lsis, _, err := p.res.Property(r, "LocalSecondaryIndexes")
	if err != nil {
		return err
	}
	for _, l := range asList(lsis) {
		m := asMap(l)
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, ddbtypes.LocalSecondaryIndex{
			IndexName:  aws.String(str(m["IndexName"])),
			KeySchema:  keySchema(m["KeySchema"]),
			Projection: projection(m["Projection"]),
		})
	}
	stream, _, err := p.res.Property(r, "StreamSpecification")
	if err != nil {
		return err
	}
	if v := str(asMap(stream)["StreamViewType"]); v != "" {
		in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewType(v)}
	}
	ttl, _, err := p.res.Property(r, "TimeToLiveSpecification")
	if err != nil {
		return err
	}
	ttlAttr := ""
	if m := asMap(ttl); str(m["AttributeName"]) != "" && truthy(m["Enabled"], r.Type == TypeGlobalTable) {
		ttlAttr = str(m["AttributeName"])
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
	for _, k := range asList(v) {
		m := asMap(k)
		out = append(out, ddbtypes.KeySchemaElement{
			AttributeName: aws.String(str(m["AttributeName"])),
			KeyType:       ddbtypes.KeyType(str(m["KeyType"])),
		})
	}
	return out
}

func projection(v any) *ddbtypes.Projection {
	m := asMap(v)
	pt := str(m["ProjectionType"])
	if pt == "" {
		pt = "ALL"
	}
	out := &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(pt)}
	for _, a := range asList(m["NonKeyAttributes"]) {
		out.NonKeyAttributes = append(out.NonKeyAttributes, str(a))
	}
	return out
}

// noteIgnored lists settings of an emulated resource that have no local effect.
func (p *provisioner) noteIgnored(r *Resource, props map[string]string) {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := r.Properties[k]; ok {
			p.unsupported(r.LogicalID, r.Type+" "+k, props[k])
		}
	}
}

// --- SQS ---

// queueAttributes maps CloudFormation queue properties to SQS attribute names.
var queueAttributes = []struct{ prop, attr string }{
	{"VisibilityTimeout", "VisibilityTimeout"},
	{"MessageRetentionPeriod", "MessageRetentionPeriod"},
	{"DelaySeconds", "DelaySeconds"},
	{"MaximumMessageSize", "MaximumMessageSize"},
	{"ReceiveMessageWaitTimeSeconds", "ReceiveMessageWaitTimeSeconds"},
	{"FifoQueue", "FifoQueue"},
	{"ContentBasedDeduplication", "ContentBasedDeduplication"},
	{"DeduplicationScope", "DeduplicationScope"},
	{"FifoThroughputLimit", "FifoThroughputLimit"},
}

func (p *provisioner) createQueue(ctx context.Context, r *Resource) error {
	fifo, err := p.res.BoolProperty(r, "FifoQueue", false)
	if err != nil {
		return err
	}
	suffix := ""
	if fifo {
		suffix = ".fifo"
	}
	name, err := p.physicalName(r, "QueueName", 80, suffix)
	if err != nil {
		return err
	}
	attrs := map[string]string{}
	for _, qa := range queueAttributes {
		v, ok, err := p.res.Property(r, qa.prop)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		s, err := scalarString(v)
		if err != nil {
			return &PropertyError{LogicalID: r.LogicalID, Type: r.Type, Property: qa.prop, Err: err}
		}
		attrs[qa.attr] = s
	}
	q := Queue{LogicalID: r.LogicalID, Name: name, VisibilityTimeout: 30 * time.Second}
	if rp, ok, err := p.res.Property(r, "RedrivePolicy"); err != nil {
		return err
	} else if ok {
		m := asMap(rp)
		if s, isString := rp.(string); isString {
			if err := json.Unmarshal([]byte(s), &m); err != nil {
				return &PropertyError{LogicalID: r.LogicalID, Type: r.Type, Property: "RedrivePolicy", Err: err}
			}
		}
		target := str(m["deadLetterTargetArn"])
		maxReceive, err := toInt(m["maxReceiveCount"])
		if err != nil || target == "" {
			return &PropertyError{LogicalID: r.LogicalID, Type: r.Type, Property: "RedrivePolicy",
				Err: fmt.Errorf("want deadLetterTargetArn and maxReceiveCount, got %v", rp)}
		}
		dlq, found := p.stack.Queue(target)
		if !found {
			return &PropertyError{LogicalID: r.LogicalID, Type: r.Type, Property: "RedrivePolicy.deadLetterTargetArn",
				Err: fmt.Errorf("%s is not a local queue", target)}
		}
		q.DeadLetterQueue, q.MaxReceiveCount = dlq.LogicalID, maxReceive
		policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": target, "maxReceiveCount": maxReceive})
		attrs["RedrivePolicy"] = string(policy)
	}
	if rap, ok, err := p.res.Property(r, "RedriveAllowPolicy"); err != nil {
		return err
	} else if ok {
		if s, isString := rap.(string); isString {
			attrs["RedriveAllowPolicy"] = s
		} else {
			b, _ := json.Marshal(rap)
			attrs["RedriveAllowPolicy"] = string(b)
		}
	}
	if v, ok := attrs["VisibilityTimeout"]; ok {
		n, _ := strconv.Atoi(v)
		q.VisibilityTimeout = time.Duration(n) * time.Second
	}
	q.Attributes = attrs
	if err := ensureQueue(ctx, p.clients, &q); err != nil {
		return err
	}
	p.stack.Queues = append(p.stack.Queues, q)
	p.stack.recreate = append(p.stack.recreate, recreateStep{EmulatorQueues, func(ctx context.Context, c Clients) error {
		again := q
		return ensureQueue(ctx, c, &again)
	}})
	p.res.SetRef(r.LogicalID, q.URL)
	p.res.SetAttr(r.LogicalID, "Arn", q.ARN)
	p.res.SetAttr(r.LogicalID, "QueueName", q.Name)
	p.res.SetAttr(r.LogicalID, "QueueUrl", q.URL)
	p.noteIgnored(r, map[string]string{
		"KmsMasterKeyId":               "no encryption at rest locally",
		"KmsDataKeyReusePeriodSeconds": "no encryption at rest locally",
	})
	return nil
}

// ensureQueue creates q (idempotently, as SQS does for equal attributes) and fills in
// its URL and ARN.
func ensureQueue(ctx context.Context, c Clients, q *Queue) error {
	out, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q.Name), Attributes: q.Attributes})
	if err != nil {
		return fmt.Errorf("create queue %s (%s): %w", q.Name, q.LogicalID, err)
	}
	q.URL = aws.ToString(out.QueueUrl)
	got, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return fmt.Errorf("read queue %s (%s) ARN: %w", q.Name, q.LogicalID, err)
	}
	q.ARN = got.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	return nil
}

// --- SNS ---

func (p *provisioner) createTopic(ctx context.Context, r *Resource) error {
	fifo, err := p.res.BoolProperty(r, "FifoTopic", false)
	if err != nil {
		return err
	}
	suffix := ""
	if fifo {
		suffix = ".fifo"
	}
	name, err := p.physicalName(r, "TopicName", 256, suffix)
	if err != nil {
		return err
	}
	attrs := map[string]string{}
	for _, prop := range []string{"DisplayName", "FifoTopic", "ContentBasedDeduplication"} {
		v, ok, err := p.res.Property(r, prop)
		if err != nil {
			return err
		}
		if ok {
			s, err := scalarString(v)
			if err != nil {
				return &PropertyError{LogicalID: r.LogicalID, Type: r.Type, Property: prop, Err: err}
			}
			attrs[prop] = s
		}
	}
	t := Topic{LogicalID: r.LogicalID, Name: name, Attributes: attrs}
	if err := ensureTopic(ctx, p.clients, &t); err != nil {
		return err
	}
	p.stack.Topics = append(p.stack.Topics, t)
	p.stack.recreate = append(p.stack.recreate, recreateStep{EmulatorQueues, func(ctx context.Context, c Clients) error {
		again := t
		return ensureTopic(ctx, c, &again)
	}})
	p.res.SetRef(r.LogicalID, t.ARN)
	p.res.SetAttr(r.LogicalID, "TopicArn", t.ARN)
	p.res.SetAttr(r.LogicalID, "TopicName", t.Name)
	p.noteIgnored(r, map[string]string{"KmsMasterKeyId": "no encryption at rest locally"})
	// Inline subscriptions (Subscription property) are created like AWS::SNS::Subscription.
	subs, _, err := p.res.Property(r, "Subscription")
	if err != nil {
		return err
	}
	for i, s := range asList(subs) {
		m := asMap(s)
		sub := Subscription{LogicalID: fmt.Sprintf("%s.Subscription[%d]", r.LogicalID, i), TopicARN: t.ARN,
			Protocol: str(m["Protocol"]), Endpoint: str(m["Endpoint"]), Attributes: map[string]string{}}
		if err := p.subscribe(ctx, r.Type, sub); err != nil {
			return err
		}
	}
	return nil
}

func ensureTopic(ctx context.Context, c Clients, t *Topic) error {
	out, err := c.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(t.Name), Attributes: t.Attributes})
	if err != nil {
		return fmt.Errorf("create topic %s (%s): %w", t.Name, t.LogicalID, err)
	}
	t.ARN = aws.ToString(out.TopicArn)
	return nil
}

func (p *provisioner) createSubscription(ctx context.Context, r *Resource) error {
	sub := Subscription{LogicalID: r.LogicalID, Attributes: map[string]string{}}
	var err error
	if sub.TopicARN, err = p.res.StringProperty(r, "TopicArn"); err != nil {
		return err
	}
	if sub.Protocol, err = p.res.StringProperty(r, "Protocol"); err != nil {
		return err
	}
	if sub.Endpoint, err = p.res.StringProperty(r, "Endpoint"); err != nil {
		return err
	}
	for _, prop := range []string{"RawMessageDelivery", "FilterPolicyScope"} {
		if s, err := p.res.StringProperty(r, prop); err != nil {
			return err
		} else if s != "" {
			sub.Attributes[prop] = s
		}
	}
	for _, prop := range []string{"FilterPolicy", "RedrivePolicy"} {
		v, ok, err := p.res.Property(r, prop)
		if err != nil {
			return err
		}
		if ok {
			if s, isString := v.(string); isString {
				sub.Attributes[prop] = s
			} else {
				b, _ := json.Marshal(v)
				sub.Attributes[prop] = string(b)
			}
		}
	}
	return p.subscribe(ctx, r.Type, sub)
}

func (p *provisioner) subscribe(ctx context.Context, typ string, sub Subscription) error {
	if sub.Protocol != "sqs" {
		p.unsupported(sub.LogicalID, typ, fmt.Sprintf("protocol %s to %s cannot be delivered locally (only sqs subscriptions are)", sub.Protocol, sub.Endpoint))
		return nil
	}
	if _, ok := p.stack.Queue(sub.Endpoint); !ok {
		return fmt.Errorf("subscription %s: endpoint %s is not a local queue", sub.LogicalID, sub.Endpoint)
	}
	if err := ensureSubscription(ctx, p.clients, &sub); err != nil {
		return err
	}
	p.stack.Subscriptions = append(p.stack.Subscriptions, sub)
	p.stack.recreate = append(p.stack.recreate, recreateStep{EmulatorQueues, func(ctx context.Context, c Clients) error {
		again := sub
		return ensureSubscription(ctx, c, &again)
	}})
	p.res.SetRef(sub.LogicalID, sub.ARN)
	p.res.SetAttr(sub.LogicalID, "Arn", sub.ARN)
	return nil
}

func ensureSubscription(ctx context.Context, c Clients, sub *Subscription) error {
	out, err := c.SNS.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(sub.TopicARN), Protocol: aws.String(sub.Protocol), Endpoint: aws.String(sub.Endpoint),
		Attributes: sub.Attributes, ReturnSubscriptionArn: true,
	})
	if err != nil {
		return fmt.Errorf("subscribe %s to %s (%s): %w", sub.Endpoint, sub.TopicARN, sub.LogicalID, err)
	}
	sub.ARN = aws.ToString(out.SubscriptionArn)
	return nil
}

// --- Secrets Manager ---

// findSigningSecrets finds, before anything is created, which secrets hold webhook
// signing secrets: those that a function's SIGNING_SECRET_ARN refers to, for the
// providers of that function's PROVIDERS variable. When no function refers to a secret
// that way, a template with exactly one generated secret and one PROVIDERS function gets
// that pairing.
func (p *provisioner) findSigningSecrets() error {
	p.signing = map[string][]Provider{}
	var generated []string
	for _, id := range p.tmpl.LogicalIDs(TypeSecret) {
		if _, ok := p.tmpl.Resources[id].Properties["GenerateSecretString"]; ok {
			generated = append(generated, id)
		}
	}
	var loose [][]Provider
	for _, id := range p.tmpl.LogicalIDs(TypeFunction) {
		r := p.tmpl.Resources[id]
		raw, ok := lookupPath(r.Properties, "Environment.Variables.PROVIDERS")
		if !ok {
			continue
		}
		val, err := p.res.ResolveString(raw)
		if err != nil {
			return &PropertyError{LogicalID: id, Type: r.Type, Property: "Environment.Variables.PROVIDERS", Err: err}
		}
		providers, err := ParseProviders(val)
		if err != nil {
			return &PropertyError{LogicalID: id, Type: r.Type, Property: "Environment.Variables.PROVIDERS", Err: err}
		}
		found := false
		if sref, ok := lookupPath(r.Properties, "Environment.Variables.SIGNING_SECRET_ARN"); ok {
			for _, target := range References(sref) {
				if t, ok := p.tmpl.Resources[target]; ok && t.Type == TypeSecret {
					p.signing[target] = mergeProviders(p.signing[target], providers)
					found = true
				}
			}
		}
		if !found {
			loose = append(loose, providers)
		}
	}
	if len(p.signing) == 0 && len(generated) == 1 && len(loose) == 1 {
		p.signing[generated[0]] = loose[0]
	}
	return nil
}

func mergeProviders(have, more []Provider) []Provider {
	for _, m := range more {
		dup := false
		for _, h := range have {
			dup = dup || h.Name == m.Name
		}
		if !dup {
			have = append(have, m)
		}
	}
	return have
}

func (p *provisioner) createSecret(ctx context.Context, r *Resource) error {
	name, err := p.res.StringProperty(r, "Name")
	if err != nil {
		return err
	}
	if name == "" {
		name = r.LogicalID + "-" + p.res.StackName
	}
	value, err := p.res.StringProperty(r, "SecretString")
	if err != nil {
		return err
	}
	generated := false
	if gen, ok, err := p.res.Property(r, "GenerateSecretString"); err != nil {
		return err
	} else if ok && value == "" {
		generated = true
		if providers, signing := p.signing[r.LogicalID]; signing {
			value, err = p.signingSecretValue(r.LogicalID, providers)
		} else {
			value, err = generateSecretString(asMap(gen))
		}
		if err != nil {
			return &PropertyError{LogicalID: r.LogicalID, Type: r.Type, Property: "GenerateSecretString", Err: err}
		}
	}
	out, err := p.clients.SecretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(value),
	})
	if err != nil {
		return fmt.Errorf("create secret %s (%s): %w", name, r.LogicalID, err)
	}
	s := Secret{LogicalID: r.LogicalID, Name: name, ARN: aws.ToString(out.ARN), Generated: generated}
	p.stack.Secrets = append(p.stack.Secrets, s)
	p.res.SetRef(r.LogicalID, s.ARN)
	p.res.SetAttr(r.LogicalID, "Id", s.ARN)
	p.noteIgnored(r, map[string]string{
		"KmsKeyId":          "no encryption at rest locally",
		"ReplicaRegions":    "no secret replication locally",
		"ResourcePolicy":    "resource policies are not enforced locally",
		"RotationRules":     "secret rotation is not emulated",
		"RotationLambdaARN": "secret rotation is not emulated",
	})
	return nil
}

// signingSecretValue is the JSON that services/internal/secrets reads: provider name to
// its list of secrets (schemes with a secret only).
func (p *provisioner) signingSecretValue(secretID string, providers []Provider) (string, error) {
	doc := map[string][]string{}
	for _, pr := range providers {
		if pr.Scheme == SchemeNone {
			continue
		}
		secret := p.opts.ProviderSecrets[pr.Name]
		if !validProviderSecret(pr.Scheme, secret) {
			var err error
			if secret, err = NewProviderSecret(pr.Scheme); err != nil {
				return "", err
			}
		}
		doc[pr.Name] = []string{secret}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("encode signing secrets: %w", err)
	}
	return string(b), nil
}

// generateSecretString implements GenerateSecretString: a password, or the
// SecretStringTemplate JSON with the password under GenerateStringKey.
func generateSecretString(g map[string]any) (string, error) {
	n, _ := toInt(g["PasswordLength"])
	spec := passwordSpec{
		Length:        n,
		Exclude:       str(g["ExcludeCharacters"]),
		NoPunctuation: truthy(g["ExcludePunctuation"], false),
		NoNumbers:     truthy(g["ExcludeNumbers"], false),
		NoUpper:       truthy(g["ExcludeUppercase"], false),
		NoLower:       truthy(g["ExcludeLowercase"], false),
		AllowSpace:    truthy(g["IncludeSpace"], false),
	}
	pw, err := spec.generate()
	if err != nil {
		return "", err
	}
	tmpl, key := str(g["SecretStringTemplate"]), str(g["GenerateStringKey"])
	if tmpl == "" || key == "" {
		return pw, nil
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(tmpl), &doc); err != nil {
		return "", fmt.Errorf("SecretStringTemplate is not a JSON object: %w", err)
	}
	doc[key] = pw
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("encode secret: %w", err)
	}
	return string(b), nil
}

// collectProviders reads the providers back from the secrets as created, so that
// Stack.Providers holds exactly what the functions will read.
func (p *provisioner) collectProviders(ctx context.Context) error {
	for _, s := range p.stack.Secrets {
		providers, ok := p.signing[s.LogicalID]
		if !ok {
			continue
		}
		out, err := p.clients.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.ARN)})
		if err != nil {
			return fmt.Errorf("read back signing secret %s: %w", s.LogicalID, err)
		}
		var doc map[string][]string
		if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &doc); err != nil {
			return fmt.Errorf("signing secret %s is not a JSON object of provider to secrets", s.LogicalID)
		}
		for _, pr := range providers {
			pr.SecretARN = s.ARN
			if v := doc[pr.Name]; len(v) > 0 {
				pr.Secret = v[0]
			}
			p.stack.Providers = append(p.stack.Providers, pr)
		}
	}
	return nil
}

// --- Lambda ---

func (p *provisioner) function(r *Resource) error {
	name, err := p.physicalName(r, "FunctionName", 64, "")
	if err != nil {
		return err
	}
	f := FunctionSpec{LogicalID: r.LogicalID, Name: name, ARN: p.arn("lambda", "function:"+name),
		Env: map[string]string{}, Aliases: map[string]string{}}
	// Ref and Arn are known before the environment is resolved.
	p.res.SetRef(r.LogicalID, f.Name)
	p.res.SetAttr(r.LogicalID, "Arn", f.ARN)
	vars, _ := lookupPath(r.Properties, "Environment.Variables")
	keys := make([]string, 0)
	for k := range asMap(vars) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := p.res.StringProperty(r, "Environment.Variables."+k)
		if err != nil {
			return err
		}
		f.Env[k] = v
	}
	if f.MemoryMB, err = p.res.IntProperty(r, "MemorySize", 128); err != nil {
		return err
	}
	secs, err := p.res.IntProperty(r, "Timeout", 3)
	if err != nil {
		return err
	}
	f.Timeout = time.Duration(secs) * time.Second
	if f.ReservedConcurrency, err = p.res.IntProperty(r, "ReservedConcurrentExecutions", 0); err != nil {
		return err
	}
	f.Service = f.Env["PAYHOOK_SERVICE"]
	if f.Service == "" {
		p.unsupported(r.LogicalID, r.Type, "no PAYHOOK_SERVICE environment variable: not a payhook service, not run locally")
		return nil
	}
	p.stack.Functions = append(p.stack.Functions, f)
	p.noteIgnored(r, map[string]string{
		"VpcConfig":        "no VPC locally",
		"Layers":           "layers are not loaded locally",
		"DeadLetterConfig": "asynchronous dead-letter queues are not emulated",
	})
	return nil
}

func (p *provisioner) functionIndex(i int) *FunctionSpec { return &p.stack.Functions[i] }

// lookupFunction maps a resolved function reference to the index of a local function.
func (p *provisioner) lookupFunction(ref string) (int, bool) {
	id, ok := p.stack.ResolveFunction(ref)
	if !ok {
		return 0, false
	}
	for i, f := range p.stack.Functions {
		if f.LogicalID == id {
			return i, true
		}
	}
	return 0, false
}

func (p *provisioner) version(r *Resource) error {
	fn, err := p.res.StringProperty(r, "FunctionName")
	if err != nil {
		return err
	}
	i, ok := p.lookupFunction(fn)
	if !ok {
		p.unsupported(r.LogicalID, r.Type, fmt.Sprintf("version of %s, which is not run locally", fn))
		return nil
	}
	f := p.functionIndex(i)
	p.versions[f.LogicalID]++
	v := strconv.Itoa(p.versions[f.LogicalID])
	p.res.SetRef(r.LogicalID, f.ARN+":"+v)
	p.res.SetAttr(r.LogicalID, "Version", v)
	p.res.SetAttr(r.LogicalID, "FunctionArn", f.ARN)
	return nil
}

func (p *provisioner) alias(r *Resource) error {
	fn, err := p.res.StringProperty(r, "FunctionName")
	if err != nil {
		return err
	}
	name, err := p.res.StringProperty(r, "Name")
	if err != nil {
		return err
	}
	i, ok := p.lookupFunction(fn)
	if !ok {
		p.unsupported(r.LogicalID, r.Type, fmt.Sprintf("alias of %s, which is not run locally", fn))
		return nil
	}
	f := p.functionIndex(i)
	arn := f.ARN + ":" + name
	f.Aliases[name] = arn
	p.res.SetRef(r.LogicalID, arn)
	p.res.SetAttr(r.LogicalID, "AliasArn", arn)
	p.noteIgnored(r, map[string]string{
		"RoutingConfig":                "weighted aliases are not emulated: every call runs the current build",
		"ProvisionedConcurrencyConfig": "provisioned concurrency is not emulated",
	})
	return nil
}

func (p *provisioner) eventSource(r *Resource) error {
	src, err := p.res.StringProperty(r, "EventSourceArn")
	if err != nil {
		return err
	}
	fn, err := p.res.StringProperty(r, "FunctionName")
	if err != nil {
		return err
	}
	q, ok := p.stack.Queue(src)
	if !ok {
		p.unsupported(r.LogicalID, r.Type, fmt.Sprintf("event source %s is not an SQS queue: not polled locally", src))
		return nil
	}
	i, ok := p.lookupFunction(fn)
	if !ok {
		p.unsupported(r.LogicalID, r.Type, fmt.Sprintf("function %s is not run locally: %s is not polled", fn, q.LogicalID))
		return nil
	}
	enabled, err := p.res.BoolProperty(r, "Enabled", true)
	if err != nil {
		return err
	}
	es := EventSource{LogicalID: r.LogicalID, Function: p.stack.Functions[i].LogicalID,
		Queue: q.LogicalID, QueueURL: q.URL, QueueARN: q.ARN}
	if es.BatchSize, err = p.res.IntProperty(r, "BatchSize", 10); err != nil {
		return err
	}
	window, err := p.res.IntProperty(r, "MaximumBatchingWindowInSeconds", 0)
	if err != nil {
		return err
	}
	es.Window = time.Duration(window) * time.Second
	types, _, err := p.res.Property(r, "FunctionResponseTypes")
	if err != nil {
		return err
	}
	for _, t := range asList(types) {
		es.ReportBatchItemFailures = es.ReportBatchItemFailures || str(t) == "ReportBatchItemFailures"
	}
	if es.MaxConcurrency, err = p.res.IntProperty(r, "ScalingConfig.MaximumConcurrency", 0); err != nil {
		return err
	}
	p.res.SetRef(r.LogicalID, newUUID())
	if !enabled {
		p.unsupported(r.LogicalID, r.Type, "disabled (Enabled: false): not polled")
		return nil
	}
	p.stack.EventSources = append(p.stack.EventSources, es)
	p.noteIgnored(r, map[string]string{
		"FilterCriteria":          "event filtering is not applied locally: every message is delivered",
		"MetricsConfig":           "no event source metrics locally",
		"DestinationConfig":       "on-failure destinations are not emulated",
		"ProvisionedPollerConfig": "provisioned pollers are not emulated",
	})
	return nil
}

// --- EventBridge ---

func (p *provisioner) rule(r *Resource) error {
	name, err := p.physicalName(r, "Name", 64, "")
	if err != nil {
		return err
	}
	arn := p.arn("events", "rule/"+name)
	p.res.SetRef(r.LogicalID, name)
	p.res.SetAttr(r.LogicalID, "Arn", arn)
	expr, err := p.res.StringProperty(r, "ScheduleExpression")
	if err != nil {
		return err
	}
	if expr == "" {
		p.unsupported(r.LogicalID, r.Type, "event-pattern rules are not emulated (only schedules are)")
		return nil
	}
	state, err := p.res.StringProperty(r, "State")
	if err != nil {
		return err
	}
	if state != "" && state != "ENABLED" {
		p.unsupported(r.LogicalID, r.Type, "rule state "+state+": not scheduled")
		return nil
	}
	if _, err := ParseSchedule(expr); err != nil {
		return &PropertyError{LogicalID: r.LogicalID, Type: r.Type, Property: "ScheduleExpression", Err: err}
	}
	targets, _, err := p.res.Property(r, "Targets")
	if err != nil {
		return err
	}
	for i, t := range asList(targets) {
		m := asMap(t)
		target := str(m["Arn"])
		fi, ok := p.lookupFunction(target)
		if !ok {
			p.unsupported(r.LogicalID, r.Type+" target", fmt.Sprintf("target %s is not a local function", target))
			continue
		}
		for _, k := range []string{"InputPath", "InputTransformer", "RetryPolicy", "DeadLetterConfig"} {
			if _, ok := m[k]; ok {
				p.unsupported(r.LogicalID, r.Type+" target "+k, "not emulated: the scheduled event is sent as is")
			}
		}
		s := Schedule{LogicalID: r.LogicalID, Name: name, ARN: arn, Expression: expr,
			Function: p.stack.Functions[fi].LogicalID, TargetID: str(m["Id"])}
		if s.TargetID == "" {
			s.TargetID = fmt.Sprintf("Target%d", i)
		}
		if in, ok := m["Input"]; ok {
			s.Input = str(in)
		}
		p.stack.Schedules = append(p.stack.Schedules, s)
	}
	return nil
}

// --- helpers for resolved JSON values ---

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func str(v any) string {
	s, err := scalarString(v)
	if err != nil {
		return ""
	}
	return s
}

func truthy(v any, def bool) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		if p, err := strconv.ParseBool(b); err == nil {
			return p
		}
	}
	return def
}

func newUUID() string {
	b, err := randomBytes(16)
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
