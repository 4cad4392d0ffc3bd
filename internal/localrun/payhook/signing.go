package payhook

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/localrun/provision"
)

// signing gives the signing secrets of one provisioning their values.
type signing struct {
	// reuse holds the previous run's secrets by provider name.
	reuse map[string]string
	// providers maps a secret's logical id to the providers whose signing secrets it holds.
	providers map[string][]Provider
}

// prepare finds the signing secrets before anything is created (provision.Hooks.Prepare).
func (s *signing) prepare(tmpl *cfn.Template, res *cfn.Resolver) error {
	var err error
	s.providers, err = signingSecrets(tmpl, res)
	return err
}

// value is provision.Hooks.SecretValue: a signing secret holds its providers' secrets.
func (s *signing) value(r *cfn.Resource) (string, bool, error) {
	providers, ok := s.providers[r.LogicalID]
	if !ok {
		return "", false, nil
	}
	v, err := signingSecretValue(providers, s.reuse)
	return v, err == nil, err
}

// signingSecrets finds which secrets hold webhook signing secrets: those that a
// function's SIGNING_SECRET_ARN refers to, for the providers of that function's PROVIDERS
// variable. When no function refers to a secret that way, a template with exactly one
// generated secret and one PROVIDERS function gets that pairing. It returns the providers
// by secret logical id.
func signingSecrets(tmpl *cfn.Template, res *cfn.Resolver) (map[string][]Provider, error) {
	signing := map[string][]Provider{}
	var generated []string
	for _, id := range tmpl.LogicalIDs(provision.TypeSecret) {
		if _, ok := tmpl.Resources[id].Properties["GenerateSecretString"]; ok {
			generated = append(generated, id)
		}
	}
	var loose [][]Provider
	for _, id := range tmpl.LogicalIDs(provision.TypeFunction) {
		r := tmpl.Resources[id]
		providers, ok, err := functionProviders(r, res)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		found := false
		// The smoke provider's secrets live in a secret of their own when the function
		// names one (SMOKE_SIGNING_SECRET_ARN).
		own := map[string][]Provider{}
		if sref, ok := cfn.LookupPath(r.Properties, "Environment.Variables."+contract.EnvSmokeSigningSecretARN); ok {
			for _, pr := range providers {
				if pr.Name == contract.SmokeProvider {
					for _, target := range cfn.References(sref) {
						own[target] = append(own[target], pr)
					}
				}
			}
		}
		shared := providers
		if len(own) > 0 {
			shared = nil
			for _, pr := range providers {
				if pr.Name != contract.SmokeProvider {
					shared = append(shared, pr)
				}
			}
		}
		for target, list := range own {
			if t, ok := tmpl.Resources[target]; ok && t.Type == provision.TypeSecret {
				signing[target] = mergeProviders(signing[target], list)
			}
		}
		if sref, ok := cfn.LookupPath(r.Properties, "Environment.Variables."+contract.EnvSigningSecretARN); ok {
			for _, target := range cfn.References(sref) {
				if t, ok := tmpl.Resources[target]; ok && t.Type == provision.TypeSecret {
					signing[target] = mergeProviders(signing[target], shared)
					found = true
				}
			}
		}
		if !found {
			loose = append(loose, providers)
		}
	}
	if len(signing) == 0 && len(generated) == 1 && len(loose) == 1 {
		signing[generated[0]] = loose[0]
	}
	return signing, nil
}

// functionProviders returns the providers of a function's PROVIDERS variable, and
// whether it has one.
func functionProviders(r *cfn.Resource, res *cfn.Resolver) ([]Provider, bool, error) {
	prop := "Environment.Variables." + contract.EnvProviders
	raw, ok := cfn.LookupPath(r.Properties, prop)
	if !ok {
		return nil, false, nil
	}
	val, err := res.ResolveString(raw)
	if err != nil {
		return nil, true, &cfn.PropertyError{LogicalID: r.LogicalID, Type: r.Type, Property: prop, Err: err}
	}
	providers, err := ParseProviders(val)
	if err != nil {
		return nil, true, &cfn.PropertyError{LogicalID: r.LogicalID, Type: r.Type, Property: prop, Err: err}
	}
	return providers, true, nil
}

// signingSecretValue is the JSON that services/internal/secrets reads: provider name to
// its list of secrets (schemes with a secret only). A reused secret that does not fit its
// scheme is replaced.
func signingSecretValue(providers []Provider, reuse map[string]string) (string, error) {
	doc := map[string][]string{}
	for _, pr := range providers {
		if pr.Scheme == SchemeNone {
			continue
		}
		secret := reuse[pr.Name]
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

// Providers returns the webhook providers of a provisioned stack with their local
// secrets, read back from the signing secrets as created, so that they are exactly what
// the functions read.
func Providers(ctx context.Context, tmpl *cfn.Template, st *provision.Stack, c provision.Clients) ([]Provider, error) {
	res := cfn.NewResolver(tmpl, st.Region)
	res.StackName = st.Name
	signing, err := signingSecrets(tmpl, res)
	if err != nil {
		return nil, err
	}
	var out []Provider
	for _, s := range st.Secrets {
		providers, ok := signing[s.LogicalID]
		if !ok {
			continue
		}
		got, err := c.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.ARN)})
		if err != nil {
			return nil, fmt.Errorf("read back signing secret %s: %w", s.LogicalID, err)
		}
		doc, err := contract.DecodeSigningSecrets(aws.ToString(got.SecretString))
		if err != nil {
			return nil, fmt.Errorf("signing secret %s: %w", s.LogicalID, err)
		}
		for _, pr := range providers {
			pr.SecretARN = s.ARN
			if v := doc[pr.Name]; len(v) > 0 {
				pr.Secret = v[0]
			}
			out = append(out, pr)
		}
	}
	return out, nil
}
