package iamapi

import (
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// List is an awsQuery XML list: <Name><member>…</member>…</Name>. It is
// always written, empty as <Name></Name>, as IAM writes
// MatchedStatements and MissingContextValues.
type List[T any] struct {
	Members []T `xml:"member"`
}

// SimulatePolicyResponse is the result of SimulateCustomPolicy and
// SimulatePrincipalPolicy.
type SimulatePolicyResponse struct {
	EvaluationResults List[EvaluationResult] `xml:"EvaluationResults"`
	IsTruncated       bool                   `xml:"IsTruncated"`
	Marker            string                 `xml:"Marker,omitempty"`
}

// EvaluationResult is the simulation of one action on one resource.
type EvaluationResult struct {
	EvalActionName                    string                             `xml:"EvalActionName"`
	EvalResourceName                  string                             `xml:"EvalResourceName"`
	EvalDecision                      string                             `xml:"EvalDecision"`
	MatchedStatements                 List[Statement]                    `xml:"MatchedStatements"`
	MissingContextValues              List[string]                       `xml:"MissingContextValues"`
	PermissionsBoundaryDecisionDetail *PermissionsBoundaryDecisionDetail `xml:"PermissionsBoundaryDecisionDetail,omitempty"`
}

// Statement identifies a statement that decided a simulation.
type Statement struct {
	SourcePolicyID   string   `xml:"SourcePolicyId"`
	SourcePolicyType string   `xml:"SourcePolicyType"`
	StartPosition    Position `xml:"StartPosition"`
	EndPosition      Position `xml:"EndPosition"`
}

// PermissionsBoundaryDecisionDetail says whether the boundary alone allows
// the action.
type PermissionsBoundaryDecisionDetail struct {
	AllowedByPermissionsBoundary bool `xml:"AllowedByPermissionsBoundary"`
}

// ContextEntry is one ContextEntries member.
type ContextEntry struct {
	ContextKeyName   string
	ContextKeyValues []string
	ContextKeyType   string
}

// SimulateInput is the input of SimulateCustomPolicy and
// SimulatePrincipalPolicy (PolicySourceArn only for the latter).
type SimulateInput struct {
	PolicySourceArn                    string
	PolicyInputList                    []string
	PermissionsBoundaryPolicyInputList []string
	ActionNames                        []string
	ResourceArns                       []string
	ResourcePolicy                     string
	CallerArn                          string
	ContextEntries                     []ContextEntry
	MaxItems                           int
	Marker                             string
}

// simulateAudit is what the audit event records of a simulation: the
// question, not the (possibly large) policy documents.
type simulateAudit struct {
	PolicySourceArn string   `json:"policySourceArn,omitempty"`
	PolicyInputs    int      `json:"policyInputListCount"`
	BoundaryInputs  int      `json:"permissionsBoundaryPolicyInputListCount,omitempty"`
	ActionNames     []string `json:"actionNames"`
	ResourceArns    []string `json:"resourceArns,omitempty"`
	ContextKeys     []string `json:"contextKeyNames,omitempty"`
}

// inputPolicyType is the SourcePolicyType IAM reports for policies passed
// in PolicyInputList and PermissionsBoundaryPolicyInputList.
const inputPolicyType = "IAM Policy"

// Limits of the IAM model (policyDocumentType, maxItemsType,
// ActionNameType).
const (
	maxPolicyDocument = 131072
	defaultMaxItems   = 100
	maxMaxItems       = 1000
)

var contextKeyTypes = []string{"string", "stringList", "numeric", "numericList", "boolean", "booleanList",
	"ip", "ipList", "binary", "binaryList", "date", "dateList"}

// parseSimulateInput decodes and validates the members both simulations
// share.
func parseSimulateInput(q *awsproto.QueryRequest) (*SimulateInput, error) {
	in := &SimulateInput{
		PolicySourceArn:                    q.Get("PolicySourceArn"),
		PolicyInputList:                    rejoinCharacters(q.List("PolicyInputList")),
		PermissionsBoundaryPolicyInputList: rejoinCharacters(q.List("PermissionsBoundaryPolicyInputList")),
		ActionNames:                        q.List("ActionNames"),
		ResourceArns:                       q.List("ResourceArns"),
		ResourcePolicy:                     q.Get("ResourcePolicy"),
		CallerArn:                          q.Get("CallerArn"),
		Marker:                             q.Get("Marker"),
	}
	for _, m := range q.StructList("ContextEntries") {
		e := ContextEntry{ContextKeyName: m["ContextKeyName"], ContextKeyType: m["ContextKeyType"]}
		for i := 1; ; i++ {
			v, ok := m["ContextKeyValues.member."+strconv.Itoa(i)]
			if !ok {
				break
			}
			e.ContextKeyValues = append(e.ContextKeyValues, v)
		}
		in.ContextEntries = append(in.ContextEntries, e)
	}
	if len(in.ActionNames) == 0 {
		return nil, missing("actionNames")
	}
	for _, a := range in.ActionNames {
		svc, name, ok := strings.Cut(a, ":")
		if len(a) < 3 || len(a) > 128 || !ok || svc == "" || name == "" {
			return nil, invalidInput(fmt.Sprintf("Action name %q is not of the form <service>:<action>.", a))
		}
		if strings.ContainsAny(a, "*?") {
			return nil, invalidInput(fmt.Sprintf("Action name %q: the simulator does not support wildcards in action names.", a))
		}
	}
	for _, r := range in.ResourceArns {
		if r == "" || len(r) > 2048 {
			return nil, invalidInput("Resource ARNs must be 1 to 2048 characters.")
		}
	}
	for _, d := range slices.Concat(in.PolicyInputList, in.PermissionsBoundaryPolicyInputList) {
		if d == "" || len(d) > maxPolicyDocument {
			return nil, awsproto.QueryValidationError(fmt.Sprintf("Policy documents must be 1 to %d characters.", maxPolicyDocument))
		}
	}
	if in.ResourcePolicy != "" {
		return nil, invalidInput("Gatehouse does not simulate resource-based policies; omit ResourcePolicy.")
	}
	for _, e := range in.ContextEntries {
		if len(e.ContextKeyName) < 5 || len(e.ContextKeyName) > 256 {
			return nil, invalidInput(fmt.Sprintf("Context key name %q must be 5 to 256 characters.", e.ContextKeyName))
		}
		if !slices.Contains(contextKeyTypes, e.ContextKeyType) {
			return nil, invalidInput(fmt.Sprintf("Context key type %q of %s is not one of %s.", e.ContextKeyType, e.ContextKeyName, strings.Join(contextKeyTypes, ", ")))
		}
		if !strings.HasSuffix(e.ContextKeyType, "List") && len(e.ContextKeyValues) > 1 {
			return nil, invalidInput(fmt.Sprintf("Context key %s of type %s takes one value.", e.ContextKeyName, e.ContextKeyType))
		}
	}
	in.MaxItems = defaultMaxItems
	if s := q.Get("MaxItems"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxMaxItems {
			return nil, awsproto.QueryValidationError(fmt.Sprintf("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and %d", s, maxMaxItems))
		}
		in.MaxItems = n
	}
	return in, nil
}

// rejoinCharacters undoes an AWS CLI v2 quirk: given
// --policy-input-list file://p.json where p.json holds a policy object (not
// a JSON list), awscli's argprocess._unpack_complex_cli_arg iterates the
// file's text and sends every character as its own list member. A list of
// two or more one-character documents can never hold a valid policy, so
// joining them changes no answer except that one, which then simulates the
// file the user meant.
func rejoinCharacters(list []string) []string {
	if len(list) < 2 {
		return list
	}
	for _, s := range list {
		if utf8.RuneCountInString(s) != 1 {
			return list
		}
	}
	return []string{strings.Join(list, "")}
}

func (in *SimulateInput) audit() simulateAudit {
	a := simulateAudit{
		PolicySourceArn: in.PolicySourceArn, PolicyInputs: len(in.PolicyInputList), BoundaryInputs: len(in.PermissionsBoundaryPolicyInputList),
		ActionNames: in.ActionNames, ResourceArns: in.ResourceArns,
	}
	for _, e := range in.ContextEntries {
		a.ContextKeys = append(a.ContextKeys, e.ContextKeyName)
	}
	return a
}

// simPolicy is one policy of a simulation with what the result reports of
// it.
type simPolicy struct {
	id, typ  string
	doc      string
	boundary bool
	compiled *policy.Policy
	spans    []span
}

// compileInputs parses and compiles the policies passed in a list member
// (PolicyInputList or PermissionsBoundaryPolicyInputList) strictly, as IAM
// validates them; the first bad one is MalformedPolicyDocument.
func compileInputs(member string, docs []string, boundary bool) ([]simPolicy, error) {
	out := make([]simPolicy, 0, len(docs))
	for i, d := range docs {
		doc, err := policy.ParseStrict([]byte(d))
		if err != nil {
			return nil, err
		}
		p, err := policy.Compile(doc)
		if err != nil {
			return nil, err
		}
		id := member + "." + strconv.Itoa(i+1)
		p.ID = id
		out = append(out, simPolicy{id: id, typ: inputPolicyType, doc: d, boundary: boundary, compiled: p})
	}
	return out, nil
}

func (h *Handler) simulateCustomPolicy(c *call) (any, error) {
	in, err := parseSimulateInput(c.q)
	if err != nil {
		return nil, err
	}
	c.params = in.audit()
	if len(in.PolicyInputList) == 0 {
		return nil, missing("policyInputList")
	}
	if err := h.Authorizer.Authorize(c.ctx, c.sess, "iam:SimulateCustomPolicy", nil, c.reqCtx); err != nil {
		return nil, err
	}
	pols, err := compileInputs("PolicyInputList", in.PolicyInputList, false)
	if err != nil {
		return nil, err
	}
	bounds, err := compileInputs("PermissionsBoundaryPolicyInputList", in.PermissionsBoundaryPolicyInputList, true)
	if err != nil {
		return nil, err
	}
	return simulate(in, append(pols, bounds...))
}

func (h *Handler) simulatePrincipalPolicy(c *call) (any, error) {
	in, err := parseSimulateInput(c.q)
	if err != nil {
		return nil, err
	}
	c.params = in.audit()
	if in.PolicySourceArn == "" {
		return nil, missing("policySourceArn")
	}
	if len(in.PolicySourceArn) < 20 || len(in.PolicySourceArn) > 2048 {
		return nil, invalidInput(fmt.Sprintf("ARN %s is not valid.", in.PolicySourceArn))
	}
	// Role names match case-insensitively and the path may be left out, so
	// the action is authorized on the role's canonical ARN when the source
	// names one (a Deny on that ARN holds for every spelling of it), and on
	// the ARN as written otherwise; the lookup's error comes after, as
	// IAM authorizes before it reveals whether the role exists.
	role, lookupErr := h.roleByARN(c, in.PolicySourceArn)
	resource := in.PolicySourceArn
	if lookupErr == nil {
		resource = arn.RoleARN(role.AccountID, h.Instance.Region, role.RoleName)
	}
	if err := h.Authorizer.Authorize(c.ctx, c.sess, "iam:SimulatePrincipalPolicy", []string{resource}, c.reqCtx); err != nil {
		return nil, err
	}
	if lookupErr != nil {
		return nil, lookupErr
	}
	ps, err := h.Store.GetPermissionSet(c.ctx, role.PermissionSetID)
	if err != nil {
		return nil, fmt.Errorf("permission set of role %s: %w", role.RoleName, err)
	}
	eff, err := h.Authorizer.Policies.Effective(c.ctx, ps, role.AccountID)
	if err != nil {
		return nil, err
	}
	var pols []simPolicy
	ownBoundary := len(in.PermissionsBoundaryPolicyInputList) == 0
	identity := 0
	for _, src := range eff.Sources {
		if src.Boundary && !ownBoundary {
			continue // an input boundary replaces the role's
		}
		var compiled *policy.Policy
		if src.Boundary {
			compiled = eff.Set.Boundary[0]
		} else {
			compiled = eff.Set.Identity[identity]
			identity++
		}
		pols = append(pols, simPolicy{id: src.ID, typ: string(src.Type), doc: src.Document, boundary: src.Boundary, compiled: compiled})
	}
	extra, err := compileInputs("PolicyInputList", in.PolicyInputList, false)
	if err != nil {
		return nil, err
	}
	bounds, err := compileInputs("PermissionsBoundaryPolicyInputList", in.PermissionsBoundaryPolicyInputList, true)
	if err != nil {
		return nil, err
	}
	return simulate(in, slices.Concat(pols, extra, bounds))
}

// roleByARN finds the provisioned role a PolicySourceArn names in the
// caller's account: arn:aws:iam::<acct>:role/<path><name>, where the path
// is the provisioned roles' path or absent.
func (h *Handler) roleByARN(c *call, a string) (*store.ProvisionedRole, error) {
	rest, ok := strings.CutPrefix(a, "arn:aws:iam::")
	if !ok {
		return nil, invalidInput(fmt.Sprintf("ARN %s is not valid.", a))
	}
	account, resource, ok := strings.Cut(rest, ":")
	if !ok || !arn.ValidAccountID(account) {
		return nil, invalidInput(fmt.Sprintf("ARN %s is not valid.", a))
	}
	kind, pathName, _ := strings.Cut(resource, "/")
	i := strings.LastIndexByte(pathName, '/')
	path, name := "/"+pathName[:i+1], pathName[i+1:]
	switch kind {
	case "role":
	case "user", "group":
		return nil, noSuchEntity(fmt.Sprintf("The %s with name %s cannot be found.", kind, name))
	default:
		return nil, invalidInput(fmt.Sprintf("ARN %s does not name a user, group or role.", a))
	}
	notFound := noSuchEntity(fmt.Sprintf("The role with name %s cannot be found.", name))
	if account != c.sess.AccountID || (path != "/" && path != arn.RolePath(h.Instance.Region)) {
		return nil, notFound
	}
	role, err := h.findRole(c, name)
	if err != nil {
		return nil, err
	}
	if role == nil {
		return nil, notFound
	}
	return role, nil
}

// simulate evaluates every action on every resource against pols and
// pages the results.
func simulate(in *SimulateInput, pols []simPolicy) (*SimulatePolicyResponse, error) {
	var set, boundaryOnly policy.Set
	byID := make(map[string]*simPolicy, len(pols))
	for i := range pols {
		p := &pols[i]
		p.spans = statementSpans(p.doc)
		byID[p.id] = p
		if p.boundary {
			set.Boundary = append(set.Boundary, p.compiled)
			boundaryOnly.Identity = append(boundaryOnly.Identity, p.compiled)
		} else {
			set.Identity = append(set.Identity, p.compiled)
		}
	}
	var ctx policy.Context
	for _, e := range in.ContextEntries {
		ctx.Set(e.ContextKeyName, e.ContextKeyValues...)
	}
	resources := in.ResourceArns
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	total := len(in.ActionNames) * len(resources)
	fingerprint := simulationFingerprint(in)
	start := 0
	if in.Marker != "" {
		n, ok := parseMarker(in.Marker, fingerprint)
		if !ok || n >= total {
			return nil, invalidInput("The Marker is not valid for this request.")
		}
		start = n
	}
	end := min(start+in.MaxItems, total)
	out := &SimulatePolicyResponse{}
	for k := start; k < end; k++ {
		action, resource := in.ActionNames[k/len(resources)], resources[k%len(resources)]
		req := policy.Request{Action: action, Resources: []string{resource}, Context: ctx}
		res := set.Evaluate(&req)
		r := EvaluationResult{EvalActionName: action, EvalResourceName: resource, EvalDecision: res.Decision.String()}
		r.MatchedStatements.Members = []Statement{}
		r.MissingContextValues.Members = []string{}
		for _, m := range res.Matched {
			p := byID[m.PolicyID]
			if p == nil {
				continue
			}
			st := Statement{SourcePolicyID: p.id, SourcePolicyType: p.typ}
			if m.Statement < len(p.spans) {
				st.StartPosition, st.EndPosition = p.spans[m.Statement].Start, p.spans[m.Statement].End
			}
			r.MatchedStatements.Members = append(r.MatchedStatements.Members, st)
		}
		for _, k := range res.MissingContextKeys {
			r.MissingContextValues.Members = append(r.MissingContextValues.Members, spelled(k, pols))
		}
		if len(set.Boundary) > 0 {
			r.PermissionsBoundaryDecisionDetail = &PermissionsBoundaryDecisionDetail{
				AllowedByPermissionsBoundary: boundaryOnly.Decide(&req) == policy.Allow,
			}
		}
		out.EvaluationResults.Members = append(out.EvaluationResults.Members, r)
	}
	if end < total {
		out.IsTruncated = true
		out.Marker = formatMarker(end, fingerprint)
	}
	return out, nil
}

// spelled returns a missing context key (reported in lower case) as the
// policies spell it, so MissingContextValues reads like the policy.
func spelled(lower string, pols []simPolicy) string {
	for _, p := range pols {
		if i := indexFold(p.doc, lower); i >= 0 {
			return p.doc[i : i+len(lower)]
		}
	}
	return lower
}

// indexFold is strings.Index ignoring ASCII case.
func indexFold(s, substr string) int {
	n := len(substr)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], substr) {
			return i
		}
	}
	return -1
}

// simulationFingerprint binds a Marker to the request that produced it.
func simulationFingerprint(in *SimulateInput) uint32 {
	h := crc32.NewIEEE()
	for _, l := range [][]string{{in.PolicySourceArn}, in.PolicyInputList, in.PermissionsBoundaryPolicyInputList, in.ActionNames, in.ResourceArns} {
		for _, s := range l {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	return h.Sum32()
}

func formatMarker(next int, fp uint32) string {
	return fmt.Sprintf("%d.%08x", next, fp)
}

func parseMarker(m string, fp uint32) (int, bool) {
	ns, fs, ok := strings.Cut(m, ".")
	if !ok || fs != fmt.Sprintf("%08x", fp) {
		return 0, false
	}
	n, err := strconv.Atoi(ns)
	return n, err == nil && n > 0
}
