package agent

// reason says why plan chose an action. Reasons are constants (fleet's taskReason…) so
// they can label helios_agent_actions_total; the detail that varies (an exit code) goes in
// the action's Error. Each reason belongs to exactly one action kind (reasonKinds).
type reason string

const (
	// actRemove
	reasonNoDeployment      reason = "no-deployment"       // the job is no longer deployed here
	reasonGoalUndeploy      reason = "goal-undeploy"       // the deployment's goal is UNDEPLOY
	reasonUnknownContainer  reason = "unknown-container"   // a container of this agent no deployment or status knows
	reasonExtraContainer    reason = "extra-container"     // a wanted job has more than one container
	reasonNoContainerLeft   reason = "no-container-left"   // actDeleteStatus: undeployed, nothing to stop
	reasonGoalStop          reason = "goal-stop"           // actStop
	reasonStoppedNotRunning reason = "stopped-not-running" // actReport STOPPED: goal STOP, container not running
	reasonStoppedNoCtr      reason = "stopped-no-container"
	reasonNoContainer       reason = "no-container"        // actStart: nothing runs the job
	reasonSpecChanged       reason = "spec-changed"        // actStart: the container's spec hash differs
	reasonRestartExited     reason = "restart-exited"      // actStart: the restart delay is over
	reasonHealthcheck       reason = "healthcheck"         // actHealthcheck: running, check not passed yet
	reasonAdopt             reason = "adopt"               // actReport RUNNING
	reasonExited            reason = "exited"              // actReport EXITED
	reasonDiedHealthcheck   reason = "died-healthchecking" // actReport FAILED: died with no supervisor left
	reasonRestartDelay      reason = "restart-delay"       // actWait
	reasonFlappingDelay     reason = "flapping-delay"      // actWait: restart delay of a FLAPPING task
	reasonStartBackoff      reason = "start-backoff"       // actWait: a failed start backs off
	reasonErrorBackoff      reason = "error-backoff"       // actWait: another failed action backs off
	reasonHealthy           reason = "healthy"             // actPublish: running and RUNNING (its health check passed)
	reasonStopping          reason = "stopping"            // actWithdraw: before its container is stopped or replaced
	reasonNotRunning        reason = "not-running"         // actWithdraw: its container exited or is gone
)

// reasonKinds maps every reason to the one action kind it explains: the set of label pairs
// of helios_agent_actions_total, all created at zero.
var reasonKinds = map[reason]actionKind{
	reasonNoDeployment:      actRemove,
	reasonGoalUndeploy:      actRemove,
	reasonUnknownContainer:  actRemove,
	reasonExtraContainer:    actRemove,
	reasonNoContainerLeft:   actDeleteStatus,
	reasonGoalStop:          actStop,
	reasonStoppedNotRunning: actReport,
	reasonStoppedNoCtr:      actReport,
	reasonNoContainer:       actStart,
	reasonSpecChanged:       actStart,
	reasonRestartExited:     actStart,
	reasonHealthcheck:       actHealthcheck,
	reasonAdopt:             actReport,
	reasonExited:            actReport,
	reasonDiedHealthcheck:   actReport,
	reasonRestartDelay:      actWait,
	reasonFlappingDelay:     actWait,
	reasonStartBackoff:      actWait,
	reasonErrorBackoff:      actWait,
	reasonHealthy:           actPublish,
	reasonStopping:          actWithdraw,
	reasonNotRunning:        actWithdraw,
}
