package envs

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/payhook/payhook/internal/contract"
)

// Limits enforced across fields (the per-field ones are in the schema tags).
const (
	// MaxIngestTimeoutSeconds is API Gateway's integration timeout: a longer
	// ingest timeout could never be used.
	MaxIngestTimeoutSeconds = contract.APIGatewayIntegrationTimeoutSeconds
	// VisibilityTimeoutFactor is AWS's guidance for Lambda SQS event sources:
	// the queue's visibility timeout is at least six times the function timeout.
	VisibilityTimeoutFactor = contract.SQSVisibilityFactor
	// MaxUnbatchedSize is the largest worker batch size allowed without a
	// batching window.
	MaxUnbatchedSize = 10
	// MinRetainedLogDays is the shortest log retention of an env that retains data.
	MinRetainedLogDays = 365
)

// Validate checks e as LoadFile does, except for the file name and lines: an
// optional field counts as set when it is not the zero value or has a
// default (so build on [Defaults]: an empty approval is an error, not
// "none"). It returns an errors.Join of *FieldError, or nil.
func (e Env) Validate() error {
	issues, err := e.issues(nil)
	if err != nil {
		return fmt.Errorf("envs: validate %q: %w", e.Name, err)
	}
	return joinIssues(issues)
}

// Validate checks p as LoadPipeline does, except for lines: an optional
// field counts as set when it is not the zero value or has a default (so
// build on [PipelineDefaults]). It returns an errors.Join of *FieldError, or
// nil.
func (p Pipeline) Validate() error {
	issues, err := p.issues(nil)
	if err != nil {
		return fmt.Errorf("envs: validate pipeline: %w", err)
	}
	return joinIssues(issues)
}

// joinIssues joins issues without a file as *FieldError, or returns nil.
func joinIssues(issues []issue) error {
	if len(issues) == 0 {
		return nil
	}
	fes := make([]*FieldError, len(issues))
	for i, is := range issues {
		fes[i] = &FieldError{Path: is.path.String(), Message: is.msg}
	}
	return joinSorted(fes)
}

// issues returns every problem of p. has reports whether a field is set; nil
// means "not the zero value, or defaulted".
func (p Pipeline) issues(has func(fieldPath) bool) ([]issue, error) {
	c := &checker{has: has, defaulted: defaultedPaths(reflect.ValueOf(PipelineDefaults()))}
	if err := c.checkStruct(reflect.ValueOf(p), fieldPath{}); err != nil {
		return nil, err
	}
	return c.issues, nil
}

// issues returns every problem of e: the rules of the schema tags, then the
// rules across fields. has reports whether a field is set; nil means "not
// the zero value, or defaulted".
func (e Env) issues(has func(fieldPath) bool) ([]issue, error) {
	c := &checker{has: has, defaulted: defaultedPaths(reflect.ValueOf(Defaults()))}
	if err := c.checkStruct(reflect.ValueOf(e), fieldPath{}); err != nil {
		return nil, err
	}
	set := func(p fieldPath, v any) bool { return c.present(p, reflect.ValueOf(v)) }

	if !e.LocalOnly && !set(fieldPath{"order"}, e.Order) {
		c.add(fieldPath{"order"}, "required unless local_only is true")
	}

	e.checkDeployment(c, set)

	e.checkProviders(c)
	e.checkPlacement(c)

	if t := e.Functions.Ingest.TimeoutSeconds; t > MaxIngestTimeoutSeconds && t <= 900 {
		c.add(fieldPath{"functions", "ingest", "timeout_seconds"},
			fmt.Sprintf("must be at most %d for ingest (API Gateway's integration timeout), got %d", MaxIngestTimeoutSeconds, t))
	}

	vis, acct := e.Queue.VisibilityTimeoutSeconds, e.Functions.Accounting.TimeoutSeconds
	if set(fieldPath{"queue", "visibility_timeout_seconds"}, vis) && acct >= 1 && acct <= 900 && vis >= 0 && vis <= 43200 && vis < VisibilityTimeoutFactor*acct {
		c.add(fieldPath{"queue", "visibility_timeout_seconds"},
			fmt.Sprintf("must be at least %d × functions.accounting.timeout_seconds = %d (AWS guidance for Lambda SQS event sources), got %d",
				VisibilityTimeoutFactor, VisibilityTimeoutFactor*acct, vis))
	}

	if bs := e.Worker.BatchSize; bs > MaxUnbatchedSize && bs <= 10000 && e.Worker.BatchingWindowSeconds == 0 {
		c.add(fieldPath{"worker", "batch_size"},
			fmt.Sprintf("must be at most %d unless batching_window_seconds is at least 1, got %d", MaxUnbatchedSize, bs))
	}

	ret, dlq := e.Queue.RetentionDays, e.Queue.DLQRetentionDays
	if ret >= 1 && ret <= 14 && dlq >= 1 && dlq <= 14 && dlq < ret {
		c.add(fieldPath{"queue", "dlq_retention_days"},
			fmt.Sprintf("must be at least retention_days (%d): a dead-letter queue keeps the original enqueue time, so a shorter retention deletes messages early; got %d", ret, dlq))
	}
	return c.issues, nil
}

