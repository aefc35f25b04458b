package model

// Status words of the REST API, the original's. Each response body carries one in "status".
const (
	StatusOK                   = "OK"
	StatusInvalidJobDefinition = "INVALID_JOB_DEFINITION"
	StatusJobAlreadyExists     = "JOB_ALREADY_EXISTS"
	StatusJobNotFound          = "JOB_NOT_FOUND"
	StatusHostNotFound         = "HOST_NOT_FOUND"
	StatusJobAlreadyDeployed   = "JOB_ALREADY_DEPLOYED"
	StatusJobNotDeployed       = "JOB_NOT_DEPLOYED"
	StatusPortConflict         = "PORT_CONFLICT"
	StatusStillInUse           = "STILL_IN_USE"
	StatusForbidden            = "FORBIDDEN"
	StatusInvalidID            = "INVALID_ID"
	StatusNotFound             = "NOT_FOUND"
	StatusIDMismatch           = "ID_MISMATCH"
	StatusAmbiguousJobRef      = "AMBIGUOUS_JOB_REFERENCE"
	// Not the original's: a host is deregistered only while DOWN unless the caller insists.
	StatusHostUp = "HOST_UP"
	// Not the original's: a master refuses a watch stream beyond its limits (429).
	StatusTooManyStreams = "TOO_MANY_STREAMS"
	// Not the original's: errors of the transport rather than of the request's meaning.
	StatusBadRequest         = "BAD_REQUEST"
	StatusMethodNotAllowed   = "METHOD_NOT_ALLOWED"
	StatusRequestTooLarge    = "REQUEST_TOO_LARGE"
	StatusServiceUnavailable = "SERVICE_UNAVAILABLE"
	StatusGatewayTimeout     = "GATEWAY_TIMEOUT"
	StatusInternalError      = "INTERNAL_ERROR"
)

// Headers exchanged with masters.
const (
	HeaderServerVersion = "Helios-Server-Version"
	HeaderClientVersion = "Helios-Version"
)

// ErrorResponse is the body of any error that is not specific to one endpoint: malformed
// JSON, unknown routes, wrong methods, etcd unavailable.
type ErrorResponse struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// CreateJobResponse answers POST /jobs.
type CreateJobResponse struct {
	Status string   `json:"status"`
	Errors []string `json:"errors,omitempty"`
	ID     JobID    `json:"id,omitempty"`
	// Warnings (ours) say what the master ignored, such as fields it does not know.
	Warnings []string `json:"warnings,omitempty"`
}

// JobDeleteResponse answers DELETE /jobs/{id}.
type JobDeleteResponse struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// JobDeployResponse answers PUT /hosts/{h}/jobs/{id}.
type JobDeployResponse struct {
	Status  string `json:"status"`
	Job     JobID  `json:"job,omitempty"`
	Host    string `json:"host,omitempty"`
	Message string `json:"message,omitempty"`
}

// JobUndeployResponse answers DELETE /hosts/{h}/jobs/{id}.
type JobUndeployResponse struct {
	Status  string `json:"status"`
	Job     JobID  `json:"job,omitempty"`
	Host    string `json:"host,omitempty"`
	Message string `json:"message,omitempty"`
}

// SetGoalResponse answers PATCH /hosts/{h}/jobs/{id}.
type SetGoalResponse struct {
	Status  string `json:"status"`
	Job     JobID  `json:"job,omitempty"`
	Host    string `json:"host,omitempty"`
	Message string `json:"message,omitempty"`
}

// HostRegisterResponse answers PUT /hosts/{h}.
type HostRegisterResponse struct {
	Status  string `json:"status"`
	Host    string `json:"host"`
	Message string `json:"message,omitempty"`
}

// HostDeregisterResponse answers DELETE /hosts/{h}.
type HostDeregisterResponse struct {
	Status  string `json:"status"`
	Host    string `json:"host"`
	Message string `json:"message,omitempty"`
}

// HostAcceptRestoreResponse answers POST /hosts/{h}/accept-restore.
type HostAcceptRestoreResponse struct {
	Status  string `json:"status"`
	Host    string `json:"host"`
	Message string `json:"message,omitempty"`
	// RestoreSuspected is the host agent's report of a suspected restore when the restore
	// was accepted: the agent was holding back. Absent: it reported none.
	RestoreSuspected *RestoreSuspicion `json:"restoreSuspected,omitempty"`
}

// TaskStatusEvents answers GET /history/jobs/{id}.
type TaskStatusEvents struct {
	Events []TaskStatusEvent `json:"events"`
	Status string            `json:"status,omitempty"`
}

// VersionResponse answers GET /version.
type VersionResponse struct {
	Version string `json:"version"`
}
