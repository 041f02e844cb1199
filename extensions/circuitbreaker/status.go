package circuitbreaker

import (
	"errors"
	"sort"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/component/componentstatus"

	"github.com/obsd-dev/obsd/internal/breakerstate"
)

// circuits is the process's group of started breakers. Readiness means
// "some backend can still be reached": while every circuit in the group is
// open or half-open, each breaker reports StatusRecoverableError; as soon as
// one closes (or none is open), each reports StatusOK. The health_check
// extension, with component status on and include_recoverable, turns that
// into a 503 on its status path.
var circuits = &group{members: map[*breaker]componentstatus.Status{}}

type group struct {
	mu      sync.Mutex
	members map[*breaker]componentstatus.Status // the status last reported
}

func (g *group) join(b *breaker) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.members[b] = componentstatus.StatusOK
	g.reportLocked()
}

func (g *group) leave(b *breaker) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.members, b)
	g.reportLocked()
}

func (g *group) changed() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reportLocked()
}

// allOpen reports whether every member's circuit is not closed, and names
// them; false for an empty group.
func (g *group) allOpen() (bool, []string) {
	if len(g.members) == 0 {
		return false, nil
	}
	ids := make([]string, 0, len(g.members))
	for b := range g.members {
		if b.State() == breakerstate.Closed {
			return false, nil
		}
		ids = append(ids, b.id)
	}
	sort.Strings(ids)
	return true, ids
}

// reportLocked reports the group's verdict through each member whose last
// reported status differs from it.
func (g *group) reportLocked() {
	all, ids := g.allOpen()
	want := componentstatus.StatusOK
	var err error
	if all {
		want = componentstatus.StatusRecoverableError
		err = errors.New("every exporter circuit is open: " + strings.Join(ids, ", "))
	}
	for b, last := range g.members {
		if last == want {
			continue
		}
		host := b.currentHost()
		if host == nil {
			continue
		}
		g.members[b] = want
		if all {
			componentstatus.ReportStatus(host, componentstatus.NewRecoverableErrorEvent(err))
		} else {
			componentstatus.ReportStatus(host, componentstatus.NewEvent(componentstatus.StatusOK))
		}
	}
}