// rules are the constraints of one field, parsed from its `schema` tag; the
// schema generator and the validator both read them.
type rules struct {
	required     bool
	min          *float64
	max          *float64
	exclusiveMin *float64
	minLength    *int
	maxLength    *int
	minItems     *int
	keyMinLength *int
	keyMaxLength *int
	keyNotPrefix string
	keyPattern   string
	pattern      string
	enum         []string
	format       string
}

// parseRules parses a `schema` tag such as "required;min=1;max=900".
func parseRules(tag string) (rules, error) {
	var r rules
	if tag == "" {
		return r, nil
	}
	for part := range strings.SplitSeq(tag, ";") {
		key, val, hasVal := strings.Cut(part, "=")
		if hasVal == (key == "required") {
			return rules{}, fmt.Errorf("schema tag %q: rule %q: bad value", tag, part)
		}
		var err error
		switch key {
		case "required":
			r.required = true
		case "min":
			r.min, err = parseFloat(val)
		case "max":
			r.max, err = parseFloat(val)
		case "exclusiveMin":
			r.exclusiveMin, err = parseFloat(val)
		case "minLength":
			r.minLength, err = parseInt(val)
		case "maxLength":
			r.maxLength, err = parseInt(val)
		case "minItems":
			r.minItems, err = parseInt(val)
		case "keyMinLength":
			r.keyMinLength, err = parseInt(val)
		case "keyMaxLength":
			r.keyMaxLength, err = parseInt(val)
		case "keyNotPrefix":
			r.keyNotPrefix = val
		case "keyPattern":
			_, err = compile(val)
			r.keyPattern = val
		case "pattern":
			_, err = compile(val)
			r.pattern = val
		case "enum":
			r.enum = strings.Split(val, "|")
		case "format":
			if val != formatEmail && val != formatRegion {
				err = fmt.Errorf("unknown format %q", val)
			}
			r.format = val
		default:
			err = fmt.Errorf("unknown rule %q", key)
		}
		if err != nil {
			return rules{}, fmt.Errorf("schema tag %q: %w", tag, err)
		}
	}
	return r, nil
}

// parseFloat parses a number of a schema tag.
func parseFloat(s string) (*float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("bad number %q: %w", s, err)
	}
	return &f, nil
}

// parseInt parses an integer of a schema tag.
func parseInt(s string) (*int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, fmt.Errorf("bad integer %q: %w", s, err)
	}
	return &n, nil
}

// compile compiles a pattern of a schema tag.
func compile(pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("bad pattern %q: %w", pattern, err)
	}
	return re, nil
}

// checker applies the rules of the schema tags to a value and collects the
// problems found.
type checker struct {
	// has reports whether the field at a path is set; nil means "not the
	// zero value, or in defaulted".
	has func(fieldPath) bool
	// defaulted holds the paths of the fields with a non-zero default.
	defaulted map[string]bool
	issues    []issue
}

// defaultedPaths returns the paths of the fields of the struct v that are
// not zero, and of the structs holding them: the fields with a default when
// v holds the defaults.
func defaultedPaths(v reflect.Value) map[string]bool {
	out := map[string]bool{}
	var walk func(v reflect.Value, p fieldPath) bool
	walk = func(v reflect.Value, p fieldPath) bool {
		found := false
		for i := range v.NumField() {
			fp := p.child(yamlKey(v.Type().Field(i)))
			fv := v.Field(i)
			if fv.Kind() == reflect.Struct && walk(fv, fp) || fv.Kind() != reflect.Struct && !fv.IsZero() {
				out[fp.String()] = true
				found = true
			}
		}
		return found
	}
	walk(v, fieldPath{})
	return out
}

// add records a problem at p.
func (c *checker) add(p fieldPath, msg string) {
	c.issues = append(c.issues, issue{path: p, msg: msg})
}

