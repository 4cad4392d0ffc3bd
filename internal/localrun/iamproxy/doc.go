// Package iamproxy enforces a template's IAM in local mode. Every function gets its own
// access key, and its AWS calls go to one loopback Proxy in front of the emulators
// (DynamoDB Local, fauxqs for SQS and SNS, the Secrets Manager endpoint). The proxy knows
// the caller from the SigV4 Credential= access key and the service from its scope, reads the
// action from the protocol (X-Amz-Target on the JSON protocols, Action= on SNS's query
// protocol) and the resources from the request (TableName and each transaction item,
// QueueUrl, TopicArn, SecretId, as the ARNs the local stack gives them), and evaluates
// each against the Model: the role's identity policies and the resource, topic, queue and
// key policies of the template (internal/iam), plus the KMS permissions that using an
// encrypted topic, queue or secret implies. A denied call is answered as the service
// answers it, so the function fails locally exactly as it would in AWS.
//
// Every decision is recorded in a CallLog (.payhook/calls.jsonl); BuildReport matches a
// run's calls against the grants (grants.json) to list, per function, the actions used,
// those granted but never used (unless the policy justifies them in its
// iam.UnexercisedGrantsMetadata metadata), and the denied calls.
package iamproxy
