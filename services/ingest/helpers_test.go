package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func putSecret(id, value string) *secretsmanager.PutSecretValueInput {
	return &secretsmanager.PutSecretValueInput{SecretId: aws.String(id), SecretString: aws.String(value)}
}