// present reports whether the field at p, holding v, is set.
func (c *checker) present(p fieldPath, v reflect.Value) bool {
	if c.has != nil {
		return c.has(p)
	}
	return !v.IsZero() || c.defaulted[p.String()]
}

// checkStruct checks every field of the struct v at p. A required field that
// is not set is reported and not looked into; an optional one that is not set
// is checked only when it holds a default.
func (c *checker) checkStruct(v reflect.Value, p fieldPath) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		r, err := parseRules(f.Tag.Get("schema"))
		if err != nil {
			return fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		fp := p.child(yamlKey(f))
		fv := v.Field(i)
		if !c.present(fp, fv) {
			if r.required {
				c.add(fp, "required")
				continue
			}
			if fv.IsZero() {
				continue
			}
		}
		if err := c.checkValue(fv, fp, r); err != nil {
			return err
		}
	}
	return nil
}

// checkValue checks v at p against r.
func (c *checker) checkValue(v reflect.Value, p fieldPath, r rules) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return c.checkValue(v.Elem(), p, r)
	case reflect.Struct:
		return c.checkStruct(v, p)
	case reflect.Slice:
		if r.minItems != nil && v.Len() < *r.minItems {
			c.add(p, fmt.Sprintf("must have at least %d item(s), got %d", *r.minItems, v.Len()))
		}
		for i := range v.Len() {
			item := v.Index(i)
			var err error
			if item.Kind() == reflect.Struct {
				err = c.checkStruct(item, p.index(i))
			} else {
				err = c.checkScalar(item, p.index(i), rules{pattern: r.pattern, format: r.format, enum: r.enum})
			}
			if err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		for _, k := range keys {
			kp := p.key(k)
			n := len([]rune(k))
			switch {
			case r.keyMinLength != nil && n < *r.keyMinLength, r.keyMaxLength != nil && n > *r.keyMaxLength:
				c.add(kp, fmt.Sprintf("key must be %d to %d characters long, got %d", deref(r.keyMinLength), deref(r.keyMaxLength), n))
			case r.keyNotPrefix != "" && strings.HasPrefix(k, r.keyNotPrefix):
				c.add(kp, fmt.Sprintf("key must not start with %q", r.keyNotPrefix))
			case r.keyPattern != "" && !regexp.MustCompile(r.keyPattern).MatchString(k):
				c.add(kp, fmt.Sprintf("key must match %s (AWS's tag characters: letters, digits, spaces and _ . : / = + - @)", r.keyPattern))
			}
			val := v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key()))
			if err := c.checkScalar(val, kp, rules{maxLength: r.maxLength, pattern: r.pattern}); err != nil {
				return err
			}
		}
		return nil
	default:
		return c.checkScalar(v, p, r)
	}
}

// deref returns *p, or 0 for nil.
func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// checkScalar checks a string, number or boolean v at p against r.
func (c *checker) checkScalar(v reflect.Value, p fieldPath, r rules) error {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		n := len([]rune(s))
		if len(r.enum) > 0 && !slices.Contains(r.enum, s) {
			c.add(p, fmt.Sprintf("must be one of %s, got %q", strings.Join(r.enum, ", "), s))
			return nil
		}
		if r.minLength != nil && n < *r.minLength {
			c.add(p, fmt.Sprintf("must be at least %d characters long, got %d", *r.minLength, n))
		}
		if r.maxLength != nil && n > *r.maxLength {
			c.add(p, fmt.Sprintf("must be at most %d characters long, got %d", *r.maxLength, n))
		}
		if r.pattern != "" {
			re, err := compile(r.pattern)
			if err != nil {
				return err
			}
			if !re.MatchString(s) {
				c.add(p, fmt.Sprintf("must match %s, got %q", r.pattern, s))
			}
		}
		if r.format == formatEmail && !isEmail(s) {
			c.add(p, fmt.Sprintf("must be an e-mail address, got %q", s))
		}
		if r.format == formatRegion && !contract.KnownRegion(s) {
			c.add(p, fmt.Sprintf("must be a region the AWS SDK knows (%s ... %s), got %q", contract.Regions()[0], slices.Max(contract.Regions()), s))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c.checkNumber(p, float64(v.Int()), strconv.FormatInt(v.Int(), 10), r)
	case reflect.Float32, reflect.Float64:
		c.checkNumber(p, v.Float(), formatNumber(v.Float()), r)
	case reflect.Bool:
	default:
		return fmt.Errorf("%s: unsupported Go type %s", p, v.Type())
	}
	return nil
}

