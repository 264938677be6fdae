package hook

import (
	"time"

	"github.com/sirupsen/logrus"
)

// laps times the steps of a stage, so the debug log shows where a
// container start spends the hook's time (docs/benchmarks.md, part 4).
type laps struct {
	last   time.Time
	fields logrus.Fields
}

func newLaps() *laps { return &laps{last: time.Now(), fields: logrus.Fields{}} }

// lap records the time since the previous lap under name.
func (l *laps) lap(name string) {
	now := time.Now()
	l.fields["t_"+name] = now.Sub(l.last).Round(time.Microsecond).String()
	l.last = now
}
