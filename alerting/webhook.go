package alerting

import (
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// WebhookMessage mirrors Alertmanager's webhook payload (version 4), the
// body Alertmanager's webhook_config receivers get.
type WebhookMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   uint64            `json:"truncatedAlerts"`
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []WebhookAlert    `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
}

// WebhookAlert mirrors one alert of Alertmanager's webhook payload.
type WebhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// toWebhook builds the webhook payload of a batch for receiver at now.
func toWebhook(receiver string, alerts []Alert, now time.Time) WebhookMessage {
	msg := WebhookMessage{
		Version:     "4",
		Receiver:    receiver,
		Status:      string(model.AlertResolved),
		Alerts:      make([]WebhookAlert, 0, len(alerts)),
		GroupLabels: map[string]string{},
	}
	fps := make([]string, 0, len(alerts))
	for i := range alerts {
		a := &alerts[i]
		status := string(model.AlertFiring)
		if a.Resolved(now) {
			status = string(model.AlertResolved)
		} else {
			msg.Status = string(model.AlertFiring)
		}
		fp := a.Fingerprint().String()
		fps = append(fps, fp)
		msg.Alerts = append(msg.Alerts, WebhookAlert{
			Status: status, Labels: a.Labels, Annotations: a.Annotations,
			StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: a.GeneratorURL, Fingerprint: fp,
		})
	}
	sort.Strings(fps)
	msg.GroupKey = "obsd:{" + strings.Join(fps, ",") + "}"
	msg.CommonLabels = common(alerts, func(a *Alert) map[string]string { return a.Labels })
	msg.CommonAnnotations = common(alerts, func(a *Alert) map[string]string { return a.Annotations })
	return msg
}

// common returns the pairs shared by every alert.
func common(alerts []Alert, get func(*Alert) map[string]string) map[string]string {
	out := map[string]string{}
	if len(alerts) == 0 {
		return out
	}
	for k, v := range get(&alerts[0]) {
		out[k] = v
	}
	for i := 1; i < len(alerts); i++ {
		m := get(&alerts[i])
		for k, v := range out {
			if m[k] != v {
				delete(out, k)
			}
		}
	}
	return out
}
