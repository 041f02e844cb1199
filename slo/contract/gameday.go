package contract

// Game days (`obsd gameday`) rehearse an incident with synthetic spans that
// never touch a real SLO: the slo connector counts spans whose resource
// carries AttrGamedayDrill in a separate game-day instance of the SLO, and
// that instance's alerts carry LabelGameday="true" (so Alertmanager can
// route them to a test receiver) and LabelGamedayDrill (one alert per
// drill).
const (
	// AttrGamedayDrill is the resource attribute that marks a drill's
	// spans; its value is the drill's id.
	AttrGamedayDrill = "obsd.gameday.drill"
	// LabelGameday is "true" on every game-day instance and its alerts.
	LabelGameday = "gameday"
	// GamedayTrue is the value of LabelGameday.
	GamedayTrue = "true"
	// LabelGamedayDrill carries the drill's id on a game-day instance and
	// its alerts.
	LabelGamedayDrill = "gameday_drill"
)
