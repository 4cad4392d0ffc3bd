package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/localrun/randid"
)

// TypeSecret is a Secrets Manager secret, created on the local Secrets Manager endpoint.
const TypeSecret = "AWS::SecretsManager::Secret"

func init() { register(TypeSecret, (*provisioner).createSecret) }

func (p *provisioner) createSecret(ctx context.Context, r *cfn.Resource) error {
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
		if value, err = p.generatedSecret(r, cfn.AsMap(gen)); err != nil {
			return propertyError(r, "GenerateSecretString", err)
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
	p.stack.Access.Secrets[s.Name] = s.ARN
	p.encryptedBy(r, "KmsKeyId", s.ARN)
	p.noteIgnored(r, map[string]string{
		"KmsKeyId":          "no encryption at rest locally (the key policy is enforced on readers)",
		"ReplicaRegions":    "no secret replication locally",
		"RotationRules":     "secret rotation is not emulated",
		"RotationLambdaARN": "secret rotation is not emulated",
	})
	return nil
}

// generatedSecret is the value of a secret with GenerateSecretString: the application's
// (Hooks.SecretValue), else generated as the template says.
func (p *provisioner) generatedSecret(r *cfn.Resource, gen map[string]any) (string, error) {
	if hook := p.opts.Hooks.SecretValue; hook != nil {
		value, ok, err := hook(r)
		if err != nil || ok {
			return value, err
		}
	}
	return generateSecretString(gen)
}

// generateSecretString implements GenerateSecretString: a password, or the
// SecretStringTemplate JSON with the password under GenerateStringKey.
func generateSecretString(g map[string]any) (string, error) {
	n, _ := cfn.ToInt(g["PasswordLength"])
	spec := passwordSpec{
		Length:        n,
		Exclude:       cfn.AsString(g["ExcludeCharacters"]),
		NoPunctuation: cfn.AsBool(g["ExcludePunctuation"], false),
		NoNumbers:     cfn.AsBool(g["ExcludeNumbers"], false),
		NoUpper:       cfn.AsBool(g["ExcludeUppercase"], false),
		NoLower:       cfn.AsBool(g["ExcludeLowercase"], false),
		AllowSpace:    cfn.AsBool(g["IncludeSpace"], false),
	}
	pw, err := spec.generate()
	if err != nil {
		return "", err
	}
	tmpl, key := cfn.AsString(g["SecretStringTemplate"]), cfn.AsString(g["GenerateStringKey"])
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

// passwordSpec is the part of GenerateSecretString that shapes the password.
type passwordSpec struct {
	Length                                                 int
	Exclude                                                string
	NoPunctuation, NoNumbers, NoUpper, NoLower, AllowSpace bool
}

func (p passwordSpec) generate() (string, error) {
	var alphabet strings.Builder
	add := func(set string, skip bool) {
		if skip {
			return
		}
		for _, c := range set {
			if !strings.ContainsRune(p.Exclude, c) {
				alphabet.WriteRune(c)
			}
		}
	}
	add("abcdefghijklmnopqrstuvwxyz", p.NoLower)
	add("ABCDEFGHIJKLMNOPQRSTUVWXYZ", p.NoUpper)
	add("0123456789", p.NoNumbers)
	add(randid.Punctuation, p.NoPunctuation)
	add(" ", !p.AllowSpace)
	n := p.Length
	if n <= 0 {
		n = 32
	}
	return randid.String(n, alphabet.String())
}
