// Package web serves obsd's status page: the HTML pages (SLO list, SLO
// detail, pipeline) and the JSON API behind them, from embedded templates
// and assets; nothing is fetched from elsewhere. It has no collector
// imports: the extension hands it a Provider.
package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/obsd-dev/obsd/extensions/statuspage/internal/pipeline"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/status"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Provider is where the pages get their data.
type Provider interface {
	// Snapshots returns one snapshot per registered SLO source.
	Snapshots() []status.Snapshot
	// Pipeline returns the latest pipeline view.
	Pipeline() pipeline.View
}

// Options tune the pages.
type Options struct {
	// GrafanaURL is prepended to each SLO's dashboard path; empty means
	// no dashboard links.
	GrafanaURL string
	// Refresh is how often the pages reload themselves.
	Refresh time.Duration
}

// Handler serves the pages and the API.
type Handler struct {
	p    Provider
	opts Options
	tmpl map[string]*template.Template
	mux  *http.ServeMux
}

var pageNames = []string{"list", "detail", "pipeline"}

// New parses the embedded templates and builds the routes.
func New(p Provider, opts Options) (*Handler, error) {
	if opts.Refresh <= 0 {
		opts.Refresh = 5 * time.Second
	}
	opts.GrafanaURL = strings.TrimSuffix(opts.GrafanaURL, "/")
	h := &Handler{p: p, opts: opts, tmpl: map[string]*template.Template{}, mux: http.NewServeMux()}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("could not parse the %s page: %w", name, err)
		}
		h.tmpl[name] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServer(http.FS(static))))
	h.mux.HandleFunc("GET /api/v1/slos", h.apiSLOs)
	h.mux.HandleFunc("GET /api/v1/slos/{name}", h.apiSLO)
	h.mux.HandleFunc("GET /api/v1/alerts", h.apiAlerts)
	h.mux.HandleFunc("GET /api/v1/pipeline", h.apiPipeline)
	h.mux.HandleFunc("GET /{$}", h.pageList)
	h.mux.HandleFunc("GET /slo/{name}", h.pageDetail)
	h.mux.HandleFunc("GET /pipeline", h.pagePipeline)
	return h, nil
}

// ServeHTTP sets safe headers and routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	h.mux.ServeHTTP(w, r)
}

// merged is every source's data together, sorted for display.
type merged struct {
	SLOs         []status.SLO
	Alerts       []status.AlertEvent // newest first
	Destinations []status.Destination
}

func (h *Handler) merge() merged {
	var m merged
	for _, s := range h.p.Snapshots() {
		m.SLOs = append(m.SLOs, s.SLOs...)
		m.Alerts = append(m.Alerts, s.Alerts...)
		m.Destinations = append(m.Destinations, s.Destinations...)
	}
	for i := range m.SLOs {
		if h.opts.GrafanaURL != "" && m.SLOs[i].DashboardPath != "" {
			m.SLOs[i].DashboardURL = h.opts.GrafanaURL + m.SLOs[i].DashboardPath
		}
	}
	SortSLOs(m.SLOs)
	sort.SliceStable(m.Alerts, func(i, j int) bool { return m.Alerts[i].At.After(m.Alerts[j].At) })
	sort.Slice(m.Destinations, func(i, j int) bool {
		return m.Destinations[i].Source+"/"+m.Destinations[i].Name < m.Destinations[j].Source+"/"+m.Destinations[j].Name
	})
	return m
}

// SortSLOs orders SLO instances as the list shows them: firing first, then
// pending, then by budget remaining ascending, then by name and group.
func SortSLOs(slos []status.SLO) {
	sort.SliceStable(slos, func(i, j int) bool {
		a, b := &slos[i], &slos[j]
		if ra, rb := status.StateRank(a.State), status.StateRank(b.State); ra != rb && (ra >= 2 || rb >= 2) {
			return ra > rb
		}
		if a.BudgetRemaining != b.BudgetRemaining {
			return a.BudgetRemaining < b.BudgetRemaining
		}
		return a.Source+"/"+a.Key() < b.Source+"/"+b.Key()
	})
}

func (h *Handler) apiSLOs(w http.ResponseWriter, _ *http.Request) {
	m := h.merge()
	for i := range m.SLOs {
		m.SLOs[i].History = nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"slos": nonNil(m.SLOs)})
}

func (h *Handler) apiSLO(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	m := h.merge()
	inst := instances(m.SLOs, name)
	if len(inst) == 0 {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no slo named %q", name)})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "instances": inst, "alerts": nonNil(alertsOf(m.Alerts, name))})
}

func (h *Handler) apiAlerts(w http.ResponseWriter, _ *http.Request) {
	m := h.merge()
	writeJSON(w, http.StatusOK, map[string]any{"alerts": nonNil(m.Alerts), "destinations": nonNil(m.Destinations)})
}

func (h *Handler) apiPipeline(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.p.Pipeline())
}

