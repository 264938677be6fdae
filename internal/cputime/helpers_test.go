package cputime

import "github.com/procview/procview/internal/render"

func renderTimes(user uint64) render.CPUTimes { return render.CPUTimes{User: user} }
