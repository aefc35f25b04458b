package agent

import "github.com/helios-go/helios/model"

// TaskIDs lists the jobs the agent keeps state for (tests check that a removed job leaves
// none behind).
func (a *Agent) TaskIDs() []model.JobID {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ids []model.JobID
	for id := range a.tasks {
		ids = append(ids, id)
	}
	return ids
}
