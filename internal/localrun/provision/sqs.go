package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/payhook/payhook/internal/cfn"
)

// TypeQueue is an SQS queue, created on the queue emulator (fauxqs).
const TypeQueue = "AWS::SQS::Queue"

func init() { register(TypeQueue, (*provisioner).createQueue) }

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

func (p *provisioner) createQueue(ctx context.Context, r *cfn.Resource) error {
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
	q := Queue{LogicalID: r.LogicalID, Name: name, VisibilityTimeout: 30 * time.Second}
	if q.Attributes, err = p.queueAttributes(r, &q); err != nil {
		return err
	}
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
	p.stack.Access.Queues[q.Name] = q.ARN
	p.encryptedBy(r, "KmsMasterKeyId", q.ARN)
	p.noteIgnored(r, map[string]string{
		"KmsMasterKeyId":               "no encryption at rest locally (the key policy is enforced on callers)",
		"KmsDataKeyReusePeriodSeconds": "no encryption at rest locally",
	})
	return nil
}

// queueAttributes resolves the queue's properties into SQS attributes, and fills in the
// queue's visibility timeout and dead-letter queue.
func (p *provisioner) queueAttributes(r *cfn.Resource, q *Queue) (map[string]string, error) {
	attrs := map[string]string{}
	for _, qa := range queueAttributes {
		v, ok, err := p.res.Property(r, qa.prop)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		s, err := cfn.ScalarString(v)
		if err != nil {
			return nil, propertyError(r, qa.prop, err)
		}
		attrs[qa.attr] = s
	}
	if err := p.redrivePolicy(r, q, attrs); err != nil {
		return nil, err
	}
	if rap, ok, err := p.res.Property(r, "RedriveAllowPolicy"); err != nil {
		return nil, err
	} else if ok {
		attrs["RedriveAllowPolicy"] = jsonString(rap)
	}
	if v, ok := attrs["VisibilityTimeout"]; ok {
		n, _ := strconv.Atoi(v)
		q.VisibilityTimeout = time.Duration(n) * time.Second
	}
	return attrs, nil
}

// redrivePolicy resolves the queue's RedrivePolicy (an object or its JSON) against the
// local dead-letter queue.
func (p *provisioner) redrivePolicy(r *cfn.Resource, q *Queue, attrs map[string]string) error {
	rp, ok, err := p.res.Property(r, "RedrivePolicy")
	if err != nil || !ok {
		return err
	}
	m := cfn.AsMap(rp)
	if s, isString := rp.(string); isString {
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return propertyError(r, "RedrivePolicy", err)
		}
	}
	target := cfn.AsString(m["deadLetterTargetArn"])
	maxReceive, err := cfn.ToInt(m["maxReceiveCount"])
	if err != nil || target == "" {
		return propertyError(r, "RedrivePolicy", fmt.Errorf("want deadLetterTargetArn and maxReceiveCount, got %v", rp))
	}
	dlq, found := p.stack.Queue(target)
	if !found {
		return propertyError(r, "RedrivePolicy.deadLetterTargetArn", fmt.Errorf("%s is not a local queue", target))
	}
	q.DeadLetterQueue, q.MaxReceiveCount = dlq.LogicalID, maxReceive
	policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": target, "maxReceiveCount": maxReceive})
	attrs["RedrivePolicy"] = string(policy)
	return nil
}

// jsonString returns a policy property as the JSON string an attribute holds: a string
// as it is, anything else encoded.
func jsonString(v any) string {
	if s, isString := v.(string); isString {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
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
