package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/obsd-dev/obsd/alerting"
	"github.com/obsd-dev/obsd/slo/contract"
)

// drillReceiver is the drill's own webhook receiver (--listen): the test
// receiver Alertmanager's gameday="true" route notifies, so the drill sees
// the page come back.
type drillReceiver struct {
	addr string
	srv  *http.Server
	mu   sync.Mutex
	got  []notification
	note chan struct{}
}

// notification is one drill alert Alertmanager posted.
type notification struct {
	drill, receiver, status string
}

// listenReceiver starts the receiver on addr (host:port).
func listenReceiver(addr string) (*drillReceiver, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := &drillReceiver{addr: "http://" + ln.Addr().String(), note: make(chan struct{}, 1)}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// serve records the drill alerts of one Alertmanager webhook payload.
func (r *drillReceiver) serve(w http.ResponseWriter, req *http.Request) {
	var msg alerting.WebhookMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 4<<20)).Decode(&msg); err != nil {
		http.Error(w, "not an Alertmanager webhook payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for _, a := range msg.Alerts {
		if id := a.Labels[contract.LabelGamedayDrill]; id != "" {
			r.got = append(r.got, notification{drill: id, receiver: msg.Receiver, status: a.Status})
		}
	}
	r.mu.Unlock()
	select {
	case r.note <- struct{}{}:
	default:
	}
}

// wait returns the first firing notification of drill, waiting until
// deadline.
func (r *drillReceiver) wait(ctx context.Context, drill string, deadline time.Time) (notification, bool) {
	for {
		r.mu.Lock()
		for _, n := range r.got {
			if n.drill == drill && n.status == "firing" {
				r.mu.Unlock()
				return n, true
			}
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return notification{}, false
		case <-r.note:
		case <-time.After(time.Until(deadline)):
			return notification{}, false
		}
	}
}

// close stops the receiver.
func (r *drillReceiver) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
