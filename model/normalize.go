package model

// Normalize fills the job's unset command, env, ports and registration with empty values and
// each port's unset protocol with tcp, so the job is stored and printed as the original does
// (`"command":[],"env":{},"ports":{},"registration":{}`). It leaves the hash unchanged:
// ConfigHash drops empty values and treats an unset protocol as tcp.
func (j *Job) Normalize() {
	if j.Command == nil {
		j.Command = []string{}
	}
	if j.Env == nil {
		j.Env = map[string]string{}
	}
	if j.Ports == nil {
		j.Ports = map[string]PortMapping{}
	}
	if j.Registration == nil {
		j.Registration = map[string]ServicePorts{}
	}
	for name, p := range j.Ports {
		if p.Protocol == "" {
			p.Protocol = ProtocolTCP
			j.Ports[name] = p
		}
	}
	for key, sp := range j.Registration {
		if sp.Ports == nil {
			sp.Ports = map[string]ServicePortParameters{}
			j.Registration[key] = sp
		}
	}
}
