package model

// Deployment is a job's desired presence on one host: written by masters and the controller,
// read by the host's agent.
type Deployment struct {
	JobID               JobID  `json:"jobId"`
	Goal                Goal   `json:"goal"`
	DeployerUser        string `json:"deployerUser,omitempty"`
	DeployerMaster      string `json:"deployerMaster,omitempty"`
	DeploymentGroupName string `json:"deploymentGroupName,omitempty"`
}

// TaskStatus is what an agent last observed of a job's task on its host.
type TaskStatus struct {
	Job            *Job                   `json:"job,omitempty"`
	Goal           Goal                   `json:"goal"`
	State          State                  `json:"state"`
	ContainerID    string                 `json:"containerId,omitempty"`
	Throttled      ThrottleState          `json:"throttled"`
	Ports          map[string]PortMapping `json:"ports,omitempty"` // with the external ports actually bound
	Env            map[string]string      `json:"env,omitempty"`
	ContainerError string                 `json:"containerError,omitempty"`
}

// TaskStatusEvent is one entry of a job's history on a host.
type TaskStatusEvent struct {
	Status    TaskStatus `json:"status"`
	Timestamp int64      `json:"timestamp"` // ms since the epoch
	Host      string     `json:"host"`
}

// JobStatus is a job with its deployments and task statuses, keyed by host.
type JobStatus struct {
	Job          *Job                  `json:"job"`
	Deployments  map[string]Deployment `json:"deployments"`
	TaskStatuses map[string]TaskStatus `json:"taskStatuses"`
}
