// Package cost estimates what an environment costs per month at a given webhook rate, line
// by line, from a dated table of AWS's public us-east-1 prices and from what the services
// actually do per webhook (the DynamoDB writes and reads, SQS requests, Lambda invocations
// and durations measured by `mage bench`). The same estimate is made for the reference
// design payhook replaced, so the two can be set side by side. Free tiers are excluded: the
// figures are what a busy account pays.
package cost

// PricesAsOf is when the price table was read from AWS's public price pages.
const PricesAsOf = "2026-11-30"

// PricedRegion is the one region the table holds; any other region's estimate is marked
// unknown rather than guessed.
const PricedRegion = "us-east-1"

// Price is one unit price, with the page it comes from.
type Price struct {
	// USD per Unit.
	USD float64
	// Unit says what is counted, e.g. "1M requests".
	Unit string
	// Source is the public price page.
	Source string
}

// Price pages.
const (
	srcAPIGateway = "https://aws.amazon.com/api-gateway/pricing/"
	srcWAF        = "https://aws.amazon.com/waf/pricing/"
	srcLambda     = "https://aws.amazon.com/lambda/pricing/"
	srcDynamoDB   = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
	srcSQS        = "https://aws.amazon.com/sqs/pricing/"
	srcSNS        = "https://aws.amazon.com/sns/pricing/"
	srcKMS        = "https://aws.amazon.com/kms/pricing/"
	srcSecrets    = "https://aws.amazon.com/secrets-manager/pricing/"
	srcCloudWatch = "https://aws.amazon.com/cloudwatch/pricing/"
	srcXRay       = "https://aws.amazon.com/xray/pricing/"
)

// Prices is us-east-1's price list for what payhook uses (first pricing tier of each).
var Prices = struct {
	APIRequests, WAFACL, WAFRule, WAFRequests                     Price
	LambdaRequests, LambdaGBSecondArm                             Price
	DynamoWRU, DynamoRRU, DynamoStorage, DynamoPITR               Price
	SQSRequests, SNSPublish                                       Price
	KMSKey, KMSRotation, KMSRequests, Secret, SecretCalls         Price
	Alarm, AlarmMetric, Dashboard, CustomMetric, LogsIngest, XRay Price
	LogsStorage                                                   Price
}{
	APIRequests:       Price{3.50, "1M REST API requests", srcAPIGateway},
	WAFACL:            Price{5.00, "web ACL-month", srcWAF},
	WAFRule:           Price{1.00, "rule-month (a managed rule group counts as one)", srcWAF},
	WAFRequests:       Price{0.60, "1M requests inspected", srcWAF},
	LambdaRequests:    Price{0.20, "1M invocations", srcLambda},
	LambdaGBSecondArm: Price{0.0000133334, "GB-second (arm64)", srcLambda},
	DynamoWRU:         Price{0.625, "1M write request units (on-demand)", srcDynamoDB},
	DynamoRRU:         Price{0.125, "1M read request units (on-demand)", srcDynamoDB},
	DynamoStorage:     Price{0.25, "GB-month of table storage", srcDynamoDB},
	DynamoPITR:        Price{0.20, "GB-month of point-in-time recovery", srcDynamoDB},
	SQSRequests:       Price{0.40, "1M standard-queue requests", srcSQS},
	SNSPublish:        Price{0.50, "1M publishes", srcSNS},
	KMSKey:            Price{1.00, "customer managed key-month", srcKMS},
	KMSRotation:       Price{1.00, "rotation-month (the first two rotations of a key)", srcKMS},
	KMSRequests:       Price{0.03, "10,000 requests", srcKMS},
	Secret:            Price{0.40, "secret-month", srcSecrets},
	SecretCalls:       Price{0.05, "10,000 API calls", srcSecrets},
	Alarm:             Price{0.10, "standard-resolution alarm metric-month", srcCloudWatch},
	AlarmMetric:       Price{0.10, "metric of a metric-math alarm, per month", srcCloudWatch},
	Dashboard:         Price{3.00, "dashboard-month", srcCloudWatch},
	CustomMetric:      Price{0.30, "custom metric-month (EMF)", srcCloudWatch},
	LogsIngest:        Price{0.50, "GB of logs ingested", srcCloudWatch},
	LogsStorage:       Price{0.03, "GB-month of logs stored", srcCloudWatch},
	XRay:              Price{5.00, "1M traces recorded", srcXRay},
}