func instances(slos []status.SLO, name string) []status.SLO {
	var out []status.SLO
	for _, s := range slos {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func alertsOf(alerts []status.AlertEvent, name string) []status.AlertEvent {
	var out []status.AlertEvent
	for _, a := range alerts {
		if a.SLO == name {
			out = append(out, a)
		}
	}
	return out
}

// alertRow is an alert transition with the state of each destination it
// was queued for: "oncall (outbox empty)" once the destination's outbox
// drained, "oncall (3 queued)" while alerts still wait for delivery.
type alertRow struct {
	status.AlertEvent
	Delivery []string
}

func alertRows(alerts []status.AlertEvent, dests []status.Destination) []alertRow {
	queued := make(map[string]int, len(dests))
	for _, d := range dests {
		queued[d.Source+"/"+d.Name] = d.Queued
	}
	out := make([]alertRow, len(alerts))
	for i, a := range alerts {
		out[i].AlertEvent = a
		for _, r := range a.Receivers {
			n, ok := queued[a.Source+"/"+r]
			switch {
			case !ok:
				out[i].Delivery = append(out[i].Delivery, r)
			case n == 0:
				out[i].Delivery = append(out[i].Delivery, r+" (outbox empty)")
			default:
				out[i].Delivery = append(out[i].Delivery, fmt.Sprintf("%s (%d queued)", r, n))
			}
		}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(data, '\n'))
}

// page is what every template gets.
type page struct {
	Title   string
	Nav     string
	Refresh int // seconds
	Now     time.Time
	Data    any
}

func (h *Handler) render(w http.ResponseWriter, code int, name, title string, data any) {
	var buf bytes.Buffer
	p := page{Title: title, Nav: name, Refresh: max(1, int(h.opts.Refresh.Round(time.Second)/time.Second)), Now: time.Now().UTC(), Data: data}
	if err := h.tmpl[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		http.Error(w, "could not render the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// listWindows are the burn-rate windows the list shows.
var listWindows = []string{"5m", "1h", "6h", "1d", "3d"}

type listRow struct {
	status.SLO
	DetailURL string
	Burns     []status.Window
}

func (h *Handler) pageList(w http.ResponseWriter, _ *http.Request) {
	m := h.merge()
	rows := make([]listRow, 0, len(m.SLOs))
	firing := 0
	for _, s := range m.SLOs {
		if s.State == contract.StateFiring {
			firing++
		}
		rows = append(rows, listRow{SLO: s, DetailURL: "/slo/" + url.PathEscape(s.Name), Burns: pick(s.Windows, listWindows)})
	}
	alerts := m.Alerts
	if len(alerts) > 10 {
		alerts = alerts[:10]
	}
	h.render(w, http.StatusOK, "list", "SLOs", map[string]any{"Rows": rows, "Firing": firing,
		"Windows": listWindows, "Alerts": alertRows(alerts, m.Destinations)})
}

// pick returns the windows named in names, in that order (NoData when absent).
func pick(ws []status.Window, names []string) []status.Window {
	out := make([]status.Window, len(names))
	for i, n := range names {
		out[i] = status.Window{Name: n, NoData: true}
		for _, w := range ws {
			if w.Name == n {
				out[i] = w
			}
		}
	}
	return out
}

type detailInstance struct {
	status.SLO
	SLIChart, BurnChart template.HTML
}

func (h *Handler) pageDetail(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	m := h.merge()
	inst := instances(m.SLOs, name)
	if len(inst) == 0 {
		h.render(w, http.StatusNotFound, "detail", "SLO not found", map[string]any{"Name": name})
		return
	}
	out := make([]detailInstance, len(inst))
	for i, s := range inst {
		id := fmt.Sprintf("i%d", i)
		out[i] = detailInstance{SLO: s, SLIChart: SLIChart(&s).SVG(id + "-sli"), BurnChart: BurnChart(&s).SVG(id + "-burn")}
	}
	h.render(w, http.StatusOK, "detail", "SLO "+name, map[string]any{"Name": name, "Instances": out,
		"Alerts": alertRows(alertsOf(m.Alerts, name), m.Destinations)})
}

func (h *Handler) pagePipeline(w http.ResponseWriter, _ *http.Request) {
	m := h.merge()
	h.render(w, http.StatusOK, "pipeline", "Pipeline", map[string]any{"View": h.p.Pipeline(), "Destinations": m.Destinations})
}

// SLIChart is the SLI (good ratio over 5m) of an instance's history with
// its objective drawn.
func SLIChart(s *status.SLO) Chart {
	ser := Series{Name: "SLI (5m window)", Class: "s1"}
	for _, p := range s.History {
		if p.NoData {
			continue
		}
		ser.X, ser.Y = append(ser.X, p.At), append(ser.Y, p.SLI)
	}
	return Chart{Title: "SLI of " + s.Name, Desc: "Share of good events over the last 5 minutes, sampled over the period.",
		YMin: s.Objective, YMax: 1, YFormat: pct, Series: []Series{ser},
		Rules: []Rule{{Label: "objective " + pct(s.Objective), Y: s.Objective, Class: "objective"}}}
}

// BurnChart is the 5m and 1h burn rates with every alert threshold drawn.
func BurnChart(s *status.SLO) Chart {
	short := Series{Name: "burn rate 5m", Class: "s1"}
	long := Series{Name: "burn rate 1h", Class: "s2"}
	for _, p := range s.History {
		short.X, short.Y = append(short.X, p.At), append(short.Y, p.BurnShort)
		long.X, long.Y = append(long.X, p.At), append(long.Y, p.BurnLong)
	}
	c := Chart{Title: "Burn rate of " + s.Name, Desc: "Error budget burn rate (1 spends the budget exactly over the period).",
		YMin: 0, YMax: 1, Headroom: 0.1, YFormat: func(v float64) string { return trimFloat(v, 3) + "×" }, Series: []Series{short, long}}
	seen := map[string]bool{}
	for _, t := range s.Thresholds {
		label := fmt.Sprintf("%s %s×", t.Severity, trimFloat(t.BurnRate, 3))
		if seen[label] {
			continue
		}
		seen[label] = true
		c.Rules = append(c.Rules, Rule{Label: label, Y: t.BurnRate, Class: t.Severity})
	}
	return c
}
