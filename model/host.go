package model

// HostStatus is everything known about one host, as `GET /hosts/{h}/status` returns it.
type HostStatus struct {
	Status      HostStatusWord       `json:"status"`
	Jobs        map[JobID]Deployment `json:"jobs"`
	Statuses    map[JobID]TaskStatus `json:"statuses"`
	HostInfo    *HostInfo            `json:"hostInfo,omitempty"`
	AgentInfo   *AgentInfo           `json:"agentInfo,omitempty"`
	Environment map[string]string    `json:"environment"` // always sent, {} when empty, as the original
	Labels      map[string]string    `json:"labels,omitempty"`
	// DownSince is when the controller saw the host go DOWN (ms since the epoch); 0 if unknown.
	DownSince int64 `json:"downSince,omitempty"`
	// RestoreSuspected is set while the host's agent holds back every stop, removal and
	// replacement because etcd holds an older desired state than it acted on (restored from
	// a snapshot), until `helios accept-restore`. Ours, beyond the original's fields.
	RestoreSuspected *RestoreSuspicion `json:"restoreSuspected,omitempty"`
}

// RestoreSuspicion is what an agent holding back after an etcd restore reports of it
// (status/hosts/<host>/restore-suspected).
type RestoreSuspicion struct {
	// EtcdGeneration is the host's desired-state generation etcd holds (the ModRevision of
	// config/hosts/<host>/generation; 0: none); AgentGeneration the higher one the agent
	// acted on.
	EtcdGeneration  int64 `json:"etcdGeneration"`
	AgentGeneration int64 `json:"agentGeneration"`
	// Since is when the agent first suspected the restore (ms since the epoch).
	Since int64 `json:"since"`
	// HeldActions is how many actions the agent's last full pass held back.
	HeldActions int `json:"heldActions"`
}

// HostInfo describes the machine an agent runs on.
type HostInfo struct {
	Hostname         string         `json:"hostname"`
	Uname            string         `json:"uname,omitempty"`
	Architecture     string         `json:"architecture,omitempty"`
	OSName           string         `json:"osName,omitempty"`
	OSVersion        string         `json:"osVersion,omitempty"`
	CPUs             int            `json:"cpus"`
	LoadAvg          float64        `json:"loadAvg"`
	MemoryTotalBytes int64          `json:"memoryTotalBytes"`
	MemoryFreeBytes  int64          `json:"memoryFreeBytes"`
	SwapTotalBytes   int64          `json:"swapTotalBytes"`
	SwapFreeBytes    int64          `json:"swapFreeBytes"`
	DockerVersion    *DockerVersion `json:"dockerVersion,omitempty"`
	DockerHost       string         `json:"dockerHost,omitempty"`
}

// DockerVersion is what the host's Docker engine says of itself.
type DockerVersion struct {
	Version       string `json:"version"`
	APIVersion    string `json:"apiVersion"`
	Arch          string `json:"arch,omitempty"`
	GitCommit     string `json:"gitCommit,omitempty"`
	GoVersion     string `json:"goVersion,omitempty"`
	KernelVersion string `json:"kernelVersion,omitempty"`
	OS            string `json:"os,omitempty"`
}

// AgentInfo describes the agent process.
type AgentInfo struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	StartTime int64  `json:"startTime"` // ms since the epoch
	Uptime    int64  `json:"uptime"`    // ms
}

// MasterInfo is one live master, as registered under its lease.
type MasterInfo struct {
	Name      string `json:"name"`
	Endpoint  string `json:"endpoint,omitempty"`
	Version   string `json:"version"`
	StartTime int64  `json:"startTime"`
	// DNS is the master's own service record (_helios._http.<domain>, or _https), mirrored
	// to SkyDNS by the leader; nil when the master has no --domain.
	DNS *Endpoint `json:"dns,omitempty"`
}
