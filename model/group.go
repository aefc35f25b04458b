package model

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// RollingUpdateReason says why a deployment group's rollout started.
type RollingUpdateReason string

// Rolling update reasons.
const (
	ReasonManual       RollingUpdateReason = "MANUAL"
	ReasonHostsChanged RollingUpdateReason = "HOSTS_CHANGED"
)

// DeploymentGroup is a set of hosts chosen by label selectors onto which one job is rolled.
// Name and HostSelectors are fixed at creation; a rolling update sets JobID, the resolved
// RolloutOptions and the reason.
type DeploymentGroup struct {
	Name                string              `json:"name"`
	HostSelectors       []HostSelector      `json:"hostSelectors"`
	JobID               JobID               `json:"jobId,omitempty"`
	RolloutOptions      *RolloutOptions     `json:"rolloutOptions,omitempty"`
	RollingUpdateReason RollingUpdateReason `json:"rollingUpdateReason,omitempty"`
}

// UnmarshalJSON also reads the job id under "job", the key the original reads it from.
func (g *DeploymentGroup) UnmarshalJSON(b []byte) error {
	type plain DeploymentGroup
	var v struct {
		plain
		Job JobID `json:"job"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*g = DeploymentGroup(v.plain)
	if g.JobID == "" {
		g.JobID = v.Job
	}
	return nil
}

// SameSelectors tells whether two groups select hosts with the same expressions, in the
// same order (the original's test for NOT_MODIFIED against CONFLICT).
func (g DeploymentGroup) SameSelectors(o DeploymentGroup) bool {
	if len(g.HostSelectors) != len(o.HostSelectors) {
		return false
	}
	for i := range g.HostSelectors {
		if !reflect.DeepEqual(g.HostSelectors[i], o.HostSelectors[i]) {
			return false
		}
	}
	return true
}

// ValidateDeploymentGroupName checks a group name: the characters of a job name.
func ValidateDeploymentGroupName(name string) error {
	if !nameVersionRE().MatchString(name) {
		return fmt.Errorf("invalid deployment group name %q: must be non-empty and only contain characters in [0-9a-zA-Z-_.]", name)
	}
	if len(name) > 255 {
		return fmt.Errorf("invalid deployment group name: %d characters, at most 255", len(name))
	}
	return nil
}

// ValidateNewDeploymentGroup lists what is wrong with a group to create; nil when nothing.
func ValidateNewDeploymentGroup(g DeploymentGroup) []string {
	var out []string
	if err := ValidateDeploymentGroupName(g.Name); err != nil {
		out = append(out, err.Error())
	}
	if len(g.HostSelectors) == 0 {
		out = append(out, "a deployment group needs at least one host selector (label=value, label!=value, label in (a, b), label notin (a, b))")
	}
	for i, s := range g.HostSelectors {
		// An equality has one value: ["b", "c"] would print as "a=bc" yet match a=b or a=c.
		oneValue := len(s.Operand) == 1 || (s.Operator != OpEquals && s.Operator != OpNotEquals)
		if _, err := ParseHostSelector(s.String()); err != nil || !validOperator(s.Operator) || len(s.Operand) == 0 || !oneValue {
			out = append(out, fmt.Sprintf("invalid host selector %d: %+v", i+1, s))
		}
	}
	if g.JobID != "" {
		out = append(out, "jobId is set by rolling-update, not at creation")
	}
	return out
}

func validOperator(op string) bool {
	switch op {
	case OpEquals, OpNotEquals:
		return true
	case OpIn, OpNotIn:
		return true
	}
	return false
}

// GroupState is where a deployment group's rollout stands.
type GroupState string

// Group states. The original's ROLLING_OUT, DONE and FAILED; IDLE is reported for a group
// never rolled out; PAUSED is ours: a canary rollout waiting to be promoted.
const (
	GroupIdle       GroupState = "IDLE"
	GroupRollingOut GroupState = "ROLLING_OUT"
	GroupDone       GroupState = "DONE"
	GroupFailed     GroupState = "FAILED"
	GroupPaused     GroupState = "PAUSED"
)

// Status words of the deployment group endpoints, the original's.
const (
	StatusCreated                 = "CREATED"
	StatusNotModified             = "NOT_MODIFIED"
	StatusConflict                = "CONFLICT"
	StatusRemoved                 = "REMOVED"
	StatusDeploymentGroupNotFound = "DEPLOYMENT_GROUP_NOT_FOUND"
	StatusInvalidDeploymentGroup  = "INVALID_DEPLOYMENT_GROUP"
	StatusInvalidRolloutOptions   = "INVALID_ROLLOUT_OPTIONS"
	StatusNotPaused               = "NOT_PAUSED"
	// Status of the rolling-update command's JSON.
	StatusDone    = "DONE"
	StatusFailed  = "FAILED"
	StatusTimeout = "TIMEOUT"
)

// CreateDeploymentGroupResponse answers POST /deployment-group.
type CreateDeploymentGroupResponse struct {
	Status  string   `json:"status"`
	Errors  []string `json:"errors,omitempty"`
	Message string   `json:"message,omitempty"`
}

// RemoveDeploymentGroupResponse answers DELETE /deployment-group/{name}.
type RemoveDeploymentGroupResponse struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// RollingUpdateRequest is the body of POST /deployment-group/{name}/rolling-update.
type RollingUpdateRequest struct {
	Job            JobID           `json:"job"`
	RolloutOptions *RolloutOptions `json:"rolloutOptions"`
}

// RollingUpdateResponse answers a rolling update, a stop and a promotion.
type RollingUpdateResponse struct {
	Status  string   `json:"status"`
	Errors  []string `json:"errors,omitempty"`
	Message string   `json:"message,omitempty"`
}

// GroupHostStatus is one host of a group in its status: the group's job there and its state.
type GroupHostStatus struct {
	Host  string `json:"host"`
	JobID *JobID `json:"jobId"`
	State *State `json:"state"`
}

// DeploymentGroupStatusResponse answers GET /deployment-group/{name}/status.
type DeploymentGroupStatusResponse struct {
	DeploymentGroup DeploymentGroup   `json:"deploymentGroup"`
	Status          GroupState        `json:"status"`
	Error           string            `json:"error"`
	HostStatuses    []GroupHostStatus `json:"hostStatuses"`
	// Ours, beyond the original's fields.
	RolledBack     bool     `json:"rolledBack,omitempty"`
	RollingBack    bool     `json:"rollingBack,omitempty"`
	RollbackErrors []string `json:"rollbackErrors,omitempty"`
	// Progress of the current or last rollout: tasks done out of all.
	TaskIndex int   `json:"taskIndex"`
	TaskCount int   `json:"taskCount"`
	Revision  int64 `json:"revision,omitempty"` // etcd revision the answer was read at
}
