package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/model"
)

// A container of the agent started behind its back (goal STOP) is stopped again at once:
// its start event wakes the job, with no resync (an hour away) and no listing of all the
// host's containers, only of the job's.
func TestContainerStartedBehindItsBackStoppedOnItsEvent(t *testing.T) {
	h := newHarness(t)
	h.cfg = func(c *agent.Config) { c.ResyncInterval = time.Hour }
	h.start()
	id := h.createJob("event-stop", nil)
	h.deploy(id, model.GoalStart)
	running := h.waitState(id, model.StateRunning)
	if err := h.st.SetGoal(context.Background(), h.name, id, model.GoalStop, ""); err != nil {
		t.Fatal(err)
	}
	h.waitState(id, model.StateStopped)
	hostLists := h.metric("helios_agent_container_lists_total", map[string]string{"scope": "host"})

	if err := h.rt.Start(context.Background(), running.ContainerID); err != nil {
		t.Fatal(err)
	}
	h.eventually("container stopped again and STOPPED reported twice", func() bool {
		c, err := h.rt.Inspect(context.Background(), running.ContainerID)
		return err == nil && !c.Running && statesString(h.history(id)) == "CREATING,STARTING,RUNNING,STOPPING,STOPPED,STOPPING,STOPPED"
	})
	if got := h.metric("helios_agent_container_lists_total", map[string]string{"scope": "host"}); got != hostLists {
		t.Errorf("the host's containers were listed %v times more; want only the job's listed", got-hostLists)
	}
	if n := h.metric("helios_agent_resyncs_total", nil); n != 0 {
		t.Errorf("%v resyncs ran; the test means to show the event alone woke the job", n)
	}
}

// When the engine's events stream breaks the agent subscribes again and lists all of the
// host's containers, since it may have missed events meanwhile.
func TestBrokenEventsStreamSubscribedAgainAndHostListed(t *testing.T) {
	h := newHarness(t)
	h.cfg = func(c *agent.Config) { c.ResyncInterval = time.Hour }
	h.start()
	h.eventually("events subscribed", func() bool { return h.rt.Subscribers() == 1 })
	id := h.createJob("event-break", nil)
	h.deploy(id, model.GoalStart)
	h.waitState(id, model.StateRunning)
	hostLists := h.metric("helios_agent_container_lists_total", map[string]string{"scope": "host"})

	h.rt.BreakEvents()
	h.eventually("subscribed again, then the host listed", func() bool {
		return h.rt.Subscribers() == 1 && h.metric("helios_agent_events_restarts_total", nil) == 1 &&
			h.metric("helios_agent_container_lists_total", map[string]string{"scope": "host"}) > hostLists
	})
}
