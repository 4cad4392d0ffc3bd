package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/payhook/payhook/internal/cfn"
)

// SNS resource types, created on the queue emulator (fauxqs).
const (
	TypeTopic        = "AWS::SNS::Topic"
	TypeSubscription = "AWS::SNS::Subscription"
)

func init() {
	register(TypeTopic, (*provisioner).createTopic)
	register(TypeSubscription, (*provisioner).createSubscription)
}

func (p *provisioner) createTopic(ctx context.Context, r *cfn.Resource) error {
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
			s, err := cfn.ScalarString(v)
			if err != nil {
				return propertyError(r, prop, err)
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
	p.encryptedBy(r, "KmsMasterKeyId", t.ARN)
	p.noteIgnored(r, map[string]string{"KmsMasterKeyId": "no encryption at rest locally (the key policy is enforced on publishers)"})
	return p.inlineSubscriptions(ctx, r, t)
}

// inlineSubscriptions creates a topic's Subscription property like AWS::SNS::Subscription
// resources.
func (p *provisioner) inlineSubscriptions(ctx context.Context, r *cfn.Resource, t Topic) error {
	subs, _, err := p.res.Property(r, "Subscription")
	if err != nil {
		return err
	}
	for i, s := range cfn.AsList(subs) {
		m := cfn.AsMap(s)
		sub := Subscription{LogicalID: fmt.Sprintf("%s.Subscription[%d]", r.LogicalID, i), TopicARN: t.ARN,
			Protocol: cfn.AsString(m["Protocol"]), Endpoint: cfn.AsString(m["Endpoint"]), Attributes: map[string]string{}}
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

func (p *provisioner) createSubscription(ctx context.Context, r *cfn.Resource) error {
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
			sub.Attributes[prop] = jsonString(v)
		}
	}
	return p.subscribe(ctx, r.Type, sub)
}

// subscribe creates an SQS subscription on the emulator; other protocols are listed as
// unsupported.
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