// checkNumber checks the number x (written as s) at p against r.
func (c *checker) checkNumber(p fieldPath, x float64, s string, r rules) {
	if len(r.enum) > 0 {
		if !slices.Contains(r.enum, s) {
			c.add(p, fmt.Sprintf("must be one of %s, got %s", strings.Join(r.enum, ", "), s))
		}
		return
	}
	lo, hi, ex := r.min, r.max, r.exclusiveMin
	switch {
	case lo != nil && hi != nil && (x < *lo || x > *hi):
		c.add(p, fmt.Sprintf("must be between %s and %s, got %s", formatNumber(*lo), formatNumber(*hi), s))
	case ex != nil && hi != nil && (x <= *ex || x > *hi):
		c.add(p, fmt.Sprintf("must be greater than %s and at most %s, got %s", formatNumber(*ex), formatNumber(*hi), s))
	case lo != nil && x < *lo:
		c.add(p, fmt.Sprintf("must be at least %s, got %s", formatNumber(*lo), s))
	case hi != nil && x > *hi:
		c.add(p, fmt.Sprintf("must be at most %s, got %s", formatNumber(*hi), s))
	case ex != nil && x <= *ex:
		c.add(p, fmt.Sprintf("must be greater than %s, got %s", formatNumber(*ex), s))
	}
}

// formatNumber renders x without exponent or trailing zeros.
func formatNumber(x float64) string {
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// checkProviders reports reserved and duplicate provider names and each
// provider's format and path problems.
func (e Env) checkProviders(c *checker) {
	first := map[string]int{}
	for i, p := range e.Providers {
		if p.Name == contract.SmokeProvider {
			c.add(fieldPath{"providers"}.index(i).child("name"),
				fmt.Sprintf("%q is reserved: every environment has this smoke provider, with its own secret", p.Name))
			continue
		}
		if j, dup := first[p.Name]; dup {
			c.add(fieldPath{"providers"}.index(i).child("name"),
				fmt.Sprintf("duplicate provider name %q (also providers[%d])", p.Name, j))
			continue
		}
		first[p.Name] = i
		checkFormat(c, fieldPath{"providers"}.index(i), p)
		checkPath(c, fieldPath{"providers"}.index(i), p)
	}
}

// checkPlacement reports the rules of where an environment runs: local-only
// limits, the account of a deployable environment and of its break-glass
// role, and what retain_data requires.
func (e Env) checkPlacement(c *checker) {
	if e.LocalOnly {
		if e.Approval == ApprovalManual {
			c.add(fieldPath{"approval"}, "must be none when local_only is true: a local environment is never a pipeline stage")
		}
		if e.RetainData {
			c.add(fieldPath{"retain_data"}, "must be false when local_only is true: local emulators keep nothing")
		}
	} else if e.Account == "" {
		c.add(fieldPath{"account"}, "required for an environment the pipeline deploys: it runs in an AWS account of its own, never the pipeline's (dev and staging may share a non-production account; an environment with retain_data needs one apart from every environment without it)")
	}
	if r := e.BreakGlassRole; r != "" && e.Account != "" && len(strings.Split(r, ":")) > 4 && strings.Split(r, ":")[4] != e.Account {
		c.add(fieldPath{"break_glass_role"}, fmt.Sprintf("must be a role of the environment's account %s, got one of %s", e.Account, strings.Split(r, ":")[4]))
	}
	if r := e.PreviewRole; r != "" && e.Account != "" && len(strings.Split(r, ":")) > 4 && strings.Split(r, ":")[4] != e.Account {
		c.add(fieldPath{"preview_role"}, fmt.Sprintf("must be a role of the environment's account %s, got one of %s", e.Account, strings.Split(r, ":")[4]))
	}
	if !e.LocalOnly && e.RetainData {
		if e.Approval != ApprovalManual {
			c.add(fieldPath{"retain_data"}, "retain_data requires approval: manual")
		}
		if e.LogRetentionDays > 0 && e.LogRetentionDays < MinRetainedLogDays {
			c.add(fieldPath{"log_retention_days"}, fmt.Sprintf("must be at least %d with retain_data: true (PCI DSS 10.7 keeps audit logs a year; AWS Control Tower's CT.CLOUDWATCH.PR.2), got %d", MinRetainedLogDays, e.LogRetentionDays))
		}
		for i, p := range e.Providers {
			if p.Scheme == SchemeNone {
				c.add(fieldPath{"providers"}.index(i).child("scheme"),
					"scheme none (unsigned) is not allowed with retain_data: true")
			}
		}
	}
}
